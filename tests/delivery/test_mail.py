"""Confirmation mails: owed with the registration, sent once by a job carrying ids, through a
real SMTP server on loopback (STARTTLS, a password), or written to instance/mail/."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import logging
import stat
from html import unescape

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select, update

from intake.delivery import mail, mail_transport
from intake.runtime import bind
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.forms import APPLICANT, register
from tests.helpers.mail import STATUS_LINK as LINK
from tests.helpers.mail import parts, redis_bytes, sending_to, translated
from tests.helpers.pipeline import process_queue

ADDRESS = "olena.mail@example.org"


@pytest.fixture
def settings(settings, smtp_server):  # type: ignore[no-untyped-def]
    """The suite's settings, with mail going to the loopback server."""
    return sending_to(settings, smtp_server)


def api_registration(client, submit_token, language="uk", address=ADDRESS):  # type: ignore[no-untyped-def]
    body = {**ADULT, "language": language, "contact": {"email": address}}
    response = post(client, submit_token, body)
    assert response.status_code == 201, response.json
    return response.json


def mail_rows(runtime) -> list[models.Mail]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return list(session.scalars(select(models.Mail).order_by(models.Mail.created_at)))


def test_an_api_registration_is_confirmed_once_in_its_language(
    app, client, submit_token, runtime, smtp_server, caplog
):
    caplog.set_level(logging.DEBUG)
    answer = api_registration(client, submit_token)
    process_queue(runtime)
    process_queue(runtime)  # a second round finds nothing owed

    [(to, raw)] = smtp_server.inbox.received
    [message] = smtp_server.inbox.messages()
    assert to == [ADDRESS] and message["To"] == ADDRESS
    assert message["From"].addresses[0].addr_spec == runtime.settings.sender_email
    assert answer["reference"] in message["Subject"]
    assert message["Content-Language"] == "uk"
    assert raw.split(b"\r\n\r\n")[0].isascii()  # headers as RFC 5322 has them
    body = parts(message).text
    assert translated(app, "uk", "Registration for people seeking protection") in body
    assert message["Subject"].startswith("Ми отримали вашу реєстрацію")  # in her language
    assert "Ми отримали вашу реєстрацію. Ваш номер:" in body
    assert answer["reference"] in body
    link = LINK.search(body).group(0)  # type: ignore[union-attr]
    token = link.rsplit("/", 1)[1]
    assert answer["status_url"].endswith(f"/s/{token}")
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and answer["reference"] in page.text

    [row] = mail_rows(runtime)
    assert row.sent_at is not None and row.data is None  # the token is not kept
    job = Job.fetch(row.job_id, connection=runtime.redis, serializer=JSONSerializer)
    assert job.args == [[row.id]]  # ids only
    assert ADDRESS not in str(job.args) and token not in str(job.args)
    for record in caplog.records:
        if record.name == "mail.log":  # the test server's own log
            continue
        assert ADDRESS not in record.getMessage() and token not in record.getMessage()


def test_a_form_registration_is_confirmed(app, client, runtime, smtp_server):
    assert register(client, "ar", [APPLICANT], "14467").status_code == 303
    process_queue(runtime)
    [message] = smtp_server.inbox.messages()
    assert message["To"] == "taras@example.org" and message["Content-Language"] == "ar"
    body = parts(message).text
    assert translated(app, "ar", "Registration for people seeking protection") in body
    path = "/" + LINK.search(body).group(0).split("/", 3)[3]  # type: ignore[union-attr]
    assert client.get(path).status_code == 200


def test_no_mail_without_an_address(client, submit_token, runtime, smtp_server):
    assert post(client, submit_token, ADULT).status_code == 201
    process_queue(runtime)
    assert smtp_server.inbox.received == [] and mail_rows(runtime) == []


def test_a_mail_the_server_put_off_is_sent_once_by_the_retry(
    client, submit_token, runtime, smtp_server
):
    smtp_server.inbox.refuse = 1
    api_registration(client, submit_token)
    process_queue(runtime)  # the job fails; rq retries it later
    assert smtp_server.inbox.received == []
    [row] = mail_rows(runtime)
    assert row.sent_at is None and row.claimed_at is None
    assert row.failure == "SMTPDataError"  # the kind only: the server's words stay out
    assert ADDRESS.encode() not in redis_bytes(runtime)  # nor in the failure rq keeps

    assert mail.send_mails([row.id]) == 1  # the retry
    assert mail.send_mails([row.id]) == 0  # and a second run of it
    assert len(smtp_server.inbox.received) == 1


def test_a_crash_between_sending_and_marking_sent_sends_nothing_twice(
    client, submit_token, runtime, smtp_server, monkeypatch
):
    api_registration(client, submit_token)
    mail.relay(runtime)
    [row] = mail_rows(runtime)
    bind(runtime)

    def crash(*_args: object, **_kwargs: object) -> str:
        raise KeyboardInterrupt  # the process ends right after the server took the mail

    with monkeypatch.context() as patched:
        patched.setattr(mail, "_finish", crash)
        with pytest.raises(KeyboardInterrupt):
            mail.send_mails([row.id])
    assert mail.send_mails([row.id]) == 0  # the job again, after the crash
    process_queue(runtime)
    assert len(smtp_server.inbox.received) == 1

    # Later the mail is given up as perhaps sent, and what it carried is deleted.
    with runtime.db.transaction() as session:
        long_ago = models.utcnow() - mail.CLAIM_LOST_AFTER * 2
        session.execute(update(models.Mail).values(claimed_at=long_ago, enqueued_at=long_ago))
    mail.reconcile(runtime, stale_after=mail.CLAIM_LOST_AFTER)
    [row] = mail_rows(runtime)
    assert row.failed_at is not None and row.data is None and row.sent_at is None
    assert len(smtp_server.inbox.received) == 1


def test_a_mail_whose_job_vanished_is_queued_again(client, submit_token, runtime, smtp_server):
    api_registration(client, submit_token)
    mail.relay(runtime)
    runtime.redis.flushdb()  # Redis restarted empty
    with runtime.db.transaction() as session:
        session.execute(update(models.Mail).values(
            enqueued_at=models.utcnow() - mail.CLAIM_LOST_AFTER))
    assert mail.reconcile(runtime, stale_after=mail.CLAIM_LOST_AFTER / 2) == 1
    process_queue(runtime)
    assert len(smtp_server.inbox.received) == 1


def test_a_registration_erased_before_its_mail_is_not_mailed(
    client, submit_token, runtime, smtp_server
):
    from intake.registrations import retention

    answer = api_registration(client, submit_token)
    with runtime.db.transaction() as session:
        found = session.scalar(select(models.Registration).where(
            models.Registration.reference == answer["reference"]))
        retention.erase(session, found, runtime.cipher, runtime.settings.xml_out, runtime.blobs)
    process_queue(runtime)
    assert smtp_server.inbox.received == []
    [row] = mail_rows(runtime)
    assert row.data is None and row.failed_at is not None


def test_a_subject_in_any_script_is_encoded_for_the_header(settings):
    subject = "Ми отримали вашу реєстрацію K7M4Q-9XPD2 / تم استلام تسجيلك"
    body = "Ваше посилання: http://example.org/s/abc\n"
    content = mail_transport.Content(subject, body, f"<p>{body}</p>\n")
    message = mail_transport.compose(settings, ADDRESS, content, "m1", "uk")
    raw = message.as_bytes()
    head = raw.split(b"\n\n")[0]
    assert head.isascii() and b"=?utf-8?" in head.lower()  # RFC 2047
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject and parts(parsed).text == body  # type: ignore[arg-type]
    assert parsed["Message-ID"] == "<m1@example.org>" and parsed["Content-Language"] == "uk"


def test_without_an_smtp_url_mail_is_written_to_a_file_only_its_user_reads(
    client, submit_token, runtime
):
    runtime.settings = dataclasses.replace(runtime.settings, smtp_url=None)
    answer = api_registration(client, submit_token)
    process_queue(runtime)
    [row] = mail_rows(runtime)
    [written] = (runtime.settings.instance_dir / "mail").iterdir()
    assert written.name == f"{row.id}.eml"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    parsed = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == ADDRESS
    assert answer["reference"] in parts(parsed).text  # type: ignore[arg-type]


# What an HTML part may not hold: images, scripts, styles or anything fetched from elsewhere.
FETCHED = ("<img", "<script", "<link", "<style", "<iframe", "src=", "url(", "@import")


@pytest.mark.parametrize(("language", "direction"), [("uk", "ltr"), ("ar", "rtl")])
def test_confirmation_and_lost_link_mails_have_a_plain_text_and_an_html_part(
    app, client, submit_token, runtime, smtp_server, language, direction
):
    from tests.helpers.forms import post as form_post

    answer = api_registration(client, submit_token, language=language)
    process_queue(runtime)
    assert form_post(client, f"/{language}/lost-link", {"email": ADDRESS}).status_code == 200
    process_queue(runtime)

    for message in smtp_server.inbox.messages():
        mail_parts = parts(message)
        text, html = mail_parts.text, mail_parts.html
        shown = unescape(html)
        assert mail_parts.calendar is None
        link = LINK.search(text).group(0)  # type: ignore[union-attr]
        assert f'<html lang="{language}" dir="{direction}">' in html
        assert f"<title>{message['Subject']}</title>" in shown
        assert f'<a href="{link}" dir="ltr">{link}</a>' in html
        assert answer["reference"] in html
        for sentence in ("Hello,", "This e-mail was sent automatically. Please do not reply to it."):
            assert translated(app, language, sentence) in text
            assert translated(app, language, sentence) in shown
        assert not any(fetched in html.lower() for fetched in FETCHED)
        assert "<" not in text  # the text part is no HTML


def test_the_confirmation_offers_booking_only_where_the_authority_takes_bookings_here(
        app, client, runtime, smtp_server):
    """Seen: the mail sent people to book where the status page then said the authority
    would contact them."""
    import datetime as dt

    from intake.registrations import schedule
    from intake.registrations.opening_hours import Week

    with runtime.db.transaction() as session:  # LKR Elbe-Elster: no opening hours
        schedule.save_week(session, "075600", Week((), 15, 20, 2), None, dt.datetime.now(dt.UTC))
    assert register(client, "uk", [APPLICANT], "04916").status_code == 303
    assert register(client, "uk", [APPLICANT], "14467").status_code == 303  # Potsdam: hours
    process_queue(runtime)

    book = translated(app, "uk", "Your status link shows where your registration stands. "
                      "There you can also book an appointment at the immigration authority:")
    contact = translated(app, "uk", "The immigration authority %(name)s does not offer "
                         "appointments online yet; it will contact you.")
    bodies = {}
    for message in smtp_server.inbox.messages():
        text, html = parts(message).text, unescape(parts(message).html)
        bodies["Elbe-Elster" if "Elbe-Elster" in text else "Potsdam"] = (text, html)
    elbe_text, elbe_html = bodies["Elbe-Elster"]
    assert book not in elbe_text and book not in elbe_html
    assert contact % {"name": "LKR Elbe-Elster"} in elbe_text.replace("\n", " ")
    assert contact % {"name": "LKR Elbe-Elster"} in elbe_html
    assert LINK.search(elbe_text)  # the status link all the same
    potsdam_text, _ = bodies["Potsdam"]
    assert book in potsdam_text.replace("\n", " ") and "Elbe-Elster" not in potsdam_text
