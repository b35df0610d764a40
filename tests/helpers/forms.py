"""Filling in the public flow the way a browser without JavaScript does."""

from __future__ import annotations

import re
from typing import Any

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

APPLICANT = {
    "family_name": "Kovalenko", "given_names": "Taras", "sex": "male",
    "birth_day": "9", "birth_month": "3", "birth_year": "1985",
    "place_of_birth": "Lviv", "country_of_birth": "UA", "nationality": "UA",
    "marital_status": "married", "document_type": "passport", "document_number": "FA987654",
    "lived_in_ukraine": "yes",
}
SPOUSE = {
    "role": "spouse", "family_name": "Kovalenko", "given_names": "Iryna", "sex": "female",
    "birth_day": "unknown", "birth_month": "7", "birth_year": "1987",
    "place_of_birth": "Lviv", "country_of_birth": "UA", "nationality": "UA",
    "marital_status": "married", "lived_in_ukraine": "yes",
}
CHILD = {
    "role": "child", "family_name": "Kovalenko", "given_names": "Marko", "sex": "male",
    "birth_day": "unknown", "birth_month": "unknown", "birth_year": "2015",
    "place_of_birth_unknown": "yes", "country_of_birth": "UA", "nationality": "UA",
    "marital_status": "single", "lived_in_ukraine": "yes",
}


def post(client: Any, path: str, data: dict[str, str], page_path: str | None = None) -> Any:
    """GET the page (`page_path`, else `path`) for its CSRF token, then POST the form."""
    page = client.get(page_path or path)
    token = CSRF.search(page.text)
    assert token, f"no form on {page_path or path}: {page.status_code}"
    return client.post(path, data={"csrf_token": token.group(1), **data})


PERSON_PAGES = ("", "/origin", "/document")  # name and birth, origin, document


def add_person(client: Any, lang: str, n: int, person: dict[str, str]) -> Any:
    """Answer the person step's pages with `person` (each page takes its own answers);
    the response of the last page answered, or of the first that refused."""
    for page in PERSON_PAGES:
        response = post(client, f"/{lang}/person/{n}{page}", person)
        if response.status_code != 303 or page == PERSON_PAGES[-1]:
            return response
    raise AssertionError("unreachable")


def register(client: Any, lang: str, persons: list[dict[str, str]], postal_code: str) -> Any:
    """Walk start -> persons -> address -> contact -> review; return the review's response."""
    who = "family" if len(persons) > 1 else "self"
    assert post(client, f"/{lang}/", {"who": who}).status_code == 303
    for n, person in enumerate(persons):
        if n:
            added = post(client, f"/{lang}/household", {"action": "add"})
            assert added.headers["Location"].endswith(f"/{lang}/person/{n}")
        response = add_person(client, lang, n, person)
        assert response.status_code == 303, response.text
    assert post(client, f"/{lang}/address", {"postal_code": postal_code}).status_code == 303
    assert post(client, f"/{lang}/contact", {"email": "taras@example.org"}).status_code == 303
    return post(client, f"/{lang}/review", {"consent": "yes"})


SLOT = re.compile(r'name="slot" value="(\d+)"')


DAY = re.compile(r"[?&](?:amp;)?day=(\d{4}-\d{2}-\d{2})")


def offered_slots(client: Any, status_path: str, at_least: int = 1) -> list[str]:
    """The ids of the times the slots page offers on its first day with `at_least` of them
    (a day at a time: late in a day, the first may have one or two left)."""
    page = client.get(f"{status_path}/slots").text
    found = SLOT.findall(page)
    for day in dict.fromkeys(DAY.findall(page)):
        if len(found) >= at_least:
            break
        found = SLOT.findall(client.get(f"{status_path}/slots?day={day}").text)
    return found


def book(client: Any, status_path: str, slot: str) -> Any:
    """Book a time on the slots page (or move the appointment there), and confirm."""
    return post(client, f"{status_path}/appointment",
                {"slot": slot, "priority": "no", "action": "confirm"},
                page_path=f"{status_path}/slots")


def cancel(client: Any, status_path: str) -> Any:
    """Cancel the appointment, as its page asks."""
    return post(client, f"{status_path}/appointment/cancel", {})
