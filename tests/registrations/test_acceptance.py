"""What the service accepts, it can deliver: the standard's rules at intake, and errors that
say which field broke which rule, in the request's language (issue #22, items 1 and 5).

Each case below was accepted with 201 and then failed in the worker, or answered with an error
split into characters, before these rules.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import delivered, process_queue

ADDRESS = {"street": "Friedrich-Ebert-Str.", "postal_code": "14467", "city": "Potsdam"}


def household(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ADULT)
    applicant = body["persons"][0]
    for key, value in changes.items():
        if key in applicant or key.endswith("_native"):
            applicant[key] = value
        else:
            body[key] = value
    return body


def error_at(response: Any, *path: str | int) -> list[str]:
    node = response.json["errors"]
    for key in path:
        node = node[str(key)]
    assert isinstance(node, list), node
    return node


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12б", 'such as "12b"'),  # Cyrillic letter: the Latin one is proposed
        ("1🙂", 'The character "🙂" cannot be used here.'),
        ("1\u0007", 'The character "U+0007" cannot be used.'),
    ],
)
def test_a_house_number_no_message_can_carry_is_refused_at_once(
    client, submit_token, number, message
):
    body = household(address={**ADDRESS, "house_number": number})

    response = post(client, submit_token, body)

    assert response.status_code == 422
    assert any(message in text for text in error_at(response, "address", "house_number"))


def test_digits_of_any_script_are_taken_as_such(client, submit_token, runtime):
    body = household(
        address={**ADDRESS, "house_number": "١٢", "postal_code": "۱۴۴۶۷"},
        postal_code="۱۴۴۶۷",
        contact={"phone": "+۴۹ ۱۵۱ ۱۲۳۴۵۶۷۸"},
    )

    assert post(client, submit_token, body).status_code == 201
    process_queue(runtime)

    [xml] = delivered(runtime.settings).values()
    assert b"<hausnummer>12</hausnummer>" in xml and b"<postleitzahl>14467<" in xml
    assert b"<kennung>+4915112345678</kennung>" in xml  # E.164


def test_an_e_mail_domain_in_another_script_travels_in_its_ascii_form(
    client, submit_token, runtime
):
    body = household(contact={"email": "olena@пример.рф"})

    assert post(client, submit_token, body).status_code == 201
    process_queue(runtime)

    [xml] = delivered(runtime.settings).values()
    assert b"<kennung>olena@xn--e1afmkfd.xn--p1ai</kennung>" in xml


def test_an_e_mail_name_in_another_script_is_refused_saying_what_to_type(client, submit_token):
    response = post(client, submit_token, household(contact={"email": "олена@пример.рф"}))

    assert response.status_code == 422
    [message] = error_at(response, "contact", "email")
    assert "before the @ in Latin letters" in message


@pytest.mark.parametrize("text", ["\ud800", "Ol\u202eena", "\x00"])
def test_unusable_characters_in_native_names_are_refused(client, submit_token, text):
    response = post(client, submit_token, household(family_name_native=text))

    assert response.status_code == 422
    [message] = error_at(response, "persons", 0, "family_name_native")
    assert message.startswith('The character "U+')


def test_a_birth_year_0000_is_a_field_error(client, submit_token):
    response = post(client, submit_token, household(date_of_birth="0000"))

    assert response.status_code == 422
    [message] = error_at(response, "persons", 0, "date_of_birth")
    assert "YYYY-MM-DD" in message


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"family_name": "Шевченко"}, ("persons", 0, "family_name")),
        ({"place_of_birth": "K" * 121}, ("persons", 0, "place_of_birth")),
        ({"remarks": "x" * 501}, ("remarks",)),
        ({"country_of_birth": "XX"}, ("persons", 0, "country_of_birth")),
        ({"nationalities": ["UA", "UA"]}, ("persons", 0, "nationalities")),
        ({"consent": {"data_processing": False}}, ("consent", "data_processing")),
        ({"entry_date": "2999-01-01"}, ("entry_date",)),
    ],
)
def test_errors_are_whole_sentences_on_their_field(client, submit_token, changes, path):
    response = post(client, submit_token, household(**changes))

    assert response.status_code == 422
    messages = error_at(response, *path)
    assert messages and all(len(message) > 20 for message in messages), messages


def test_length_errors_speak_the_request_language(client, submit_token):
    body = household(place_of_birth="K" * 121, language="uk")

    response = post(client, submit_token, body)

    [message] = error_at(response, "persons", 0, "place_of_birth")
    assert message == "Введіть від 1 до 120 символів."


def test_a_latin_field_in_cyrillic_gets_a_proposal(client, submit_token):
    response = post(client, submit_token, household(family_name="Шевченко"))

    messages = error_at(response, "persons", 0, "family_name")
    assert messages[0].startswith('The character "Ш" cannot be used.')
    assert messages[1].endswith("Proposed spelling: Shevchenko")


def test_a_second_applicant_is_reported_on_its_role(client, submit_token):
    body = household()
    body["persons"].append({**body["persons"][0], "given_names": "Taras"})

    response = post(client, submit_token, body)

    assert response.status_code == 422
    assert error_at(response, "persons", 1, "role") == ["Only the first person is the applicant."]
    assert "0" not in response.json["errors"]["persons"]


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"entry_date": "1985-01-01"}, ("entry_date",), "before the applicant's date of birth"),
        ({"family_name": "-"}, ("persons", 0, "family_name"), "at least one letter"),
        ({"family_name": None, "no_family_name": True, "given_names": None,
          "no_given_name": True}, ("persons", 0, "given_names"), "at least one name"),
        ({"consent": {"data_processing": "true"}}, ("consent", "data_processing"), "yes or no"),
        ({"consent": {"data_processing": 1}}, ("consent", "data_processing"), "yes or no"),
    ],
)
def test_what_cannot_be_is_refused_saying_why(client, submit_token, changes, path, words):
    """Issue #23: an entry before birth, a person without any name, a name "-", and consent
    sent as the string "true" were all accepted."""
    body = household()
    applicant = body["persons"][0]
    for key, value in changes.items():
        (applicant if key in applicant or key.startswith("no_") else body)[key] = value

    response = post(client, submit_token, body)

    assert response.status_code == 422
    assert any(words in message for message in error_at(response, *path)), response.json
