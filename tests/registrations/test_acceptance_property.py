"""Proof, not hope: whatever the dataset schema accepts builds messages that pass the own checks
and, where the official set is present, the official schema (issue #22, item 2).

Households come as JSON, as partners send them, with every text field drawn from the whole
Unicode range (lone surrogates, controls, other scripts' digits, emoji ...) as well as from
plausible values, so that many are accepted and the rest are refused field by field. Refusals
must be whole sentences on their fields. `make test` runs a fixed set of examples;
INTAKE_TEST_PROPERTY_EXAMPLES (.ci/run sets 10,000) runs that many new ones.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from intake import create_app, xaus
from intake.config import Settings
from intake.dataset.schemas import HOUSEHOLD, messages
from tests.helpers import official
from tests.helpers.xaus import arguments

EXAMPLES = int(os.environ.get("INTAKE_TEST_PROPERTY_EXAMPLES", "400"))
PROFILE = settings(
    max_examples=EXAMPLES,
    derandomize="INTAKE_TEST_PROPERTY_EXAMPLES" not in os.environ,  # make test: fixed examples
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# An app only for its translations: error messages are rendered as in a request.
APP = create_app(Settings(env="test", secret_key="x", data_keys=(("k", b"k" * 32),),
                          index_key=b"i" * 32))

anything = st.text(st.characters(exclude_categories=[]), max_size=12)  # surrogates too
other_digits = st.text(st.characters(categories=["Nd"]), min_size=1, max_size=6)
latin = st.text("AaBbKkLlOoSsZzÄäÖöÜüßŁłŞşĆćÉéİı'’- ", min_size=1, max_size=20)
# What a field may be replaced by: text from anywhere, other scripts' digits, other types.
wild = st.one_of(
    anything, other_digits, latin, st.none(), st.booleans(), st.integers(), st.floats(),
    st.lists(anything, max_size=2), st.dictionaries(anything, anything, max_size=1),
    st.builds("{}-{}-{}".format, other_digits, other_digits, other_digits),
)
days = st.dates(dt.date(1925, 1, 1), dt.date(2026, 11, 30)).map(str)
dates = days | st.sampled_from(["1990", "1990-05", "2015-02-28"])
persons = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["child", "spouse", "other_relative"]),
        "family_name": st.sampled_from(["Shevchenko", "O’Neill-Bondarenko", "Ali"]) | latin,
        "given_names": st.sampled_from(["Olena", "Łucja Zoë"]) | latin,
        "sex": st.sampled_from(["female", "male", "diverse", "unspecified"]),
        "date_of_birth": st.none() | dates,
        "place_of_birth": st.sampled_from([None, "Kyiv", "Ivano-Frankivsk"]) | latin,
        "country_of_birth": st.sampled_from([None, "UA", "SY", "CK", "ER"]),
        "nationalities": st.sampled_from([["UA"], ["UA", "PL"], ["stateless"], ["unknown"]]),
    },
    optional={
        "family_name_native": st.sampled_from(["Шевченко", "علي", "فرهاد\u200cزاده"]),
        "given_names_native": st.sampled_from(["Олена", "مریم"]),
        "marital_status": st.sampled_from(["single", "married", "unknown"]),
        "eligibility": st.fixed_dictionaries({
            "lived_in_ukraine": st.just(True),
            "status_in_ukraine": st.sampled_from(
                [None, "international_protection", "permanent_residence"]),
        }),
        "document": st.fixed_dictionaries({
            "type": st.sampled_from(["passport", "travel_document", "other"]),
            "number": st.from_regex(r"[A-Z0-9]{6,9}", fullmatch=True),
        }, optional={"issuing_country": st.just("UA"), "valid_until": days}),
    },
)
addresses = st.fixed_dictionaries({
    "street": st.sampled_from(["Friedrich-Ebert-Str.", "Lange Straße 7/8"]) | latin,
    "house_number": st.sampled_from(["12", "12a", "12-14", "7 b", "١٢", "1234 5"]) | st.none(),
    "postal_code": st.just("14467"),
    "city": st.just("Potsdam") | latin,
})
households = st.fixed_dictionaries(
    {
        "consent": st.just({"data_processing": True}),
        "postal_code": st.just("14467"),
        "persons": st.builds(
            lambda first, rest: [{**first, "role": "applicant"}, *rest],
            persons, st.lists(persons, max_size=3),
        ),
    },
    optional={
        "language": st.sampled_from(["uk", "ar", "de"]),
        "address": addresses,
        "entry_date": st.none() | days,
        "contact": st.fixed_dictionaries({}, optional={
            "email": st.sampled_from(["olena@example.org", "olena@пример.рф"]) | st.emails(),
            "phone": st.sampled_from(["+49 151 12345678", "0331 2890", "+۴۹ ۱۵۱ ۱۲۳۴۵۶۷۸"]),
        }),
        "remarks": st.sampled_from([None, "Braucht eine Brille.\nAllergie."]) | latin,
    },
)


def leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in a JSON document."""
    if isinstance(node, dict):
        return [p for key, child in node.items() for p in leaves(child, (*path, key))] or [path]
    if isinstance(node, list):
        return [p for i, child in enumerate(node) for p in leaves(child, (*path, i))] or [path]
    return [path]


def replace(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def sentences(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for child in node.values() for text in sentences(child)]
    if isinstance(node, list):
        return [text for child in node for text in sentences(child)]
    return [node]


@PROFILE
@given(households, st.data())
def test_whatever_is_accepted_becomes_valid_messages(body: dict[str, Any], data: Any) -> None:
    body = copy.deepcopy(body)  # st.just and st.sampled_from hand out the same objects
    if data.draw(st.booleans(), label="corrupted"):  # else plausible throughout
        paths = leaves(body)
        for path in data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=2)):
            replace(body, path, data.draw(wild))
    with APP.test_request_context("/", headers={"Accept-Language": "uk"}):
        try:
            household = HOUSEHOLD.load(body)
        except ValidationError as error:
            event("refused")
            refusals = sentences(messages(error))
            assert refusals and all(isinstance(t, str) and len(t) > 5 for t in refusals), refusals
            return
    event("accepted")
    schema = official.schema()
    for index in range(len(household.persons)):
        xaus.render(household, index, schema=schema, **arguments(household))
