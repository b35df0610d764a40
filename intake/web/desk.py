"""bp "desk": finding registrations, check-in, day lists, assisted registration, operations,
and the authorities' public keys.

Who sees what: volunteers and authority staff see the registrations of the authorities they
work for (intake.security.staff.Staff.may_see_authority); admins run the service (accounts,
authorities and their keys, undelivered messages, the audit log) and see no personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from intake.authorities import keys
from intake.dataset import domain
from intake.dataset.languages import LANGUAGES
from intake.delivery import outbox
from intake.documents import qr
from intake.registrations import booking, drafts, register
from intake.security import audit, sealing
from intake.security.access import roles
from intake.store import blind_index, household_rows, models
from intake.web import forms, runtime
from intake.web.language import select_locale
from intake.web.links import absolute

bp = Blueprint("desk", __name__, url_prefix="/desk")
STAFF = ("volunteer", "authority", "admin")
READERS = ("volunteer", "authority")  # who works with registrations


@bp.get("/")
@roles(*STAFF)
def home() -> str:
    return render_template("desk/home.html")


@bp.get("/search")
@roles(*READERS)
def search() -> str:
    """A registration by its reference. Names are searched by POST (find_person): a name
    and a date of birth in a URL stay in browser histories and proxies' logs."""
    reference = request.args.get("reference", "").strip().upper()
    with runtime().db.transaction() as db_session:
        found = [r for r in [register.by_reference(db_session, reference)] if r]
        results = _audited_summaries(db_session, found)
    return render_template("desk/results.html", results=results, searched=None, values={},
                           errors={})


@bp.post("/search")
@roles(*READERS)
def find_person() -> Any:
    """People by name and date of birth: the family name alone or with the given names, in
    either order, in Latin or Cyrillic letters and any usual spelling; dates as typed."""
    values = {name: request.form.get(name, "").strip() for name in ("name", "date_of_birth")}
    # Cyrillic as written in a Ukrainian or Russian document is transliterated (the index's
    # skeleton then meets the usual Latin variants); dates are read day first.
    latin = forms.as_latin(values["name"])
    born = forms.typed_date(values["date_of_birth"])
    readings = blind_index.readings(latin)
    family_alone = all(given is None for _family, given in readings)
    errors = _person_search_errors(bool(readings), born, family_alone)
    if errors:
        page = render_template("desk/results.html", results=[], searched=None, values=values,
                               errors=errors)
        return page, 422
    with runtime().db.transaction() as db_session:
        found = blind_index.registrations_named(db_session, runtime().cipher, latin, born)
        results = _audited_summaries(db_session, found)
    searched = {"name": values["name"], "latin": latin if latin != values["name"] else None,
                "born": born, "family_alone": family_alone}
    return render_template("desk/results.html", results=results, searched=searched,
                           values=values, errors={})


def _person_search_errors(named: bool, born: str | None, family_alone: bool) -> dict[str, str]:
    """What keeps a name search from running, by input, in the page's order."""
    errors = {}
    if not named:
        errors["name"] = _("Enter the family name, or the family name and the given names.")
    if born is not None:
        try:
            domain.PartialDate.parse(born)
        except ValueError:
            errors["date_of_birth"] = _("Enter the date of birth as 15.03.1985, 03.1985 or 1985.")
    elif family_alone and not errors:
        errors["date_of_birth"] = _(
            "Enter the date of birth too: a family name alone finds too many people.")
    return errors


def _audited_summaries(db_session: Any, found: list[models.Registration]) -> list[dict[str, Any]]:
    """What the desk lists of the registrations found that this account may see; each
    listed registration is audited as searched."""
    visible = [r for r in found if g.staff.may_see_authority(r.authority_key)]
    for registration in visible:
        audit.record(db_session, g.staff.id, "search", "registration", registration.id)
    return [_summary(r) for r in visible]


def _summary(found: models.Registration) -> dict[str, Any]:
    household = household_rows.load_household(runtime().cipher, found)
    return {
        "reference": found.reference,
        "authority": found.authority_key,
        "created_at": found.created_at,
        "names": [person.listed_name for person in household.persons],
    }


def _visible(db_session: Any, reference: str) -> models.Registration:
    found = register.by_reference(db_session, reference)
    if found is None or not g.staff.may_see_authority(found.authority_key):
        abort(404)  # another authority's registration does not exist for this account
    return found


@bp.get("/registrations/<reference>")
@roles(*READERS)
def show(reference: str) -> str:
    with runtime().db.transaction() as db_session:
        found = _visible(db_session, reference)
        audit.record(db_session, g.staff.id, "view", "registration", found.id)
        household = household_rows.load_household(runtime().cipher, found)
        status = register.status(db_session, found)
    return render_template("desk/registration.html", household=household, status=status)


@bp.post("/registrations/<reference>/check-in")
@roles(*READERS)
def check_in(reference: str) -> Response:
    with runtime().db.transaction() as db_session:
        found = _visible(db_session, reference)
        try:
            booking.check_in(db_session, found, dt.datetime.now(dt.UTC))
        except LookupError:
            abort(409)
        audit.record(db_session, g.staff.id, "check-in", "registration", found.id)
    return redirect(url_for("desk.show", reference=reference), code=303)


@bp.get("/day/<authority_key>")
@roles(*READERS)
def day(authority_key: str) -> str:
    if not g.staff.may_see_authority(authority_key):
        abort(404)
    today = dt.datetime.now(booking.LOCAL_TIME).date()
    try:
        chosen = dt.date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        chosen = today
    if abs(chosen - today) > dt.timedelta(days=3660):  # a mistyped year; and no day 0000
        chosen = today
    with runtime().db.transaction() as db_session:
        authority = db_session.get(models.Authority, authority_key)
        if authority is None:
            abort(404)
        rows = booking.day_list(db_session, authority_key, chosen)
        audit.record(db_session, g.staff.id, "day list", "authority", authority_key)
    return render_template("desk/day.html", rows=rows, day=chosen, authority_key=authority_key,
                           authority_name=authority.name, one_day=dt.timedelta(days=1))


@bp.get("/audit")
@roles("admin")
def audit_log() -> str:
    with runtime().db.read() as db_session:
        entries = audit.latest(db_session)
    return render_template("desk/audit.html", entries=entries)


@bp.get("/undelivered")
@roles("admin")
def undelivered() -> str:
    """Registrations whose messages could not be built, and why (never a personal value)."""
    with runtime().db.read() as db_session:
        stuck = outbox.undelivered(db_session)
    return render_template("desk/undelivered.html", stuck=stuck)


@bp.post("/undelivered/retry")
@roles("admin")
def retry_undelivered() -> Response:
    """Send them to be built again, after a fix (`intake outbox retry` does the same)."""
    count = outbox.retry(runtime())
    with runtime().db.transaction() as db_session:
        audit.record(db_session, g.staff.id, "retry", "outbox", str(count))
    return redirect(url_for("desk.undelivered"), code=303)


@bp.post("/assist")
@roles("volunteer")
def assist() -> Response:
    """Start a registration on someone's behalf, recorded as entered by this volunteer."""
    with runtime().db.transaction() as db_session:
        session["draft"] = drafts.save(
            db_session, runtime().cipher, None, {"persons": [], "entered_by": g.staff.id}
        )
    return redirect(url_for("steps.start", lang=select_locale()), code=303)


@bp.post("/handover")
@roles("volunteer")
def handover() -> str:
    """Give the started registration to the applicant's phone: they check, consent and send."""
    draft_token = session.pop("draft", None)
    if draft_token is None:
        abort(409)
    with runtime().db.transaction() as db_session:
        token = drafts.hand_over(db_session, runtime().cipher, draft_token)
    # In the applicant's language, which need not be the volunteer's.
    chosen = request.form.get("language")
    language = chosen if chosen in LANGUAGES else select_locale()
    url = absolute(url_for("steps.pick_up", lang=language, token=token))
    return render_template("desk/handover.html", qr_svg=qr.svg(url), link=url)


def _refusal(problem: str) -> str:
    """Why a key is refused, as the desk says it (sealing.KeyRefused.problem), translated."""
    texts: dict[str, str] = {
        "private": _("This is a private key. Give the public key only."),
        "not a key": _("This is not a public key in PEM or JWK form."),
        "not RSA": _("This is not an RSA key. Batches are sealed to RSA keys only."),
        "for signatures": _("This key is declared for signatures, not for encryption."),
        "too short": _("This RSA key is too short: at least %(bits)s bits are needed.",
                       bits=sealing.MIN_RSA_BITS),
    }
    return texts[problem]


def _authorities_page(error: str | None = None, error_key: str | None = None) -> Any:
    with runtime().db.read() as db_session:
        listed = db_session.scalars(select(models.Authority).order_by(models.Authority.key)).all()
    page = render_template("desk/authorities.html", authorities=listed, error=error,
                           error_key=error_key)
    return page, (422 if error else 200)


@bp.get("/authorities")
@roles("admin")
def authorities() -> Any:
    """Every authority with the thumbprint of its public key, and a form to set one."""
    return _authorities_page()


@bp.post("/authorities/<authority_key>/key")
@roles("admin")
def set_authority_key(authority_key: str) -> Any:
    """Seal the authority's batches to the uploaded public key (audited; as `intake
    authorities key set`)."""
    with runtime().db.read() as db_session:
        if db_session.get(models.Authority, authority_key) is None:
            abort(404)  # before the key: an unknown authority is not a key problem
    upload = request.files.get("key_file")
    text = (upload.read() if upload and upload.filename else b"") or (
        request.form.get("key_text", "").strip().encode())
    if not text:
        return _authorities_page(_("Choose a key file or paste a key."), authority_key)
    app_runtime = runtime()
    try:
        with app_runtime.db.transaction() as db_session:
            keys.set_key(db_session, app_runtime.cipher, app_runtime.blobs,
                         app_runtime.settings.xml_out, authority_key, text, g.staff.id)
    except keys.UnknownAuthority:
        abort(404)
    except sealing.KeyRefused as refused:
        return _authorities_page(_refusal(refused.problem), authority_key)
    return redirect(url_for("desk.authorities"), code=303)


@bp.post("/authorities/<authority_key>/key/remove")
@roles("admin")
def remove_authority_key(authority_key: str) -> Response:
    """Batches under the data key again (audited; as `intake authorities key remove`)."""
    app_runtime = runtime()
    try:
        with app_runtime.db.transaction() as db_session:
            keys.remove_key(db_session, app_runtime.cipher, app_runtime.blobs,
                            app_runtime.settings.xml_out, authority_key, g.staff.id)
    except keys.UnknownAuthority:
        abort(404)
    return redirect(url_for("desk.authorities"), code=303)
