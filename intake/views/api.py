"""bp "api": JSON over the same schemas and use cases as the form."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from marshmallow import ValidationError

from intake import registration, tokens
from intake.i18n import LANGUAGES
from intake.runtime import current
from intake.schemas import HouseholdSchema, messages
from intake.views.links import status_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def require_scope(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Deny unless the request carries a bearer token with this scope."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            kind, _space, token = header.partition(" ")
            with current().db.read() as session:
                granted = kind.lower() == "bearer" and tokens.has_scope(session, token, scope)
            if not granted:
                response = jsonify(error=_("A valid API token is required."))
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Bearer realm="intake"'
                return response
            return view(*args, **kwargs)

        return guarded

    return decorator


@bp.post("/registrations")
@require_scope("submit")
def create_registration() -> tuple[Response, int]:
    payload = request.get_json(silent=True)
    language = payload.get("language") if isinstance(payload, dict) else None
    with force_locale(language if language in LANGUAGES else None):
        if not isinstance(payload, dict):
            return jsonify(errors={"_schema": [_("Send the registration as a JSON object.")]}), 400
        try:
            household = HouseholdSchema().load(payload)
        except ValidationError as error:
            return jsonify(errors=messages(error)), 422
        try:
            with current().db.transaction() as session:
                receipt = registration.submit(session, current().cipher, household)
        except registration.UnknownPostalCode:
            message = registration.unknown_postal_code_message()
            return jsonify(errors={"postal_code": [message]}), 422
    body = {
        "reference": receipt.reference,
        "status_url": status_url(receipt.status_token),
        "authority": {"key": receipt.authority.key, "name": receipt.authority.name},
        "applications": [
            {"person": index, "application_id": application_id}
            for index, application_id in enumerate(receipt.application_ids)
        ],
    }
    return jsonify(body), 201
