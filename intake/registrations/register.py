"""Register a household (the one door for form, desk and API), and find where it stands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from intake.dataset import domain
from intake.registrations import booking, routing
from intake.security.crypto import REFERENCE_FORM, token_hash
from intake.store import household_rows, models
from intake.store.household_rows import Receipt, authority_of
from intake.store.idempotency import Claim

if TYPE_CHECKING:
    from intake.runtime import Runtime


@dataclass(frozen=True)
class Status:
    reference: str
    authority: domain.Authority
    created_at: dt.datetime
    persons: int
    forwarded: int  # messages in a batch the authority can fetch
    acknowledged: int  # messages in a batch the authority confirmed
    appointment: booking.Booked | None = None
    delayed: bool = False  # its messages failed to build; operators see why (intake status)
    books_online: bool = True  # its authority has opening hours: appointments are booked here
    erased: bool = False  # its personal data is deleted: the link says so, and nothing else

    @property
    def state(self) -> str:
        """received -> forwarded -> acknowledged, as the applicant's status page shows it;
        "delayed" while its messages cannot be built, rather than "received" forever."""
        if self.acknowledged >= self.persons:
            return "acknowledged"
        if self.forwarded >= self.persons:
            return "forwarded"
        return "delayed" if self.delayed else "received"


def register(
    runtime: Runtime,
    household: domain.Household,
    *,
    api_token_id: int | None = None,
    entered_by: int | None = None,
    idempotency: Claim | None = None,
    draft_token: str | None = None,
) -> Receipt:
    """Store a household and the work it is owed; return once it is committed.

    The one way in, for the form, the desk and the API. The household is routed by its
    postal code and place (routing.UnknownPostalCode if no authority serves it,
    routing.PlaceNeeded if the place decides and is not chosen) and written in a transaction
    shared with the registrations arriving at the same moment in this process (the group
    commit). With `idempotency`, the partner's key is stored in that transaction (a key
    stored already raises IntegrityError, and nothing is stored); with `draft_token`, the
    draft it was filled in is deleted in it.
    """
    authority = routing.authority_for(runtime, household)
    prepared = household_rows.prepare(
        runtime.cipher, household, authority, api_token_id, entered_by
    )
    prepared.idempotency = idempotency
    prepared.draft_token = draft_token
    runtime.registrations.commit(prepared)
    return prepared.receipt()


def receipt_of(session: Session, registration_id: str, status_token: str) -> Receipt:
    """The receipt a stored registration was given (for a retried request)."""
    found = session.get_one(models.Registration, registration_id)
    authority = session.get_one(models.Authority, found.authority_key)
    return Receipt(
        reference=found.reference,
        status_token=status_token,
        authority=authority_of(authority),
        application_ids=tuple(person.application_id for person in found.persons),
    )


def by_token(session: Session, token: str) -> models.Registration | None:
    """The registration a status-page token opens; None once its data is erased."""
    return session.scalar(
        select(models.Registration).where(
            models.Registration.status_token_hash == token_hash(token),
            models.Registration.erased_at.is_(None),
        )
    )


def token_known(session: Session, token: str) -> bool:
    """Whether a status-page token opens a registration whose data is kept (without loading
    it)."""
    found = session.connection().execute(_TOKEN_KNOWN, {"hash": token_hash(token)}).first()
    return found is not None


_TOKEN_KNOWN = select(models.Registration.id).where(
    models.Registration.status_token_hash == bindparam("hash"),
    models.Registration.erased_at.is_(None),
)


def by_reference(session: Session, reference: str) -> models.Registration | None:
    """The registration of a reference as people type it (any case); None for a text that
    cannot be one, without asking the database (PostgreSQL refuses a NUL in a query)."""
    reference = reference.strip().upper()
    if not REFERENCE_FORM.fullmatch(reference):
        return None
    return session.scalar(
        select(models.Registration).where(models.Registration.reference == reference)
    )


def status(session: Session, registration: models.Registration) -> Status:
    """Where a registration stands: received, or its messages ready."""
    row = session.connection().execute(_STATUS_BY_ID, {"id": registration.id}).one()
    return _status(row)


def status_by_token(session: Session, token: str) -> Status | None:
    """The status a status-page token opens, or None: one query, as the page is asked often."""
    row = session.connection().execute(
        _STATUS_BY_TOKEN, {"hash": token_hash(token)}
    ).one_or_none()
    return None if row is None else _status(row)


def _status_query() -> Select[Any]:
    # Counted in the database, in one statement with the authority and the appointment:
    # loading persons (and their encrypted data) to count them, and a query per part, were
    # most of a status page's time.
    registration, message, batch = models.Registration, models.Message, models.Batch
    appointment, slot = models.Appointment, models.Slot
    members = (
        select(func.count(models.Person.id))
        .where(models.Person.registration_id == registration.id)
        .scalar_subquery()
    )
    # Messages in a batch (forwarded), and those whose batch was acknowledged.
    delivered = select(message.registration_id, batch.acknowledged_at).join(batch).subquery()
    forwarded, acknowledged = (
        select(count)
        .where(delivered.c.registration_id == registration.id)
        .scalar_subquery()
        for count in (func.count(), func.count(delivered.c.acknowledged_at))
    )
    outbox = models.table(models.Outbox).c
    delayed = (
        select(outbox.id)
        .where(outbox.registration_id == registration.id, outbox.done_at.is_(None))
        .where(outbox.failure.is_not(None) | outbox.failed_at.is_not(None))
        .exists()
    )
    books_online = booking.books_online(registration.authority_key)
    return (
        select(
            registration.reference, registration.created_at, registration.erased_at,
            *_AUTHORITY_COLUMNS,
            members.label("persons"), forwarded.label("forwarded"),
            acknowledged.label("acknowledged"), delayed.label("delayed"),
            books_online.label("books_online"),
            *booking.BOOKED_COLUMNS,
        )
        .join(models.Authority, models.Authority.key == registration.authority_key)
        .outerjoin(appointment, appointment.registration_id == registration.id)
        .outerjoin(slot, slot.id == appointment.slot_id)
    )


_AUTHORITY_COLUMNS = tuple(
    getattr(models.Authority, name)
    for name in ("key", "name", "street", "house_number", "postal_code", "city", "email", "phone")
)
_STATUS_BY_ID = _status_query().where(models.Registration.id == bindparam("id"))
_STATUS_BY_TOKEN = _status_query().where(
    models.Registration.status_token_hash == bindparam("hash")
)


def _status(row: Row[Any]) -> Status:
    return Status(
        reference=row.reference,
        authority=authority_of(row),
        created_at=row.created_at,
        persons=row.persons,
        forwarded=row.forwarded,
        acknowledged=row.acknowledged,
        appointment=None if row.slot_id is None else booking.booked(row),
        delayed=bool(row.delayed),
        books_online=bool(row.books_online),
        erased=row.erased_at is not None,
    )


