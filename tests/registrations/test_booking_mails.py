"""Appointment mails: a booking, a new time or a cancellation is mailed in the registration's
language, owed in the transaction that changes the appointment, and received by a real SMTP
server on loopback."""

from __future__ import annotations

import datetime as dt
import logging
from email.message import EmailMessage
from html import unescape
from typing import Any

import pytest
from babel.dates import format_date, format_time
from flask_babel import force_locale
from icalendar import Calendar
from rq.job import Job
from rq.serializers import JSONSerializer
from sqlalchemy import select, update

from intake.delivery import mail, mail_content
from intake.registrations import booking, register
from intake.store import mail_rows, models
from intake.web import display
from tests.helpers.api import api, post
from tests.helpers.data import ADULT
from tests.helpers.forms import book, cancel, offered_slots
from tests.helpers.mail import (
    STATUS_LINK,
    in_language,
    parts,
    redis_bytes,
    sending_to,
    translated,
)
from tests.helpers.pipeline import process_queue

ADDRESS = "olena.termin@example.org"
BERLIN = booking.LOCAL_TIME


@pytest.fixture
def settings(settings, smtp_server):  # type: ignore[no-untyped-def]
    return sending_to(settings, smtp_server)


def registered(client, submit_token, language: str = "uk", address: str | None = ADDRESS):  # type: ignore[no-untyped-def]
    """A registration through the API (its confirmation owed when it gives an address), and
    the path of its status page."""
    body = {**ADULT, "language": language}
    if address:
        body["contact"] = {"email": address}
    answer = post(client, submit_token, body).json
    return answer, answer["status_url"].removeprefix("http://localhost")


def appointment_mails(smtp_server) -> list[EmailMessage]:  # type: ignore[no-untyped-def]
    """What the server received after the registration's confirmation."""
    confirmation, *rest = smtp_server.inbox.messages()
    assert "/s/" in parts(confirmation).text
    return rest


def slot_times(runtime, slot: str) -> tuple[dt.datetime, dt.datetime]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        found = session.get_one(models.Slot, int(slot))
        return booking.aware(found.starts_at), booking.aware(found.ends_at)


def when(app, language: str, moment: dt.datetime) -> str:  # type: ignore[no-untyped-def]
    """Day and time as the status page writes them in `language`."""
    with app.app_context(), force_locale(language):
        return display.local_datetime(moment)


def calendar_of(message: EmailMessage) -> Calendar:
    attached = parts(message).calendar
    assert attached is not None
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "PUBLISH"
    assert attached.get_filename() == "appointment.ics"
    return Calendar.from_ical(attached.get_content())  # type: ignore[attr-defined]


def mails_of(runtime) -> list[models.Mail]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return list(session.scalars(select(models.Mail).order_by(models.Mail.created_at)))


def test_a_booking_is_mailed_in_her_language_with_time_place_link_and_calendar(
    app, client, submit_token, runtime, smtp_server, caplog
):
    caplog.set_level(logging.DEBUG)
    answer, path = registered(client, submit_token, "uk")
    slot = offered_slots(client, path)[0]
    assert book(client, path, slot).status_code == 303
    process_queue(runtime)

    [message] = appointment_mails(smtp_server)
    assert message["To"] == ADDRESS and message["Content-Language"] == "uk"
    assert message["Subject"] == in_language(
        app, "uk", "Your appointment for registration %(reference)s",
        reference=answer["reference"])
    starts_at, ends_at = slot_times(runtime, slot)
    local = starts_at.astimezone(BERLIN)
    with runtime.db.read() as session:
        authority = session.get_one(models.Authority, "073400")
    mail_parts = parts(message)
    link = STATUS_LINK.search(mail_parts.text).group(0)  # type: ignore[union-attr]
    assert link.endswith(path) and client.get(path).status_code == 200
    for shown in (mail_parts.text, unescape(mail_parts.html)):
        assert translated(app, "uk", "Your appointment is booked.") in shown
        assert format_date(local.date(), "full", locale="uk") in shown  # "понеділок, 7 грудня…"
        assert format_time(local, "short", locale="uk") in shown
        assert authority.name in shown and f"{authority.street} " in shown
        assert answer["reference"] in shown
        assert translated(app, "uk", "What to bring") in shown
    html = mail_parts.html
    assert '<html lang="uk" dir="ltr">' in html and f'<a href="{link}" dir="ltr">{link}</a>' in html

    calendar = calendar_of(message)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == starts_at and event.decoded("DTEND") == ends_at
    assert str(event["DTSTART"].params["TZID"]) == "Europe/Berlin"
    assert str(event["UID"]) == f"{answer['reference']}@intake"
    assert str(event["SUMMARY"]) == in_language(
        app, "uk", "Appointment at the immigration authority (%(name)s)", name=authority.name)
    assert link not in calendar.to_ical().decode()  # calendars sync to other clouds

    [confirmation, row] = mails_of(runtime)
    assert row.kind == mail_rows.BOOKING and row.sent_at is not None and row.data is None
    job = Job.fetch(row.job_id, connection=runtime.redis, serializer=JSONSerializer)
    assert job.args == [[confirmation.id, row.id]]  # ids only (both were owed at the relay)
    token = path.rsplit("/", 1)[1]
    assert token.encode() not in redis_bytes(runtime) and ADDRESS.encode() not in redis_bytes(
        runtime)
    for record in caplog.records:
        if record.name != "mail.log":  # the test server's own log
            assert ADDRESS not in record.getMessage() and token not in record.getMessage()


def test_a_booking_in_arabic_is_mailed_right_to_left(app, client, submit_token, runtime,
                                                      smtp_server):
    answer, path = registered(client, submit_token, "ar")
    slot = offered_slots(client, path)[0]
    book(client, path, slot)
    process_queue(runtime)

    [message] = appointment_mails(smtp_server)
    assert message["Content-Language"] == "ar"
    mail_parts = parts(message)
    starts_at, _ends_at = slot_times(runtime, slot)
    for shown in (mail_parts.text, unescape(mail_parts.html)):
        assert translated(app, "ar", "Your appointment is booked.") in shown
        assert when(app, "ar", starts_at) in shown
        assert format_date(starts_at.astimezone(BERLIN).date(), "full", locale="ar") in shown
    assert '<html lang="ar" dir="rtl">' in mail_parts.html
    assert answer["reference"] in message["Subject"]


def test_a_new_time_and_a_cancellation_are_mailed(app, client, submit_token, runtime,
                                                  smtp_server):
    answer, path = registered(client, submit_token, "uk")
    first, second = offered_slots(client, path, at_least=2)[:2]
    book(client, path, first)
    process_queue(runtime)
    book(client, path, second)
    process_queue(runtime)
    assert cancel(client, path).status_code == 303
    process_queue(runtime)

    booked, moved, cancelled = appointment_mails(smtp_server)
    second_start, _end = slot_times(runtime, second)
    assert moved["Subject"] == in_language(
        app, "uk", "Your new appointment for registration %(reference)s",
        reference=answer["reference"])
    assert when(app, "uk", second_start) in parts(moved).text
    [event] = calendar_of(moved).walk("VEVENT")
    [earlier] = calendar_of(booked).walk("VEVENT")
    assert event.decoded("DTSTART") == second_start
    assert str(event["UID"]) == str(earlier["UID"])  # the same entry in the calendar, moved
    assert int(event["SEQUENCE"]) >= int(earlier["SEQUENCE"])

    assert cancelled["Subject"] == in_language(
        app, "uk", "Your appointment for registration %(reference)s is cancelled",
        reference=answer["reference"])
    assert cancelled.get_content_type() == "multipart/alternative"  # no calendar file
    mail_parts = parts(cancelled)
    for shown in (mail_parts.text, unescape(mail_parts.html)):
        assert translated(
            app, "uk", "Your appointment is cancelled. The places are free for others."
        ) in shown
        assert when(app, "uk", second_start) in shown  # which appointment it was
        assert in_language(app, "uk", "You can book a new appointment on your status page.") \
            in shown
    link = STATUS_LINK.search(mail_parts.text).group(0)  # type: ignore[union-attr]
    assert link.endswith(path) and f'<a href="{link}" dir="ltr">' in mail_parts.html


def test_a_quick_rebooking_mails_only_the_time_that_holds(app, client, submit_token, runtime,
                                                          smtp_server):
    """The row records the change it reports, and a newer change gives up the mails of the
    older ones not sent yet: moving twice in a minute mails the last time only, never one
    that no longer holds."""
    _answer, path = registered(client, submit_token, "uk")
    first, second, third = offered_slots(client, path, at_least=3)[:3]
    book(client, path, first)
    process_queue(runtime)
    book(client, path, second)
    mail.relay(runtime)  # its job is queued already when the third time is booked
    book(client, path, third)
    process_queue(runtime)

    _booked, moved = appointment_mails(smtp_server)
    text = parts(moved).text
    second_start, third_start = slot_times(runtime, second)[0], slot_times(runtime, third)[0]
    assert when(app, "uk", third_start) in text and when(app, "uk", second_start) not in text
    [event] = calendar_of(moved).walk("VEVENT")
    assert event.decoded("DTSTART") == third_start
    given_up = [row for row in mails_of(runtime) if row.failed_at is not None]
    assert [(row.kind, row.failure, row.data, row.sent_at) for row in given_up] == [
        (mail_rows.REBOOKING, mail_rows.SUPERSEDED, None, None)]


def test_an_api_booking_mails_the_way_to_a_new_link(app, client, submit_token, runtime,
                                                    smtp_server):
    """A partner's booking does not know the status token (the registration keeps only its
    hash): the mail says where the link is, and where to ask for a new one."""
    answer, _path = registered(client, submit_token, "uk")
    reference = answer["reference"]
    slots = api(client, submit_token, "GET", f"/api/v1/registrations/{reference}/slots")
    slot = slots.json["slots"][0]["id"]
    assert api(client, submit_token, "POST", f"/api/v1/registrations/{reference}/appointment",
               {"slot": slot}).status_code == 201
    process_queue(runtime)  # else the cancellation gives up the booking's mail
    assert api(client, submit_token, "DELETE",
               f"/api/v1/registrations/{reference}/appointment").status_code == 204
    process_queue(runtime)

    booked, cancelled = appointment_mails(smtp_server)
    assert calendar_of(booked).walk("VEVENT")
    for message in (booked, cancelled):
        mail_parts = parts(message)
        assert "/s/" not in mail_parts.text and "/s/" not in mail_parts.html
        lost_link = f"{mail_content.site(runtime.settings)}/uk/lost-link"
        assert lost_link in mail_parts.text and f'<a href="{lost_link}" dir="ltr">' in mail_parts.html
    assert client.get("/uk/lost-link").status_code == 200


def test_no_appointment_mail_without_an_address(client, submit_token, runtime, smtp_server):
    answer, path = registered(client, submit_token, address=None)
    first, second = offered_slots(client, path, at_least=2)[:2]
    book(client, path, first)
    book(client, path, second)
    cancel(client, path)
    api(client, submit_token, "POST", f"/api/v1/registrations/{answer['reference']}/appointment",
        {"slot": first})
    process_queue(runtime)
    assert smtp_server.inbox.received == [] and mails_of(runtime) == []


def test_the_mail_is_owed_in_the_booking_transaction(client, submit_token, runtime):
    """Committed together or not at all: a failure after the booking leaves neither, and a
    mail that cannot be owed leaves no booking."""
    _answer, path = registered(client, submit_token, "uk")
    slot = int(offered_slots(client, path)[0])
    token = path.rsplit("/", 1)[1]

    def book_then_fail() -> None:
        with runtime.db.transaction() as session:
            found = register.by_token(session, token)
            assert found is not None
            booking.book(session, found, slot, False, dt.datetime.now(dt.UTC),
                         cipher=runtime.cipher, status_token=token)
            owed = session.scalars(select(models.Mail.kind)).all()
            assert sorted(owed) == [mail_rows.BOOKING, mail_rows.CONFIRMATION]
            raise RuntimeError("the process fails before the commit")

    with pytest.raises(RuntimeError, match="before the commit"):
        book_then_fail()
    with runtime.db.read() as session:
        assert session.scalars(select(models.Appointment)).all() == []
    assert [row.kind for row in mails_of(runtime)] == [mail_rows.CONFIRMATION]

    # A full slot: no booking, so no mail either.
    with runtime.db.transaction() as session:
        session.execute(update(models.Slot).where(models.Slot.id == slot)
                        .values(taken=models.Slot.capacity))
    refused = book(client, path, str(slot))
    assert "error=taken" in refused.headers["Location"]
    assert [row.kind for row in mails_of(runtime)] == [mail_rows.CONFIRMATION]


def test_a_booking_whose_mail_cannot_be_owed_is_not_made(client, submit_token, runtime,
                                                         monkeypatch):
    _answer, path = registered(client, submit_token, "uk")
    slot = offered_slots(client, path)[0]

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("no mail row")

    monkeypatch.setattr(mail_rows, "owed", broken)
    with pytest.raises(RuntimeError, match="no mail row"):
        book(client, path, slot)
    with runtime.db.read() as session:
        assert session.scalars(select(models.Appointment)).all() == []
        assert session.get_one(models.Slot, int(slot)).taken == 0


def test_the_html_part_escapes_what_it_quotes(client, submit_token, runtime, smtp_server):
    name = "Amt für Migration & Integration <Potsdam>"
    _answer, path = registered(client, submit_token, "uk")
    with runtime.db.transaction() as session:
        session.execute(update(models.Authority).values(name=name))
    book(client, path, offered_slots(client, path)[0])
    process_queue(runtime)

    [message] = appointment_mails(smtp_server)
    mail_parts = parts(message)
    assert name in mail_parts.text and "&amp;" not in mail_parts.text
    assert "Migration &amp; Integration &lt;Potsdam&gt;" in mail_parts.html
    assert "<Potsdam>" not in mail_parts.html
    [event] = calendar_of(message).walk("VEVENT")
    assert name in str(event["LOCATION"])
