"""项目实施-改造中, the screens (manual 05): the enterprise's page 企业现状（改造前） (行业型服务商协助填写 是/否 and the
eight 维度指标 with their 指标数据（改造前）), 保存 / 提交 (确认提交 after the provider filled it), 信息变更 once
submitted (with revisions), the provider's assisted page, the read-only 详情 and 【表单下载】 (.docx / .xlsx).

The rules are zsdx.implementation and zsdx.assist (the round trip through zsdx.views.assisted); rows are loaded
through zsdx.visibility only.
"""

import io

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from .. import assist
from .. import implementation as rules
from ..extensions import db
from ..forms import IndicatorForm, ZsdxForm
from ..models import Implementation
from ..visibility import get_owned_or_404, get_visible_or_404, owns
from ..workflow import WorkflowError
from . import assisted

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PageForms:
    """The page's forms, bound to the posted data (POST) or to the record (GET): the page's own (its CSRF
    token) and one IndicatorForm per dimension."""

    def __init__(self, record, posted):
        data = request.form if posted else None
        self.main = ZsdxForm(formdata=data)
        self.rows = {
            i.dimension: IndicatorForm(formdata=data, prefix=f"dim-{i.dimension}-", obj=None if posted else i)
            for i in record.indicators
        }

    def validate(self):
        ok = True
        for form in self.rows.values():
            ok = form.validate() and ok
        return ok

    def has_errors(self):
        return any(form.errors for form in self.rows.values())

    def apply(self, record):
        """Copy what parsed into the dimensions; a field with errors keeps its saved value."""
        for indicator in record.indicators:
            form = self.rows[indicator.dimension]
            if not form.ticked.errors:
                indicator.ticked = bool(form.ticked.data)
            if not form.before.errors:
                text = form.before.data if isinstance(form.before.data, str) else ""
                indicator.before = text.strip() or None

    def add_errors(self, found):
        """Show {anchor: message} beside the fields ("dim-<dimension>-before"); returns the others."""
        left = {}
        for anchor, message in found.items():
            _dim, _sep, rest = anchor.partition("-")
            dimension, _sep, name = rest.rpartition("-")
            form = self.rows.get(dimension) if anchor.startswith("dim-") else None
            field = getattr(form, name, None) if form is not None else None
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors) + [message]
            else:
                left[anchor] = message
        return left


class ImplementationView(BaseView):
    screen_label = _l("Implementation - in progress")  # its name in 角色管理
    route_base = "/implementation"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return redirect(url_for("WorkbenchView.index", group="projects", tab="implementing"))

    # --- the enterprise's page ----------------------------------------------------------------------------
    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        record = get_owned_or_404(Implementation, pk, options=rules.page_options())
        if not rules.editable(record):
            flash(_("This record has been submitted; use Information change to modify it"), "warning")
            return redirect(url_for("ImplementationView.detail", pk=pk))
        return self._page(record, mode="edit")

    @expose("/<int:pk>/change", methods=["GET", "POST"])
    @has_access
    def change(self, pk):
        """信息变更 of a submitted record: saved at once, with a revision kept."""
        record = get_owned_or_404(Implementation, pk, options=rules.page_options())
        if rules.editable(record):
            abort(404)
        return self._page(record, mode="change")

    @expose("/<int:pk>/assist", methods=["GET", "POST"])
    @has_access
    def assist(self, pk):
        """The provider's page, while the enterprise's request waits with it (协助填写中)."""
        record, elsewhere = assisted.helped_or_404(
            Implementation, pk, "ImplementationView.detail", options=rules.page_options()
        )
        return elsewhere or self._page(record, mode="assist")

    def _page(self, record, mode):
        posted = request.method == "POST"
        forms = PageForms(record, posted)
        locked = mode == "edit" and assist.locked_for_owner(record.assist)
        problems = {}
        if posted:
            if not forms.main.validate_on_submit() and "csrf_token" in forms.main.errors:
                abort(400)
            forms.validate()
            outcome = self._post(record, forms, mode, request.form.get("action") or "save", locked)
            if not isinstance(outcome, dict):
                return outcome
            problems = outcome
        problems_left = forms.add_errors(problems) if problems else {}
        offer = mode == "edit" and not locked
        return self.render_template(
            "zsdx/implementation_form.html",
            title=_("Implementation - in progress"),
            record=record,
            forms=forms,
            mode=mode,
            problems=problems,
            problems_left=problems_left,
            lead_locked=locked,
            rules=rules,
            **assisted.choice_context(record, rules.lead_units(record) if offer else (), offer=offer),
        )

    def _post(self, record, forms, mode, action, locked):
        """Apply a POST; a redirect when done, else {anchor: message} to show on the page."""
        here = url_for(f"ImplementationView.{mode}", pk=record.id)
        detail = url_for("ImplementationView.detail", pk=record.id)
        if mode != "edit" and action in ("ask", "cancel"):
            abort(403)  # only the enterprise chooses, before submitting
        if locked:
            if action == "cancel":
                return assisted.take_back(record, here)
            flash(_("This page is being filled by the industry service provider"), "warning")
            return redirect(here)
        if mode == "change":
            return self._change(record, forms, detail)
        forms.apply(record)
        if mode == "edit":
            assisted.read_choice(record)
        field_errors = forms.has_errors()
        db.session.commit()  # what was typed is kept, whatever follows
        if action == "ask":
            return assisted.send(rules.HOST, record, rules.lead_units(record), here, detail)
        if action == "cancel":
            return assisted.take_back(record, here)
        if action == "submit" and mode == "assist":
            found = rules.indicator_problems(record)
            if found or field_errors:
                flash(_("Submission failed: please complete the items marked below"), "danger")
                return found
            return assisted.provider_submit(record, detail)
        if action == "submit":
            try:
                if field_errors:
                    raise rules.Incomplete(rules.problems(record))
                rules.submit_implementation(record, g.user)
            except rules.Incomplete as exc:
                flash(str(exc), "danger")
                return exc.problems
            except WorkflowError as exc:
                flash(str(exc), "danger")
                return redirect(detail)
            flash(_("Implementation - in progress has been submitted"), "success")
            return redirect(url_for("WorkbenchView.index", group="projects", tab="implementing"))
        if field_errors:
            return {}
        flash(_("Saved"), "success")
        return redirect(here)

    def _change(self, record, forms, detail):
        """信息变更 (【保存】 and 【提交】 alike): refused, with nothing changed, while it breaks a rule."""
        before = rules.snapshot(record)
        forms.apply(record)
        found = rules.indicator_problems(record)
        if found or forms.has_errors():
            db.session.rollback()
            flash(_("The change was not saved: please correct the items marked below"), "danger")
            return found
        changes = rules.record_revision(record, g.user, before, rules.snapshot(record))
        db.session.commit()
        flash(_("The information has been changed") if changes else _("Nothing was changed"), "success")
        return redirect(detail)

    # --- reading ------------------------------------------------------------------------------------------
    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        record = get_visible_or_404(Implementation, pk, options=rules.page_options())
        return self.render_template(
            "zsdx/implementation_detail.html",
            title=_("Implementation - in progress details"),
            record=record,
            rules=rules,
            is_owner=owns(g.user, record),
            may_fill=assist.may_fill(g.user, record.assist),
            revisions=rules.revisions(record),
        )

    def _for_download(self, pk):
        return get_visible_or_404(
            Implementation, pk, options=[*rules.page_options(), joinedload(Implementation.organisation)]
        )

    @expose("/<int:pk>/form.docx")
    @has_access
    def form_docx(self, pk):
        """【表单下载】 as Word: the page as filled."""
        from docx import Document

        record = self._for_download(pk)
        doc = Document()
        doc.add_heading(_("Implementation - in progress"), level=1)
        head = doc.add_table(rows=0, cols=2)
        head.style = "Table Grid"
        for label, value in rules.form_header(record):
            cells = head.add_row().cells
            cells[0].text, cells[1].text = label, value
        doc.add_heading(_("Enterprise status (before transformation)"), level=2)
        table = doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, label in zip(table.rows[0].cells, rules.form_columns(), strict=True):
            cell.text = label
        for row in rules.form_rows(record):
            for cell, value in zip(table.add_row().cells, row, strict=True):
                cell.text = value
        buf = io.BytesIO()
        doc.save(buf)
        buf.seek(0)
        return send_file(buf, mimetype=DOCX, as_attachment=True, download_name=rules.form_name(record) + ".docx")

    @expose("/<int:pk>/form.xlsx")
    @has_access
    def form_xlsx(self, pk):
        """【表单下载】 as Excel: the page as filled."""
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        record = self._for_download(pk)
        wb = Workbook()
        ws = wb.active
        ws.title = str(_("Implementation - in progress"))[:30]
        for label, value in rules.form_header(record):
            ws.append([label, value])
        ws.append([])
        ws.append(rules.form_columns())
        for row in rules.form_rows(record):
            ws.append(row)
        for cells in ws.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("", cell.value)
                    cell.data_type = "s"  # typed text stays text: "=…" is never a formula
        for column, width in zip("ABC", (18, 40, 60), strict=True):
            ws.column_dimensions[column].width = width
        buf = io.BytesIO()
        wb.save(buf)
        buf.seek(0)
        return send_file(buf, mimetype=XLSX, as_attachment=True, download_name=rules.form_name(record) + ".xlsx")
