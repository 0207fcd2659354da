"""项目签约, the screens (manual 04): the enterprise's two pages (项目基本信息 with the contract tabs; 牵引单位信息
with needs and products picked from the catalog), 保存 / 下一页（自动保存）/ 提交, 信息变更 with revisions, the
provider's assisted filling of page 3, the read-only 详情 and the contract PDFs.

The rules are zsdx.signing and zsdx.assist; rows are loaded through zsdx.visibility only.
"""

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_
from sqlalchemy.orm import joinedload

from .. import assist
from .. import signing as rules
from ..catalog import PURCHASE_MODES, listed_products, scenario_choices
from ..extensions import db
from ..files import PDF, UploadError, serve, store_upload
from ..forms import ContractForm, NeedForm, SigningForm, SigningProductForm, ZsdxForm
from ..models import Contract, Organisation, Product, Signing
from ..visibility import get_owned_or_404, get_visible_or_404, owns
from ..workflow import WorkflowError
from . import assisted
from .assisted import row_id as _row_id

CATALOG_PAGE = 20
PAGE_BASIC, PAGE_LEAD = 1, 2  # 项目基本信息 (with the contracts) and 牵引单位信息
_ROW_ACTIONS = ("add_contract", "remove_contract", "add_need", "remove_need", "pick_product", "remove_product")


def _choices(pairs, blank=True):
    out = [("", _("Please select"))] if blank else []
    return out + [(str(k), str(v)) for k, v in pairs]


def _value(field):
    """A parsed field's value as stored: text stripped (None when empty), '' choices None."""
    value = field.data
    if isinstance(value, str):
        value = value.strip() or None
    return value


def _apply(form, record, names, converters=None):
    """Copy every field that parsed into `record`; a field with errors keeps its saved value."""
    for name in names:
        field = getattr(form, name)
        if field.errors:
            continue
        value = _value(field)
        if converters and name in converters:
            value = converters[name](value)
        setattr(record, name, value)


def _int_or_none(value):
    return int(value) if value not in (None, "") and str(value).isdigit() else None


def _bool_or_none(value):
    return None if value in (None, "", "None") else value == "1"


class PageForms:
    """The forms of one signing page, bound to the posted data (POST) or to the record (GET)."""

    def __init__(self, signing, page, posted, providers):
        self.signing, self.page = signing, page
        data = request.form if posted else None
        scenarios = _choices(scenario_choices())
        if page == PAGE_BASIC:
            self.main = SigningForm(formdata=data, obj=None if posted else signing)
            if not posted:
                self.main.chain_leader.data = (
                    "" if signing.chain_leader is None else ("1" if signing.chain_leader else "0")
                )
            self.main.target_level.choices = _choices(rules.TARGET_LEVELS)
            self.main.chain_leader.choices = _choices([("1", _("Yes")), ("0", _("No"))])
            self.contracts = {}
            provider_opts = [("", _("Please select")), (rules.NO_PROVIDER, _("No lead unit"))] + [
                (str(pid), name) for pid, name in providers
            ]
            for c in signing.contracts:
                form = ContractForm(formdata=data, prefix=f"contract-{c.id}-", obj=None if posted else c)
                form.industry_provider.choices = provider_opts
                if not posted:
                    form.industry_provider.data = (
                        rules.NO_PROVIDER if c.no_industry_provider else str(c.industry_provider_id or "")
                    )
                self.contracts[c.id] = form
        else:
            self.main = ZsdxForm(formdata=data)
            self.needs, self.products = {}, {}
            for need in signing.needs:
                form = NeedForm(formdata=data, prefix=f"need-{need.id}-", obj=None if posted else need)
                form.scenario.choices = scenarios
                self.needs[need.id] = form
            contract_opts = [("", _("Please select"))] + [
                (str(c.id), c.number or _("Contract %(n)s", n=i)) for i, c in enumerate(signing.contracts, start=1)
            ]
            for row in signing.products:
                form = SigningProductForm(formdata=data, prefix=f"product-{row.id}-", obj=None if posted else row)
                form.contract_id.choices = contract_opts
                form.cloud.choices = [(k, str(v)) for k, v in rules.CLOUD_USES]
                form.scenario.choices = scenarios
                if not posted:
                    form.contract_id.data = str(row.contract_id or "")
                self.products[row.id] = form

    def validate(self):
        ok = self.main.validate()
        for form in self.rows():
            ok = form.validate() and ok
        return ok

    def rows(self):
        if self.page == PAGE_BASIC:
            return list(self.contracts.values())
        return list(self.needs.values()) + list(self.products.values())

    def apply(self, user, lead_locked=False):
        """Copy what parsed into the records; store the contract PDFs. Returns {anchor: upload error}."""
        s, errors = self.signing, {}
        if self.page == PAGE_BASIC:
            _apply(
                self.main,
                s,
                [name for name, _label in rules.PROJECT_FIELDS],
                {"chain_leader": _bool_or_none},
            )
            for c in s.contracts:
                form = self.contracts[c.id]
                _apply(form, c, ["number", "total_amount", "subsidy_amount"])
                if not form.industry_provider.errors:
                    choice = form.industry_provider.data or ""
                    c.no_industry_provider = choice == rules.NO_PROVIDER
                    c.industry_provider_id = _int_or_none(choice)
                storage = request.files.get(f"contract-{c.id}-file")
                if storage and storage.filename:
                    try:
                        stored = store_upload(storage, PDF, user.id)
                        db.session.flush()
                        c.file_id = stored.id
                    except UploadError as exc:
                        errors[f"contract-{c.id}-file"] = str(exc)
        elif not lead_locked:
            for need in s.needs:
                _apply(self.needs[need.id], need, ["scenario", "description", "analysis"])
            own_contracts = {c.id for c in s.contracts}
            for row in s.products:
                form = self.products[row.id]
                _apply(
                    form,
                    row,
                    ["cloud", "content", "start_date", "end_date", "price", "over_price_reason", "scenario"]
                    + ["scenario_desc"],
                )
                if not form.contract_id.errors:
                    cid = _int_or_none(form.contract_id.data)
                    row.contract_id = cid if cid in own_contracts else None
        return errors

    def add_errors(self, found):
        """Show {anchor: message} beside the fields (anchors as zsdx.signing.problems names them)."""
        placed = set()
        for anchor, message in found.items():
            prefix, _sep, name = anchor.rpartition("-")
            form = self.main
            if prefix:
                kind, _s, row_id = prefix.partition("-")
                table = {"contract": getattr(self, "contracts", {}), "need": getattr(self, "needs", {})}
                table["product"] = getattr(self, "products", {})
                form = table.get(kind, {}).get(_int_or_none(row_id))
            field = getattr(form, name, None) if form is not None else None
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors) + [message]
                placed.add(anchor)
        return {k: v for k, v in found.items() if k not in placed}


def _providers():
    return assist.provider_choices()


def _catalog(q, page=1):
    """The catalog dialog: listed products matching `q` (name, code or provider), newest first."""
    query = listed_products().join(Organisation, Organisation.id == Product.organisation_id)
    q = (q or "").strip()[:100]
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.filter(or_(Product.name.ilike(like), Product.code.ilike(like), Organisation.name.ilike(like)))
    rows = (
        query.options(joinedload(Product.organisation))
        .order_by(Product.id.desc())
        .offset((page - 1) * CATALOG_PAGE)
        .limit(CATALOG_PAGE)
        .all()
    )
    return rows


class SigningView(BaseView):
    screen_label = _l("Project signing")  # its name in 角色管理
    route_base = "/signing"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return redirect(url_for("WorkbenchView.index", group="projects", tab="signing"))

    # --- the enterprise's pages -------------------------------------------------------------------------
    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        signing = get_owned_or_404(Signing, pk, options=rules.page_options())
        if not rules.editable(signing):
            flash(_("This signing has been submitted; use Information change to modify it"), "warning")
            return redirect(url_for("SigningView.detail", pk=pk))
        return self._page(signing, mode="edit")

    @expose("/<int:pk>/change", methods=["GET", "POST"])
    @has_access
    def change(self, pk):
        """信息变更 of a 已签约 signing: saved at once, with a revision kept."""
        signing = get_owned_or_404(Signing, pk, options=rules.page_options())
        if rules.editable(signing):
            abort(404)
        return self._page(signing, mode="change")

    @expose("/<int:pk>/assist", methods=["GET", "POST"])
    @has_access
    def assist(self, pk):
        """The provider's page 3, while the enterprise's request waits with it (协助填写中)."""
        signing, elsewhere = assisted.helped_or_404(Signing, pk, "SigningView.detail", options=rules.page_options())
        return elsewhere or self._page(signing, mode="assist", page=PAGE_LEAD)

    def _page(self, signing, mode, page=None):
        page = page or (PAGE_LEAD if request.values.get("page") == str(PAGE_LEAD) else PAGE_BASIC)
        posted = request.method == "POST"
        providers = _providers() if page == PAGE_BASIC else []
        forms = PageForms(signing, page, posted, providers)
        lead_locked = mode != "assist" and assist.locked_for_owner(signing.assist)
        problems, upload_errors = {}, {}
        if posted:
            if not forms.main.validate_on_submit() and "csrf_token" in forms.main.errors:
                abort(400)
            forms.validate()
            action, _sep, row = (request.form.get("action") or "save").partition(":")
            outcome = self._post(signing, forms, mode, page, action, row, lead_locked)
            if outcome is not None and not isinstance(outcome, dict):
                return outcome
            problems = outcome or {}
        problems_left = forms.add_errors(problems) if problems else {}
        return self.render_template(
            "zsdx/signing_form.html",
            title=_("Project signing"),
            signing=signing,
            forms=forms,
            page=page,
            mode=mode,
            problems=problems,
            problems_left=problems_left,
            upload_errors=upload_errors,
            lead_locked=lead_locked,
            rules=rules,
            **assisted.choice_context(
                signing,
                {c.industry_provider_id for c in signing.contracts if c.industry_provider_id},
                offer=page == PAGE_LEAD and mode != "assist" and not lead_locked,
            ),
            catalog=_catalog(request.args.get("q")) if page == PAGE_LEAD and not lead_locked else [],
            purchase_modes=dict(PURCHASE_MODES),
            totals=rules.totals(signing),
            scenario_names=dict(scenario_choices()),
        )

    def _post(self, signing, forms, mode, page, action, row, lead_locked):
        """Apply a POST; a redirect when done, else {anchor: message} to show on the page."""
        user = g.user
        here = url_for(f"SigningView.{mode}", pk=signing.id, page=page)
        if mode == "assist" and (page != PAGE_LEAD or action in ("add_contract", "remove_contract", "ask", "cancel")):
            abort(403)  # the provider fills page 3 only
        before = rules.snapshot(signing) if mode == "change" else None
        errors = forms.apply(user, lead_locked=lead_locked)
        if page == PAGE_LEAD and mode != "assist" and not lead_locked:
            assisted.read_choice(signing)
        field_errors = any(f.errors for f in [forms.main, *forms.rows()])
        try:
            anchor = self._row_action(signing, action, row, page, lead_locked)
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(here)
        if mode == "change":
            found = rules.problems(signing)
            if action == "save" and (found or errors or field_errors):
                db.session.rollback()
                flash(_("The change was not saved: please correct the items marked below"), "danger")
                return {**found, **errors}
            changes = rules.record_revision(signing, user, before, rules.snapshot(signing))
            db.session.commit()
            if action == "save":
                flash(_("The signing information has been changed") if changes else _("Nothing was changed"), "success")
                return redirect(url_for("SigningView.detail", pk=signing.id))
            return redirect(here + (f"#{anchor}" if anchor else ""))
        db.session.commit()  # what was typed is kept, whatever follows
        if action in _ROW_ACTIONS:
            return redirect(here + (f"#{anchor}" if anchor else ""))
        if action == "next" and not (errors or field_errors):
            return redirect(url_for("SigningView.edit", pk=signing.id, page=PAGE_LEAD))
        if action == "ask":
            return self._ask(signing, here)
        if action == "cancel":
            return assisted.take_back(signing, here)
        if action == "submit" and mode == "assist":
            found = rules.rows_problems(signing)
            if found or errors or field_errors:
                flash(_("Submission failed: please complete the items marked below"), "danger")
                return {**found, **errors}
            return assisted.provider_submit(signing, url_for("SigningView.detail", pk=signing.id))
        if action == "submit":
            try:
                if errors or field_errors:
                    raise rules.Incomplete({})
                rules.submit_signing(signing, user)
            except rules.Incomplete as exc:
                flash(str(exc), "danger")
                return {**exc.problems, **errors}
            except WorkflowError as exc:
                flash(str(exc), "danger")
                return redirect(url_for("SigningView.detail", pk=signing.id))
            flash(_("The signing has been submitted"), "success")
            return redirect(url_for("WorkbenchView.index", group="projects", tab="signing"))
        if errors or field_errors:
            return errors
        flash(_("Saved"), "success")
        return redirect(here)

    def _row_action(self, signing, action, value, page, lead_locked):
        """【添加合同】, 【新增】 a need, 【添加产品/服务】 → 确定, and the removals (`value`: the row's id); returns
        the anchor to show."""
        if action == "add_contract" and page == PAGE_BASIC:
            db.session.flush()
            return f"contract-{rules.add_contract(signing).id or ''}"
        if action == "remove_contract" and page == PAGE_BASIC:
            rules.remove_row(signing, "contract", _row_id(value))
            return "contracts"
        if action in ("add_need", "remove_need", "pick_product", "remove_product") and (
            page != PAGE_LEAD or lead_locked
        ):
            raise WorkflowError(_("The lead unit information is being filled by the industry service provider"))
        if action == "add_need":
            rules.add_need(signing)
            return "needs"
        if action == "remove_need":
            rules.remove_row(signing, "need", _row_id(value))
            return "needs"
        if action == "pick_product":
            product_id = _row_id(request.form.get("pick_product"))
            if product_id is None:
                raise WorkflowError(_("Please choose a product/service"))
            rules.pick_product(signing, product_id)
            return "products"
        if action == "remove_product":
            rules.remove_row(signing, "product", _row_id(value))
            return "products"
        return None

    def _ask(self, signing, here):
        allowed = {c.industry_provider_id for c in signing.contracts if c.industry_provider_id}
        return assisted.send(rules.HOST, signing, allowed, here, url_for("SigningView.detail", pk=signing.id))

    # --- reading ------------------------------------------------------------------------------------------
    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        signing = get_visible_or_404(Signing, pk, options=rules.page_options())
        return self.render_template(
            "zsdx/signing_detail.html",
            title=_("Project signing details"),
            signing=signing,
            rules=rules,
            is_owner=owns(g.user, signing),
            may_fill=assist.may_fill(g.user, signing.assist),
            totals=rules.totals(signing),
            revisions=rules.revisions(signing),
            scenario_names=dict(scenario_choices()),
            cloud_names={k: str(v) for k, v in rules.CLOUD_USES},
        )

    @expose("/contract/<int:pk>/file")
    @has_access
    def contract_file(self, pk):
        """A contract's PDF, to whoever may see its signing (预览 with ?inline=1)."""
        contract = get_visible_or_404(Contract, pk, options=[joinedload(Contract.file)])
        if contract.file is None:
            abort(404)
        return serve(contract.file, inline=request.args.get("inline") == "1")

    @expose("/catalog.json")
    @has_access
    def catalog(self):
        """The 【添加产品/服务】 dialog's search: listed products only."""
        page = _row_id(request.args.get("page")) or 1
        rows = _catalog(request.args.get("q"), min(page, 1000))
        names = dict(PURCHASE_MODES)
        return jsonify(
            [
                {
                    "id": p.id,
                    "code": p.code,
                    "name": p.name,
                    "supplier": p.organisation.name,
                    "max_price": f"{p.listed_price:.4f}",
                    "price_note": p.price_note or "",
                    "purchase_mode": str(names.get(p.purchase_mode, "")),
                }
                for p in rows
            ]
        )
