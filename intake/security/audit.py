"""The audit log: who viewed or changed which record, and when. Ids only, never the data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.store import models


def record(
    session: Session, user_id: int | None, action: str, record_type: str, record_id: str
) -> None:
    session.add(
        models.AuditEntry(
            user_id=user_id, action=action, record_type=record_type, record_id=record_id
        )
    )


def latest(session: Session, limit: int = 200) -> list[models.AuditEntry]:
    return list(
        session.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id.desc()).limit(limit))
    )


def since(session: Session, moment: dt.datetime) -> Iterator[dict[str, Any]]:
    """Every entry from that moment on, oldest first, with the staff member's e-mail (the
    auditor's question is who), streamed: the log grows with every view."""
    rows = session.execute(
        select(models.AuditEntry, models.StaffUser.email)
        .outerjoin(models.StaffUser, models.StaffUser.id == models.AuditEntry.user_id)
        .where(models.AuditEntry.at >= moment)
        .order_by(models.AuditEntry.id)
        .execution_options(yield_per=1000)
    )
    for entry, email in rows:
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=dt.UTC)
        yield {"id": entry.id, "at": at.isoformat(timespec="seconds"),
               "user_id": entry.user_id, "user": email, "action": entry.action,
               "record_type": entry.record_type, "record_id": entry.record_id}
