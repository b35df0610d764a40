"""bp "appointments": the household picks, changes or cancels its appointment; calendar file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from intake.delivery import invitation
from intake.registrations import booking, register
from intake.security.access import public
from intake.store import models
from intake.web import runtime
from intake.web.public import status_of

bp = Blueprint("appointments", __name__, url_prefix="/s/<token>")


def _registration(session: Any, token: str) -> models.Registration:
    found = register.by_token(session, token)
    if found is None:
        abort(404)
    return found


# Why the slots page is shown again after a booking attempt (?error=...): the attempt
# redirects there, so that the page's own links and forms go on from a page that has a GET.
_BOOKING_ERRORS = {
    "choose": _l("Choose a time."),
    "taken": _l("Sorry, this time has just been taken. Please choose another."),
}


def _slots_again(token: str, priority: bool, error: str | None = None) -> Any:
    values: dict[str, Any] = {"token": token, "priority": _answer(priority)}
    if error:
        values["error"] = error
    return redirect(url_for("appointments.slots", **values) + "#times", code=303)


def _answer(priority: bool) -> str:
    return "yes" if priority else "no"


@bp.get("/slots")
@public
def slots(token: str) -> Any:
    """Free times of one day at a time (the first day with any, or the one chosen), with
    the other days to choose from: a fortnight's times on one page ran to eight screens."""
    priority = request.args.get("priority") == "yes"
    error = _BOOKING_ERRORS.get(request.args.get("error", ""))
    now = dt.datetime.now(dt.UTC)
    with runtime().db.read() as session:
        found = _registration(session, token)
        free = booking.free_slots(
            session, found.authority_key, len(found.persons), priority, now
        )
    days: dict[dt.date, list[models.Slot]] = {}
    for slot in free:
        days.setdefault(booking.aware(slot.starts_at).astimezone(booking.LOCAL_TIME).date(),
                        []).append(slot)
    chosen = _chosen_day(request.args.get("day"), list(days))
    return render_template(
        "appointments/slots.html",
        token=token,
        days=days,
        chosen=chosen,
        times=days.get(chosen, []) if chosen else [],
        priority=priority,
        status=status_of(token),
        error=error,
    )


def _chosen_day(asked: str | None, days: list[dt.date]) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(asked or "")
    except ValueError:
        day = None
    return day if day in days else (days[0] if days else None)


@bp.post("/appointment")
@public
def book(token: str) -> Any:
    """The slots page's form: "Show times" shows the times for the priority answer given;
    "Book" asks to confirm the chosen time (a page of its own); "Confirm" books it. The
    answer counts from the same form whether or not the times were shown for it."""
    priority = request.form.get("priority") == "yes"
    action = request.form.get("action")
    if action == "show":
        return _slots_again(token, priority)
    slot_id = booking.slot_id(request.form.get("slot"))
    if slot_id is None:
        return _slots_again(token, priority, "choose")
    if action != "confirm":
        return redirect(url_for("appointments.confirm", token=token, slot=slot_id,
                                priority=_answer(priority)), code=303)
    try:
        with runtime().db.transaction() as session:
            booking.book(
                session, _registration(session, token), slot_id, priority,
                dt.datetime.now(dt.UTC), cipher=runtime().cipher, status_token=token,
            )
    except (booking.SlotFull, booking.NoSuchSlot):
        return _slots_again(token, priority, "taken")
    return redirect(url_for("public.status", token=token, notice="booked"), code=303)


@bp.get("/appointment/confirm")
@public
def confirm(token: str) -> Any:
    """Before booking (or rebooking): the time, the place, and what it replaces."""
    slot_id = booking.slot_id(request.args.get("slot"))
    priority = request.args.get("priority") == "yes"
    with runtime().db.read() as session:
        slot = session.get(models.Slot, slot_id) if slot_id is not None else None
    status = status_of(token)
    if slot is None or slot.authority_key != status.authority.key:
        return _slots_again(token, priority, "choose")
    return render_template("appointments/confirm.html", token=token, slot=slot,
                           priority=priority, status=status)


@bp.route("/appointment/cancel", methods=["GET", "POST"])
@public
def cancel(token: str) -> Any:
    """GET asks (one tap used to cancel at once); POST cancels."""
    if request.method == "GET":
        status = status_of(token)
        if status.appointment is None:
            return redirect(url_for("public.status", token=token), code=303)
        return render_template("appointments/cancel.html", token=token, status=status)
    with runtime().db.transaction() as session:
        booking.cancel(session, _registration(session, token), cipher=runtime().cipher,
                       status_token=token)
    return redirect(url_for("public.status", token=token, notice="cancelled"), code=303)


@bp.get("/appointment.ics")
@public
def calendar_file(token: str) -> Response:
    status = status_of(token)
    if status.appointment is None:
        abort(404)
    body = invitation.appointment_file(
        status.reference,
        status.authority,
        status.appointment.starts_at,
        status.appointment.ends_at,
        stamp=dt.datetime.now(dt.UTC),
        booked_at=status.appointment.booked_at,
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response
