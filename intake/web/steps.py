"""bp "steps": the public registration flow, one step per page, working without JavaScript.

start (who registers) -> person(s) -> household -> address -> contact -> review -> submit.
The draft lives server-side (`drafts`); the browser keeps only its token in the session cookie.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from intake.dataset import family
from intake.dataset.languages import LANGUAGES
from intake.dataset.schemas import HOUSEHOLD, MAX_PERSONS, HouseholdSchema, messages
from intake.registrations import drafts, register, routing
from intake.security import audit
from intake.security.access import public
from intake.store import blind_index, stored_form
from intake.web import attachments, first_visit, forms, person_pages, places, runtime, uploads
from intake.web.extensions import limiter
from intake.web.language import bind_language_to

bp = Blueprint("steps", __name__, url_prefix="/<lang>")
bind_language_to(bp)


def _visitor() -> str:
    """One person filling in the form: their draft if they have one, else their address."""
    return session.get("draft") or get_remote_address()


# Generous per address (a reception centre, a mobile carrier's NAT share one), tighter per
# visitor; only sending forms counts.
limiter.limit("5000 per hour", methods=["POST"])(bp)
limiter.limit("300 per hour", key_func=_visitor, methods=["POST"])(bp)

WHO = ("self", "family", "other")
DRAFT_KEYS = ("persons", "postal_code", "municipality_key", "address", "contact", "entry_date",
              "remarks")


def _load() -> dict[str, Any] | None:
    token = session.get("draft")
    if token is None:  # a first visit: no database session for a draft that cannot exist
        return None
    with runtime().db.read() as db_session:
        return drafts.load(db_session, runtime().cipher, token)


def _store(draft: dict[str, Any]) -> None:
    with runtime().db.transaction() as db_session:
        session["draft"] = drafts.save(db_session, runtime().cipher, session.get("draft"), draft)


def _go(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)


def _no_draft() -> Response:
    """A step opened with nothing to show. Back in the browser after sending: the status
    page of what was sent (its reference and QR code). Otherwise the start page, saying
    why: the entries expired, or none were ever made in this browser."""
    sent = session.get("sent")
    if sent:
        return _go("public.status", token=sent, notice="sent")
    session["notice"] = "expired" if session.pop("draft", None) else "none"
    return _go("steps.start")


@bp.route("/", methods=["GET", "POST"])
@public
def start() -> Any:
    errors: dict[str, str] = {}
    if request.method == "POST":
        who = request.form.get("who")
        if who in WHO:
            session.pop("sent", None)  # a new registration: Back leads into it now
            draft = _load() or {"persons": []}
            draft["who"] = who
            _store(draft)
            return _go("steps.person", n=0)
        errors["who_self"] = _("Choose who you are registering.")
    started = _load()
    notice = session.pop("notice", None)
    if not errors and started is None and notice is None and not current_app.debug:
        return first_visit.start_page()
    return render_template(
        "steps/start.html", errors=errors, who=(started or {}).get("who"), notice=notice
    ), (422 if errors else 200)


@bp.route("/person/<int:n>", methods=["GET", "POST"], defaults={"page": "name"})
@bp.route("/person/<int:n>/<any(origin, document):page>", methods=["GET", "POST"])
@public
def person(n: int, page: str) -> Any:
    draft = _load()
    if draft is None:
        return _no_draft()
    persons: list[dict[str, Any]] = draft["persons"]
    if n > len(persons) or n >= MAX_PERSONS or (n > 0 and draft["who"] != "family"):
        abort(404)
    typed = person_pages.answers(draft, n)
    if request.method == "GET":
        if page != "name" and not typed:  # a later page before the first: begin there
            return _go("steps.person", n=n)
        return _render_person(draft, n, page, typed, {})
    typed = person_pages.read_page(typed, page, request.form)
    if _switching_language(draft, person_pages.typed_key(n), typed):
        return _go(request.endpoint or "steps.person", lang=request.form["switch_language"],
                   n=n, page=page, **_change())
    checked = person_pages.check(typed, n, page, whole=n < len(persons))
    if checked.errors:
        _keep_typed(draft, person_pages.typed_key(n), typed)
        return _render_person(draft, n, checked.page, typed, checked.errors), 422
    if checked.person is None:  # this page is answered, the next ones are not yet
        _keep_typed(draft, person_pages.typed_key(n), typed)
        return _go("steps.person", n=n, page=person_pages.following(page), **_change())
    return _save_person(draft, n, page, checked.person, typed)


def _save_person(
    draft: dict[str, Any], n: int, page: str, whole: dict[str, Any], typed: dict[str, str]
) -> Response:
    """A whole, valid person goes into the draft; then the next page, or the next step."""
    draft["persons"][n:n + 1] = [whole]
    walking_on = person_pages.following(page) and not _change()
    if walking_on:  # whole before the (optional) document: its page still shows what we wrote
        draft.setdefault("typed", {})[person_pages.typed_key(n)] = typed
    else:
        draft.get("typed", {}).pop(person_pages.typed_key(n), None)
    _store(draft)
    if walking_on:
        return _go("steps.person", n=n, page=person_pages.following(page))
    if _change():
        return _go(f"steps.{_change()['change']}")
    if request.form.get("then") == "add" and len(draft["persons"]) < MAX_PERSONS:
        return _go("steps.person", n=len(draft["persons"]))  # the household page skipped
    return _go("steps.household" if draft["who"] == "family" else "steps.address")


def _change() -> dict[str, Any]:
    """Where a change returns to (the review or household page), passed on from page to page."""
    back_to = request.args.get("change", "")
    return {"change": back_to} if back_to in person_pages.RETURNS else {}


def _keep_typed(draft: dict[str, Any], key: str, typed: dict[str, str]) -> None:
    draft.setdefault("typed", {})[key] = typed
    _store(draft)


def _switching_language(draft: dict[str, Any], key: str, typed: dict[str, str]) -> bool:
    """A language button in the header sends the step's form (without JavaScript, a link
    would lose what was typed): what was typed is kept, unchecked, for the same page."""
    if request.form.get("switch_language") not in LANGUAGES:
        return False
    _keep_typed(draft, key, typed)
    return True


def _render_person(
    draft: dict[str, Any], n: int, page: str, values: dict[str, str], errors: dict[str, str]
) -> str:
    back_to = _change().get("change")
    earlier = person_pages.previous(page)
    if back_to:
        back = url_for(f"steps.{back_to}")
    elif earlier:
        back = url_for("steps.person", n=n, page=earlier, **_change())
    else:
        back = url_for("steps.start") if n == 0 else url_for("steps.household")
    # A family adds its members one after another, each from the last one's last page.
    added = len(draft["persons"])
    add_next = (page == person_pages.PAGES[-1] and draft["who"] == "family" and not _change()
                and n >= added - 1 and max(added, n + 1) < MAX_PERSONS)
    return render_template(
        "steps/person.html", n=n, page=page, values=values, errors=errors, back=back,
        action=url_for("steps.person", n=n, page=page, **_change()), add_next=add_next,
    )


@bp.route("/person/<int:n>/remove", methods=["GET", "POST"])
@public
def remove(n: int) -> Any:
    """GET asks whether to remove the family member (a tap used to delete at once)."""
    draft = _load()
    if draft is None:
        return _no_draft()
    if not 0 < n < len(draft["persons"]):
        return _go("steps.household")
    if request.method == "GET":
        return render_template("steps/remove.html", n=n, person=draft["persons"][n])
    person_pages.forget(draft, n)
    with runtime().db.transaction() as db_session:  # the pages move with the draft, or neither
        drafts.forget_person(db_session, runtime().blobs, session.get("draft"), n)
        session["draft"] = drafts.save(db_session, runtime().cipher, session.get("draft"), draft)
    return _go("steps.household")


@bp.route("/household", methods=["GET", "POST"])
@public
def household() -> Any:
    draft = _load()
    if draft is None:
        return _no_draft()
    if not draft["persons"]:
        return _go("steps.person", n=0)
    if request.method == "POST":
        if request.form.get("action") == "add" and len(draft["persons"]) < MAX_PERSONS:
            return _go("steps.person", n=len(draft["persons"]))
        return _go("steps.address")
    return render_template("steps/household.html", persons=draft["persons"], limit=MAX_PERSONS,
                           back=url_for("steps.person", n=len(draft["persons"]) - 1,
                                        page=person_pages.PAGES[-1]))


@bp.route("/address", methods=["GET", "POST"])
@public
def address() -> Any:
    return _section("address", forms.address_document, forms.ADDRESS_INPUTS, "steps.contact",
                    ("postal_code", "municipality_key", "address"), asks=places.asked)


@bp.route("/contact", methods=["GET", "POST"])
@public
def contact() -> Any:
    return _section("contact", forms.contact_document, forms.CONTACT_INPUTS, "steps.documents",
                    ("contact", "entry_date", "remarks"))


@bp.route("/documents", methods=["GET", "POST"])
@public
@uploads.takes_files
def documents() -> Any:
    """Optional documents: each person's passport pages, and the household's proofs (entry,
    arrival, residence), any number of files."""
    draft = _load()
    if draft is None:
        return _no_draft()
    if not draft["persons"]:
        return _go("steps.person", n=0)
    values, errors = {key: request.form.get(key, "") for key in attachments.PROOF_FIELDS}, {}
    if request.method == "POST" and attachments.remove_requested():
        return _go("steps.documents", **_change())
    if request.method == "POST":
        errors = {**attachments.take_pages(len(draft["persons"])),
                  **attachments.take_proofs(values)}
        if not errors and request.form.get("then") == "add":  # the page again, ready
            return _go("steps.documents", **_change())
        if not errors:
            return _go(f"steps.{_change()['change']}" if _change() else "steps.review")
    return render_template(
        "steps/documents.html", values=values, errors=errors, attached=attachments.listed(),
        persons=draft["persons"],
        back=url_for(f"steps.{_change()['change']}") if _change() else url_for("steps.contact"),
        action=url_for("steps.documents", **_change()), kinds=attachments.proof_choices(),
    ), (422 if errors else 200)


def _section(
    name: str, parse: Any, inputs: dict[str, str], following: str, fields: tuple[str, ...],
    asks: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Any:
    """A step that fills household-level fields, checked by the household schema's rules;
    `asks(values)` gives the template what the answers so far make it ask."""
    draft = _load()
    if draft is None:
        return _no_draft()
    if not draft["persons"]:
        return _go("steps.person", n=0)
    errors: dict[str, str] = {}
    if request.method == "GET":
        values = draft.get("typed", {}).get(name) or forms.section_inputs(draft)
    else:
        values = {key: value for key, value in request.form.items()
                  if key not in ("csrf_token", "switch_language")}
        if _switching_language(draft, name, values):
            return _go(f"steps.{name}", lang=request.form["switch_language"], **_change())
        document = parse(request.form)
        errors = _check_section(document, inputs, fields)
        entry = forms.date_unanswered(request.form, "entry") if "entry_date" in fields else None
        if entry:
            errors = forms.in_page_order({**errors, "entry_day": entry}, inputs)
        if not errors:
            draft.update(document)
            draft.get("typed", {}).pop(name, None)
            _store(draft)
            return _go(f"steps.{_change()['change']}" if _change() else following)
    back = url_for(f"steps.{_change()['change']}") if _change() else _back_from(name, draft)
    return render_template(f"steps/{name}.html", values=values, errors=errors, back=back,
                           action=url_for(f"steps.{name}", **_change()),
                           **(asks(values) if asks else {})), (422 if errors else 200)


def _back_from(step: str, draft: dict[str, Any]) -> str:
    """The step before this one, for its Back link."""
    if step == "contact":
        return url_for("steps.address")
    if step == "review":
        return url_for("steps.documents")
    if draft.get("who") == "family":
        return url_for("steps.household")
    return url_for("steps.person", n=0, page=person_pages.PAGES[-1])


def _check_section(
    document: dict[str, Any], inputs: dict[str, str], fields: tuple[str, ...]
) -> dict[str, str]:
    # validate(): the household's rules for these fields, without building a household.
    found = HouseholdSchema(only=fields).validate(document)
    if found:
        return forms.flatten(messages(ValidationError(found)), inputs)
    return places.check(document) if "postal_code" in document else {}


@bp.route("/review", methods=["GET", "POST"])
@public
def review() -> Any:
    draft = _load()
    if draft is None:
        return _no_draft()
    document = {key: draft[key] for key in DRAFT_KEYS if key in draft}
    document["language"] = g.lang
    errors: dict[str, str] = {}
    if request.method == "POST":
        document["consent"] = {"data_processing": request.form.get("consent") == "yes"}
        try:
            loaded = HOUSEHOLD.load(document)
            receipt = register.register(
                runtime(), loaded, entered_by=draft.get("entered_by"),
                draft_token=session.get("draft"),
            )
        except ValidationError as error:
            errors = forms.flatten(messages(error), {"consent.data_processing": "consent"})
        except routing.UnknownPostalCode:
            errors = {"form": routing.unknown_postal_code_message()}
        except routing.PlaceNeeded as needed:  # the directory changed since the address step
            errors = {"form": needed.message()}
        else:
            session.pop("draft", None)
            # Back from the status page comes here again: it leads to what was sent.
            session["sent"] = receipt.status_token
            return _go("public.status", token=receipt.status_token, notice="new")
    duplicates = []
    if g.staff is not None and g.staff.stage == "ready":
        # Only staff see matches (the public must not probe who is here), among the
        # registrations they may see; each lookup is audited.
        with runtime().db.transaction() as db_session:
            duplicates = blind_index.duplicates(
                db_session, runtime().cipher, draft["persons"], g.staff.authorities
            )
            for reference in [d.reference for d in duplicates] or ["none found"]:
                audit.record(db_session, g.staff.id, "duplicate lookup", "registration",
                             reference)
    return render_template(
        "steps/review.html", draft=draft, errors=errors, duplicates=duplicates,
        attached=attachments.listed(), place=places.chosen(draft),
        unaccompanied=_minors_only(draft), back=_back_from("review", draft),
    ), (422 if errors else 200)


def _minors_only(draft: dict[str, Any]) -> bool:
    """Whether every person of the draft is a minor today: the youth welfare office will be
    involved, and the review page says so before sending."""
    persons = [stored_form.person(person) for person in draft.get("persons", [])]
    return bool(persons) and all(family.is_minor(p, dt.date.today()) for p in persons)


@bp.get("/continue/<token>")
@public
def pick_up(token: str) -> Any:
    """Open on the applicant's phone a registration a volunteer started (hand-over QR)."""
    with runtime().db.transaction() as db_session:
        draft_token = drafts.pick_up(db_session, runtime().cipher, token)
    if draft_token is None:
        session["notice"] = "hand-over"  # opened before, or expired
        return _go("steps.start")
    session.pop("sent", None)
    session["draft"] = draft_token
    return _go("steps.review")
