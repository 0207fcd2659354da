"""上架产品 screens: the catalog every enterprise and provider browses (top menu), the provider's own product
list (FAB's generated list/search/sort, owned rows only) with 新增 / 修改 / 提交审核 / 下架, and 市工信's
product administration (generated list over the shared visibility). 市工信 approves in the generic
审核工作台 (stage "product")."""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import catalog as rules
from .. import xlsx
from ..completion import provider_averages, stars_text
from ..extensions import db
from ..forms import ProductForm
from ..models import Organisation, OrgKind, Product, ReviewStatus
from ..visibility import get_owned_or_404, visible
from ..workflow import WorkflowError
from .admin import titles
from .datamodel import EagerSQLAInterface
from .generated import OwnedRows, ScopedModelView

PAGE_SIZE = 20


def _listed(query):
    return query.filter(Product.listed_price.isnot(None), Product.withdrawn_at.is_(None))


class ProductView(BaseView):
    """上架产品 (top menu): the catalog of listed products, searchable by name, code, provider and scenario."""

    route_base = "/products"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        q = (request.args.get("q") or "").strip()[:100]
        scenario = request.args.get("scenario") or ""
        page = min(max(request.args.get("page", 1, type=int) or 1, 1), 500)
        query = _listed(visible(Product))
        if q:
            like = f"%{q}%"
            # the provider's name through a subquery over the providers (~2 % of the organisations, by the kind
            # index), not a join that hashed every organisation for the count (6.5 ms → 1 ms)
            providers = select(Organisation.id).where(
                Organisation.kind == OrgKind.PROVIDER, Organisation.name.like(like)
            )
            query = query.filter(
                or_(Product.name.like(like), Product.code.like(like), Product.organisation_id.in_(providers))
            )
        if scenario in dict(rules.scenario_choices()):
            query = query.filter(
                or_(
                    Product.scenarios == scenario,
                    Product.scenarios.like(f"{scenario},%"),
                    Product.scenarios.like(f"%,{scenario}"),
                    Product.scenarios.like(f"%,{scenario},%"),
                )
            )
        total = query.order_by(None).count()
        rows = (
            query.options(joinedload(Product.organisation))
            .order_by(Product.code, Product.id)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
            .all()
        )
        return self.render_template(
            "zsdx/catalog.html",
            title=_("Listed products"),
            rows=rows,
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
            q=q,
            scenario=scenario,
            scenarios=rules.scenario_choices(),
            catalog=rules,
            # 服务商评价: each provider's average stars and count (one aggregate statement)
            ratings=provider_averages({p.organisation_id for p in rows}),
            stars_text=stars_text,
        )

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        product = _listed(visible(Product)).options(joinedload(Product.organisation)).filter(Product.id == pk).first()
        if product is None:
            abort(404)  # the catalog shows listed products only; a provider opens its own under 我的产品
        return self.render_template(
            "zsdx/product_detail.html",
            title=product.name,
            record=product,
            catalog=rules,
            ratings=provider_averages({product.organisation_id}),
            stars_text=stars_text,
        )


def _status(product):
    return rules.status_text(product)


def _change_link(pk):
    return Markup('<a href="{}" class="zs-op-change">{}</a>').format(url_for("MyProductView.change", pk=pk), _("Edit"))


class MyProductView(ScopedModelView):
    """我的产品 (服务商): its own products only; 新增 and 修改 through ProductForm, 提交审核 and 下架 as actions."""

    route_base = "/myproducts"
    datamodel = EagerSQLAInterface(Product)
    base_filters = [["id", OwnedRows, None]]
    base_permissions = [
        "can_list",
        "can_show",
        "can_new",
        "can_change",
        "can_action",
        "can_action_post",
        "submit",
        "withdraw",
    ]
    locals().update(titles(_l("Product/service")))
    label_columns = {
        "code": _l("Product/service code"),
        "name": _l("Product/service name"),
        "max_price": _l("Maximum warehousing price (10k yuan)"),
        "listed_price": _l("Listed price (10k yuan)"),
        "status_label": _l("Status"),
        "updated_at": _l("Updated at"),
        "category": _l("Category"),
        "purchase_mode": _l("Purchase method"),
        "description": _l("Description"),
        "price_note": _l("Quotation notes"),
        "change_id": _l("Operation"),
    }
    list_columns = ["code", "name", "max_price", "listed_price", "status_label", "updated_at", "change_id"]
    show_columns = [
        "code",
        "name",
        "category",
        "max_price",
        "listed_price",
        "price_note",
        "purchase_mode",
        "description",
        "status_label",
    ]
    search_columns = ["name", "code"]
    order_columns = ["code", "name", "updated_at"]
    base_order = ("updated_at", "desc")
    formatters_columns = {
        "category": lambda v: dict(rules.CATEGORIES).get(v, v),
        "purchase_mode": lambda v: dict(rules.PURCHASE_MODES).get(v, v),
        "code": lambda v: v or "",
        "change_id": _change_link,
        "listed_price": lambda v: "" if v is None else v,
        "updated_at": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
    }
    page_size = 20
    list_template = "zsdx/my_products.html"

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        if g.user.organisation_id is None:
            return redirect(url_for("MyProductView.list"))
        return self._form(Product(organisation_id=g.user.organisation_id, status=ReviewStatus.DRAFT))

    @expose("/<int:pk>/change", methods=["GET", "POST"])
    @has_access
    def change(self, pk):
        product = get_owned_or_404(Product, pk)
        if product.status == ReviewStatus.REVIEWING or product.withdrawn_at:
            flash(_("A product under review or withdrawn cannot be changed"), "warning")
            return redirect(url_for("MyProductView.list"))
        return self._form(product)

    def _form(self, product):
        form = ProductForm(
            data=None
            if request.method == "POST"
            else {
                "name": product.name,
                "category": product.category,
                "scenarios": [x for x in (product.scenarios or "").split(",") if x],
                "max_price": product.max_price,
                "price_note": product.price_note,
                "purchase_mode": product.purchase_mode,
                "description": product.description,
            }
        )
        form.category.choices = [(k, str(v)) for k, v in rules.CATEGORIES]
        form.scenarios.choices = rules.scenario_choices()
        form.purchase_mode.choices = [(k, str(v)) for k, v in rules.PURCHASE_MODES]
        if form.validate_on_submit():
            listed_before = product.status == ReviewStatus.DONE
            price_before = product.max_price
            product.name = form.name.data.strip()
            product.category = form.category.data
            product.scenarios = ",".join(form.scenarios.data)
            product.max_price = form.max_price.data
            product.price_note = (form.price_note.data or "").strip() or None
            product.purchase_mode = form.purchase_mode.data
            product.description = (form.description.data or "").strip() or None
            db.session.add(product)
            db.session.commit()
            if listed_before and product.max_price != price_before:
                rules.price_changed(product, g.user)
                flash(_("The new price goes through review again; the catalog keeps the approved price"), "warning")
            else:
                flash(_("Saved"), "success")
            return redirect(url_for("MyProductView.list"))
        return self.render_template("zsdx/product_form.html", title=_("Product/service"), form=form, record=product)

    @action("submit", _l("Submit for review"), _l("Submit the selected products for review?"), "fa-check", single=False)
    def submit(self, items):
        return self._each(items, rules.submit_product, _("%(n)s submitted for review"))

    @action("withdraw", _l("Withdraw"), _l("Withdraw the selected products from the catalog?"), "fa-ban", single=False)
    def withdraw(self, items):
        return self._each(items, rules.withdraw, _("%(n)s withdrawn"))

    def _each(self, items, use_case, done_message):
        items = items if isinstance(items, list) else [items]
        done = 0
        for item in items:
            try:
                use_case(item, g.user)
                done += 1
            except WorkflowError as exc:
                flash(f"{item.name}：{exc}", "danger")
        if done:
            flash(done_message % {"n": done} if "%(n)s" in done_message else done_message, "success")
        return redirect(url_for("MyProductView.list"))


class ProductAdminView(ScopedModelView):
    """产品管理 (市工信): every submitted or listed product, generated list/search/sort over the visibility."""

    route_base = "/productadmin"
    datamodel = EagerSQLAInterface(Product, joined=("organisation",))
    base_permissions = ["can_list", "can_show", "can_export"]
    locals().update(titles(_l("Product/service")))
    label_columns = MyProductView.label_columns | {"organisation": _l("Provider")}
    list_columns = ["code", "name", "organisation", "max_price", "listed_price", "status_label", "updated_at"]
    show_columns = MyProductView.show_columns[:2] + ["organisation"] + MyProductView.show_columns[2:]
    search_columns, order_columns, base_order = (
        MyProductView.search_columns,
        MyProductView.order_columns,
        MyProductView.base_order,
    )
    formatters_columns = {k: v for k, v in MyProductView.formatters_columns.items() if k != "change_id"}
    page_size = 20
    list_template = "zsdx/product_admin_list.html"
    EXPORT_LIMIT = 50_000

    @expose("/export.xlsx")
    @has_access
    def export(self):
        """导出: every product the list's current search finds (not only the page), as .xlsx, written
        row by row (openpyxl write-only). Money stays Decimal: the cells hold the exact amounts."""
        from flask_appbuilder.urltools import get_filter_args, get_order_args

        get_filter_args(self._filters)
        order_column, order_direction = get_order_args().get(self.__class__.__name__, ("", ""))
        joined = self._filters.get_joined_filters(self._base_filters)
        _count, items = self.datamodel.query(
            joined, order_column or "updated_at", order_direction or "desc", page=0, page_size=self.EXPORT_LIMIT
        )
        columns = ["code", "name", "organisation", "category", "scenarios", "max_price", "listed_price"]
        columns += ["purchase_mode", "status_label", "updated_at"]
        labels = {**self.label_columns, "scenarios": _l("Applicable scenarios")}
        categories, modes = dict(rules.CATEGORIES), dict(rules.PURCHASE_MODES)
        rows = (
            [
                p.code or "",
                p.name,
                p.organisation.name if p.organisation else "",
                str(categories.get(p.category, p.category)),
                rules.scenario_names(p.scenarios),
                p.max_price,
                p.listed_price,
                str(modes.get(p.purchase_mode, p.purchase_mode)),
                p.status_label,
                p.updated_at or "",
            ]
            for p in items
        )
        sheet = xlsx.Sheet(_("Product administration"), [str(labels[c]) for c in columns], rows)
        return xlsx.download(_("Product administration"), [sheet])
