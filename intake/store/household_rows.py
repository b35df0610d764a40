"""A household's rows: prepared outside any transaction, written many households at a time,
and read back into the household.

Everything that costs time (JSON, encryption, blind indexes) happens in `prepare`, before a
write lock is taken; `write` then inserts any number of prepared households with one
statement per table. The registration, its persons and the work it is owed (an outbox row)
are written together: once committed, the registration is safe, and the relay queues its
work whenever the queue is reachable. Nothing here touches Redis.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from intake.dataset import domain
from intake.security.crypto import FieldCipher, random_reference, random_token, token_hash
from intake.store import blind_index, mail_rows, models, packing, stored_form
from intake.store.database import insert_unless_taken
from intake.store.idempotency import Claim

PAYLOAD = "payload"  # outbox kind: build the household's messages
# Draws of a reference for one registration before giving up (the space is 2**50).
_DRAWS = 5

_NEW_PERSONS = insert(models.table(models.Person))
_NEW_OUTBOX = insert(models.table(models.Outbox))
_NEW_KEYS = insert(models.table(models.IdempotencyKey))
_NEW_MAILS = insert(models.table(models.Mail))
# A sent draft's documents become its registration's (their content is bound to the
# document's id, not its owner: nothing is encrypted again).
_documents, _drafts = models.table(models.Document), models.table(models.Draft)
_ADOPT_DOCUMENTS = (
    update(_documents)
    .where(_documents.c.draft_id == select(_drafts.c.id).where(
        _drafts.c.token_hash == bindparam("draft_hash")).scalar_subquery())
    .values(registration_id=bindparam("new_owner"), draft_id=None)
)


@dataclass(frozen=True)
class Receipt:
    """What the applicant gets back. `status_token` exists only here, never in the database."""

    reference: str
    status_token: str
    authority: domain.Authority
    application_ids: tuple[str, ...]


@dataclass
class Submission:
    """The rows of one household, ready to insert."""

    authority: domain.Authority
    registration: dict[str, Any]
    persons: list[dict[str, Any]]
    status_token: str = ""
    idempotency: Claim | None = None  # the partner's Idempotency-Key, stored with the rows
    draft_token: str | None = None  # the draft it was filled in, deleted with the write
    # Set when the household gave an e-mail address: its confirmation mail is owed, and
    # carries the status token, so it is made again with each draw.
    mail_cipher: FieldCipher | None = None
    mail: dict[str, Any] | None = None

    def draw_reference(self) -> None:
        """A fresh reference and status token (again, if the first were taken)."""
        self.status_token = random_token()
        self.registration["reference"] = random_reference()
        self.registration["status_token_hash"] = token_hash(self.status_token)
        if self.mail_cipher is not None:
            self.mail = mail_rows.owed(
                self.mail_cipher, self.registration["id"], mail_rows.CONFIRMATION,
                self.status_token,
            )

    def receipt(self) -> Receipt:
        return Receipt(
            reference=self.registration["reference"],
            status_token=self.status_token,
            authority=self.authority,
            application_ids=tuple(person["application_id"] for person in self.persons),
        )


def prepare(
    cipher: FieldCipher,
    household: domain.Household,
    authority: domain.Authority,
    api_token_id: int | None = None,
    entered_by: int | None = None,
) -> Submission:
    """Encrypt a household into its rows for the authority it was routed to."""
    registration_id = models.new_id()
    address = household.contact.email if household.contact else None
    email_index = mail_rows.email_index(cipher, address)
    registration = {
        "id": registration_id,
        "authority_key": authority.key,
        "language": household.language,
        "api_token_id": api_token_id,
        "entered_by": entered_by,
        "email_index": email_index,
        "created_at": models.utcnow(),
        "data": seal(cipher, stored_form.household_document(household), packing.HOUSEHOLD,
                     context("registration", registration_id)),
    }
    persons = []
    for position, person in enumerate(household.persons):
        person_id = models.new_id()
        persons.append({
            "id": person_id,
            "registration_id": registration_id,
            "position": position,
            "application_id": str(models.new_uuid()),
            **blind_index.person_indexes(cipher, person),
            "data": seal(cipher, stored_form.person_document(person), packing.PERSON,
                         context("person", person_id)),
        })
    submission = Submission(authority, registration, persons)
    if email_index is not None:
        submission.mail_cipher = cipher
    submission.draw_reference()
    return submission


def write(session: Session, submissions: list[Submission]) -> None:
    """Insert the submissions in the caller's transaction: one statement per table.

    A reference that is taken already (or drawn twice in one group) is drawn again.
    """
    connection = session.connection()
    new_registrations = _new_registrations(connection.dialect.name)
    pending = submissions
    for _draw in range(_DRAWS):
        inserted = set(connection.scalars(
            new_registrations, [submission.registration for submission in pending]
        ))
        pending = [item for item in pending if item.registration["id"] not in inserted]
        if not pending:
            break
        for submission in pending:
            submission.draw_reference()
    else:  # pragma: no cover - five collisions in a row in a space of 2**50
        raise RuntimeError("could not draw a unique reference")
    connection.execute(_NEW_PERSONS, [row for item in submissions for row in item.persons])
    connection.execute(_NEW_OUTBOX, [
        {"registration_id": item.registration["id"], "kind": PAYLOAD} for item in submissions
    ])
    mails = [item.mail for item in submissions if item.mail is not None]
    if mails:
        connection.execute(_NEW_MAILS, mails)
    keys = [
        item.idempotency.row(item.registration["id"], item.status_token)
        for item in submissions
        if item.idempotency is not None
    ]
    if keys:  # a key used twice at once fails here, and the group writes each alone
        connection.execute(_NEW_KEYS, keys)
    drafts = [(token_hash(item.draft_token), item.registration["id"])
              for item in submissions if item.draft_token]
    if drafts:
        connection.execute(_ADOPT_DOCUMENTS, [
            {"draft_hash": draft_hash, "new_owner": owner} for draft_hash, owner in drafts])
        connection.execute(delete(models.Draft).where(
            models.Draft.token_hash.in_([draft_hash for draft_hash, _owner in drafts])))


@functools.cache
def _new_registrations(dialect: str) -> Any:
    """INSERT of registrations that returns the ids of those whose reference was free."""
    table = models.table(models.Registration)
    return insert_unless_taken(dialect, table).returning(table.c.id)


def context(table: str, record_id: str) -> str:
    """Associated data for a record's encrypted `data`: its table and id."""
    return f"{table}:{record_id}:data"


class Erased(LookupError):
    """The registration's personal data has been deleted (retention or request)."""

def load_household(cipher: FieldCipher, registration: models.Registration) -> domain.Household:
    """Decrypt a stored registration back into the household that was submitted."""
    return household_of(cipher, registration, registration.persons)

def household_of(
    cipher: FieldCipher, registration: Any, persons: Sequence[Any]
) -> domain.Household:
    """The household from its registration and person records (models or table rows)."""
    if registration.data is None:
        raise Erased(registration.reference)
    document = opened(cipher, registration.data, packing.HOUSEHOLD,
                      context("registration", registration.id))
    members = [opened(cipher, person.data or "", packing.PERSON, context("person", person.id))
               for person in persons]
    return stored_form.household(document, members)


def seal(cipher: FieldCipher, document: Any, dictionary: bytes, value_context: str) -> str:
    """A stored form's JSON document, packed (store.packing) and encrypted."""
    return cipher.encrypt_bytes(packing.pack_json(document, dictionary), value_context)


def opened(cipher: FieldCipher, value: str, dictionary: bytes, value_context: str) -> Any:
    """The document `seal` was given, or one stored as JSON text before packing."""
    return packing.unpack_json(cipher.decrypt_bytes(value, value_context), (dictionary,))

def authority_of(authority: models.Authority | Row[Any]) -> domain.Authority:
    """The directory's view of an authority, from its model or a row of its table."""
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
