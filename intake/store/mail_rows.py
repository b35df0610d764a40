"""Mails owed to applicants as rows: what each needs, encrypted; the e-mail blind index.

A mail row is written in the transaction that makes the mail owed (a registration, a new
status link, a change of the appointment), so a crash can neither lose it nor send it
without the change it reports.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from intake.security.crypto import STORED_INDEX_CHARS, FieldCipher
from intake.store import models, packing

CONFIRMATION = "confirmation"  # a registration was received: its reference and status link
LOST_LINK = "lost-link"  # a fresh status link, asked for on the lost-link page
BOOKING = "booking"  # an appointment was booked: when, where, and its calendar file
REBOOKING = "rebooking"  # the appointment was moved to another time
CANCELLATION = "cancellation"  # the appointment was cancelled: which, and how to book again
APPOINTMENT_KINDS = (BOOKING, REBOOKING, CANCELLATION)
SUPERSEDED = "superseded by a newer appointment mail"  # its `failure`

_MAIL = models.table(models.Mail)

# RFC 5321: a path holds at most 256 octets, an address (without the brackets) 254.
_LONGEST_ADDRESS = 254


def email_index(cipher: FieldCipher, address: str | None) -> str | None:
    """The blind index of an e-mail address as people type it (case, spaces, Unicode forms
    aside); None for a text that cannot be an address, so nothing is looked up for it."""
    if not address:
        return None
    normalized = unicodedata.normalize("NFKC", address).strip().lower()
    local, at, domain = normalized.rpartition("@")
    if not (local and at and domain) or len(normalized) > _LONGEST_ADDRESS:
        return None
    try:
        normalized.encode()
    except UnicodeEncodeError:  # a lone surrogate, as a crafted form can send
        return None
    return cipher.blind_index(f"email|{normalized}", STORED_INDEX_CHARS)


def owed(
    cipher: FieldCipher, registration_id: str, kind: str, status_token: str | None,
    **details: Any,
) -> dict[str, Any]:
    """A mail row carrying the status token, which the registration keeps only as a hash
    (None when the change did not come through the status link), and the details of what
    it reports (JSON values)."""
    mail_id = models.new_id()
    carried = {**details, "token": status_token} if status_token else details
    return {
        "id": mail_id,
        "registration_id": registration_id,
        "kind": kind,
        "data": cipher.encrypt_bytes(packing.pack_json(carried, packing.MAIL), context(mail_id)),
        "created_at": models.utcnow(),
    }


def owe_appointment_mail(
    session: Session, cipher: FieldCipher, registration_id: str, kind: str,
    status_token: str | None, **details: Any,
) -> None:
    """Owe a mail about the household's appointment, in the caller's transaction.

    The household's appointment mails not yet taken for sending are given up in the same
    transaction: each reports a change as it was, and a newer change makes it stale (moved
    twice in a minute, only the last time is mailed). One taken already goes out; this one
    follows it.
    """
    mail = _MAIL.c
    session.execute(
        update(_MAIL)
        .where(mail.registration_id == registration_id, mail.kind.in_(APPOINTMENT_KINDS),
               mail.claimed_at.is_(None), mail.sent_at.is_(None), mail.failed_at.is_(None))
        .values(data=None, failed_at=models.utcnow(), failure=SUPERSEDED)
    )
    session.execute(insert(_MAIL).values(
        owed(cipher, registration_id, kind, status_token, **details)
    ))


def carried(cipher: FieldCipher, mail_id: str, data: str) -> dict[str, Any]:
    """What a mail row carries: the details `owed` was given, and "token" if it had one."""
    found: dict[str, Any] = packing.unpack_json(
        cipher.decrypt_bytes(data, context(mail_id)), (packing.MAIL,))
    return found


def context(mail_id: str) -> str:
    """Associated data of a mail row's `data`: a value copied to another row does not open."""
    return f"mail:{mail_id}:data"
