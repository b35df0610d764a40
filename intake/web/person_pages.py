"""The person step over three pages: personal details, origin, document.

One page asked 18-19 questions over 3-3.6 phone screens (issue #26); GOV.UK's pattern is a
page per group of questions. What is typed waits in the draft (`typed`, by person) until the
person is whole and valid; each page checks its own questions and those before it, and the
last page (or any page of a person already complete) the whole person, with the dataset's
rules. An error belongs to the page that asks the question, and that page is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from intake.dataset import names, passport, transliteration
from intake.dataset.schemas import MAX_PERSONS, PersonSchema, messages
from intake.web import forms

PAGES = ("name", "origin", "document")
# The inputs each page sends: what a page's answer replaces among the typed ones.
PAGE_INPUTS = {
    "name": ("role", "family_name", "no_family_name", "given_names", "no_given_name",
             "family_name_native", "given_names_native", "sex", "birth_day", "birth_month",
             "birth_year", "birth_unknown", "marital_status", "latin_proposed"),
    "origin": ("place_of_birth", "place_of_birth_unknown", "country_of_birth", "nationality",
               "nationality_2", "lived_in_ukraine", "status_in_ukraine"),
    "document": ("document_type", "document_number", "issued_day", "issued_month",
                 "issued_year", "expiry_day", "expiry_month", "expiry_year", "mrz"),
}
# Where a change returns to instead of walking on (an allow-list: it becomes a redirect).
RETURNS = ("review",)


@dataclass
class Checked:
    """A page's answers checked: the person when whole and valid, else the errors of the
    first page that has any (by input, in page order)."""

    person: dict[str, Any] | None = None
    page: str = "name"
    errors: dict[str, str] = field(default_factory=dict)


def page_of(input_name: str, default: str) -> str:
    return next((page for page, inputs in PAGE_INPUTS.items() if input_name in inputs), default)


def typed_key(n: int) -> str:
    return f"person/{n}"


def forget(draft: dict[str, Any], n: int) -> None:
    """Person n removed from the draft: the answers typed for those after them move up a
    place with them."""
    del draft["persons"][n]
    typed = draft.get("typed", {})
    typed.pop(typed_key(n), None)
    for later in range(n + 1, MAX_PERSONS):
        if typed_key(later) in typed:
            typed[typed_key(later - 1)] = typed.pop(typed_key(later))


def answers(draft: dict[str, Any], n: int) -> dict[str, str]:
    """The person's answers as typed so far, else as stored (to change them), else none."""
    typed = draft.get("typed", {}).get(typed_key(n))
    if typed is not None:
        return dict(typed)
    persons = draft["persons"]
    return forms.person_inputs(persons[n]) if n < len(persons) else {}


def take_page(typed: dict[str, str], page: str, form: MultiDict[str, str]) -> dict[str, str]:
    """The typed answers with this page's replaced by the form's (an unticked box or an
    emptied field sends nothing: it is gone)."""
    kept = {key: value for key, value in typed.items() if key not in PAGE_INPUTS[page]}
    sent = {key: form.get(key, "") for key in PAGE_INPUTS[page] if form.get(key, "").strip()}
    return {**kept, **sent}


def read_page(typed: dict[str, str], page: str, form: MultiDict[str, str]) -> dict[str, str]:
    """The typed answers with this page's sent ones, and what follows from them: a name in
    Cyrillic written in Latin letters, or the spelling the passport's lines give."""
    typed = take_page(typed, page, form)
    if page == "name":
        propose_latin(typed)
    if page == "document":
        spell_as_passport(typed)
    return typed


def propose_latin(typed: dict[str, str]) -> None:
    """Names typed in Cyrillic: kept as the native spelling, and written in Latin letters
    as the person's passport most likely does (checked on the document page, shown on the
    review page, changeable on both). One tap, not two (issue #26)."""
    hint = {"UA": "uk", "RU": "ru", "BY": "be"}.get(typed.get("nationality", ""))
    proposed = []
    for name in ("family_name", "given_names"):
        text = typed.get(name, "").strip()
        language = transliteration.guess_language(text, hint) if text else None
        if text and names.first_disallowed(text) and language:
            latin = transliteration.propose_latin(text, language)
            if latin:
                typed[f"{name}_native"], typed[name] = text, latin
                proposed.append(name)
    if proposed:
        typed["latin_proposed"] = " ".join(proposed)


def spell_as_passport(typed: dict[str, str]) -> None:
    """A name we wrote in Latin letters takes the passport's spelling when its machine-
    readable lines are given: the passport decides, not our transliteration."""
    proposed = typed.get("latin_proposed", "").split()
    read = passport.proposed_names(typed["mrz"]) if proposed and typed.get("mrz") else None
    if read is None:
        return
    for name, spelled in zip(("family_name", "given_names"), read, strict=True):
        if name in proposed and spelled:
            typed[name] = spelled


def check(typed: dict[str, str], n: int, page: str, whole: bool) -> Checked:
    """Check the answers of `page` and the pages before it (`whole`: every page)."""
    form = MultiDict(typed)
    role = "applicant" if n == 0 else typed.get("role", "")
    errors = forms.unanswered(form)
    person = None
    try:
        person = PersonSchema().dump(PersonSchema().load(forms.person_document(form, role)))
    except ValidationError as error:
        errors = {**forms.flatten(messages(error), forms.PERSON_INPUTS), **errors}
    reached = len(PAGES) if whole else PAGES.index(page) + 1
    shown = {
        name: message for name, message in errors.items()
        if PAGES.index(page_of(name, page)) < reached
    }
    if shown:
        first = min((page_of(name, page) for name in shown), key=PAGES.index)
        mine = {name: text for name, text in shown.items() if page_of(name, page) == first}
        return Checked(page=first, errors=forms.in_page_order(mine, forms.PERSON_INPUTS))
    return Checked(person=person if not errors else None, page=page)


def following(page: str) -> str | None:
    position = PAGES.index(page) + 1
    return PAGES[position] if position < len(PAGES) else None


def previous(page: str) -> str | None:
    position = PAGES.index(page)
    return PAGES[position - 1] if position else None
