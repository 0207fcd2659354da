"""项目实施-改造完成, the screens (manual 08): the enterprise's three pages (数字化改造成效, 服务商评价, 佐证材料 with
the invoice tabs), 上一页 / 下一页 / 保存, 【预览】 then 【提交】, 信息变更 with revisions; the provider's 数字化改造成效
page when the enterprise asked it (行业型服务商协助填写); the read-only 详情; the files; 市工信's 服务商评价.

The rules are zsdx.completion and zsdx.assist; rows are loaded through zsdx.visibility only.
"""

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from .. import assist
from .. import completion as rules
from ..extensions import db
from ..files import IMAGES, PDF, UploadError, serve, store_upload
from ..forms import BoundedDecimalField, RowForm, ZsdxForm
from ..guards import CONTROL
from ..models import Completion, CompletionIndicator, PaymentVoucher
from ..visibility import get_owned_or_404, get_visible_or_404, owns
from ..workflow import WorkflowError
from . import assisted
from .assisted import row_id

VOUCHER_TYPES = PDF + IMAGES  # a bank payment voucher may be a PDF or a scan (SPEC §3.10)
_ROW_ACTIONS = ("add_invoice", "remove_invoice", "add_line", "remove_line", "add_voucher", "remove_voucher")


# --- the forms of the pages (every field optional: 【提交】 checks what is required, zsdx.completion.problems) ----
def _yuan(label):
    return BoundedDecimalField(
        label,
        places=2,
        max_digits=14,
        minimum=0,
        validators=[Optional()],
        render_kw={"type": "number", "step": "0.01", "min": "0", "inputmode": "decimal"},
    )


class ResultForm(RowForm):
    ticked = BooleanField(_l("Ticked"))
    after = TextAreaField(
        _l("Indicator data (after)"),
        validators=[Optional(), Length(max=rules.TEXT_MAX)],
        render_kw={"rows": 2, "maxlength": rules.TEXT_MAX},
    )


def _stars(form, field):
    if field.data not in (None, "") and field.data not in [str(n) for n in rules.STARS]:
        raise ValidationError(_l("Please choose 1 to 5 stars"))


def _star_field(label):
    return StringField(label, validators=[Optional(), _stars])


def _text_field(label):
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=rules.TEXT_MAX)],
        render_kw={"rows": 2, "maxlength": rules.TEXT_MAX},
    )


class RatingForm(RowForm):
    product_stars = _star_field(rules.ASPECTS[0][1])
    product_text = _text_field(rules.ASPECTS[0][2])
    overall_stars = _star_field(rules.ASPECTS[1][1])
    overall_text = _text_field(rules.ASPECTS[1][2])
    attitude_stars = _star_field(rules.ASPECTS[2][1])
    attitude_text = _text_field(rules.ASPECTS[2][2])
    after_sales_stars = _star_field(rules.ASPECTS[3][1])
    after_sales_text = _text_field(rules.ASPECTS[3][2])


class InvoiceForm(RowForm):
    code = StringField(rules.INVOICE_FIELDS[0][1], validators=[Optional(), Length(max=32)])
    number = StringField(rules.INVOICE_FIELDS[1][1], validators=[Optional(), Length(max=32)])
    issued_on = DateField(rules.INVOICE_FIELDS[2][1], validators=[Optional()], render_kw={"type": "date"})
    seller = StringField(rules.INVOICE_FIELDS[3][1], validators=[Optional(), Length(max=200)])


class LineForm(RowForm):
    name = StringField(rules.LINE_FIELDS[0][1], validators=[Optional(), Length(max=200)])
    amount = _yuan(rules.LINE_FIELDS[1][1])
    tax = _yuan(rules.LINE_FIELDS[2][1])


class VoucherForm(RowForm):
    paid_on = DateField(rules.VOUCHER_FIELDS[0][1], validators=[Optional()], render_kw={"type": "date"})
    amount = _yuan(rules.VOUCHER_FIELDS[1][1])


def _value(field):
    value = field.data
    if isinstance(value, str):
        value = value.strip() or None
    return value


def _copy(form, record, names):
    """Copy every field that parsed into `record`; a field with errors keeps its saved value."""
    for name in names:
        field = getattr(form, name)
        if not field.errors:
            setattr(record, name, _value(field))


def _star_data(value):
    return "" if value is None else str(value)


class PageForms:
    """The forms of one page, bound to the posted data (POST) or to the record (GET)."""

    def __init__(self, completion, page, posted):
        self.completion, self.page = completion, page
        data = request.form if posted else None
        self.main = ZsdxForm(formdata=data)
        self.results, self.ratings, self.invoices, self.lines, self.vouchers = {}, {}, {}, {}, {}
        if page == rules.PAGE_RESULTS:
            for row in completion.results:
                self.results[row.id] = ResultForm(
                    formdata=data, prefix=f"result-{row.id}-", obj=None if posted else row
                )
        elif page == rules.PAGE_RATINGS:
            for rating in completion.ratings:
                initial = {}
                if not posted:
                    for key, *_labels in rules.ASPECTS:
                        initial[f"{key}_stars"] = _star_data(getattr(rating, f"{key}_stars"))
                        initial[f"{key}_text"] = getattr(rating, f"{key}_text")
                self.ratings[rating.id] = RatingForm(formdata=data, prefix=f"rating-{rating.id}-", data=initial)
        else:
            for invoice in completion.invoices:
                self.invoices[invoice.id] = InvoiceForm(
                    formdata=data, prefix=f"invoice-{invoice.id}-", obj=None if posted else invoice
                )
                for line in invoice.lines:
                    self.lines[line.id] = LineForm(
                        formdata=data, prefix=f"line-{line.id}-", obj=None if posted else line
                    )
                for voucher in invoice.vouchers:
                    self.vouchers[voucher.id] = VoucherForm(
                        formdata=data, prefix=f"voucher-{voucher.id}-", obj=None if posted else voucher
                    )

    def rows(self):
        return [*self.results.values(), *self.ratings.values(), *self.invoices.values()] + [
            *self.lines.values(),
            *self.vouchers.values(),
        ]

    def validate(self):
        ok = True
        for form in self.rows():
            ok = form.validate() and ok
        return ok

    def has_errors(self):
        return any(form.errors for form in self.rows())

    def invoice_has_errors(self, invoice):
        forms = [self.invoices.get(invoice.id)] + [self.lines.get(x.id) for x in invoice.lines]
        return any(f is not None and f.errors for f in forms + [self.vouchers.get(v.id) for v in invoice.vouchers])

    def apply(self, user, results_locked=False):
        """Copy what parsed into the record; store the uploads. Returns {anchor: upload error}."""
        c, errors = self.completion, {}
        if self.page == rules.PAGE_RESULTS:
            if results_locked:
                return errors
            for row in c.results:
                form = self.results[row.id]
                if not form.ticked.errors:
                    row.ticked = bool(form.ticked.data)
                _copy(form, row, ["after"])
                self._upload(f"result-{row.id}-evidence", PDF, user, errors, row, "evidence_file_id")
        elif self.page == rules.PAGE_RATINGS:
            for rating in c.ratings:
                form = self.ratings[rating.id]
                for key, *_labels in rules.ASPECTS:
                    stars = getattr(form, f"{key}_stars")
                    if not stars.errors:
                        setattr(rating, f"{key}_stars", int(stars.data) if stars.data else None)
                    _copy(form, rating, [f"{key}_text"])
        else:
            for key, _label, _required in rules.EVIDENCE_FILES:
                self._upload(f"{key}_file", PDF, user, errors, c, f"{key}_file_id")
            for invoice in c.invoices:
                _copy(self.invoices[invoice.id], invoice, ["code", "number", "issued_on", "seller"])
                for line in invoice.lines:
                    _copy(self.lines[line.id], line, ["name", "amount", "tax"])
                    line.total = rules.line_total(line)  # computed, whatever was posted
                for voucher in invoice.vouchers:
                    _copy(self.vouchers[voucher.id], voucher, ["paid_on", "amount"])
                    self._upload(f"voucher-{voucher.id}-file", VOUCHER_TYPES, user, errors, voucher, "file_id")
        return errors

    @staticmethod
    def _upload(name, allowed, user, errors, record, attribute):
        storage = request.files.get(name)
        if storage and storage.filename:
            try:
                stored = store_upload(storage, allowed, user.id)
                db.session.flush()
                setattr(record, attribute, stored.id)
            except UploadError as exc:
                errors[name] = str(exc)

    def add_errors(self, found):
        """Put {anchor: message} beside the form fields (anchors as zsdx.completion.problems names them);
        returns the messages shown elsewhere on the page (files, sections)."""
        tables = {
            "result": self.results,
            "rating": self.ratings,
            "invoice": self.invoices,
            "line": self.lines,
            "voucher": self.vouchers,
        }
        left = {}
        for anchor, message in found.items():
            prefix, _sep, name = anchor.rpartition("-")
            kind, _s, pk = prefix.partition("-")
            form = tables.get(kind, {}).get(row_id(pk)) if prefix else None
            field = getattr(form, name, None) if form is not None else None
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors) + [message]
            else:
                left[anchor] = message
        return left


def _page_number(value):
    number = row_id(value)
    return number if number in dict(rules.PAGES) else rules.PAGE_RESULTS


class CompletionView(BaseView):
    screen_label = _l("Implementation - completed")  # its name in 角色管理
    route_base = "/completion"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        return redirect(url_for("WorkbenchView.index", group="projects", tab="completed"))

    # --- the enterprise's pages -------------------------------------------------------------------------
    @expose("/<int:pk>/edit", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        page = _page_number(request.values.get("page"))
        completion = get_owned_or_404(Completion, pk, options=rules.page_options(page))
        if not rules.editable(completion):
            flash(_("This record has been submitted; use Information change to modify it"), "warning")
            return redirect(url_for("CompletionView.detail", pk=pk))
        return self._page(completion, "edit", page)

    @expose("/<int:pk>/change", methods=["GET", "POST"])
    @has_access
    def change(self, pk):
        """信息变更 of a 已提交 record: saved only when complete, with a revision kept."""
        page = _page_number(request.values.get("page"))
        completion = get_owned_or_404(Completion, pk, options=rules.page_options(page))
        if rules.editable(completion):
            abort(404)
        return self._page(completion, "change", page)

    @expose("/<int:pk>/assist", methods=["GET", "POST"])
    @has_access
    def assist(self, pk):
        """The provider's 数字化改造成效, while the enterprise's request waits with it (协助填写中)."""
        completion, elsewhere = assisted.helped_or_404(
            Completion, pk, "CompletionView.detail", options=rules.page_options(rules.PAGE_RESULTS)
        )
        return elsewhere or self._page(completion, "assist", rules.PAGE_RESULTS)

    @expose("/<int:pk>/submit", methods=["POST"])
    @has_access
    def submit(self, pk):
        """【提交】 from the preview (or 确认提交 after the provider): refused with every problem named, on the page
        of the first one."""
        completion = get_owned_or_404(Completion, pk, options=rules.page_options())
        if not rules.editable(completion):
            flash(_("This record has already been handled by someone else"), "warning")
            return redirect(url_for("CompletionView.detail", pk=pk))
        if rules.sync_levels(completion):
            db.session.commit()
        try:
            rules.submit_completion(completion, g.user)
        except rules.Incomplete as exc:
            flash(str(exc), "danger")
            page = rules.page_of(next(iter(exc.problems)))
            return self._render(completion, "edit", page, PageForms(completion, page, False), exc.problems)
        except WorkflowError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("CompletionView.detail", pk=pk))
        flash(_("The implementation completion has been submitted"), "success")
        return redirect(url_for("WorkbenchView.index", group="projects", tab="completed"))

    def _page(self, completion, mode, page):
        posted = request.method == "POST"
        if mode != "change" and rules.sync_levels(completion):
            db.session.commit()  # a level its stage has settled since this record was opened
        if not posted and page == rules.PAGE_RATINGS and mode != "assist" and rules.sync_ratings(completion):
            db.session.commit()  # a rating row per provider of the contracts, when the page is first opened
        forms = PageForms(completion, page, posted)
        problems = {}
        if posted:
            forms.validate()
            action, _sep, row = (request.form.get("action") or "save").partition(":")
            outcome = self._post(completion, forms, mode, page, action, row)
            if outcome is not None and not isinstance(outcome, dict):
                return outcome
            problems = outcome or {}
        return self._render(completion, mode, page, forms, problems)

    def _render(self, completion, mode, page, forms, problems):
        """The page; `problems` ({anchor: message}, upload errors included) beside their fields and listed above."""
        lead_locked = mode != "assist" and assist.locked_for_owner(completion.assist)
        offer = page == rules.PAGE_RESULTS and mode == "edit" and not lead_locked
        messages = forms.add_errors(problems)
        return self.render_template(
            "zsdx/completion_form.html",
            title=_("Implementation - completed"),
            completion=completion,
            forms=forms,
            page=page,
            mode=mode,
            problems=problems,
            messages=messages,
            lead_locked=lead_locked,
            rules=rules,
            totals=rules.totals(completion) if page == rules.PAGE_EVIDENCE else None,
            **assisted.choice_context(completion, rules.lead_unit_ids(completion) if offer else set(), offer=offer),
        )

    def _post(self, completion, forms, mode, page, action, row):
        """Apply a POST; a redirect when done, else {anchor: message} to show on the page."""
        user = g.user
        here = url_for(f"CompletionView.{mode}", pk=completion.id, page=page)
        if mode == "assist" and action not in ("save", "submit"):
            abort(403)  # the provider fills 数字化改造成效 only
        lead_locked = mode != "assist" and assist.locked_for_owner(completion.assist)
        before = rules.snapshot(completion) if mode == "change" else None
        errors = forms.apply(user, results_locked=lead_locked)
        if page == rules.PAGE_RESULTS and mode == "edit" and not lead_locked:
            assisted.read_choice(completion)
        field_errors = forms.has_errors()
        try:
            anchor = self._row_action(completion, action, row, page)
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(here)
        if mode == "change":
            # a submitted record stays complete: anything but adding or removing a row is a 保存, checked whole
            checked = action not in _ROW_ACTIONS
            found = rules.problems(completion) if checked else {}
            if checked and (found or errors or field_errors):
                db.session.rollback()
                flash(_("The change was not saved: please correct the items marked below"), "danger")
                return {**found, **errors}
            changes = rules.record_revision(completion, user, before, rules.snapshot(completion))
            db.session.commit()
            if checked:
                flash(_("The information has been changed") if changes else _("Nothing was changed"), "success")
                return redirect(self._turn(completion, mode, page, action) or here)
            return redirect(here + (f"#{anchor}" if anchor else ""))
        db.session.commit()  # what was typed is kept, whatever follows
        if action in _ROW_ACTIONS:
            return redirect(here + (f"#{anchor}" if anchor else ""))
        if action in ("prev", "next") and not (errors or field_errors):
            return redirect(self._turn(completion, mode, page, action) or here)
        if action == "preview" and not (errors or field_errors):
            return redirect(url_for("CompletionView.preview", pk=completion.id))
        if action == "ask" and mode == "edit" and page == rules.PAGE_RESULTS:
            allowed = rules.lead_unit_ids(completion)
            return assisted.send(
                rules.HOST, completion, allowed, here, url_for("CompletionView.detail", pk=completion.id)
            )
        if action == "cancel" and mode == "edit":
            return assisted.take_back(completion, here)
        if action == "submit" and mode == "assist":
            found = rules.results_problems(completion)
            if found or errors or field_errors:
                flash(_("Submission failed: please complete the items marked below"), "danger")
                return {**found, **errors}
            return assisted.provider_submit(completion, url_for("CompletionView.detail", pk=completion.id))
        if errors or field_errors:
            flash(_("Not saved: please correct the items marked below"), "danger")
            return errors
        flash(_("Saved"), "success")
        return redirect(here)

    @staticmethod
    def _turn(completion, mode, page, action):
        target = page - 1 if action == "prev" else page + 1 if action == "next" else None
        if mode == "assist" or target not in dict(rules.PAGES):
            return None
        return url_for(f"CompletionView.{mode}", pk=completion.id, page=target)

    def _row_action(self, completion, action, value, page):
        """【添加发票】, 【添加货物或应税劳务、服务】, 【添加银行付款凭证】 and the removals (`value`: the row's id);
        returns the anchor to show."""
        if action in _ROW_ACTIONS and page != rules.PAGE_EVIDENCE:
            raise WorkflowError(_("Invoices are filled on the supporting materials page"))
        if action == "add_invoice":
            return f"invoice-{rules.add_invoice(completion).id}"
        if action in ("add_line", "add_voucher"):
            adder = rules.add_line if action == "add_line" else rules.add_voucher
            return f"invoice-{adder(completion, row_id(value)).id}"
        if action in ("remove_invoice", "remove_line", "remove_voucher"):
            invoice = rules.remove_row(completion, action.split("_", 1)[1], row_id(value))
            return "invoices" if invoice is None or action == "remove_invoice" else f"invoice-{invoice.id}"
        return None

    # --- reading ------------------------------------------------------------------------------------------
    @expose("/<int:pk>/preview")
    @has_access
    def preview(self, pk):
        """【预览】: the whole record read-only, with 【提交】."""
        completion = get_owned_or_404(Completion, pk, options=rules.page_options())
        if not rules.editable(completion):
            return redirect(url_for("CompletionView.detail", pk=pk))
        return self.render_template(
            "zsdx/completion_preview.html",
            title=_("Preview"),
            completion=completion,
            rules=rules,
            totals=rules.totals(completion),
            submit_form=ZsdxForm(formdata=None),
        )

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk):
        completion = get_visible_or_404(Completion, pk, options=rules.page_options())
        return self.render_template(
            "zsdx/completion_detail.html",
            title=_("Implementation completion details"),
            completion=completion,
            rules=rules,
            is_owner=owns(g.user, completion),
            may_fill=assist.may_fill(g.user, completion.assist),
            totals=rules.totals(completion),
            revisions=rules.revisions(completion),
        )

    @expose("/<int:pk>/file/<which>")
    @has_access
    def file(self, pk, which):
        """项目合同报价单 / 发票 / 付款凭证 / 其他, to whoever may see the record (预览 with ?inline=1)."""
        if which not in {key for key, _label, _required in rules.EVIDENCE_FILES}:
            abort(404)
        relation = getattr(Completion, f"{which}_file")
        completion = get_visible_or_404(Completion, pk, options=[joinedload(relation)])
        return self._serve(getattr(completion, f"{which}_file"))

    @expose("/result/<int:pk>/file")
    @has_access
    def result_file(self, pk):
        """A dimension's 佐证材料."""
        row = get_visible_or_404(CompletionIndicator, pk, options=[joinedload(CompletionIndicator.evidence_file)])
        return self._serve(row.evidence_file)

    @expose("/voucher/<int:pk>/file")
    @has_access
    def voucher_file(self, pk):
        """An invoice's 银行付款凭证."""
        voucher = get_visible_or_404(PaymentVoucher, pk, options=[joinedload(PaymentVoucher.file)])
        return self._serve(voucher.file)

    @staticmethod
    def _serve(stored):
        if stored is None:
            abort(404)
        return serve(stored, inline=request.args.get("inline") == "1")

    @expose("/ratings")
    @has_access
    def ratings(self):
        """服务商评价 (市工信): every rated provider's average stars over the submitted completions."""
        text = CONTROL.sub("", request.args.get("q") or "")[:100]
        return self.render_template(
            "zsdx/completion_ratings.html",
            title=_("Provider ratings"),
            page=rules.provider_rating_page(text),
            q=text,
            rules=rules,
        )
