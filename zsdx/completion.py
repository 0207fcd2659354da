"""项目实施-改造完成 (manual 08, SPEC §3.7): created when 改造中 is submitted (zsdx.implementation.open_next_stages).
Three pages: 数字化改造成效 (the dimensions ticked in 改造中 with 改造前 carried, 改造后 and a 佐证材料 each; the
page may be handed to the enterprise's 行业型服务商 through zsdx.assist, host type "completion"), 服务商评价 (one
ProviderRating per provider of the project's contracts, four star ratings with texts) and 佐证材料 (four files and
the structured invoices: goods lines and 银行付款凭证 per invoice). 【预览】 shows the whole record, 【提交】 →
已提交 and the 项目入库 record; 信息变更 afterwards keeps revisions.

Money is in 元, Decimal with at most 2 places; 价税合计 and every total are computed here from the stored
amounts (a posted total is never read).
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, event, func, inspect, select, union, update
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.util import identity_key

from . import assist
from . import revisions as revisions_
from .extensions import db, dialect_insert
from .implementation import DIMENSION_LABELS
from .models import (
    AssistRequest,
    Completion,
    CompletionIndicator,
    CompletionStatus,
    Contract,
    Invoice,
    InvoiceLine,
    Organisation,
    PaymentVoucher,
    Product,
    ProviderRating,
    ProviderRatingTotal,
    Signing,
    SigningProduct,
    Warehousing,
)
from .revisions import history
from .stages import WorkbenchTab, register_tab
from .visibility import register
from .workflow import WorkflowError, unit_of_work

HOST = "completion"  # AssistRequest.host_type and Revision.subject_type
PAGE_RESULTS, PAGE_RATINGS, PAGE_EVIDENCE = 1, 2, 3
PAGES = [
    (PAGE_RESULTS, _l("Digital transformation results")),
    (PAGE_RATINGS, _l("Provider ratings")),
    (PAGE_EVIDENCE, _l("Supporting materials")),
]
TEXT_MAX = 500  # 指标数据（改造后） and each rating text
STARS = (1, 2, 3, 4, 5)
LEVELS = {1: _l("Level 1"), 2: _l("Level 2"), 3: _l("Level 3"), 4: _l("Level 4")}
# 服务商评价: (attribute prefix, star label, text label)
ASPECTS = [
    ("product", _l("Product rating (stars)"), _l("Product review")),
    ("overall", _l("Overall provider rating (stars)"), _l("Provider review")),
    ("attitude", _l("Provider attitude rating (stars)"), _l("Provider attitude review")),
    ("after_sales", _l("After-sales rating (stars)"), _l("After-sales review")),
]
# 佐证材料: (attribute prefix, label, required)
EVIDENCE_FILES = [
    ("quotation", _l("Project contract quotation"), True),
    ("invoice", _l("Project contract invoice"), True),
    ("payment", _l("Project contract payment voucher"), True),
    ("other", _l("Other"), False),
]
INVOICE_FIELDS = [
    ("code", _l("Invoice code (top-left number)")),
    ("number", _l("Invoice number (top-right number)")),
    ("issued_on", _l("Invoice date")),
    ("seller", _l("Invoice seller")),
]
LINE_FIELDS = [
    ("name", _l("Name of the goods, taxable labour or services on the invoice")),
    ("amount", _l("Invoice amount (yuan)")),
    ("tax", _l("Invoice tax (yuan)")),
    ("total", _l("Total with tax (yuan)")),
]
VOUCHER_FIELDS = [
    ("paid_on", _l("Payment date")),
    ("amount", _l("Payment amount (yuan)")),
    ("file", _l("Bank payment voucher")),
]
CENT = Decimal("0.01")


# --- reading ------------------------------------------------------------------------------------------------
def status_text(completion):
    return _("Submitted") if completion.status == CompletionStatus.SUBMITTED else _("To be submitted")


def assist_text(completion):
    return assist.status_text(completion.assist, bool(completion.assisted))


def editable(completion):
    return completion.status == CompletionStatus.PENDING


def level_text(level):
    return str(LEVELS.get(level, "")) if level else ""


def dimension_label(dimension):
    return DIMENSION_LABELS.get(dimension, dimension)


def stars_text(stars):
    """★★★★☆ for 4 (an average is rounded half up to whole stars); '' when not rated."""
    if stars is None:
        return ""
    stars = int(Decimal(stars).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return "★" * stars + "☆" * (5 - stars) if stars in STARS else ""


def yuan(value):
    """An amount in 元 with its 2 places; '' when empty. Never through float."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value).quantize(CENT):f}"


def page_options(page=None):
    """Loader options for one page (None: the whole record: detail, preview, 提交): one statement per kind of
    row (an invoice's lines come joined with it), whatever the number of rows."""
    out = [joinedload(Completion.assist).joinedload(AssistRequest.provider)]
    if page in (None, PAGE_RESULTS):
        out.append(selectinload(Completion.results).joinedload(CompletionIndicator.evidence_file))
    if page in (None, PAGE_RATINGS):
        out.append(selectinload(Completion.ratings).joinedload(ProviderRating.provider))
    if page in (None, PAGE_EVIDENCE):
        out += [joinedload(getattr(Completion, f"{key}_file")) for key, _label, _req in EVIDENCE_FILES]
        out.append(
            selectinload(Completion.invoices).options(
                joinedload(Invoice.lines), selectinload(Invoice.vouchers).joinedload(PaymentVoucher.file)
            )
        )
    return out


def page_of(anchor):
    """The page an anchor of `problems` is on."""
    head = anchor.split("-", 1)[0]
    if head in ("assisted", "level_before", "level_after", "results", "result"):
        return PAGE_RESULTS
    if head in ("ratings", "rating"):
        return PAGE_RATINGS
    return PAGE_EVIDENCE


def _signings(completion):
    return select(Signing.id).where(Signing.project_id == completion.project_id).scalar_subquery()


def provider_ids(completion):
    """The providers of the project's contracts: each contract's 已签约行业服务商 and the suppliers of the
    products picked for the project (SigningProduct → Product.organisation_id), in id order."""
    signings = _signings(completion)
    contracts = select(Contract.industry_provider_id.label("pid")).where(
        Contract.signing_id.in_(signings), Contract.industry_provider_id.isnot(None)
    )
    suppliers = (
        select(Product.organisation_id.label("pid"))
        .join(SigningProduct, SigningProduct.product_id == Product.id)
        .where(SigningProduct.signing_id.in_(signings))
    )
    return sorted(pid for pid in db.session.execute(union(contracts, suppliers)).scalars() if pid is not None)


def lead_unit_ids(completion):
    """The 行业型服务商 the 数字化改造成效 page may be handed to: the contracts' 已签约行业服务商 (ids)."""
    rows = db.session.execute(
        select(Contract.industry_provider_id).where(
            Contract.signing_id.in_(_signings(completion)), Contract.industry_provider_id.isnot(None)
        )
    ).scalars()
    return set(rows)


def signed_on(completion):
    """The date the project's signing was submitted (已签约): no invoice is dated before it."""
    at = db.session.query(Signing.submitted_at).filter(Signing.project_id == completion.project_id).scalar()
    return at.date() if at else None


def line_total(line):
    """价税合计 = 金额 + 税额 (None while neither is typed)."""
    if line.amount is None and line.tax is None:
        return None
    return (line.amount or Decimal(0)) + (line.tax or Decimal(0))


def invoice_totals(invoice):
    amount = sum((x.amount or Decimal(0) for x in invoice.lines), Decimal(0))
    tax = sum((x.tax or Decimal(0) for x in invoice.lines), Decimal(0))
    return amount, tax, amount + tax


def totals(completion):
    """(发票总金额, 发票总税额, 总价税) over every line of every invoice, exact."""
    amount = tax = Decimal(0)
    for invoice in completion.invoices:
        a, t, _sum = invoice_totals(invoice)
        amount, tax = amount + a, tax + t
    return amount.quantize(CENT), tax.quantize(CENT), (amount + tax).quantize(CENT)


def revisions(completion):
    return history(HOST, completion.id)


# --- 服务商评价 rows -------------------------------------------------------------------------------------------
def _rated(rating):
    return any(getattr(rating, f"{key}_{part}") not in (None, "") for key, *_ in ASPECTS for part in ("stars", "text"))


def sync_ratings(completion, ids=None):
    """A ProviderRating per provider of the contracts (added when missing); a provider no longer on the
    contracts loses its row unless it was rated. Returns whether anything changed (the caller commits)."""
    ids = provider_ids(completion) if ids is None else ids
    have = {r.provider_id: r for r in completion.ratings}
    changed = False
    for pid in ids:
        if pid not in have:
            db.session.add(ProviderRating(completion_id=completion.id, provider_id=pid))
            changed = True
    for pid, rating in have.items():
        if pid not in ids and not _rated(rating):
            db.session.delete(rating)
            changed = True
    return changed


def sync_levels(completion):
    """改造前 / 改造后数字化等级 come from the 事前诊断 and the 事后评估: a level still missing is taken from its
    stage once that is done (the 事前诊断 may be confirmed after 改造中 was submitted). One statement, only
    while a level is missing. Returns whether anything changed (the caller commits)."""
    if completion.level_before and completion.level_after:
        return False
    from .models import PostAssessment, PreDiagnosis

    row = db.session.execute(
        select(PreDiagnosis.level, PreDiagnosis.diagnosed_at, PostAssessment.level, PostAssessment.assessed_at)
        .select_from(Completion)
        .outerjoin(PreDiagnosis, PreDiagnosis.project_id == Completion.project_id)
        .outerjoin(PostAssessment, PostAssessment.project_id == Completion.project_id)
        .where(Completion.id == completion.id)
    ).one_or_none()
    if row is None:
        return False
    before, diagnosed_at, after, assessed_at = row
    changed = False
    if not completion.level_before and before and diagnosed_at:
        completion.level_before, changed = before, True
    if not completion.level_after and after and assessed_at:
        completion.level_after, changed = after, True
    return changed


# --- what 【提交】 needs -----------------------------------------------------------------------------------------
def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def problems(completion, today=None):
    """Everything missing or wrong for 【提交】, as {anchor: message} in page order; each message names its
    item (e.g. "发票2：发票销售方不能为空")."""
    today = today or dt.date.today()
    out = {}
    out.update(results_page_problems(completion))
    out.update(ratings_problems(completion))
    out.update(evidence_problems(completion, today))
    return out


def results_page_problems(completion):
    """Page 1: the levels, the assistance and the dimension rows."""
    out = {}
    if not completion.level_before:
        out["level_before"] = _("The pre-transformation digital level comes from the pre-diagnosis, which is not done")
    if not completion.level_after:
        out["level_after"] = _(
            "The post-transformation digital level comes from the post-assessment: please confirm its report first"
        )
    if completion.assisted is None:
        out["assisted"] = _("Please choose whether the industry service provider assists with filling")
        return out
    waiting = assist.check_ready(completion.assist, completion.assisted)
    if waiting:
        out["assisted"] = waiting
        return out
    out.update(results_problems(completion))
    return out


def results_problems(completion):
    """The dimension rows (what the enterprise, or the provider assisting it, must fill)."""
    out = {}
    ticked = [r for r in completion.results if r.ticked]
    if not ticked:
        out["results"] = _("Please tick at least one dimension indicator, fill it in and upload its evidence")
    for row in ticked:
        name = dimension_label(row.dimension)
        if _blank(row.after):
            out[f"result-{row.id}-after"] = _("%(name)s: please fill in the indicator data (after)", name=name)
        elif len(row.after) > TEXT_MAX:
            out[f"result-{row.id}-after"] = _("At most %(n)s characters", n=TEXT_MAX)
        if row.evidence_file_id is None:
            out[f"result-{row.id}-evidence"] = _("%(name)s: please upload the supporting material", name=name)
    return out


def ratings_problems(completion, ids=None):
    out = {}
    ids = provider_ids(completion) if ids is None else ids
    missing = [pid for pid in ids if pid not in {r.provider_id for r in completion.ratings}]
    if missing:
        # not a row load: the providers' public names
        names = [n for (n,) in db.session.query(Organisation.name).filter(Organisation.id.in_(missing))]
        out["ratings"] = _("Please rate the service providers: %(names)s", names="、".join(names))
    for rating in completion.ratings:
        if rating.provider_id not in ids and not _rated(rating):
            continue
        who = rating.provider.name if rating.provider else ""
        for key, star_label, text_label in ASPECTS:
            if getattr(rating, f"{key}_stars") not in STARS:
                out[f"rating-{rating.id}-{key}_stars"] = _(
                    "%(name)s: please choose %(label)s", name=who, label=star_label
                )
            text = getattr(rating, f"{key}_text")
            if _blank(text):
                out[f"rating-{rating.id}-{key}_text"] = _(
                    "%(name)s: please fill in %(label)s", name=who, label=text_label
                )
            elif len(text) > TEXT_MAX:
                out[f"rating-{rating.id}-{key}_text"] = _("At most %(n)s characters", n=TEXT_MAX)
    return out


def evidence_problems(completion, today):
    out = {}
    for key, label, required in EVIDENCE_FILES:
        if required and getattr(completion, f"{key}_file_id") is None:
            out[f"{key}_file"] = _("Please upload %(label)s", label=label)
    if not completion.invoices:
        out["invoices"] = _("Please add at least one invoice")
    numbers = {}
    signed = signed_on(completion) if completion.invoices else None
    for n, invoice in enumerate(completion.invoices, start=1):
        out.update(invoice_problems(invoice, n, today, signed))
        key = (invoice.number or "").strip()
        if key:
            if key in numbers:
                out[f"invoice-{invoice.id}-number"] = _(
                    "Invoice %(n)s: the invoice number %(number)s repeats invoice %(m)s",
                    n=n,
                    number=key,
                    m=numbers[key],
                )
            numbers.setdefault(key, n)
    return out


def invoice_problems(invoice, n, today, signed=None):
    out = {}
    prefix = f"invoice-{invoice.id}-"
    for name, label in INVOICE_FIELDS[1:]:
        if _blank(getattr(invoice, name)):
            out[prefix + name] = _("Invoice %(n)s: %(label)s cannot be empty", n=n, label=label)
    if invoice.issued_on and invoice.issued_on > today:
        out[prefix + "issued_on"] = _("Invoice %(n)s: the invoice date cannot be later than today", n=n)
    elif invoice.issued_on and signed and invoice.issued_on < signed:
        out[prefix + "issued_on"] = _(
            "Invoice %(n)s: the invoice date cannot be earlier than the project signing (%(date)s)",
            n=n,
            date=signed.isoformat(),
        )
    if not invoice.lines:
        out[prefix + "lines"] = _("Invoice %(n)s: please add the goods or taxable services", n=n)
    for m, line in enumerate(invoice.lines, start=1):
        head = _("Invoice %(n)s goods %(m)s", n=n, m=m)
        for name, label in LINE_FIELDS[:3]:
            value = getattr(line, name)
            if _blank(value):
                out[f"line-{line.id}-{name}"] = _("%(item)s: %(label)s cannot be empty", item=head, label=label)
            elif name != "name" and value < 0:
                out[f"line-{line.id}-{name}"] = _("%(item)s: the amount cannot be negative", item=head)
        if line.amount is not None and line.tax is not None and line.total != line.amount + line.tax:
            out[f"line-{line.id}-total"] = _("%(item)s: the total with tax must equal amount plus tax", item=head)
    if not invoice.vouchers:
        out[prefix + "vouchers"] = _("Invoice %(n)s: please add a bank payment voucher", n=n)
    for k, voucher in enumerate(invoice.vouchers, start=1):
        head = _("Invoice %(n)s payment voucher %(k)s", n=n, k=k)
        for name, label in VOUCHER_FIELDS:
            value = voucher.file_id if name == "file" else getattr(voucher, name)
            if value is None:
                out[f"voucher-{voucher.id}-{name}"] = _("%(item)s: %(label)s cannot be empty", item=head, label=label)
        if voucher.amount is not None and voucher.amount < 0:
            out[f"voucher-{voucher.id}-amount"] = _("%(item)s: the amount cannot be negative", item=head)
        if voucher.paid_on and voucher.paid_on > today:
            out[f"voucher-{voucher.id}-paid_on"] = _("%(item)s: the payment date cannot be later than today", item=head)
    return out


# --- rows of page 3 -------------------------------------------------------------------------------------------
def add_invoice(completion):
    invoice = Invoice(completion_id=completion.id, position=len(completion.invoices))
    db.session.add(invoice)
    db.session.flush()
    db.session.add(InvoiceLine(invoice_id=invoice.id, position=0))
    db.session.add(PaymentVoucher(invoice_id=invoice.id, position=0))
    return invoice


def _invoice(completion, invoice_id):
    return next((i for i in completion.invoices if i.id == invoice_id), None)


def add_line(completion, invoice_id):
    invoice = _invoice(completion, invoice_id)
    if invoice is None:
        raise WorkflowError(_("This invoice does not exist"))
    line = InvoiceLine(invoice_id=invoice.id, position=len(invoice.lines))
    db.session.add(line)
    return invoice


def add_voucher(completion, invoice_id):
    invoice = _invoice(completion, invoice_id)
    if invoice is None:
        raise WorkflowError(_("This invoice does not exist"))
    db.session.add(PaymentVoucher(invoice_id=invoice.id, position=len(invoice.vouchers)))
    return invoice


def remove_row(completion, kind, row_id):
    """Delete one of the record's own invoices, lines or vouchers; other ids are ignored. Returns the invoice
    it belonged to (None when nothing was deleted)."""
    for invoice in completion.invoices:
        if kind == "invoice" and invoice.id == row_id:
            for row in [*invoice.lines, *invoice.vouchers]:
                db.session.delete(row)
            db.session.delete(invoice)
            return invoice
        rows = {"line": invoice.lines, "voucher": invoice.vouchers}.get(kind, [])
        for row in rows:
            if row.id == row_id:
                db.session.delete(row)
                return invoice
    return None


# --- 【提交】 ------------------------------------------------------------------------------------------------
class Incomplete(WorkflowError):
    def __init__(self, problems):
        super().__init__(_("Submission failed: please complete the items marked below"))
        self.problems = problems


def submit_completion(completion, actor, today=None):
    """【提交】 (or 确认提交 after the provider): 已提交 and the 项目入库 record (once); refused (Incomplete) while
    anything is missing or wrong."""
    found = problems(completion, today)
    if found:
        raise Incomplete(found)
    with unit_of_work():
        result = db.session.execute(
            update(Completion)
            .where(Completion.id == completion.id, Completion.status == CompletionStatus.PENDING)
            .values(status=CompletionStatus.SUBMITTED, submitted_at=dt.datetime.now())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise WorkflowError(_("This record has already been handled by someone else"))
        refresh_rating_totals([rating.provider_id for rating in completion.ratings])  # its ratings count from now
        assist.confirm(completion.assist)
        if not db.session.query(Warehousing.id).filter_by(project_id=completion.project_id).first():
            db.session.add(
                Warehousing(
                    project_id=completion.project_id,
                    organisation_id=completion.organisation_id,
                    town_id=completion.town_id,
                    project_name=completion.project_name,
                )
            )
    db.session.expire(completion)


# --- 信息变更 -----------------------------------------------------------------------------------------------
def snapshot(completion):
    """The record as {label: text}, for the revisions of 信息变更."""

    def text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, Decimal):
            return yuan(value)
        return str(value)

    def file_name(stored):
        return stored.original_name if stored is not None else ""

    out = {}
    for row in completion.results:
        name = dimension_label(row.dimension)
        out[f"{name} {_('Ticked')}"] = text(bool(row.ticked))
        out[f"{name} {_('Indicator data (after)')}"] = text(row.after)
        out[f"{name} {_('Supporting material')}"] = file_name(row.evidence_file)
    for rating in completion.ratings:
        who = rating.provider.name if rating.provider else str(rating.provider_id)
        for key, star_label, text_label in ASPECTS:
            out[f"{who} {star_label}"] = text(getattr(rating, f"{key}_stars"))
            out[f"{who} {text_label}"] = text(getattr(rating, f"{key}_text"))
    for key, label, _required in EVIDENCE_FILES:
        out[str(label)] = file_name(getattr(completion, f"{key}_file"))
    for n, invoice in enumerate(completion.invoices, start=1):
        head = _("Invoice %(n)s", n=n)
        for name, label in INVOICE_FIELDS:
            out[f"{head} {label}"] = text(getattr(invoice, name))
        for m, line in enumerate(invoice.lines, start=1):
            item = _("Invoice %(n)s goods %(m)s", n=n, m=m)
            for name, label in LINE_FIELDS:
                out[f"{item} {label}"] = text(getattr(line, name))
        for k, voucher in enumerate(invoice.vouchers, start=1):
            item = _("Invoice %(n)s payment voucher %(k)s", n=n, k=k)
            out[f"{item} {VOUCHER_FIELDS[0][1]}"] = text(voucher.paid_on)
            out[f"{item} {VOUCHER_FIELDS[1][1]}"] = text(voucher.amount)
            out[f"{item} {VOUCHER_FIELDS[2][1]}"] = file_name(voucher.file)
    return out


def record_revision(completion, actor, before, after):
    return revisions_.record_revision(HOST, completion.id, actor, before, after)


# --- 服务商评价: the per-provider average ---------------------------------------------------------------------------
_STAR_NAMES = [f"{key}_stars" for key, *_ in ASPECTS]  # the star columns of a rating (and sums of a total)
_STAR_COLUMNS = [getattr(ProviderRating, name) for name in _STAR_NAMES]


def _average(total, count, per=1):
    """total / (count × per) to one place (half up), exact: the sums come from SQL as integers."""
    if not count or total is None:
        return None
    return (Decimal(int(total)) / Decimal(int(count) * per)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rating_stats(provider_ids=None):
    """One aggregate statement over the ratings of submitted completions, grouped by provider: the count and
    the sums of each star rating (the averages are SUM/COUNT in Decimal: SQLite's AVG is a float)."""
    stmt = (
        select(
            ProviderRating.provider_id,
            func.count(ProviderRating.id),
            *[func.sum(column) for column in _STAR_COLUMNS],
        )
        .join(Completion, Completion.id == ProviderRating.completion_id)
        .where(Completion.status == CompletionStatus.SUBMITTED, and_(*[c.isnot(None) for c in _STAR_COLUMNS]))
        .group_by(ProviderRating.provider_id)
    )
    if provider_ids is not None:
        stmt = stmt.where(ProviderRating.provider_id.in_(list(provider_ids) or [0]))
    return stmt


def _total_columns(stats):
    """(count, the four sums, rank) of a `_rating_stats` row source, as stored in zs_provider_rating_total; rank
    is the overall average to one place (half up) ×10 in integers: floor((20·sum + per·n) / (2·per·n))."""
    count, sums = stats.c[1], list(stats.c[2:])
    total, per = sum(sums[1:], sums[0]), len(sums)
    return [count, *sums, (20 * total + per * count) // (2 * per * count)]


_TOTAL_FIELDS = ["ratings", *_STAR_NAMES, "rank"]


def refresh_rating_totals(provider_ids=None, connection=None):
    """Recompute zs_provider_rating_total for these providers (every provider when None) from their ratings, in
    the caller's transaction, in two statements: an upsert that creates the providers' rows or zeroes them,
    taking their row locks (ON CONFLICT DO UPDATE; SQLite has one writer at a time anyway), then an UPDATE …
    FROM the aggregate of those with ratings, whose snapshot is taken after the locks: two transactions rating
    one provider at once never store a sum read before the other's commit. The whole table (gen-load) is
    simply rewritten."""
    conn = connection if connection is not None else db.session.connection()
    table = ProviderRatingTotal.__table__
    if provider_ids is None:
        conn.execute(table.delete())
        stats = _rating_stats().subquery()
        conn.execute(
            table.insert().from_select(["provider_id", *_TOTAL_FIELDS], select(stats.c[0], *_total_columns(stats)))
        )
        return
    ids = sorted({int(pid) for pid in provider_ids if pid})
    if not ids:
        return
    zero = dict.fromkeys(_TOTAL_FIELDS, 0)
    upsert = dialect_insert(conn)(table).values([{"provider_id": pid, **zero} for pid in ids])
    conn.execute(upsert.on_conflict_do_update(index_elements=[table.c.provider_id], set_=zero))
    stats = _rating_stats(ids).subquery()
    conn.execute(
        table.update()
        .where(table.c.provider_id == stats.c[0])
        .values(dict(zip(_TOTAL_FIELDS, _total_columns(stats), strict=True)))
    )


_CHANGED_PROVIDERS = "zsdx.rated_providers"


def _complete(values):
    return all(values.get(name) is not None for name in _STAR_NAMES)


def _changes_totals(session, obj):
    """Whether this rating's change can move its provider's total: a complete rating added or deleted, or its
    stars, provider or completion changed. An empty rating added or removed as the contracts change (the
    ratings page syncs them on GET) and an edited text move nothing."""
    state = inspect(obj)
    if obj in session.new:
        return _complete({name: getattr(obj, name) for name in _STAR_NAMES})
    if obj in session.deleted:  # as it was stored: the committed value of a changed attribute
        return _complete({name: state.committed_state.get(name, getattr(obj, name)) for name in _STAR_NAMES})
    return any(state.attrs[name].history.has_changes() for name in [*_STAR_NAMES, "provider_id", "completion_id"])


@event.listens_for(Session, "before_flush")
def _note_rated_providers(session, flush_context, instances):
    """A rating added, edited or deleted on a submitted completion (信息变更) changes its provider's total:
    noted here, recomputed after the flush in the same transaction. Ratings of a completion still being
    filled in (known pending in this session) count for nothing yet and cost nothing."""
    noted = session.info.setdefault(_CHANGED_PROVIDERS, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Completion) and inspect(obj).attrs.status.history.has_changes():
            with session.no_autoflush:  # a status set on the object (the use cases UPDATE it in SQL)
                noted.update(rating.provider_id for rating in obj.ratings)
        if not isinstance(obj, ProviderRating):
            continue
        completion = (
            session.identity_map.get(identity_key(Completion, obj.completion_id)) if obj.completion_id else None
        )
        if completion is not None and completion.status == CompletionStatus.PENDING:
            continue
        with session.no_autoflush:
            if not _changes_totals(session, obj):
                continue
        noted.add(obj.provider_id)
        noted.update(inspect(obj).attrs.provider_id.history.deleted or ())
    noted.discard(None)


@event.listens_for(Session, "after_flush")
def _refresh_rated_providers(session, flush_context):
    noted = session.info.pop(_CHANGED_PROVIDERS, None)
    if noted:
        refresh_rating_totals(noted, session.connection())


@event.listens_for(Session, "after_soft_rollback")
def _forget_rated_providers(session, previous_transaction):
    session.info.pop(_CHANGED_PROVIDERS, None)


def _averages_of(total):
    """([the average of each star rating], the overall average) of a ProviderRatingTotal, exact."""
    sums = [getattr(total, name) for name in _STAR_NAMES]
    return [_average(s, total.ratings) for s in sums], _average(sum(sums), total.ratings, len(sums))


def provider_averages(provider_ids=None):
    """{provider id: (average stars over the four ratings, number of ratings)} (one statement, one row each)."""
    query = db.session.query(ProviderRatingTotal).filter(ProviderRatingTotal.ratings > 0)
    if provider_ids is not None:
        query = query.filter(ProviderRatingTotal.provider_id.in_(list(provider_ids) or [0]))
    return {t.provider_id: (_averages_of(t)[1], t.ratings) for t in query}


def provider_rating_page(text=None):
    """市工信's 服务商评价 page: the rated providers, best average first (then by name), 20 a page (?page=), with
    their name, number of ratings, the average of each star rating and the overall average; `text` searches
    the provider's name. Two statements (count, page) on one row per provider."""
    from .paging import paginate

    query = (
        db.session.query(ProviderRatingTotal, Organisation.name)
        .join(Organisation, Organisation.id == ProviderRatingTotal.provider_id)
        .filter(ProviderRatingTotal.ratings > 0)
    )
    text = (text or "").strip()
    if text:
        query = query.filter(Organisation.name.contains(text, autoescape=True))
    page = paginate(query.order_by(ProviderRatingTotal.rank.desc(), Organisation.name, Organisation.id))
    rows = []
    for total, name in page.items:
        aspects, average = _averages_of(total)
        rows.append(
            {"id": total.provider_id, "name": name, "count": total.ratings, "aspects": aspects, "average": average}
        )
    page.items = rows
    return page


# --- visibility: the owner; 市工信; the town's 镇街; the provider it asked for help (assist.host_rule) ----------------
def _visible_completions(user):
    from .visibility import visible

    return visible(Completion, user).with_entities(Completion.id)


def _child_rule(model, user, names):
    return model.completion_id.in_(_visible_completions(user))


def _invoice_child_rule(model, user, names):
    return model.invoice_id.in_(select(Invoice.id).where(Invoice.completion_id.in_(_visible_completions(user))))


register(Completion, assist.host_rule(HOST))
register(CompletionIndicator, _child_rule)
register(ProviderRating, _child_rule)
register(Invoice, _child_rule)
register(InvoiceLine, _invoice_child_rule)
register(PaymentVoucher, _invoice_child_rule)

assist.register_host(
    assist.AssistHost(
        type=HOST,
        model=Completion,
        label=_l("Implementation - completed"),
        page_label=_l("Digital transformation results"),
        fill_link=lambda pk: url_for("CompletionView.assist", pk=pk),
        owner_link=lambda pk: url_for("CompletionView.edit", pk=pk, page=PAGE_RESULTS),
    )
)


# --- 我的工作台 → 项目实施-改造完成 ---------------------------------------------------------------------------------
def completion_rows(user):
    from .visibility import owned

    return (
        owned(Completion, user)
        .options(joinedload(Completion.assist))
        .order_by(Completion.created_at.desc(), Completion.id.desc())
    )


def _tab_context(user):
    import sys

    return {"completion_rules": sys.modules[__name__]}


register_tab(
    WorkbenchTab(
        group="projects",
        key="completed",
        label=_l("Implementation - completed"),
        columns=[
            _l("No."),
            _l("Project name"),
            _l("Implementation-completed status"),
            _l("Industry provider assistance status"),
            _l("Submitted at"),
            _l("Operation"),
        ],
        order=50,
        rows=completion_rows,
        template="zsdx/_tab_completion.html",
        context=_tab_context,
    )
)


# --- 数据看板 -------------------------------------------------------------------------------------------------
from .dashboard_parts import DashboardPart, register_dashboard_part  # noqa: E402

register_dashboard_part(
    DashboardPart(
        key="completion",
        order=70,
        label=_l("Implementation - completed"),
        model=Completion,
        status=Completion.status,
        status_text=status_text,
        ranks={CompletionStatus.PENDING: 0, CompletionStatus.SUBMITTED: 6},
    )
)
