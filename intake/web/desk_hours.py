"""bp "hours": an authority's opening hours, slot size and closures, at the desk.

An authority's staff manage their own authority's, admins any authority's (neither sees a
household here: booked appointments that a change leaves without room are shown by time and
size only). Each save makes the booking window's slots follow (intake.registrations.schedule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from intake.registrations import opening_hours, schedule
from intake.registrations.booking import LOCAL_TIME
from intake.registrations.opening_hours import NUMBERS, WEEKDAYS
from intake.security.access import roles
from intake.store import models
from intake.web import runtime

bp = Blueprint("hours", __name__, url_prefix="/desk/authorities/<authority_key>")
MANAGERS = ("authority", "admin")
WEEK_FIELDS = (*WEEKDAYS, *NUMBERS)
CLOSURE_FIELDS = ("first", "last", "reason")
HOLIDAYS_AHEAD = dt.timedelta(days=365)


def _may_manage(authority_key: str) -> None:
    """Another authority's hours do not exist for an authority's staff."""
    if g.staff.role != "admin" and not g.staff.may_see_authority(authority_key):
        abort(404)


def _page(authority_key: str, *, notice: bool = False, form: str | None = None,
          values: dict[str, str] | None = None, problems: dict[str, str] | None = None) -> Any:
    """The page; `form` names the form whose typed `values` were refused for `problems`."""
    _may_manage(authority_key)
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(LOCAL_TIME).date()
    with runtime().db.read() as db_session:
        authority = db_session.get(models.Authority, authority_key)
        if authority is None:
            abort(404)
        week = schedule.week_of(db_session, authority).fields()
        closures = schedule.closures(db_session, authority_key, today)
        conflicts = schedule.conflicts(db_session, authority_key, now)
    problems = problems or {}
    errors = {field: opening_hours.explain(field, problems[field])  # in the page's order
              for field in (*WEEK_FIELDS, *CLOSURE_FIELDS) if field in problems}
    page = render_template(
        "desk/hours.html", authority=authority, notice=notice, errors=errors,
        week=values if form == "week" and values is not None else week,
        closure=values if form == "closure" and values is not None else {},
        labels={field: opening_hours.label(field) for field in (*WEEK_FIELDS, *CLOSURE_FIELDS)},
        weekdays=WEEKDAYS, closures=closures, conflicts=conflicts,
        land=authority.state if schedule.holiday_region(authority.state) else None,
        holidays=schedule.public_holidays(authority.state, today, today + HOLIDAYS_AHEAD,
                                          str(get_locale())),
    )
    return page, (422 if errors else 200)


def _saved(authority_key: str) -> Response:
    return redirect(url_for("hours.edit", authority_key=authority_key, saved="yes"), code=303)


@bp.get("/hours")
@roles(*MANAGERS)
def edit(authority_key: str) -> Any:
    """The week, the closures and public holidays, and bookings a change left without room."""
    return _page(authority_key, notice=request.args.get("saved") == "yes")


@bp.post("/hours")
@roles(*MANAGERS)
def save_week(authority_key: str) -> Any:
    """Save the week; the slots of the booking window follow, booked seats kept (audited)."""
    _may_manage(authority_key)
    values = {field: request.form.get(field, "") for field in WEEK_FIELDS}
    try:
        week = opening_hours.read_week(values)
    except opening_hours.Refused as refused:
        return _page(authority_key, form="week", values=values, problems=refused.problems)
    return _saved_by(lambda db_session: schedule.save_week(
        db_session, authority_key, week, g.staff.id, dt.datetime.now(dt.UTC)), authority_key)


@bp.post("/closures")
@roles(*MANAGERS)
def close(authority_key: str) -> Any:
    """Close the authority on a day or from one day to another, for a reason (audited)."""
    _may_manage(authority_key)
    values = {field: request.form.get(field, "") for field in CLOSURE_FIELDS}
    now = dt.datetime.now(dt.UTC)
    try:
        closure = opening_hours.read_closure(values, now.astimezone(LOCAL_TIME).date())
    except opening_hours.Refused as refused:
        # A date field shows a date it can read only as it writes one (2026-12-24).
        for field in ("first", "last"):
            readable = opening_hours.read_date(values[field])
            values[field] = readable.isoformat() if readable else values[field]
        return _page(authority_key, form="closure", values=values, problems=refused.problems)
    return _saved_by(lambda db_session: schedule.close(
        db_session, authority_key, closure, g.staff.id, now), authority_key)


@bp.post("/closures/remove")
@roles(*MANAGERS)
def reopen(authority_key: str) -> Response:
    """Take a closure back (the page's button sends its first and last day; audited)."""
    _may_manage(authority_key)
    first = opening_hours.read_date(request.form.get("first", ""))
    last = opening_hours.read_date(request.form.get("last", ""))
    if first is None or last is None:
        abort(400)  # not sent by the page's button
    return _saved_by(lambda db_session: schedule.reopen(
        db_session, authority_key, first, last, g.staff.id, dt.datetime.now(dt.UTC)),
        authority_key)


def _saved_by(change: Callable[[Any], object], authority_key: str) -> Response:
    """Make a change in its own transaction (404 for an authority that went meanwhile), then
    show the page saved."""
    try:
        with runtime().db.transaction() as db_session:
            change(db_session)
    except LookupError:
        abort(404)
    return _saved(authority_key)
