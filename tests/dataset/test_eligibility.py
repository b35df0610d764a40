"""Eligibility is asked, not assumed (issue #23, item 3).

Before, every message claimed temporary protection under § 24 AufenthG, for an Afghan, a
stateless Syrian and an Eritrean alike, on no fact the dataset held; visumsfreieEinreise was
never sent.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lxml import etree

from tests.helpers import forms
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import delivered, process_queue

NS = {"xa": "http://www.osci.de/xauslaender2611"}
WHERE_TO_GO = "arrival centre of the Federal Office for Migration and Refugees (BAMF)"


def with_answers(nationality: str, lived: bool, status: str | None = None,
                 **person: Any) -> dict[str, Any]:
    body = copy.deepcopy(ADULT)
    birth = person.pop("country_of_birth", nationality)
    body["persons"][0].update(nationalities=[nationality], country_of_birth=birth,
                              eligibility={"lived_in_ukraine": lived, "status_in_ukraine": status},
                              **person)
    return body


def messages_of(runtime) -> list[etree._Element]:  # type: ignore[no-untyped-def]
    return [etree.fromstring(xml) for _name, xml in sorted(delivered(runtime.settings).items())]


@pytest.mark.parametrize(
    ("nationality", "lived", "status", "field"),
    [
        ("UA", False, None, "lived_in_ukraine"),  # in Poland since 2019, say
        ("AF", True, "other", "status_in_ukraine"),  # a student in Kharkiv
    ],
)
def test_who_does_not_qualify_is_told_where_to_go_and_not_registered(
    client, submit_token, runtime, nationality, lived, status, field
):
    response = post(client, submit_token, with_answers(nationality, lived, status))

    assert response.status_code == 422
    [message] = response.json["errors"]["persons"]["0"]["eligibility"][field]
    assert WHERE_TO_GO in message
    process_queue(runtime)
    assert delivered(runtime.settings) == {}


@pytest.mark.parametrize(
    ("nationality", "status", "ground"),
    [
        ("UA", None, "ukrainische Staatsangehörigkeit (Art. 2 Abs. 1 Buchst. a)"),
        ("ER", "international_protection", "Schutz in der Ukraine (Art. 2 Abs. 1 Buchst. b)"),
        ("stateless", "permanent_residence", "ukrainischer Aufenthaltstitel (Art. 2 Abs. 2)"),
    ],
)
def test_who_qualifies_gets_the_claim_its_ground_and_visa_free_entry(
    client, submit_token, runtime, nationality, status, ground
):
    body = with_answers(nationality, True, status)
    if nationality == "stateless":
        body["persons"][0]["country_of_birth"] = "SY"

    assert post(client, submit_token, body).status_code == 201
    process_queue(runtime)

    [root] = messages_of(runtime)
    note = root.findtext("xa:sonstigeAnmerkung", namespaces=NS) or ""
    assert "vorübergehenden Schutz nach § 24 AufenthG" in note and ground in note
    assert root.findtext(".//xa:aufenthaltsdokument/xa:visumsfreieEinreise", namespaces=NS)
    assert root.findtext("xa:grundDesAufenthalts/code", namespaces=NS) == "04"


def test_family_members_of_one_who_qualifies_qualify(client, submit_token, runtime):
    body = with_answers("UA", True)
    spouse = {**copy.deepcopy(body["persons"][0]), "role": "spouse", "given_names": "Farid",
              "sex": "male", "nationalities": ["AF"], "country_of_birth": "AF",
              "eligibility": {"lived_in_ukraine": True, "status_in_ukraine": "other"}}
    spouse.pop("document")
    body["persons"].append(spouse)

    assert post(client, submit_token, body).status_code == 201
    process_queue(runtime)

    notes = [root.findtext("xa:sonstigeAnmerkung", namespaces=NS) or ""
             for root in messages_of(runtime)]
    assert any("Familienangehörige einer nach Art. 2 berechtigten Person" in n for n in notes)


def test_a_partners_request_without_the_answers_makes_no_claim(client, submit_token, runtime):
    assert post(client, submit_token, ADULT).status_code == 201  # valid as it always was
    process_queue(runtime)

    [root] = messages_of(runtime)
    note = root.findtext("xa:sonstigeAnmerkung", namespaces=NS) or ""
    assert note.startswith("Voraussetzungen des vorübergehenden Schutzes nicht erfragt")
    assert "§ 24 AufenthG." not in note.replace("kein Antrag nach § 24 AufenthG", "")
    assert root.find(".//xa:aufenthaltsdokument", namespaces=NS) is None


def test_the_form_always_asks(client):
    assert forms.post(client, "/uk/", {"who": "self"}).status_code == 303
    unanswered = {k: v for k, v in forms.APPLICANT.items() if k != "lived_in_ukraine"}

    assert forms.post(client, "/en/person/0", unanswered).status_code == 303
    missing = forms.post(client, "/en/person/0/origin", unanswered)
    elsewhere = forms.post(client, "/en/person/0/origin",
                           {**forms.APPLICANT, "lived_in_ukraine": "no"})

    assert missing.status_code == 422 and 'id="lived_in_ukraine-error"' in missing.text
    # Said at once, even while other fields still want an answer (seen in a walk at 360 px).
    first_try = forms.post(client, "/en/person/0/origin", {"lived_in_ukraine": "no"})
    assert first_try.status_code == 422 and WHERE_TO_GO in first_try.text
    assert elsewhere.status_code == 422 and WHERE_TO_GO in elsewhere.text
    assert forms.add_person(client, "en", 0, forms.APPLICANT).status_code == 303


def test_minors_registering_alone_are_told_the_youth_welfare_office_will_help(client):
    teenager = {**forms.APPLICANT, "birth_year": "2012", "marital_status": "single"}
    assert forms.post(client, "/en/", {"who": "self"}).status_code == 303
    assert forms.add_person(client, "en", 0, teenager).status_code == 303
    assert forms.post(client, "/en/address", {"postal_code": "14467"}).status_code == 303
    assert forms.post(client, "/en/contact", {}).status_code == 303

    review = client.get("/en/review")

    assert "youth welfare office (Jugendamt)" in review.text


def test_the_family_of_a_permanent_resident_is_not_covered(client, submit_token):
    """Article 2(1)(c) covers the family of (a) and (b); the family of an Article 2(2)
    permanent resident is not, and must qualify on its own."""
    body = with_answers("stateless", True, "permanent_residence", country_of_birth="SY")
    spouse = {**copy.deepcopy(body["persons"][0]), "role": "spouse", "given_names": "Lina",
              "nationalities": ["SY"], "eligibility": {"lived_in_ukraine": True,
                                                        "status_in_ukraine": "other"}}
    spouse.pop("document")
    body["persons"].append(spouse)

    response = post(client, submit_token, body)

    assert response.status_code == 422
    assert "1" in response.json["errors"]["persons"] and "0" not in response.json["errors"]["persons"]
