"""What the payload job computes: a chunk's messages, built from what it read.

`owed` reads what a chunk of outbox rows needs in a few queries, `build` makes the message
and payload rows of a part of it (outside any transaction, at the lowest priority:
`background.compute`), and `jobs._store` stores them. Every member of a household gets a
message; the household's summary and proofs go into each, kept once (references).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from intake import xaus
from intake.config import Settings
from intake.dataset import domain
from intake.delivery import batches, enclosed, references
from intake.registrations.booking import LOCAL_TIME, aware
from intake.runtime import Runtime
from intake.store import models
from intake.store.household_rows import Erased, authority_of, household_of

log = logging.getLogger(__name__)

_OUTBOX, _REGISTRATION, _PERSON, _MESSAGE, _AUTHORITY = (
    models.table(model) for model in (
        models.Outbox, models.Registration, models.Person, models.Message, models.Authority
    )
)

# A built message: its row, and its payload's row (a table of its own, models.MessagePayload).
Built = tuple[dict[str, Any], dict[str, Any]]


@dataclass
class Household:
    """A registration's built messages, and the summary they name (references)."""

    registration_id: str
    messages: list[Built]
    summary: bytes | None = None


@dataclass
class Owed:
    """What building the messages of a chunk of outbox rows needs, read in a few queries."""

    rows: list[tuple[int, str]]  # (outbox id, registration id), not done yet
    registrations: dict[str, Row[Any]]
    persons: dict[str, list[Row[Any]]]  # by registration id, in household order
    authorities: dict[str, domain.Authority]
    done: set[str]  # persons who have their message already
    carried: dict[str, int]  # document bytes per registration (enclosed.carried_bytes)


def owed(session: Session, outbox_ids: list[int]) -> Owed:
    rows = session.execute(
        select(_OUTBOX.c.id, _OUTBOX.c.registration_id)
        .where(_OUTBOX.c.id.in_(outbox_ids), _OUTBOX.c.done_at.is_(None))
    ).all()
    ids = {row.registration_id for row in rows}
    registrations = {row.id: row for row in session.execute(
        select(_REGISTRATION).where(_REGISTRATION.c.id.in_(ids))
    )}
    persons: dict[str, list[Row[Any]]] = {key: [] for key in ids}
    for person in session.execute(
        select(_PERSON).where(_PERSON.c.registration_id.in_(ids))
        .order_by(_PERSON.c.registration_id, _PERSON.c.position)
    ):
        persons[person.registration_id].append(person)
    keys = {row.authority_key for row in registrations.values()}
    authorities = {row.key: authority_of(row) for row in session.execute(
        select(_AUTHORITY).where(_AUTHORITY.c.key.in_(keys))
    )}
    owed = [(row.id, row.registration_id) for row in rows]
    members = {key: len(household) for key, household in persons.items()}
    carried = enclosed.carried_bytes(session, ids, members)
    return Owed(owed, registrations, persons, authorities, built_for(session, ids), carried)


def built_for(session: Session, registration_ids: set[str]) -> set[str]:
    """Persons of these registrations who have their message."""
    return set(session.scalars(
        select(_MESSAGE.c.person_id).where(_MESSAGE.c.registration_id.in_(registration_ids))
    ))


def build(
    runtime: Runtime, work: Owed, part: list[tuple[int, str]],
    documents: dict[str, enclosed.Loaded],
) -> tuple[dict[int, Household], dict[int, str]]:
    """The messages per outbox row of `part`, and why each row that failed did ({outbox id:
    reason}). A registration erased meanwhile owes nothing."""
    now = dt.datetime.now(dt.UTC)
    built, failed = {}, {}
    for outbox_id, registration_id in part:
        try:
            registration = work.registrations[registration_id]
            loaded = documents.get(registration_id)
            if loaded is not None and loaded.unreadable:
                raise RuntimeError(loaded.unreadable)
            built[outbox_id] = _messages(
                runtime, registration, work.persons[registration_id],
                work.authorities[registration.authority_key], work.done, now,
                documents.get(registration_id),
            )
        except Erased:
            built[outbox_id] = Household(registration_id, [])
        except Exception as error:
            failed[outbox_id] = failure_reason(error)
            log.error("outbox %s failed: %s", outbox_id, failed[outbox_id])
    return built, failed


def failure_reason(error: Exception) -> str:
    """What operators are told of a failed build: the own checks' and the schema's findings
    name element paths and reasons, never values; of anything else, only its kind, since
    its message might quote personal data."""
    if isinstance(error, xaus.InvalidMessage):
        return f"refused by the message checks: {error}"[:2000]
    return f"{type(error).__name__} (see the worker's log)"


def _messages(
    runtime: Runtime,
    registration: Row[Any],
    persons: list[Row[Any]],
    authority: domain.Authority,
    done: set[str],
    now: dt.datetime,
    documents: enclosed.Loaded | None,
) -> Household:
    """The message and payload rows of one registration's persons that have none yet."""
    household = household_of(runtime.cipher, registration, persons)
    application_ids = [person.application_id for person in persons]
    author = sender(runtime.settings)
    if all(person.id in done for person in persons):
        return Household(registration.id, [])
    # Once per household: every member's message encloses the same summary and proofs,
    # which its stored payload names (references).
    enclosures = enclosed.enclosures(
        runtime.settings, household, documents, reference=registration.reference,
        registered=aware(registration.created_at), authority=authority,
    )
    kept = references.digests(runtime.cipher, enclosed.contents(enclosures))
    rows = []
    for index, person in enumerate(persons):
        if person.id in done:
            continue
        message_uuid = models.new_uuid()
        envelope = xaus.Envelope(
            message_uuid=message_uuid,
            created=now,
            reader=authority,
            author=author,
            test=runtime.settings.message_test_flag,
            product_version=PRODUCT_VERSION,
        )
        xml = xaus.render(
            household,
            index,
            application_ids=application_ids,
            envelope=envelope,
            application_date=application_date(registration.created_at),
            schema=runtime.schema,
            enclosed=enclosures,
        )
        message_id = models.new_id()
        payload, in_file = batches.seal(runtime.cipher, message_id, xml, kept)
        rows.append(({
            "id": message_id,
            "person_id": person.id,
            "registration_id": registration.id,
            "authority_key": authority.key,
            "message_uuid": str(message_uuid),
            "file_name": f"{person.application_id}.xml",
            "sha256": hashlib.sha256(xml).hexdigest(),
            "created_at": now,
            "stored_bytes": in_file,
        }, {"message_id": message_id, "payload": payload}))
    summary = enclosures.summary
    return Household(registration.id, rows, summary.content if summary else None)


def application_date(registered_at: dt.datetime) -> dt.date:
    """The day of an application as the authority counts days (Europe/Berlin), not UTC's:
    between midnight and 01:00 (02:00 in summer) the two differ."""
    return aware(registered_at).astimezone(LOCAL_TIME).date()


def sender(settings: Settings) -> domain.Sender:
    """This service as the messages' author, as the deployment configured it."""
    return domain.Sender(
        key=settings.sender_key,
        name=settings.sender_name,
        email=settings.sender_email,
        address=domain.Address(
            settings.sender_street, settings.sender_house_number or None,
            settings.sender_postal_code, settings.sender_city,
        ),
    )


# `produktversion` of every message: this release, as installed.
PRODUCT_VERSION = importlib.metadata.version("intake")

