"""Mails to applicants: the relay from the `mail` table to rq, the job that sends, and the
look-out for mails whose job was lost.

Like the outbox (delivery.outbox), the database is the record of what is owed and jobs carry
mail ids only. A mail is claimed, in a transaction of its own, just before it is handed to
the server, and marked sent right after: a job run again, by a retry or a second worker,
skips it. A process that dies between the two leaves it claimed, and it is never sent
again (at most once): a mail twice would say nothing new, and a lost one leaves the
lost-link page, which mails a fresh link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import select, update

from intake.delivery import mail_content, mail_transport
from intake.delivery.outbox import LOST, relay_rows
from intake.delivery.outbox import _fate as job_fate
from intake.registrations import booking
from intake.runtime import Runtime, bound
from intake.store import household_rows, mail_rows, models

log = logging.getLogger(__name__)

_MAIL = models.table(models.Mail)
RELAY_ROUND = 1000
CHUNK = 50  # mails per job: a job sends them over one connection after another
# A mail claimed this long ago and not sent lost its process mid-way (a send takes seconds).
CLAIM_LOST_AFTER = dt.timedelta(minutes=10)


def enqueue_mails(queue: Queue, mail_ids: list[str]) -> str:
    """Queue the sending of a chunk of mails as one job; returns the job's id (named by the
    chunk, so the same chunk is never queued twice)."""
    digest = hashlib.sha256(",".join(mail_ids).encode()).hexdigest()[:12]
    job_id = f"mail-{mail_ids[0][-8:]}-{mail_ids[-1][-8:]}-{digest}"
    try:
        queue.enqueue_call(
            "intake.delivery.mail.send_mails",
            args=[mail_ids],
            job_id=job_id,
            unique=True,
            retry=Retry(max=4, interval=[30, 120, 600, 3600]),
            failure_ttl=30 * 24 * 3600,
        )
    except DuplicateJobError:
        log.info("job %s is queued already", job_id)
    return job_id


def relay(runtime: Runtime, limit: int = RELAY_ROUND) -> int:
    """Queue owed mails not queued yet; returns how many (as outbox.relay, for mails)."""
    queue = runtime.queue("mail")
    return relay_rows(runtime, _MAIL, models.Mail.pending(),
                      lambda chunk: enqueue_mails(queue, chunk), CHUNK, limit)


def reconcile(runtime: Runtime, stale_after: dt.timedelta, limit: int = 500) -> int:
    """Offer again the mails whose job vanished; mark failed those whose job failed every
    retry, and those claimed by a process that died while sending. Returns how many were
    offered again."""
    now = models.utcnow()
    restored = 0
    with runtime.db.transaction() as session:
        for row in session.scalars(select(models.Mail).where(
            models.Mail.pending(), models.Mail.claimed_at < now - CLAIM_LOST_AFTER
        ).limit(limit)):
            _give_up(row, now, "interrupted while sending: perhaps sent, not again")
        rows = session.scalars(
            select(models.Mail)
            .where(models.Mail.pending(), models.Mail.enqueued_at < now - stale_after,
                   models.Mail.claimed_at.is_(None))
            .order_by(models.Mail.enqueued_at, models.Mail.id)
            .limit(limit)
        ).all()
        fates: dict[str, str] = {}
        for row in rows:
            job_id = row.job_id or ""
            if job_id not in fates:
                fates[job_id] = job_fate(runtime, job_id) if job_id else "unqueued"
            if fates[job_id] in LOST:
                row.enqueued_at = None
                restored += 1
            elif fates[job_id] == "failed":
                _give_up(row, now, row.failure or "failed every retry")
    if restored:
        log.warning("%d mail(s) had lost their job and will be queued again", restored)
    return restored


def _give_up(row: models.Mail, now: dt.datetime, reason: str) -> None:
    row.failed_at, row.failure, row.data = now, reason, None
    log.error("mail %s not sent: %s", row.id, reason)


def send_mails(mail_ids: list[str]) -> int:
    """Send owed mails (ids only: what they say is read from the database); returns how
    many were sent. Safe to run twice: a mail claimed or sent is skipped. Mails that could
    not be sent now are left owed and the job fails, so rq retries it later."""
    runtime = bound()
    sent = failed = 0
    for mail_id in mail_ids:
        outcome = _send(runtime, mail_id)
        sent += outcome == "sent"
        failed += outcome == "retry"
    if failed:
        # No cause chained: smtplib's errors name the recipient, and rq keeps the traceback.
        raise RuntimeError(f"{failed} of {len(mail_ids)} mails not sent yet")
    return sent


def _send(runtime: Runtime, mail_id: str) -> str:
    """"sent", "skipped" (sent, claimed or given up already, or nothing to send), or
    "retry"."""
    with runtime.db.read() as session:
        row = session.get(models.Mail, mail_id)
        if row is None or row.claimed_at or row.sent_at or row.failed_at or row.data is None:
            return "skipped"
        registration = session.get_one(models.Registration, row.registration_id)
        try:
            household = household_rows.load_household(runtime.cipher, registration)
        except household_rows.Erased:
            household = None
        to = household.contact.email if household and household.contact else None
        letter = mail_content.Letter(
            kind=row.kind,
            language=registration.language,
            reference=registration.reference,
            authority=household_rows.authority_of(
                session.get_one(models.Authority, registration.authority_key)),
            carried=mail_rows.carried(runtime.cipher, row.id, row.data),
            books_online=bool(session.scalar(select(booking.books_online(
                registration.authority_key)))),
        )
    if not to:  # erased meanwhile: nobody to write to, nothing to say
        return _finish(runtime, mail_id, failure="registration erased")
    content = mail_content.render(runtime.settings, letter, models.utcnow())
    message = mail_transport.compose(runtime.settings, to, content, mail_id, letter.language)
    if not _claim(runtime, mail_id):
        return "skipped"
    try:
        mail_transport.deliver(runtime.settings, message, mail_id)
    except mail_transport.Refused as error:
        return _finish(runtime, mail_id, failure=str(error))
    except Exception as error:  # any failure: owed still, and tried again later
        reason = type(error).__name__  # its message may quote the address
        log.warning("mail %s not sent (%s); it will be tried again", mail_id, reason)
        with runtime.db.transaction() as session:
            session.execute(update(_MAIL).where(_MAIL.c.id == mail_id)
                            .values(claimed_at=None, failure=reason))
        return "retry"
    return _finish(runtime, mail_id)


def _claim(runtime: Runtime, mail_id: str) -> bool:
    """Take a mail for sending; False if another run took or finished it meanwhile."""
    with runtime.db.transaction() as session:
        result = session.execute(
            update(_MAIL)
            .where(_MAIL.c.id == mail_id, _MAIL.c.claimed_at.is_(None), models.Mail.pending())
            .values(claimed_at=models.utcnow())
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _finish(runtime: Runtime, mail_id: str, failure: str | None = None) -> str:
    """Mark a mail sent (or given up, with why) and forget what it carried."""
    now = models.utcnow()
    values: dict[str, Any] = (
        {"sent_at": now, "failure": None} if failure is None
        else {"failed_at": now, "failure": failure}
    )
    with runtime.db.transaction() as session:
        session.execute(update(_MAIL).where(_MAIL.c.id == mail_id).values(data=None, **values))
    if failure is not None:
        log.warning("mail %s not sent: %s", mail_id, failure)
        return "skipped"
    log.info("mail %s sent", mail_id)
    return "sent"
