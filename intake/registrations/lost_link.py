"""A lost status link: a fresh one, mailed to the address the registration gave."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from intake.security.crypto import random_token, token_hash
from intake.store import mail_rows, models

if TYPE_CHECKING:
    from intake.runtime import Runtime

# A second request within this time mails nothing more: the first link is on its way, and
# nobody can flood a person's mailbox through the page.
PAUSE = dt.timedelta(minutes=10)


def send_link(runtime: Runtime, address: str) -> int:
    """Give each registration (its data kept) with this e-mail address a new status token,
    which ends the old link, and owe it a mail with the new link; returns how many.

    Token and mail are written in one transaction. A registration that still has a mail on
    its way, or was mailed a new link within PAUSE, is left as it is: that mail's link works.
    """
    index = mail_rows.email_index(runtime.cipher, address)
    if index is None:
        return 0
    now = models.utcnow()
    registration, mail = models.Registration, models.Mail
    busy = select(mail.registration_id).where(
        mail.registration_id == registration.id,
        mail.pending() | ((mail.kind == mail_rows.LOST_LINK) & (mail.created_at > now - PAUSE)),
    )
    with runtime.db.transaction() as session:
        found = session.scalars(
            select(registration.id).where(
                registration.email_index == index,
                registration.erased_at.is_(None),
                ~busy.exists(),
            )
        ).all()
        for registration_id in found:
            token = random_token()
            session.execute(
                update(registration).where(registration.id == registration_id)
                .values(status_token_hash=token_hash(token))
            )
            session.execute(insert(mail).values(
                mail_rows.owed(runtime.cipher, registration_id, mail_rows.LOST_LINK, token)
            ))
    return len(found)
