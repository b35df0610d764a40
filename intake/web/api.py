"""bp "api": JSON over the same schemas and use cases as the form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from intake.dataset.domain import Household
from intake.dataset.languages import LANGUAGES
from intake.dataset.schemas import HOUSEHOLD, messages
from intake.registrations import booking, enclosures, register, routing
from intake.store import idempotency, models
from intake.store.household_rows import Receipt
from intake.web import api_uploads, runtime, uploads
from intake.web.bearer import require_scope
from intake.web.language import select_locale
from intake.web.links import status_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _json_body() -> Any:
    """The request's JSON document (None when it is none); 415 unless sent as JSON."""
    if not request.is_json:
        abort(415)
    return request.get_json(silent=True)


@bp.post("/registrations")
@require_scope("submit")
@uploads.takes_files  # as multipart/form-data only (api_uploads); JSON stays under 256 KB
def create_registration() -> tuple[Response, int]:
    try:
        sent = _registration_sent()
    except api_uploads.Unreadable as error:
        with force_locale(select_locale()):
            return jsonify(errors={api_uploads.REGISTRATION: [str(error.message)]}), 400
    payload = sent.payload
    language = payload.get("language") if isinstance(payload, dict) else None
    # Errors speak the household's language, else the one the client asks for.
    with force_locale(language if language in LANGUAGES else select_locale()):
        if not isinstance(payload, dict):
            return jsonify(errors={"_schema": [_("Send the registration as a JSON object.")]}), 400
        try:
            key = _idempotency_key(api_uploads.request_hash(sent))
        except idempotency.BadKey:
            message = _("The Idempotency-Key must be 1 to 255 printable ASCII characters.")
            return jsonify(errors={"Idempotency-Key": [message]}), 400
        if key is not None and (earlier := _earlier(key)) is not None:
            return earlier
        household, errors = _household(payload)
        described, wrong_parts = api_uploads.problems(sent)
        if errors or wrong_parts or household is None:
            return jsonify(errors={**errors, **wrong_parts}), 422
        try:
            # Routed first (remembered per process: register_with asks again for nothing),
            # and files made safe only for an otherwise valid request: they cost the most.
            routing.authority_for(runtime(), household)
            enclosed, refused = api_uploads.made_safe(sent, described)
            if refused:
                return jsonify(errors=refused), 422
            receipt = enclosures.register_with(
                runtime(), household, enclosed, api_token_id=g.api_token_id, idempotency=key
            )
        except (routing.UnknownPostalCode, routing.PlaceNeeded) as error:
            return _unrouted(error)
        except IntegrityError:
            # The same key, sent twice at once: the other request stored its registration.
            if key is None or (earlier := _earlier(key)) is None:
                raise
            return earlier
    return jsonify(_created(receipt)), 201


def _registration_sent() -> api_uploads.Multipart:
    """The registration and its files: multipart/form-data (api_uploads), or JSON alone."""
    if api_uploads.is_multipart():
        return api_uploads.read()
    return api_uploads.Multipart(_json_body(), None, [], [])


def _household(payload: dict[str, Any]) -> tuple[Household | None, dict[str, Any]]:
    """The household the payload describes, or the 422's messages per field."""
    try:
        return HOUSEHOLD.load(payload), {}
    except ValidationError as error:
        return None, messages(error)


def _unrouted(error: routing.UnknownPostalCode | routing.PlaceNeeded) -> tuple[Response, int]:
    """The 422 for a household no authority is found for: an unknown postal code, or a
    place to choose, with the places (`choices`) in the order the form shows them."""
    if isinstance(error, routing.UnknownPostalCode):
        message = routing.unknown_postal_code_message()
        field = "municipality_key" if error.place_chosen else "postal_code"
        return jsonify(errors={field: [message]}), 422
    choices = [{"municipality_key": place.municipality_key, "place": place.name}
               for place in error.routing.choices]
    return jsonify(errors={"municipality_key": [error.message()]}, choices=choices), 422


def _created(receipt: Receipt) -> dict[str, Any]:
    return {
        "reference": receipt.reference,
        "status_url": status_url(receipt.status_token),
        "authority": {"key": receipt.authority.key, "name": receipt.authority.name},
        "applications": [
            {"person": index, "application_id": application_id}
            for index, application_id in enumerate(receipt.application_ids)
        ],
    }


def _idempotency_key(request_hash: str) -> idempotency.Claim | None:
    """The request's Idempotency-Key, if it sent one (BadKey when it cannot be one)."""
    header = request.headers.get("Idempotency-Key")
    if header is None:
        return None
    key = idempotency.key_in(header)
    key_hash = idempotency.key_hash(g.api_token_id, key)
    return idempotency.claim(runtime().cipher, key_hash, request_hash)


def _earlier(key: idempotency.Claim) -> tuple[Response, int] | None:
    """The first answer to a key used before (None if it was not), or 422 for another body."""
    rt = runtime()
    with rt.db.transaction() as session:
        earlier = idempotency.find(session, rt.cipher, key.key_hash)
        if earlier is None:
            return None
        if earlier.request_hash != key.request_hash:
            message = _("This Idempotency-Key was used for another request.")
            return jsonify(errors={"Idempotency-Key": [message]}), 422
        if earlier.status_token is None:
            return jsonify(error=_("This registration's data was deleted.")), 410
        receipt = register.receipt_of(session, earlier.registration_id, earlier.status_token)
    response = jsonify(_created(receipt))
    response.headers["Idempotent-Replayed"] = "true"
    return response, 201


def _own_registration(session: Any, reference: str) -> models.Registration:
    """The registration, if this token submitted it; 404 alike for others' and unknown ones."""
    found = register.by_reference(session, reference)
    if found is None or found.api_token_id != g.api_token_id:
        abort(404)
    return found


def _appointment_body(booked: booking.Booked) -> dict[str, Any]:
    return {
        "slot": str(booked.slot_id),
        "starts_at": booked.starts_at.isoformat(),
        "ends_at": booked.ends_at.isoformat(),
        "seats": booked.seats,
        "priority": booked.priority,
    }


@bp.get("/registrations/<reference>/slots")
@require_scope("submit")
def list_slots(reference: str) -> Response:
    priority = request.args.get("priority") in ("1", "true", "yes")
    with runtime().db.read() as session:
        found = _own_registration(session, reference)
        free = booking.free_slots(
            session, found.authority_key, len(found.persons), priority, dt.datetime.now(dt.UTC)
        )
        slots = [
            {
                "id": str(slot.id),
                "starts_at": booking.aware(slot.starts_at).isoformat(),
                "ends_at": booking.aware(slot.ends_at).isoformat(),
                "free": slot.capacity - slot.taken - (0 if priority else slot.held_for_priority),
            }
            for slot in free
        ]
        online = bool(session.scalar(select(booking.books_online(found.authority_key))))
    return jsonify(slots=slots, books_online=online)


@bp.post("/registrations/<reference>/appointment")
@require_scope("submit")
def book_appointment(reference: str) -> tuple[Response, int]:
    body = _json_body()
    slot = booking.slot_id(body.get("slot")) if isinstance(body, dict) else None
    priority = body.get("priority", False) if isinstance(body, dict) else False
    if slot is None or not isinstance(priority, bool):
        message = _('Send {"slot": "<id>"} and optionally "priority": true or false.')
        return jsonify(errors={"slot": [message]}), 422
    try:
        with runtime().db.transaction() as session:
            # No status token here (the registration keeps its hash only): the mail says
            # where the link is instead.
            booked = booking.book(
                session, _own_registration(session, reference), slot, priority,
                dt.datetime.now(dt.UTC), cipher=runtime().cipher,
            )
    except booking.SlotFull:
        return jsonify(error=_("This slot has no room left for your household.")), 409
    except booking.NoSuchSlot:
        return jsonify(errors={"slot": [_("No such slot is open for this registration.")]}), 422
    return jsonify(_appointment_body(booked)), 201


@bp.get("/registrations/<reference>/appointment")
@require_scope("submit")
def show_appointment(reference: str) -> Response:
    with runtime().db.read() as session:
        booked = booking.appointment(session, _own_registration(session, reference))
    if booked is None:
        abort(404)
    return jsonify(_appointment_body(booked))


@bp.delete("/registrations/<reference>/appointment")
@require_scope("submit")
def cancel_appointment(reference: str) -> tuple[str, int]:
    with runtime().db.transaction() as session:
        cancelled = booking.cancel(session, _own_registration(session, reference),
                                   cipher=runtime().cipher)
    if not cancelled:
        abort(404)
    return "", 204
