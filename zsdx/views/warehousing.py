"""项目入库, the enterprise's screens (manual 09): the 项目信息填写 page (the editable copy of the whole project and
the 佐证材料 checklist) with 【预览】 / 【保存】 / 【提交】, only inside a 申报窗口; the read-only 详情 with the review
process on the right; the files. Reviewers see the record on the generic review page
(zsdx/templates/zsdx/_review_warehousing.html).

The rules are zsdx.warehousing; rows are loaded through zsdx.visibility only.
"""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import warehousing as rules
from ..extensions import db
from ..files import PDF, UploadError, serve, store_upload
from ..forms import ZsdxForm
from ..models import Warehousing
from ..visibility import get_owned_or_404, get_visible_or_404, owns
from ..workflow import WorkflowError, is_overdue, timeline


def _tab():
    return redirect(url_for("WorkbenchView.index", group="projects", tab="warehousing"))


def _check_csrf():
    form = ZsdxForm()
    if not form.validate_on_submit() and form.csrf_token.errors:
        abort(400)


class WarehousingView(BaseView):
    screen_label = _l("Project warehousing")  # its name in 角色管理
    route_base = "/warehousing"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return _tab()

    # --- the enterprise's page ------------------------------------------------------------------------------
    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        """项目信息填写 + 佐证材料 (draft or returned); outside a 申报窗口 the page says so and accepts nothing."""
        record = get_owned_or_404(Warehousing, pk, options=rules.page_options())
        if not rules.editable(record):
            flash(
                _("This warehousing application has been submitted and cannot be edited until it is returned"),
                "warning",
            )
            return redirect(url_for("WarehousingView.detail", pk=pk))
        open_window, upcoming = rules.window_state()
        if request.method == "POST":
            _check_csrf()
            if open_window is None:
                flash(rules.closed_notice(upcoming), "warning")
                return redirect(url_for("WarehousingView.edit", pk=pk))
            return self._post(record)
        return self._render(record, rules.content_of(record), open_window=open_window, upcoming=upcoming)

    def _post(self, record):
        action = request.form.get("action", "save")
        content = rules.content_of(record)
        errors, typed = rules.apply_form(content, request.form)
        rules.save_content(record, content)
        errors.update(self._uploads(record))
        db.session.commit()  # what is valid is kept, whatever follows
        here = url_for("WarehousingView.edit", pk=record.id)
        if errors:
            flash(
                _("Submission failed: please complete the items marked below")
                if action == "submit"
                else _("Some items were not saved: please correct the items marked below"),
                "danger",
            )
            if action == "submit":
                errors = {**rules.problems(record, content), **errors}
            return self._render(record, content, errors=errors, typed=typed, open_window=True)
        if action == "preview":
            return redirect(url_for("WarehousingView.preview", pk=record.id))
        if action == "submit":
            return self._submit(record, content)
        flash(_("Saved"), "success")
        return redirect(here)

    def _submit(self, record, content):
        try:
            rules.submit_warehousing(record, g.user)
        except rules.Incomplete as exc:
            flash(str(exc), "danger")
            return self._render(record, content, errors=exc.problems, open_window=True)
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("WarehousingView.edit", pk=record.id))
        flash(_("The warehousing application has been submitted for review"), "success")
        return _tab()

    @staticmethod
    def _uploads(record):
        """The 佐证材料 uploaded with this POST; {anchor: error}. A refused file leaves the saved one."""
        errors = {}
        for kind in rules.EVIDENCE_KINDS:
            storage = request.files.get(f"evidence-{kind}")
            if storage is None or not storage.filename:
                continue
            try:
                stored = store_upload(storage, PDF, g.user.id)
                db.session.flush()
            except UploadError as exc:
                errors[f"evidence-{kind}"] = str(exc)
                continue
            rules.attach(record, kind, stored.id)
        return errors

    def _render(self, record, content, errors=None, typed=None, open_window=None, upcoming=None):
        return self.render_template(
            "zsdx/warehousing_form.html",
            title=_("Project warehousing"),
            record=record,
            content=content,
            facts=rules.facts(record),
            evidence=rules.evidence_of(record),
            errors=errors or {},
            typed=typed or {},
            window_open=bool(open_window),
            notice=None if open_window else rules.closed_notice(upcoming),
            warehousing=rules,
        )

    @expose("/<int:pk>/preview")
    @has_access
    def preview(self, pk):
        """【预览】: the whole project read-only, with 【保存】 (back to the page) and 【提交】."""
        record = get_owned_or_404(Warehousing, pk, options=rules.page_options())
        if not rules.editable(record):
            return redirect(url_for("WarehousingView.detail", pk=pk))
        open_window, upcoming = rules.window_state()
        return self.render_template(
            "zsdx/warehousing_preview.html",
            title=_("Preview"),
            record=record,
            content=rules.content_of(record),
            facts=rules.facts(record),
            evidence=rules.evidence_of(record),
            window_open=bool(open_window),
            notice=None if open_window else rules.closed_notice(upcoming),
            warehousing=rules,
        )

    @expose("/<int:pk>/submit", methods=["POST"])
    @has_access
    def submit(self, pk):
        """【提交】 from the preview: refused with every problem named on the page."""
        record = get_owned_or_404(Warehousing, pk, options=rules.page_options())
        _check_csrf()
        if not rules.editable(record):
            flash(_("This record has already been handled by someone else"), "warning")
            return redirect(url_for("WarehousingView.detail", pk=pk))
        open_window, upcoming = rules.window_state()
        if open_window is None:
            flash(rules.closed_notice(upcoming), "warning")
            return redirect(url_for("WarehousingView.edit", pk=pk))
        return self._submit(record, rules.content_of(record))

    # --- reading -----------------------------------------------------------------------------------------------
    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        """详情: the whole record, the review process on the right (manual 09, 4/4)."""
        record = get_visible_or_404(Warehousing, pk, options=rules.page_options())
        return self.render_template(
            "zsdx/warehousing_detail.html",
            title=_("Project warehousing details"),
            record=record,
            content=rules.content_of(record),
            facts=rules.facts(record),
            evidence=rules.evidence_of(record),
            is_owner=owns(g.user, record),
            timeline=timeline(record),
            overdue=is_overdue(record),
            warehousing=rules,
        )

    @expose("/<int:pk>/file/<kind>")
    @has_access
    def file(self, pk, kind):
        """A 佐证材料 of the record, to whoever may see it (【预览】 with ?inline=1)."""
        if kind not in rules.EVIDENCE_KINDS:
            abort(404)
        record = get_visible_or_404(Warehousing, pk, options=rules.page_options())
        stored = rules.file_of(record, kind)
        if stored is None:
            abort(404)
        return serve(stored, inline=request.args.get("inline") == "1")
