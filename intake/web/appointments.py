"""bp "appointments": the household picks, changes or cancels its appointment; calendar file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _

from intake.registrations import booking, register
from intake.security.access import public
from intake.store import models
from intake.web import invitation, runtime
from intake.web.public import status_of

bp = Blueprint("appointments", __name__, url_prefix="/s/<token>")


def _registration(session: Any, token: str) -> models.Registration:
    found = register.by_token(session, token)
    if found is None:
        abort(404)
    return found


@bp.get("/slots")
@public
def slots(token: str, error: str | None = None) -> Any:
    priority = request.args.get("priority") == "yes"
    now = dt.datetime.now(dt.UTC)
    with runtime().db.read() as session:
        found = _registration(session, token)
        free = booking.free_slots(
            session, found.authority_key, len(found.persons), priority, now
        )
    days: dict[str, list[models.Slot]] = {}
    for slot in free:
        day = format_datetime(booking.aware(slot.starts_at), "EEEE, d MMMM y")
        days.setdefault(day, []).append(slot)
    return render_template(
        "appointments/slots.html",
        token=token,
        days=days,
        priority=priority,
        status=status_of(token),
        error=error,
    ), (409 if error else 200)


@bp.post("/appointment")
@public
def book(token: str) -> Any:
    priority = request.form.get("priority") == "yes"
    slot_id = booking.slot_id(request.form.get("slot"))
    if slot_id is None:
        return slots(token, _("Choose a time."))
    try:
        with runtime().db.transaction() as session:
            booking.book(
                session, _registration(session, token), slot_id, priority,
                dt.datetime.now(dt.UTC),
            )
    except (booking.SlotFull, booking.NoSuchSlot):
        return slots(token, _("Sorry, this time has just been taken. Please choose another."))
    return redirect(url_for("public.status", token=token, notice="booked"), code=303)


@bp.post("/appointment/cancel")
@public
def cancel(token: str) -> Any:
    with runtime().db.transaction() as session:
        booking.cancel(session, _registration(session, token))
    return redirect(url_for("public.status", token=token, notice="cancelled"), code=303)


@bp.get("/appointment.ics")
@public
def calendar_file(token: str) -> Response:
    status = status_of(token)
    if status.appointment is None:
        abort(404)
    body = invitation.ics(
        status.reference,
        status.authority,
        status.appointment.starts_at,
        status.appointment.ends_at,
        summary=_(
            "Appointment at the immigration authority (%(name)s)", name=status.authority.name
        ),
        description=_(
            "Reference %(reference)s. Bring the passports or identity documents of everyone "
            "registered, and your code.",
            reference=status.reference,
        ),
        stamp=dt.datetime.now(dt.UTC),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
