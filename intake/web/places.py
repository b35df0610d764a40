"""The address step's routing: the authority for the postal code given, and the place,
asked where the postal code reaches into places that different authorities serve."""

from __future__ import annotations

from typing import Any

from intake.dataset import names
from intake.registrations import routing
from intake.web import runtime


def _routing(postal_code: str | None) -> routing.Routing | None:
    if not postal_code or not names.ascii_digits(postal_code).isdigit():
        return None
    with runtime().db.read() as session:
        try:
            return routing.routing(session, names.ascii_digits(postal_code))
        except routing.UnknownPostalCode:
            return None


def check(document: dict[str, Any]) -> dict[str, str]:
    """Errors by input for the step's `postal_code` and `municipality_key` (the schema has
    checked their form). A place kept from another postal code, or from a question no
    longer asked, is dropped from `document` rather than refused."""
    found = _routing(document["postal_code"])
    if found is None:
        return {"postal_code": routing.unknown_postal_code_message()}
    chosen = document.get("municipality_key")
    if not found.asks or chosen is None or found.place(chosen) is None:
        document["municipality_key"] = None
    try:
        found.authority(document["municipality_key"])
    except routing.PlaceNeeded as needed:
        return {"municipality_key": needed.message(why=False)}  # the hint says why
    except routing.UnknownPostalCode as unknown:  # or the place chosen, served by nobody
        where = "municipality_key" if unknown.place_chosen else "postal_code"
        return {where: routing.unknown_postal_code_message()}
    return {}


def asked(values: dict[str, Any]) -> dict[str, Any]:
    """The template's `places`: (municipality key, name) to choose from, for a postal code
    whose place decides the authority; none for another."""
    found = _routing(values.get("postal_code"))
    if found is None or not found.asks:
        return {"places": []}
    return {"places": [(place.municipality_key, place.name) for place in found.choices]}


def chosen(draft: dict[str, Any]) -> str | None:
    """The name of the place a draft chose, for the review page."""
    key = draft.get("municipality_key")
    found = _routing(draft.get("postal_code")) if key else None
    place = found.place(key) if found is not None and key else None
    return None if place is None else place.name
