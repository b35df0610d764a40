"""Use cases of a registration: submit it, look up its status. Views and the API call these."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake import booking, domain, lookup, models
from intake.crypto import FieldCipher, random_reference, random_token, token_hash
from intake.schemas import HouseholdSchema

PAYLOAD = "payload"  # outbox kind: build the household's messages
_HOUSEHOLD = HouseholdSchema()


class UnknownPostalCode(LookupError):
    """No authority is responsible for the postal code: never routed to a default."""


def unknown_postal_code_message() -> str:
    return _(
        "We do not know which immigration authority is responsible for this postal code. "
        "Check the postal code of the place where you are staying."
    )


class Erased(LookupError):
    """The registration's personal data has been deleted (retention or request)."""


@dataclass(frozen=True)
class Receipt:
    """What the applicant gets back. `status_token` exists only here, never in the database."""

    reference: str
    status_token: str
    authority: domain.Authority
    application_ids: tuple[str, ...]


@dataclass(frozen=True)
class Status:
    reference: str
    authority: domain.Authority
    created_at: dt.datetime
    persons: int
    forwarded: int  # messages in a batch the authority can fetch
    acknowledged: int  # messages in a batch the authority confirmed
    appointment: booking.Booked | None = None

    @property
    def state(self) -> str:
        """received -> forwarded -> acknowledged, as the applicant's status page shows it."""
        if self.acknowledged >= self.persons:
            return "acknowledged"
        return "forwarded" if self.forwarded >= self.persons else "received"


def route(session: Session, postal_code: str) -> models.Authority:
    """The authority responsible for a postal code."""
    found = session.scalar(
        select(models.Authority)
        .join(models.PostalCode)
        .where(models.PostalCode.code == postal_code)
    )
    if found is None:
        raise UnknownPostalCode(postal_code)
    return found


def submit(
    session: Session,
    cipher: FieldCipher,
    household: domain.Household,
    api_token_id: int | None = None,
    entered_by: int | None = None,
) -> Receipt:
    """Store a household and the work it is owed (an outbox row) in the caller's transaction.

    Nothing here touches Redis: once the caller commits, the registration is safe and the
    relay will queue its work whenever the queue is reachable.
    """
    authority = route(session, household.postal_code)
    document = _HOUSEHOLD.dump(household)
    person_documents = document.pop("persons")
    for _attempt in range(5):
        token = random_token()
        registration = models.Registration(
            id=models.new_id(),
            reference=random_reference(),
            status_token_hash=token_hash(token),
            authority_key=authority.key,
            language=household.language,
            api_token_id=api_token_id,
            entered_by=entered_by,
        )
        registration.data = cipher.encrypt(json.dumps(document), _context(registration))
        try:
            with session.begin_nested():
                session.add(registration)
                session.flush()
            break
        except IntegrityError:  # a reference drawn twice: draw again
            continue
    else:  # pragma: no cover - 5 collisions in a space of 2**50
        raise RuntimeError("could not draw a unique reference")
    application_ids = []
    for position, person_document in enumerate(person_documents):
        name_index, document_index = lookup.person_indexes(cipher, household.persons[position])
        person = models.Person(
            id=models.new_id(),
            registration_id=registration.id,
            position=position,
            application_id=str(uuid.uuid4()),
            name_index=name_index,
            document_index=document_index,
        )
        person.data = cipher.encrypt(json.dumps(person_document), _context(person))
        session.add(person)
        application_ids.append(person.application_id)
    session.add(models.Outbox(registration_id=registration.id, kind=PAYLOAD))
    return Receipt(
        reference=registration.reference,
        status_token=token,
        authority=to_domain(authority),
        application_ids=tuple(application_ids),
    )


def load_household(cipher: FieldCipher, registration: models.Registration) -> domain.Household:
    """Decrypt a stored registration back into the household that was submitted."""
    if registration.data is None:
        raise Erased(registration.reference)
    document = json.loads(cipher.decrypt(registration.data, _context(registration)))
    document["persons"] = [
        json.loads(cipher.decrypt(person.data or "", _context(person)))
        for person in registration.persons
    ]
    household: domain.Household = _HOUSEHOLD.load(document)
    return household


def by_token(session: Session, token: str) -> models.Registration | None:
    """The registration a status-page token opens."""
    return session.scalar(
        select(models.Registration).where(
            models.Registration.status_token_hash == token_hash(token)
        )
    )


def by_reference(session: Session, reference: str) -> models.Registration | None:
    return session.scalar(
        select(models.Registration).where(models.Registration.reference == reference.upper())
    )


def status(session: Session, registration: models.Registration) -> Status:
    """Where a registration stands: received, or its messages ready."""
    persons = len(registration.persons)
    forwarded, acknowledged = session.execute(
        select(func.count(models.Batch.id), func.count(models.Batch.acknowledged_at))
        .select_from(models.Message)
        .join(models.Batch)
        .where(models.Message.registration_id == registration.id)
    ).one()
    authority = session.get_one(models.Authority, registration.authority_key)
    return Status(
        reference=registration.reference,
        authority=to_domain(authority),
        created_at=registration.created_at,
        persons=persons,
        forwarded=forwarded,
        acknowledged=acknowledged,
        appointment=booking.appointment(session, registration),
    )


def to_domain(authority: models.Authority) -> domain.Authority:
    address = None
    if authority.street and authority.postal_code and authority.city:
        address = domain.Address(
            authority.street, authority.house_number, authority.postal_code, authority.city
        )
    return domain.Authority(
        key=authority.key,
        name=authority.name,
        address=address,
        email=authority.email,
        phone=authority.phone,
    )


def _context(record: models.Registration | models.Person) -> str:
    """Associated data for a record's encrypted `data`: its table and id."""
    return f"{record.__tablename__}:{record.id}:data"
