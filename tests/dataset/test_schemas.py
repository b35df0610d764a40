"""The dataset of CONTRACT §4: every rule, with an error on the field that broke it."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from marshmallow import ValidationError

from intake.dataset import domain
from intake.dataset.schemas import HouseholdSchema, messages
from tests.helpers.data import ADULT

TD3 = (
    "P<UKRSHEVCHENKO<<OLENA<<<<<<<<<<<<<<<<<<<<<<\n"
    "FE12345675UKR9005019F3104301<<<<<<<<<<<<<<02"
)


def load(change: Any = None) -> domain.Household:
    body = copy.deepcopy(ADULT)
    if change:
        change(body)
    household: domain.Household = HouseholdSchema().load(body)
    return household


def errors(change: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        load(change)
    return messages(caught.value)


def person(**fields: Any) -> dict[str, Any]:
    base = {"role": "child", "family_name": "Shevchenko", "given_names": "Andrii",
            "sex": "male", "date_of_birth": "2015", "place_of_birth": None,
            "country_of_birth": "UA", "nationalities": ["UA"]}
    return {**base, **fields}


def test_a_family_with_partial_and_unknown_facts_loads_as_domain_objects():
    def family(body: dict[str, Any]) -> None:
        body["persons"] += [
            person(role="spouse", given_names="Petro", date_of_birth="1988-07", sex="male"),
            person(),
            person(given_names=None, no_given_name=True, date_of_birth=None,
                   nationalities=["stateless"]),
        ]

    household = load(family)

    applicant, spouse, child, no_name = household.persons
    assert applicant.date_of_birth == domain.PartialDate(1990, 5, 1)
    assert spouse.date_of_birth == domain.PartialDate(1988, 7)
    assert child.date_of_birth == domain.PartialDate(2015) and child.place_of_birth is None
    assert no_name.given_names is None and no_name.date_of_birth is None
    assert no_name.nationalities == (domain.STATELESS,)
    assert applicant.marital_status == "unknown"
    assert applicant.document == domain.Document("passport", "FE123456")


def test_the_stored_form_loads_back_to_the_same_household():
    household = load(lambda b: b["persons"].append(person(no_given_name=True, given_names=None)))
    assert HouseholdSchema().load(HouseholdSchema().dump(household)) == household


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda b: b.update(persons=[]), ("persons",)),
        (lambda b: b.update(persons=[person(role="applicant")] * 13), ("persons",)),
        (lambda b: b["persons"].insert(0, person()), ("persons",)),
        (lambda b: b["persons"].append(person(role="applicant")), ("persons",)),
        (lambda b: b["persons"][0].update(role="boss"), ("persons", "0", "role")),
        (lambda b: b["persons"][0].update(date_of_birth="1990-02-30"),
         ("persons", "0", "date_of_birth")),
        (lambda b: b["persons"][0].update(date_of_birth="90"), ("persons", "0", "date_of_birth")),
        (lambda b: b["persons"][0].update(nationalities=[]), ("persons", "0", "nationalities")),
        (lambda b: b["persons"][0].update(nationalities=["UA", "stateless"]),
         ("persons", "0", "nationalities")),
        (lambda b: b["persons"][0].update(nationalities=["UA", "PL", "DE", "RO", "MD"]),
         ("persons", "0", "nationalities")),
        (lambda b: b["persons"][0].update(nationalities=["XX"]),
         ("persons", "0", "nationalities")),
        (lambda b: b["persons"][0].update(given_names=None), ("persons", "0", "given_names")),
        (lambda b: b["persons"][0].update(no_given_name=True), ("persons", "0", "given_names")),
        (lambda b: b["persons"][0].update(family_name="Shevchenko 😀"),
         ("persons", "0", "family_name")),
        (lambda b: b["persons"][0].update(sex="f"), ("persons", "0", "sex")),
        (lambda b: b["persons"][0].update(marital_status="complicated"),
         ("persons", "0", "marital_status")),
        (lambda b: b["persons"][0].update(document={"type": "passport"}),
         ("persons", "0", "document", "number")),
        (lambda b: b.update(entry_date=(dt.date.today() + dt.timedelta(days=1)).isoformat()),
         ("entry_date",)),
        (lambda b: b.update(remarks="x" * 501), ("remarks",)),
        (lambda b: b.update(contact={"email": "not-an-address"}), ("contact", "email")),
        (lambda b: b.update(address={"street": "Hauptstr.", "postal_code": "1446",
                                     "city": "Potsdam"}), ("address", "postal_code")),
        (lambda b: b.pop("consent"), ("consent",)),
        (lambda b: b.update(address={"street": "Hauptstr.", "postal_code": "14469",
                                     "city": "Potsdam"}), ("postal_code",)),
        (lambda b: b["persons"][0].update(hobby="chess"), ("persons", "0", "hobby")),
    ],
)
def test_each_broken_rule_is_reported_on_its_field(change, path):
    found: Any = errors(change)
    for key in path:
        assert key in found, (path, found)
        found = found[key]
    assert found and all(isinstance(text, str) and text for text in found)


def test_a_native_only_name_gets_a_latin_proposal_to_confirm():
    def native(body: dict[str, Any]) -> None:
        body["persons"][0].update(family_name=None, family_name_native="Щербак")

    [message] = errors(native)["persons"]["0"]["family_name"]
    assert "Shcherbak" in message


def test_a_russian_national_gets_the_icao_spelling():
    def native(body: dict[str, Any]) -> None:
        body["persons"][0].update(given_names=None, given_names_native="Галина",
                                  nationalities=["RU"])

    [message] = errors(native)["persons"]["0"]["given_names"]
    assert "Galina" in message


def test_a_passport_mrz_fills_the_person():
    def scanned(body: dict[str, Any]) -> None:
        for key in ("family_name", "given_names", "sex", "date_of_birth", "nationalities"):
            body["persons"][0].pop(key)
        body["persons"][0]["document"] = {"mrz": TD3}

    applicant = load(scanned).applicant

    # Proposed as the visual zone prints them, not in the MRZ's capitals.
    assert (applicant.family_name, applicant.given_names) == ("Shevchenko", "Olena")
    assert applicant.sex == "female"
    assert applicant.date_of_birth == domain.PartialDate(1990, 5, 1)
    assert applicant.nationalities == ("UA",)
    assert applicant.document == domain.Document(
        "passport", "FE1234567", "UA", dt.date(2031, 4, 30)
    )


def test_a_wrong_mrz_check_digit_is_reported_on_the_mrz():
    broken = TD3.replace("9005019F", "9005018F")

    found = errors(lambda b: b["persons"][0].update(document={"mrz": broken}))

    [message] = found["persons"]["0"]["document"]["mrz"]
    assert "date of birth" in message


def test_a_typed_value_that_contradicts_the_mrz_names_both_fields():
    """Before: a typed birth year 1985 silently won over an MRZ saying 1990."""
    def typed_otherwise(body: dict[str, Any]) -> None:
        body["persons"][0].update(date_of_birth="1985", sex="male", nationalities=["PL"])
        body["persons"][0]["document"] = {"mrz": TD3}

    found = errors(typed_otherwise)["persons"]["0"]

    assert "says 1990-05-01 here" in found["date_of_birth"][0]
    assert "says female here" in found["sex"][0]
    assert "says UA here" in found["nationalities"][0]
    assert "machine-readable zone says otherwise" in found["document"]["mrz"][0]


@pytest.mark.parametrize(
    ("family_name", "given_names"),
    [("Shevchenko", "Olena"), ("SHEVCHENKO", "olena"), ("Shevchenko", "Olená")],
)
def test_names_that_are_the_mrz_s_in_another_form_agree(family_name, given_names):
    def typed(body: dict[str, Any]) -> None:
        body["persons"][0].update(family_name=family_name, given_names=given_names)
        body["persons"][0]["document"] = {"mrz": TD3}

    assert load(typed).applicant.family_name == family_name


def test_a_name_that_is_not_the_mrz_s_is_refused():
    def typed(body: dict[str, Any]) -> None:
        body["persons"][0].update(family_name="Kovalenko")
        body["persons"][0]["document"] = {"mrz": TD3}

    assert "says Shevchenko here" in errors(typed)["persons"]["0"]["family_name"][0]


def test_a_stateless_persons_travel_document_is_no_national_passport():
    """Before: an XXA travel document went as a national passport (Ausweisart 01, not 03)."""
    stateless = TD3.replace("P<UKR", "P<XXA").replace("FE12345675UKR", "FE12345675XXA")
    from intake.dataset import mrz

    read = mrz.parse(stateless, dt.date(2026, 11, 21))

    assert read.document().type == "travel_document"


def test_a_name_typed_in_cyrillic_takes_the_passports_spelling_from_its_mrz(client):
    """Our transliteration proposes "Yuliia" (the 2010 rules); this passport says YULIYA:
    the passport decides, without a second submission."""
    from tests.helpers import forms

    yuliya = TD3.replace("OLENA<<<<<<<<<<<<<<<<<<<<<<", "YULIYA<<<<<<<<<<<<<<<<<<<<<")
    assert forms.post(client, "/en/", {"who": "self"}).status_code == 303
    typed = {**forms.APPLICANT, "family_name": "Шевченко", "given_names": "Юлія", "mrz": yuliya,
             "document_number": "", "birth_day": "1", "birth_month": "5", "birth_year": "1990",
             "sex": "female", "nationality": "UA"}

    named = forms.post(client, "/en/person/0", typed)
    forms.post(client, "/en/person/0/origin", typed)
    checked = client.get("/en/person/0/document").text
    sent = forms.post(client, "/en/person/0/document", typed)

    assert named.status_code == 303  # one tap: the proposal is shown where the passport is
    assert "Shevchenko, Yuliia" in checked
    assert sent.status_code == 303
    review = client.get("/en/review").text
    assert "Shevchenko, Yuliya" in review and "Шевченко, Юлія" in review


def test_a_malformed_field_beside_an_mrz_is_a_field_error_not_a_crash():
    def typed(body: dict[str, Any]) -> None:
        body["persons"][0].update(sex=["female"])
        body["persons"][0]["document"] = {"mrz": TD3}

    assert "sex" in errors(typed)["persons"]["0"]


def test_an_apostrophe_is_left_out_in_the_mrz():
    """ICAO Doc 9303 drops apostrophes: O'Neill is ONEILL in the MRZ, not O NEILL."""
    names, numbers = TD3.split("\n")
    mrz = "P<UKRONEILL<<OLENA".ljust(len(names), "<") + "\n" + numbers  # no check digit on it

    def typed(body: dict[str, Any]) -> None:
        body["persons"][0].update(family_name="O’Neill", given_names="Olena")
        body["persons"][0]["document"] = {"mrz": mrz}

    assert load(typed).applicant.family_name == "O’Neill"
