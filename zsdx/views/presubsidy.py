"""预奖补申请, the enterprise side (manual 04): after 已签约, 【预奖补申请】 opens this page: tick the contracts
to apply with, upload 入库申报表 / 承诺书 / 信用报告, 保存 or 提交 into the chain 镇街 → 市工信. A submitted
application is shown read-only with its review timeline until it is returned (退回重填). The reviewers see
it on the generic review page (zsdx/templates/zsdx/_review_pre_subsidy.html)."""

import io
import re

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import presubsidy as rules
from ..extensions import db
from ..files import PDF, UploadError, serve, store_upload
from ..forms import ZsdxForm
from ..guards import id_arg
from ..models import Contract, PreSubsidy, ReviewStatus, Signing
from ..visibility import get_owned_or_404, get_visible_or_404, owned
from ..workflow import WorkflowError, is_overdue, timeline

CONTRACT_ID = re.compile(r"[0-9]{1,10}")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class PreSubsidyForm(ZsdxForm):
    """Only the CSRF token: the contracts and files are read from the request (checkboxes, uploads)."""


def page_options():
    """Everything the page shows, with the signing."""
    return [
        joinedload(Signing.organisation),
        selectinload(Signing.contracts).joinedload(Contract.file),
        selectinload(Signing.contracts).joinedload(Contract.industry_provider),
        selectinload(Signing.contracts).selectinload(Contract.products),
        joinedload(Signing.pre_subsidy).joinedload(PreSubsidy.application_file),
        joinedload(Signing.pre_subsidy).joinedload(PreSubsidy.commitment_file),
        joinedload(Signing.pre_subsidy).joinedload(PreSubsidy.credit_file),
        joinedload(Signing.pre_subsidy).selectinload(PreSubsidy.contracts),
    ]


def posted_contract_ids():
    """The ticked contracts as ints, or None when any value is not a plausible id."""
    ids = []
    for raw in request.form.getlist("contract_ids"):
        value = id_arg(raw) if CONTRACT_ID.fullmatch(raw or "") else None
        if value is None:
            return None
        ids.append(value)
    return ids


def store_files(record, user):
    """The uploads of the three files; returns {file key: error}. A refused file leaves the saved one."""
    errors = {}
    for key in rules.FILES:
        storage = request.files.get(f"{key}_file")
        if storage is None or not storage.filename:
            continue
        try:
            stored = store_upload(storage, PDF, user.id)
            db.session.flush()
        except UploadError as exc:
            errors[key] = str(exc)
            continue
        setattr(record, f"{key}_file_id", stored.id)
    return errors


def workbench_signing_tab():
    return redirect(url_for("WorkbenchView.index", group="projects", tab="signing"))


class PreSubsidyView(BaseView):
    screen_label = _l("Pre-subsidy application")  # its name in 角色管理
    route_base = "/presubsidy"
    default_view = "edit"

    @expose("/<int:pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        """The application of signing `pk` (the enterprise's own): the form, or read-only once submitted."""
        signing = get_owned_or_404(Signing, pk, options=page_options())
        if not rules.may_apply(signing):
            flash(_("The pre-subsidy application opens after the signing is submitted"), "warning")
            return workbench_signing_tab()
        if request.method == "POST":
            form = PreSubsidyForm()
            if not form.validate_on_submit() and form.csrf_token.errors:
                abort(400)
        record = signing.pre_subsidy
        if record is None and request.method != "POST":
            # nothing is written by opening the page: an unsaved draft (the list's status stays empty)
            return self._render(signing, PreSubsidy(signing_id=signing.id, status=ReviewStatus.DRAFT))
        if record is None:
            signing, record = self._open(signing, pk)
        if record.status not in ReviewStatus.EDITABLE:
            if request.method == "POST":
                flash(_("This application has been submitted and cannot be edited until it is returned"), "warning")
                return redirect(url_for("PreSubsidyView.edit", pk=pk))
            return self._render(signing, record, readonly=True)
        errors = {}
        if request.method == "POST":
            action = request.form.get("action", "save")
            ids = posted_contract_ids()
            try:
                if ids is None:
                    raise WorkflowError(_("Please choose among this project's contracts"))
                rules.choose_contracts(record, ids)
            except WorkflowError as exc:
                errors["contracts"] = str(exc)
            errors.update(store_files(record, g.user))
            db.session.commit()  # what was chosen and uploaded is kept even if the submission is refused
            if action == "submit" and errors:
                errors = {**rules.problems(record), **errors}  # everything still missing, named
            elif action == "submit":
                try:
                    rules.submit_application(record, g.user)
                except WorkflowError as exc:
                    errors = rules.problems(record) or {"form": str(exc)}
                else:
                    flash(_("The pre-subsidy application has been submitted for review"), "success")
                    return workbench_signing_tab()
            elif not errors:
                flash(_("Saved"), "success")
                return redirect(url_for("PreSubsidyView.edit", pk=pk))
            flash(
                _("Submission failed: please complete the items marked below")
                if action == "submit"
                else _("Some items were not saved: please correct the items marked below"),
                "danger",
            )
        return self._render(signing, record, errors=errors)

    @staticmethod
    def _open(signing, pk):
        """The draft application, created by the first 保存/提交 (before anything is checked, so that what a
        refused first submission kept stays)."""
        try:
            rules.open_for(signing)
            db.session.commit()
        except IntegrityError:  # a parallel first visit created it
            db.session.rollback()
        signing = get_owned_or_404(Signing, pk, options=page_options())
        return signing, signing.pre_subsidy

    def _render(self, signing, record, readonly=False, errors=None):
        return self.render_template(
            "zsdx/presubsidy_form.html",
            title=_("Pre-subsidy application"),
            signing=signing,
            record=record,
            chosen_ids={c.id for c in record.contracts},
            total=rules.money(rules.contracts_total(record)),
            subsidy=rules.money(rules.amount(record)),
            readonly=readonly,
            errors=errors or {},
            files=rules.FILES,
            presubsidy=rules,
            status=rules.status_text(record),
            timeline=timeline(record),
            overdue=is_overdue(record) if readonly else False,
        )

    @expose("/<int:pk>/file/<which>")
    @has_access
    def file(self, pk, which):
        """One of the three files of application `pk`, to whoever may see the application."""
        if which not in rules.FILES:
            abort(404)
        record = get_visible_or_404(PreSubsidy, pk)
        stored = getattr(record, f"{which}_file")
        if stored is None:
            abort(404)
        return serve(stored, inline=request.args.get("inline") == "1")

    # --- 下载模版 ----------------------------------------------------------------------------------------
    def _own_signing(self):
        """?signing=<id> when it is the user's own signing (the templates are pre-filled), else None."""
        pk = id_arg(request.args.get("signing"))
        if pk is None:
            return None
        return (
            owned(Signing)
            .options(joinedload(Signing.organisation), selectinload(Signing.contracts))
            .filter(Signing.id == pk)
            .one_or_none()
        )

    @expose("/template/application.docx")
    @has_access
    def application_template(self):
        """入库申报表 【下载模版】: a table to fill, print and seal."""
        from docx import Document

        signing = self._own_signing()
        org = signing.organisation if signing is not None else None
        contracts = []
        if signing is not None:
            chosen = signing.pre_subsidy.contracts if signing.pre_subsidy is not None else []
            contracts = list(chosen) or list(signing.contracts)
        doc = Document()
        doc.add_heading(_("Pre-subsidy warehousing application form"), level=1)
        doc.add_paragraph(_("Zhongshan SME Digital Transformation City Pilot Project Management Platform"))
        table = doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        for label, value in (
            (_("Enterprise name"), org.name if org else ""),
            (_("Unified social credit code"), org.credit_code if org else ""),
            (_("Project name"), signing.project_name if signing is not None else ""),
        ):
            cells = table.add_row().cells
            cells[0].text, cells[1].text = label, value or ""
        doc.add_paragraph("")
        money = doc.add_table(rows=1, cols=3)
        money.style = "Table Grid"
        head = money.rows[0].cells
        head[0].text = _("Contract/agreement no.")
        head[1].text = _("Total contract amount (10k yuan)")
        head[2].text = _("Amount included in the subsidised project (10k yuan)")
        for contract in contracts or [None]:
            cells = money.add_row().cells
            if contract is not None:
                cells[0].text = contract.number or ""
                cells[1].text = rules.money(contract.total_amount)
                cells[2].text = rules.money(contract.subsidy_amount)
        if contracts:
            cells = money.add_row().cells
            cells[0].text = _("Sum total")
            cells[1].text = rules.money(sum((c.total_amount or 0 for c in contracts), 0))
            cells[2].text = rules.money(sum((c.subsidy_amount or 0 for c in contracts), 0))
        doc.add_paragraph("")
        sign = doc.add_table(rows=0, cols=2)
        sign.style = "Table Grid"
        for label, value in (
            (_("Contact person"), org.contact_name if org else ""),
            (_("Contact telephone"), org.contact_phone if org else ""),
            (_("Enterprise seal"), ""),
            (_("Date"), ""),
        ):
            cells = sign.add_row().cells
            cells[0].text, cells[1].text = label, value or ""
        return self._send(doc, _("Warehousing application form template"))

    @expose("/template/commitment.docx")
    @has_access
    def commitment_template(self):
        """承诺书 【下载模版】: the letter on the truthfulness of the materials, to sign and seal."""
        from docx import Document

        signing = self._own_signing()
        org = signing.organisation if signing is not None else None
        blank = "________________"
        doc = Document()
        doc.add_heading(_("Letter of commitment"), level=1)
        doc.add_paragraph(_("To the Zhongshan Municipal Bureau of Industry and Information Technology:"))
        doc.add_paragraph(
            _(
                "%(enterprise)s (unified social credit code: %(code)s) applies for the pre-subsidy of the "
                "project %(project)s of the Zhongshan SME digital transformation city pilot, and solemnly "
                "commits:",
                enterprise=(org.name if org else "") or blank,
                code=(org.credit_code if org else "") or blank,
                project=(signing.project_name if signing is not None else "") or blank,
            )
        )
        for line in (
            _("1. All materials submitted are true, accurate, complete and valid, with no falsification."),
            _("2. The project has not applied for and will not apply for other municipal funds for the same content."),
            _("3. The subsidy funds will be used for the project only and accept supervision and inspection."),
            _(
                "4. If anything is found untrue, the enterprise bears the legal responsibility and returns the "
                "subsidy received."
            ),
        ):
            doc.add_paragraph(line)
        for line in (_("Enterprise (seal):"), _("Legal representative (signature):"), _("Date:")):
            doc.add_paragraph(line)
        return self._send(doc, _("Letter of commitment template"))

    @staticmethod
    def _send(doc, name):
        buf = io.BytesIO()
        doc.save(buf)
        buf.seek(0)
        return send_file(buf, mimetype=DOCX, as_attachment=True, download_name=name + ".docx")
