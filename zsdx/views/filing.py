"""项目备案, the enterprise side (manual 02): 发起备案, the two-page form, 保存 / 提交, 详情 with the
audit timeline, 信息变更 of a filed filing, the files and their 下载模版."""

import io

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from .. import filing as rules
from ..extensions import db
from ..files import PDF, UploadError, serve, store_upload
from ..forms import FilingForm
from ..models import Filing, Organisation, ProductCategory, ReviewStatus
from ..visibility import get_owned_or_404, get_visible_or_404, owns
from ..workflow import WorkflowError, is_overdue, submit_record, timeline
from .account import industry_choices, town_choices

FILE_FIELDS = {"authorization": "authorization_file", "evidence": "chain_evidence_file"}


def product_category_choices():
    """Third-level categories grouped by their first two levels (a cascading choice in one select)."""
    leaves = (
        db.session.query(ProductCategory)
        .options(joinedload(ProductCategory.parent).joinedload(ProductCategory.parent))
        .filter(ProductCategory.level == 3)
        .order_by(ProductCategory.parent_id, ProductCategory.id)
        .all()
    )
    groups = {"": [(0, _("Please select"))]}
    for leaf in leaves:
        if leaf.parent is None:
            continue  # a misfiled third-level category (Admin's 主营产品分类 refuses new ones)
        groups.setdefault(leaf.parent.path(), []).append((leaf.id, leaf.name))
    return groups


def fill_choices(form):
    form.town_id.choices = town_choices()
    form.industry_id.choices = industry_choices()
    form.product_category_id.choices = product_category_choices()
    form.ent_nature.choices = [(k, str(v)) for k, v in rules.ENT_NATURES]
    form.ent_category.choices = [(k, str(v)) for k, v in rules.ENT_CATEGORIES]
    form.ent_scale.choices = [(k, str(v)) for k, v in rules.ENT_SCALES]
    form.quality_levels.choices = [(k, str(v)) for k, v in rules.QUALITY_LEVELS]
    form.target_level.choices = [("", _("Please select"))] + [(k, str(v)) for k, v in rules.TARGET_LEVELS]
    form.diagnosis_method.choices = [("", _("Please select"))] + [(k, str(v)) for k, v in rules.DIAGNOSIS_METHODS]
    form.chain_leader.choices = [("", _("Please select"))] + [(k, str(v)) for k, v in rules.YES_NO]


def form_data(filing):
    data = {name: getattr(filing, name) for name in rules.REQUIRED}
    data["quality_levels"] = [x for x in (filing.quality_levels or "").split(",") if x]
    data["chain_leader"] = "" if filing.chain_leader is None else ("1" if filing.chain_leader else "0")
    for key in ("town_id", "industry_id", "product_category_id"):
        data[key] = data[key] or 0
    return data


def show_identity(form, identity):
    """The read-only 企业名称 / 统一社会信用代码 / 所属镇街 show `identity` ({field: value}), never what was posted."""
    for name, value in identity.items():
        field = getattr(form, name)
        field.raw_data, field.process_errors = None, []
        field.data = (value or 0) if name == "town_id" else value


def apply_form(form, filing):
    """Copy every field that parsed into the record (fields with errors keep their saved value); the identity
    fields are not the form's (zsdx.filing.IDENTITY_FIELDS)."""
    for name in rules.EDITABLE_FIELDS:
        field = getattr(form, name)
        if field.errors:
            continue
        value = field.data
        if name in ("town_id", "industry_id", "product_category_id"):
            value = value or None
        elif name == "quality_levels":
            value = ",".join(value or []) or None
        elif name == "chain_leader":
            value = None if value in (None, "", "None") else value == "1"
        elif isinstance(value, str):
            value = value.strip() or None
        setattr(filing, name, value)


def store_files(form, filing, user):
    """Uploads of the two optional files; returns {field: error}."""
    errors = {}
    for field_name in FILE_FIELDS.values():
        storage = request.files.get(field_name)
        if storage and storage.filename:
            try:
                stored = store_upload(storage, PDF, user.id)
                db.session.flush()
                setattr(filing, field_name + "_id", stored.id)
            except UploadError as exc:
                errors[field_name] = str(exc)
    return errors


def provider_names():
    # not a row load: the providers' public names, suggested in the filing form
    rows = db.session.query(
        Organisation.name, Organisation.is_industry_provider, Organisation.is_scenario_provider
    ).filter(Organisation.kind == "provider")
    industry, scenario = [], []
    for name, is_industry, is_scenario in rows:
        if is_industry:
            industry.append(name)
        if is_scenario:
            scenario.append(name)
    return industry, scenario


class FilingView(BaseView):
    route_base = "/filing"
    default_view = "index"

    def _own(self, pk):
        """The current enterprise's own filing, or 404 (never another enterprise's)."""
        return get_owned_or_404(Filing, pk)

    @expose("/")
    @has_access
    def index(self):
        return redirect(url_for("WorkbenchView.index", group="projects", tab="filing"))

    @expose("/new", methods=["POST"])
    @has_access
    def new(self):
        if g.user.organisation is None:
            abort(403)
        filing = rules.new_filing(g.user)
        return redirect(url_for("FilingView.edit", pk=filing.id))

    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        filing = self._own(pk)
        if filing.status not in ReviewStatus.EDITABLE:
            flash(_("This filing has been submitted and cannot be edited until it is returned"), "warning")
            return redirect(url_for("FilingView.detail", pk=pk))
        return self._form(filing, mode="edit")

    @expose("/<int:pk>/change", methods=["GET", "POST"])
    @has_access
    def change(self, pk):
        """信息变更 of a filed filing: saved at once, with a revision kept."""
        filing = self._own(pk)
        if filing.status != ReviewStatus.DONE:
            abort(404)
        return self._form(filing, mode="change")

    def _form(self, filing, mode):
        form = FilingForm(data=None if request.method == "POST" else form_data(filing))
        fill_choices(form)
        # a 已备案 filing keeps the identity it was filed with; any other takes the organisation's
        filed = {name: getattr(filing, name) for name in rules.IDENTITY_FIELDS}
        show_identity(form, filed if mode == "change" else rules.identity_of(filing.organisation))
        missing, rule_errs, file_errs = [], {}, {}
        if request.method == "POST":
            if not form.validate_on_submit() and form.csrf_token.errors:
                abort(400)
            action = request.form.get("action", "save")
            before = rules.snapshot(filing)
            apply_form(form, filing)
            if mode != "change":
                rules.take_identity(filing, filing.organisation)
            file_errs = store_files(form, filing, g.user)
            rule_errs = rules.rule_errors(filing)
            if mode == "change":
                missing = rules.missing_fields(filing)
                if not (missing or rule_errs or file_errs or form.errors):
                    changes = rules.record_revision(filing, g.user, before, rules.snapshot(filing))
                    rules.tell_reviewers_of_change(filing, g.user, changes)
                    db.session.commit()
                    flash(_("The filing information has been changed"), "success")
                    return redirect(url_for("FilingView.detail", pk=filing.id))
                db.session.rollback()
            elif action == "submit":
                missing = rules.missing_fields(filing)
                db.session.commit()  # what was typed is kept even if the submission is refused
                if not (missing or rule_errs or file_errs or form.errors):
                    try:
                        submit_record(filing, g.user)
                    except WorkflowError as exc:
                        flash(str(exc), "danger")
                        return redirect(url_for("FilingView.detail", pk=filing.id))
                    flash(_("The filing has been submitted for review"), "success")
                    return redirect(url_for("WorkbenchView.index", group="projects", tab="filing"))
                flash(_("Submission failed: please complete the items marked below"), "danger")
            else:
                db.session.commit()
                if not (form.errors or file_errs):
                    flash(_("Saved"), "success")
                    return redirect(url_for("FilingView.edit", pk=filing.id, page=request.form.get("page", 1)))
            # re-render with the typed values and every error beside its field
            for name, label in missing:
                getattr(form, name).errors = list(getattr(form, name).errors) + [
                    _("%(label)s is required", label=label)
                ]
            for name, message in {**rule_errs, **file_errs}.items():
                getattr(form, name).errors = list(getattr(form, name).errors) + [message]
        industry_providers, scenario_providers = provider_names()
        # open the page holding the first error, else the page the user was on
        if any(getattr(form, n).errors for n, _l in rules.ENTERPRISE_FIELDS):
            page = 1
        elif any(getattr(form, n).errors for n, _l in rules.PROJECT_FIELDS) or file_errs:
            page = 2
        else:
            page = request.values.get("page", 1, type=int)
        return self.render_template(
            "zsdx/filing_form.html",
            title=_("Project filing"),
            form=form,
            filing=filing,
            mode=mode,
            missing=missing,
            page=page,
            enterprise_fields=rules.ENTERPRISE_FIELDS,
            project_fields=rules.PROJECT_FIELDS,
            industry_providers=industry_providers,
            scenario_providers=scenario_providers,
        )

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        filing = get_visible_or_404(Filing, pk, options=rules.detail_options())
        return self.render_template(
            "zsdx/filing_detail.html",
            title=_("Project filing details"),
            filing=filing,
            rules=rules,
            timeline=timeline(filing),
            overdue=is_overdue(filing),
            is_owner=owns(g.user, filing),
            review_url=None,
        )

    @expose("/<int:pk>/file/<which>")
    @has_access
    def file(self, pk, which):
        """Download (or preview inline) one of the filing's files, if the user may see the filing."""
        if which not in FILE_FIELDS:
            abort(404)
        filing = get_visible_or_404(Filing, pk)
        stored = getattr(filing, FILE_FIELDS[which])
        if stored is None:
            abort(404)
        return serve(stored, inline=request.args.get("inline") == "1")

    @expose("/template/authorization.docx")
    @has_access
    def authorization_template(self):
        """授权委托书 【下载模版】, written with python-docx."""
        from docx import Document

        doc = Document()
        doc.add_heading(_("Power of attorney"), level=1)
        doc.add_paragraph(_("Zhongshan SME Digital Transformation City Pilot Project Management Platform"))
        for line in (
            _("Principal (enterprise name, seal):"),
            _("Unified social credit code:"),
            _("Agent name:"),
            _("Agent ID card number:"),
            _("Agent mobile phone:"),
            _("Matters entrusted: handling the filing and subsequent procedures of the pilot project on the platform."),
            _("Term of entrustment: from the date of signing until the project is closed."),
            _("Legal representative (signature):"),
            _("Date:"),
        ):
            doc.add_paragraph(line)
        buf = io.BytesIO()
        doc.save(buf)
        buf.seek(0)
        return send_file(
            buf,
            mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            as_attachment=True,
            download_name=_("Power of attorney template") + ".docx",
        )
