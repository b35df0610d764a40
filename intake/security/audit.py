"""The audit log: who viewed or changed which record, and when. Ids only, never the data."""

from __future__ import annotations

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
