"""bp "public": the registration form, the confirmation and status page, the QR code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from intake import domain, qr, registration, territories
from intake.i18n import LANGUAGES, direction, select_locale
from intake.runtime import current
from intake.schemas import HouseholdSchema, messages
from intake.views.links import status_url

bp = Blueprint("public", __name__)

# Where an error found in the dataset is shown in the form (path in the JSON -> input name).
FIELD_OF_PATH = {
    "persons.0.family_name": "family_name",
    "persons.0.given_names": "given_names",
    "persons.0.sex": "sex",
    "persons.0.date_of_birth": "date_of_birth",
    "persons.0.place_of_birth": "place_of_birth",
    "persons.0.country_of_birth": "country_of_birth",
    "persons.0.nationalities": "nationality",
    "persons.0.document.number": "document_number",
    "persons.0.document.type": "document_type",
    "postal_code": "postal_code",
    "consent.data_processing": "consent",
}


@bp.app_context_processor
def page_globals() -> dict[str, Any]:
    language = str(get_locale() or "en")
    return {"lang": language, "dir": direction(language), "languages": LANGUAGES}


@bp.get("/")
def home() -> Response:
    return redirect(url_for("public.form", lang=select_locale()))  # type: ignore[return-value]


@bp.route("/<lang>/", methods=["GET", "POST"])
def form(lang: str) -> Any:
    if lang not in LANGUAGES:
        abort(404)
    if request.method == "GET":
        return _render_form(MultiDict(), {})
    document = form_document(request.form, lang)
    try:
        household = HouseholdSchema().load(document)
        with current().db.transaction() as session:
            receipt = registration.submit(session, current().cipher, household)
    except ValidationError as error:
        return _render_form(request.form, form_errors(messages(error))), 422
    except registration.UnknownPostalCode:
        errors = {"postal_code": registration.unknown_postal_code_message()}
        return _render_form(request.form, errors), 422
    return redirect(url_for("public.status", token=receipt.status_token, new=1), code=303)


@bp.get("/s/<token>")
def status(token: str) -> Any:
    with current().db.read() as session:
        found = registration.status(session, token)
    if found is None:
        abort(404)
    url = status_url(token)
    return render_template(
        "status.html",
        status=found,
        token=token,
        qr_svg=qr.svg(url),
        just_registered=request.args.get("new") == "1",
    )


@bp.get("/s/<token>/qr.png")
def qr_png(token: str) -> Response:
    with current().db.read() as session:
        if registration.status(session, token) is None:
            abort(404)
    response = Response(qr.png(status_url(token)), mimetype="image/png")
    response.headers["Content-Disposition"] = 'attachment; filename="registration-qr.png"'
    return response


def form_document(form: MultiDict[str, str], language: str) -> dict[str, Any]:
    """The JSON dataset (CONTRACT §4) from the posted form; empty inputs count as missing."""

    def value(name: str) -> str | None:
        return form.get(name, "").strip() or None

    person: dict[str, Any] = {
        "role": "applicant",
        "family_name": value("family_name"),
        "given_names": value("given_names"),
        "no_given_name": form.get("no_given_name") == "yes",
        "sex": value("sex"),
        "country_of_birth": value("country_of_birth"),
        "nationalities": [code for code in [value("nationality")] if code],
    }
    person["date_of_birth"] = None if form.get("date_of_birth_unknown") else value("date_of_birth")
    person["place_of_birth"] = (
        None if form.get("place_of_birth_unknown") else value("place_of_birth")
    )
    if value("document_number"):
        person["document"] = {
            "type": value("document_type") or "passport",
            "number": value("document_number"),
        }
    document: dict[str, Any] = {
        "language": language,
        "consent": {"data_processing": form.get("consent") == "yes"},
        "postal_code": value("postal_code"),
        "persons": [person],
    }
    # A missing required input must reach the schema as missing, not as null.
    for key in ("sex", "date_of_birth", "place_of_birth"):
        if person[key] is None and not form.get(f"{key}_unknown"):
            del person[key]
    if document["postal_code"] is None:
        del document["postal_code"]
    return document


def form_errors(tree: dict[str, Any]) -> dict[str, str]:
    """Flatten schema errors into the first message per form input."""
    flat: dict[str, str] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and node and not isinstance(node[0], str):
            for child in node:
                walk(child, path)
        elif node:
            field = FIELD_OF_PATH.get(path, "form")
            flat.setdefault(field, node[0] if isinstance(node, list) else str(node))

    walk(tree, "")
    return flat


def _render_form(values: MultiDict[str, str], errors: dict[str, str]) -> str:
    return render_template(
        "form.html",
        values=values,
        errors=errors,
        countries=territories.choices(str(get_locale() or "en")),
        sexes=domain.SEXES,
    )
