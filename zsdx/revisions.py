"""信息变更 of a completed record of any stage (a 已签约 signing, a submitted 改造中 …): the generic Revision rows,
each the [label, before, after] triples of one change, by whom and when. A stage snapshots its record as
{label: text} before and after the change and calls `record_revision`."""

import json

from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Revision


def record_revision(subject_type, subject_id, actor, before, after):
    """Add the Revision of what differs between the two snapshots (none when nothing did); the caller commits.
    Returns the changes."""
    changes = [[k, before.get(k, ""), after.get(k, "")] for k in {**before, **after} if before.get(k) != after.get(k)]
    if changes:
        db.session.add(
            Revision(
                subject_type=subject_type,
                subject_id=subject_id,
                actor_id=actor.id,
                changes=json.dumps(changes, ensure_ascii=False),
            )
        )
    return changes


def history(subject_type, subject_id):
    """The record's revisions, newest first, with their authors."""
    return (
        db.session.query(Revision)
        .options(joinedload(Revision.actor))
        .filter(Revision.subject_type == subject_type, Revision.subject_id == subject_id)
        .order_by(Revision.id.desc())
        .all()
    )
