"""一企一档 (SPEC §3.11): the dossier of one project — every stage's data, the audit trail of every record
of the project and a manifest of the files they reference — as one JSON document for the provincial and
national platforms; and the .zip of many dossiers, written by an RQ job (or in-process) with its progress
kept on disk so that any web process can report it.

The hand-off format ("format": "zsdx-dossier", "version": 1):
- keys are stable English identifiers (column names of the models); Chinese text appears only in values
  and in the "labels" map;
- money is a string with its column's exact places ("100.1234"), dates and times are ISO 8601;
- a stage not reached yet is null;
- rows point at reference data by id (organisation_id, town_id, …): "references" holds those rows;
- every file a record references is one "files" entry (record, field, name, mime, size, sha256).

Callers authorise (the view through zsdx.visibility, the CLI as the operator); this module only reads.
"""

import datetime as dt
import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import time
import zipfile
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric, and_, delete, exists, inspect, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from .extensions import db
from .models import (
    AssistRequest,
    Completion,
    CompletionStatus,
    Filing,
    Implementation,
    ImplementationStatus,
    Industry,
    InfoChangeRequest,
    Invoice,
    Organisation,
    PostAssessment,
    PreDiagnosis,
    PreSubsidy,
    Product,
    ProductCategory,
    Project,
    ReviewAction,
    ReviewStatus,
    Revision,
    Signing,
    SigningStatus,
    StoredFile,
    Town,
    Warehousing,
    ZsdxUser,
)

FORMAT = "zsdx-dossier"
VERSION = 1
ARCHIVE_FORMAT = "zsdx-dossier-archive"
# Columns that mean nothing outside this database: the engine's optimistic-lock counter.
EXCLUDED_COLUMNS = frozenset({"version"})
# The 企业基本信息 part of a filing (the enterprise as it filed the project).
ENTERPRISE_FIELDS = (
    "ent_name",
    "ent_credit_code",
    "town_id",
    "ent_nature",
    "ent_category",
    "ent_scale",
    "product_category_id",
    "industry_id",
    "quality_levels",
    "ent_address",
    "employees_total",
    "employees_digital",
    "ent_description",
)
STAGE_KEYS = (
    "filing",
    "pre_diagnosis",
    "signing",
    "pre_subsidy",
    "implementation",
    "post_assessment",
    "completion",
    "warehousing",
)
STAGE_LABELS = {
    "filing": _l("Project filing"),
    "pre_diagnosis": _l("Pre-transformation diagnosis"),
    "signing": _l("Project signing"),
    "pre_subsidy": _l("Pre-subsidy application"),
    "implementation": _l("Implementation - in progress"),
    "post_assessment": _l("Post-transformation assessment"),
    "completion": _l("Implementation - completed"),
    "warehousing": _l("Project warehousing"),
}


# --- how far a project got (the list's filter and column) --------------------------------------------
REACHED = (
    ("filed", _l("Filed")),
    ("signed", _l("Signed")),
    ("implemented", _l("Implementation submitted")),
    ("completed", _l("Completion submitted")),
    ("warehoused", _l("Warehoused")),
)


def reached_clause(key):
    """The SQL condition "the project of this filing reached `key`" (None for an unknown key)."""
    pid = Filing.project_id
    if key == "filed":
        return Filing.status == ReviewStatus.DONE
    if key == "signed":
        return exists().where(Signing.project_id == pid, Signing.status == SigningStatus.SIGNED)
    if key == "implemented":
        return exists().where(Implementation.project_id == pid, Implementation.status == ImplementationStatus.SUBMITTED)
    if key == "completed":
        return exists().where(Completion.project_id == pid, Completion.status == CompletionStatus.SUBMITTED)
    if key == "warehoused":
        return exists().where(Warehousing.project_id == pid, Warehousing.status == ReviewStatus.DONE)
    return None


def reached_labels(project_ids):
    """{project id: the label of the furthest stage reached}, one statement for a page of projects."""
    if not project_ids:
        return {}
    rows = db.session.execute(
        select(Project.id, Filing.status, Signing.status, Implementation.status, Completion.status, Warehousing.status)
        .select_from(Project)
        .outerjoin(Filing, Filing.project_id == Project.id)
        .outerjoin(Signing, Signing.project_id == Project.id)
        .outerjoin(Implementation, Implementation.project_id == Project.id)
        .outerjoin(Completion, Completion.project_id == Project.id)
        .outerjoin(Warehousing, Warehousing.project_id == Project.id)
        .where(Project.id.in_(project_ids))
    ).all()
    labels = dict(REACHED)
    out = {}
    for pid, filing, signing, implementation, completion, warehousing in rows:
        if warehousing == ReviewStatus.DONE:
            key = "warehoused"
        elif completion == CompletionStatus.SUBMITTED:
            key = "completed"
        elif implementation == ImplementationStatus.SUBMITTED:
            key = "implemented"
        elif signing == SigningStatus.SIGNED:
            key = "signed"
        elif filing == ReviewStatus.DONE:
            key = "filed"
        else:
            out[pid] = _("Filing under review")
            continue
        out[pid] = str(labels[key])
    return out


def filter_filings(query, town_id=None, text=None, reached=None):
    """The list's filters on a query of filings (the caller's visible ones): town, a name / 备案号 search,
    the stage reached."""
    if town_id:
        query = query.filter(Filing.town_id == town_id)
    text = (text or "").strip()[:100]
    if text:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
        # a text without upper or lower case (汉字, digits) matches the same rows with LIKE as with ILIKE,
        # and LIKE is cheaper where no index can serve it (PostgreSQL: 1–2 characters, too short for the
        # trigram indexes, which serve both)
        match = "like" if text.lower() == text.upper() else "ilike"
        query = query.filter(
            or_(
                getattr(Filing.ent_name, match)(pattern, escape="\\"),
                getattr(Filing.project_name, match)(pattern, escape="\\"),
                getattr(Filing.filing_no, match)(pattern, escape="\\"),
            )
        )
    clause = reached_clause(reached) if reached else None
    if clause is not None:
        query = query.filter(clause)
    return query


def submitted_filings():
    """The filings the CLI exports: every submitted one (what 市工信 sees), never a draft."""
    return db.session.query(Filing).filter(Filing.status != ReviewStatus.DRAFT)


# --- the generic serialiser -----------------------------------------------------------------------
def _json_value(value, column_type):
    if value is None:
        return None
    if isinstance(value, Decimal):
        scale = getattr(column_type, "scale", None) if isinstance(column_type, Numeric) else None
        if scale is not None and value.is_finite():
            value = value.quantize(Decimal(1).scaleb(-scale))
        return format(value, "f")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return None
    return value


def _parse_json_text(text):
    try:
        return json.loads(text) if text else None
    except (TypeError, ValueError):
        return text


# reference tables: where rows point (by foreign key) and how each referenced row is described
_REFERENCES = {
    "zs_organisation": ("organisations", Organisation, lambda o: {"name": o.name, "credit_code": o.credit_code}),
    "zs_town": ("towns", Town, lambda t: {"code": t.code, "name": t.name}),
    "zs_industry": ("industries", Industry, lambda i: {"name": i.name}),
    "zs_product_category": (
        "product_categories",
        ProductCategory,
        lambda c: {"name": c.name, "level": c.level, "parent_id": c.parent_id},
    ),
    "zs_product": ("products", Product, lambda p: {"code": p.code, "name": p.name}),
    "ab_user": ("users", ZsdxUser, lambda u: {"name": u.display_name}),
}


class _Builder:
    """Serialises rows column by column, collecting what they reference (reference rows and files)."""

    def __init__(self):
        self.refs = {table: set() for table in _REFERENCES}
        self.file_refs = []  # (file id, record type, record id, field)

    def row(self, obj, exclude=()):
        if obj is None:
            return None
        mapper = inspect(type(obj))
        record_type = mapper.local_table.name.removeprefix("zs_")
        out = {}
        for attr in mapper.column_attrs:
            key = attr.key
            if key in EXCLUDED_COLUMNS or key in exclude:
                continue
            column = attr.columns[0]
            value = getattr(obj, key)
            out[key] = _json_value(value, column.type)
            if value is None:
                continue
            for fk in column.foreign_keys:
                table = fk.column.table.name
                if table == "zs_file":
                    self.file_refs.append((value, record_type, obj.id, key))
                elif table in self.refs:
                    self.refs[table].add(value)
        return out

    def rows(self, objs, **children):
        """Each row, with `children` (name → row → list of child dicts) added."""
        out = []
        for obj in objs:
            data = self.row(obj)
            for name, make in children.items():
                data[name] = make(obj)
            out.append(data)
        return out

    def references(self):
        out = {}
        for table, ids in self.refs.items():
            name, model, describe = _REFERENCES[table]
            rows = db.session.query(model).filter(model.id.in_(sorted(ids))).all() if ids else []
            out[name] = {str(r.id): {"id": r.id, **describe(r)} for r in sorted(rows, key=lambda r: r.id)}
        return out

    def files(self):
        ids = sorted({fid for fid, *_rest in self.file_refs})
        stored = {f.id: f for f in db.session.query(StoredFile).filter(StoredFile.id.in_(ids))} if ids else {}
        out = []
        for fid, record_type, record_id, field in self.file_refs:
            f = stored.get(fid)
            out.append(
                {
                    "file_id": fid,
                    "record": record_type,
                    "record_id": record_id,
                    "field": field,
                    "name": f.original_name if f else None,
                    "mime": f.mime if f else None,
                    "size": f.size if f else None,
                    "sha256": f.sha256 if f else None,
                    "uploaded_at": _json_value(f.uploaded_at, None) if f else None,
                }
            )
        return out


# --- loading ---------------------------------------------------------------------------------------
def _load_options():
    signing = joinedload(Project.signing)
    completion = joinedload(Project.completion)
    invoices = completion.selectinload(Completion.invoices)
    return (
        joinedload(Project.organisation),
        joinedload(Project.filing).selectinload(Filing.revisions),
        joinedload(Project.pre_diagnosis).joinedload(PreDiagnosis.assessment),
        signing.selectinload(Signing.contracts),
        signing.selectinload(Signing.needs),
        signing.selectinload(Signing.products),
        signing.joinedload(Signing.pre_subsidy).selectinload(PreSubsidy.contracts),
        joinedload(Project.implementation).selectinload(Implementation.indicators),
        joinedload(Project.post_assessment),
        completion.selectinload(Completion.results),
        completion.selectinload(Completion.ratings),
        invoices.selectinload(Invoice.lines),
        invoices.selectinload(Invoice.vouchers),
        joinedload(Project.warehousing).selectinload(Warehousing.files),
    )


def load(project_id):
    """The project with every stage eagerly loaded (the caller has authorised it), or None."""
    return db.session.query(Project).options(*_load_options()).filter(Project.id == project_id).one_or_none()


def _subject_type(model):
    """The subject type of a model's audit rows: its registered stage's type, else its chain's name."""
    from .stages import STAGES

    for stage in STAGES.values():
        if stage.model is model:
            return stage.type
    return model.chain_name


def _step_label(chain_name, key):
    from .workflow import step_of

    if not key or not chain_name:
        return None
    try:
        step = step_of(chain_name, key)
    except KeyError:
        step = None
    return step.label if step else key


# --- the dossier -----------------------------------------------------------------------------------
def build(project):
    """The dossier of one project (loaded with `load`): a JSON-serialisable dict."""
    from .stages import STAGES
    from .workflow import ACTION_LABELS

    b = _Builder()
    filing, signing = project.filing, project.signing
    pre_subsidy = signing.pre_subsidy if signing else None
    implementation, completion = project.implementation, project.completion
    warehousing = project.warehousing

    # 行业型服务商协助填写 of the hosts (one statement)
    hosts = [
        (t, r.id)
        for t, r in (("signing", signing), ("implementation", implementation), ("completion", completion))
        if r
    ]
    assists = {}
    if hosts:
        for req in db.session.query(AssistRequest).filter(
            or_(*(and_(AssistRequest.host_type == t, AssistRequest.host_id == i) for t, i in hosts))
        ):
            assists[req.host_type] = req

    # 企业信息变更 of the enterprise (one statement + attachments)
    info_changes = (
        db.session.query(InfoChangeRequest)
        .options(selectinload(InfoChangeRequest.attachments))
        .filter(InfoChangeRequest.organisation_id == project.organisation_id)
        .order_by(InfoChangeRequest.id)
        .all()
    )

    def with_assist(host_type, record):
        data = b.row(record)
        if data is not None:
            data["assist"] = b.row(assists.get(host_type))
        return data

    stages = {key: None for key in STAGE_KEYS}
    if filing is not None:
        stages["filing"] = b.row(filing)
    if project.pre_diagnosis is not None:
        stages["pre_diagnosis"] = b.row(project.pre_diagnosis)
        assessment = b.row(project.pre_diagnosis.assessment)
        if assessment is not None:
            assessment["answers"] = _parse_json_text(assessment.get("answers"))
        stages["pre_diagnosis"]["assessment"] = assessment
    if signing is not None:
        stages["signing"] = with_assist("signing", signing)
        stages["signing"]["contracts"] = b.rows(signing.contracts)
        stages["signing"]["needs"] = b.rows(signing.needs)
        stages["signing"]["products"] = b.rows(signing.products)
    if pre_subsidy is not None:
        stages["pre_subsidy"] = b.row(pre_subsidy)
        stages["pre_subsidy"]["contract_ids"] = [c.id for c in pre_subsidy.contracts]
    if implementation is not None:
        stages["implementation"] = with_assist("implementation", implementation)
        stages["implementation"]["indicators"] = b.rows(implementation.indicators)
    if project.post_assessment is not None:
        stages["post_assessment"] = b.row(project.post_assessment)
    if completion is not None:
        stages["completion"] = with_assist("completion", completion)
        stages["completion"]["results"] = b.rows(completion.results)
        stages["completion"]["ratings"] = b.rows(completion.ratings)
        stages["completion"]["invoices"] = b.rows(
            completion.invoices, lines=lambda i: b.rows(i.lines), vouchers=lambda i: b.rows(i.vouchers)
        )
    if warehousing is not None:
        stages["warehousing"] = b.row(warehousing)
        stages["warehousing"]["files"] = b.rows(warehousing.files)

    # every record of the project that has an audit trail, by subject type
    subjects = {}

    def subject(model, record):
        if record is not None:
            subjects.setdefault(_subject_type(model), set()).add(record.id)

    for model, record in (
        (Filing, filing),
        (PreDiagnosis, project.pre_diagnosis),
        (PreSubsidy, pre_subsidy),
        (PostAssessment, project.post_assessment),
        (Warehousing, warehousing),
    ):
        subject(model, record)
    for req in assists.values():
        subject(AssistRequest, req)
    for req in info_changes:
        subject(InfoChangeRequest, req)
    known = {Filing, PreDiagnosis, PreSubsidy, PostAssessment, Warehousing, AssistRequest, InfoChangeRequest}
    for stage in STAGES.values():  # a stage added later that hangs off the project directly
        if stage.model not in known and hasattr(stage.model, "project_id"):
            for (rid,) in db.session.query(stage.model.id).filter(stage.model.project_id == project.id):
                subjects.setdefault(stage.type, set()).add(rid)

    chains = {_subject_type(m): m.chain_name for m in known | {s.model for s in STAGES.values()}}
    audit = []
    if subjects:
        actions = (
            db.session.query(ReviewAction)
            .options(joinedload(ReviewAction.actor))
            .filter(
                or_(
                    *(
                        and_(ReviewAction.subject_type == t, ReviewAction.subject_id.in_(sorted(ids)))
                        for t, ids in subjects.items()
                    )
                )
            )
            .order_by(ReviewAction.created_at, ReviewAction.id)
            .all()
        )
        for a in actions:
            audit.append(
                {
                    "id": a.id,
                    "subject_type": a.subject_type,
                    "subject_id": a.subject_id,
                    "step": a.step,
                    "step_label": _step_label(chains.get(a.subject_type), a.step),
                    "actor_id": a.actor_id,
                    "actor": a.actor.display_name if a.actor else None,
                    "action": a.action,
                    "action_label": str(ACTION_LABELS.get(a.action, a.action)),
                    "opinion": a.opinion,
                    "created_at": _json_value(a.created_at, None),
                    "step_seconds": a.step_seconds,
                }
            )

    # 信息变更 history: the filing's own revisions and the generic Revision rows of every record
    revisions = []
    if filing is not None:
        for r in filing.revisions:
            revisions.append(
                {
                    "subject_type": "filing",
                    "subject_id": filing.id,
                    "actor_id": r.actor_id,
                    "created_at": _json_value(r.created_at, None),
                    "changes": _parse_json_text(r.changes),
                }
            )
            b.refs["ab_user"].add(r.actor_id)
    revision_subjects = dict(subjects)
    for host_type, record in (("signing", signing), ("implementation", implementation), ("completion", completion)):
        if record is not None:
            revision_subjects.setdefault(host_type, set()).add(record.id)
    for r in (
        db.session.query(Revision)
        .filter(
            or_(
                *(
                    and_(Revision.subject_type == t, Revision.subject_id.in_(sorted(ids)))
                    for t, ids in revision_subjects.items()
                )
            )
        )
        .order_by(Revision.created_at, Revision.id)
    ):
        revisions.append(
            {
                "subject_type": r.subject_type,
                "subject_id": r.subject_id,
                "actor_id": r.actor_id,
                "created_at": _json_value(r.created_at, None),
                "changes": _parse_json_text(r.changes),
            }
        )
        b.refs["ab_user"].add(r.actor_id)
    revisions.sort(key=lambda r: r["created_at"] or "")

    organisation = b.row(project.organisation)
    enterprise = {
        "organisation": organisation,
        "filed": {k: stages["filing"].get(k) for k in ENTERPRISE_FIELDS} if stages["filing"] else None,
    }
    changes = b.rows(info_changes, attachments=lambda r: b.rows(r.attachments))
    project_row = b.row(project)
    project_row.update(
        filing_no=filing.filing_no if filing else None,
        name=(filing.project_name if filing else None) or (signing.project_name if signing else None),
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": dt.datetime.now().replace(microsecond=0).isoformat(),
        "enterprise": enterprise,
        "project": project_row,
        "stages": stages,
        "info_changes": changes,
        "audit": audit,
        "revisions": revisions,
        "files": b.files(),
        "references": b.references(),
        "labels": {
            "stages": {k: str(v) for k, v in STAGE_LABELS.items()},
            "actions": {k: str(v) for k, v in ACTION_LABELS.items()},
        },
    }


def dumps(dossier):
    return json.dumps(dossier, ensure_ascii=False, indent=1)


def entry_name(dossier):
    """The dossier's file name: its 备案号, else project-<id>."""
    no = dossier["project"].get("filing_no")
    return f"{no}.json" if no and re.fullmatch(r"[0-9A-Za-z-]+", no) else f"project-{dossier['project']['id']}.json"


def write_zip(project_ids, out, progress=None):
    """A .zip at path `out`: one JSON dossier per project plus manifest.json; `progress(done, total)` after
    each project. Written beside `out` and renamed into place, so `out` is never half-written."""
    total = len(project_ids)
    entries = []
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".dossier-", suffix=".part")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for done, pid in enumerate(project_ids, 1):
                project = load(pid)
                if project is not None:
                    dossier = build(project)
                    payload = dumps(dossier).encode("utf-8")
                    name = entry_name(dossier)
                    zf.writestr(name, payload)
                    entries.append(
                        {
                            "file": name,
                            "project_id": pid,
                            "filing_no": dossier["project"]["filing_no"],
                            "project_name": dossier["project"]["name"],
                            "enterprise": (dossier["enterprise"]["organisation"] or {}).get("name"),
                            "size": len(payload),
                            "sha256": hashlib.sha256(payload).hexdigest(),
                        }
                    )
                    if not _in_request():
                        db.session.expunge_all()  # a long job: keep the session small
                if progress is not None:
                    progress(done, total)
            manifest = {
                "format": ARCHIVE_FORMAT,
                "version": VERSION,
                "dossier_format": FORMAT,
                "generated_at": dt.datetime.now().replace(microsecond=0).isoformat(),
                "count": len(entries),
                "dossiers": entries,
            }
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return entries


def _in_request():
    from flask import has_request_context

    return has_request_context()


# --- exports (the UI's .zip): progress in the database, the .zip in the file store -----------------------
# Both are shared by every app node and rq worker (PostgreSQL; the shared folder or the S3 bucket), so the
# worker that writes an export and the node the user polls need nothing else in common.
log = logging.getLogger(__name__)
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
KEEP_SECONDS = 7 * 24 * 3600
ZIP_MIME = "application/zip"


def _iso(value):
    return value.replace(microsecond=0).isoformat() if value else None


def read_status(token):
    """The export's status dict (user_id, state, done, total, count, sha256, created_at, finished_at), or None
    (unknown or malformed token). Read fresh: the worker updates it from another process."""
    from .models import DossierExport

    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        return None
    row = db.session.execute(
        select(DossierExport).where(DossierExport.token == token).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        return None
    return {
        "user_id": row.user_id,
        "state": row.state,
        "done": row.done,
        "total": row.total,
        "count": row.count,
        "sha256": row.sha256,
        "created_at": _iso(row.created_at),
        "finished_at": _iso(row.finished_at),
    }


def _update(token, **values):
    """Set the export's columns and commit (the poller reads them from another process)."""
    from .models import DossierExport

    db.session.execute(update(DossierExport).where(DossierExport.token == token).values(**values))
    db.session.commit()


def _sweep(now=None):
    """Forget exports older than KEEP_SECONDS and delete their .zip from the file store, unless something else
    still refers to the same bytes (an uploaded file, a newer export). An export whose .zip cannot be deleted
    now (the store unreachable) stays for the next sweep."""
    from .filestore import get_store
    from .models import DossierExport, StoredFile

    cutoff = (now or dt.datetime.now()) - dt.timedelta(seconds=KEEP_SECONDS)
    old = db.session.execute(
        select(DossierExport.token, DossierExport.sha256).where(DossierExport.created_at < cutoff)
    ).all()
    if not old:
        return 0
    tokens = [token for token, _sha in old]
    shas = {sha for _token, sha in old if sha}
    kept = set()
    if shas:
        kept = set(
            db.session.scalars(
                select(DossierExport.sha256).where(DossierExport.sha256.in_(shas), DossierExport.token.notin_(tokens))
            )
        )
        kept |= set(db.session.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(shas))))
    store, gone = get_store(), []
    for token, sha in old:
        if sha and sha not in kept:
            try:
                store.delete(sha)
            except Exception:  # an unreachable store must not stop a new export
                log.warning("could not delete the expired export %s from the file store", sha, exc_info=True)
                continue
        gone.append(token)
    if gone:
        db.session.execute(delete(DossierExport).where(DossierExport.token.in_(gone)))
    db.session.commit()
    return len(gone)


def start_export(user_id, project_ids):
    """Record a new export of `project_ids` (already authorised) for `user_id` and hand it to a job.
    Returns the token (unguessable: 256 bits)."""
    from .jobs import enqueue, export_dossiers
    from .models import DossierExport

    _sweep()
    token = secrets.token_urlsafe(32)
    db.session.add(DossierExport(token=token, user_id=user_id, state="queued", total=len(project_ids)))
    db.session.commit()
    if not enqueue(export_dossiers, token, list(project_ids), job_timeout=3600):
        status = read_status(token) or {}
        if status.get("state") != "done":
            _update(token, state="failed")
    return token


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_export(token, project_ids):
    """The job: write the .zip into the file store, reporting progress (done/total) at most every half second
    and at the end."""
    from .filestore import get_store

    if read_status(token) is None:
        return None
    _update(token, state="running", done=0, total=len(project_ids))
    last = [0.0]

    def progress(done, total):
        now = time.monotonic()
        if done == total or now - last[0] >= 0.5:
            last[0] = now
            _update(token, done=done, total=total)

    store = get_store()
    fd, tmp = tempfile.mkstemp(dir=store.staging_dir(), prefix=".dossier-", suffix=".zip")
    os.close(fd)
    try:
        entries = write_zip(project_ids, tmp, progress)
        sha = _sha256_of(tmp)
        store.put_path(sha, tmp)  # moves it in (or drops it: the same bytes are there already)
    except Exception:
        db.session.rollback()
        _update(token, state="failed")
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _update(token, state="done", done=len(project_ids), count=len(entries), sha256=sha, finished_at=dt.datetime.now())
    return len(entries)
