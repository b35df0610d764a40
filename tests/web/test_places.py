"""A postal code whose places different authorities serve: the form asks for the place, the
API answers 422 with the choices; the place chosen decides the authority and is stored."""

from __future__ import annotations

import copy
import html
import json

import pytest
from sqlalchemy import select

from intake.registrations import routing
from intake.store import household_rows, models
from tests.helpers.api import post as api_post
from tests.helpers.data import ADULT
from tests.helpers.forms import APPLICANT, add_person, post
from tests.helpers.pipeline import process_queue, the_message


@pytest.fixture
def asked(app, runtime, regional_set) -> routing.Routing:  # type: ignore[no-untyped-def]
    """The regional set imported; the routing of a postal code that asks for the place."""
    regional_set.import_into(app)
    with runtime.db.read() as session:
        return routing.routing(session, regional_set.asked[0])


def test_the_form_asks_for_the_place_and_sends_the_registration_to_its_authority(
    client, runtime, asked
):
    assert post(client, "/en/", {"who": "self"}).status_code == 303
    assert add_person(client, "en", 0, APPLICANT).status_code == 303

    question = post(client, "/en/address", {"postal_code": asked.postal_code})

    assert question.status_code == 422
    page = html.unescape(question.text)
    assert 'href="#municipality_key"' in page  # the error summary leads to the question
    assert "Choose the place where you are staying." in page
    offered = [(place.municipality_key, place.name) for place in asked.places]
    for key, name in offered:
        assert (f'type="radio" id="municipality_key_{key}" name="municipality_key" '
                f'value="{key}"') in page and f">{name}</label>" in page
    place = asked.places[-1]

    answered = post(client, "/en/address", {"postal_code": asked.postal_code,
                                             "municipality_key": place.municipality_key})

    assert answered.status_code == 303 and answered.headers["Location"].endswith("/contact")
    assert post(client, "/en/contact", {"email": "taras@example.org"}).status_code == 303
    assert place.name in html.unescape(client.get("/en/review").text)
    assert post(client, "/en/review", {"consent": "yes"}).status_code == 303
    with runtime.db.read() as session:
        stored = session.scalars(select(models.Registration)).one()
        household = household_rows.household_of(runtime.cipher, stored, stored.persons)
    assert place.authority is not None and stored.authority_key == place.authority.key
    assert household.municipality_key == place.municipality_key
    assert place.municipality_key not in (stored.data or "")  # encrypted with the address
    process_queue(runtime)
    the_message(runtime.settings)  # valid against the official set (no place for the AGS)


def test_the_question_goes_when_the_postal_code_no_longer_asks_it(client, runtime, asked):
    assert post(client, "/en/", {"who": "self"}).status_code == 303
    assert add_person(client, "en", 0, APPLICANT).status_code == 303
    chosen = asked.places[0].municipality_key
    assert post(client, "/en/address", {"postal_code": asked.postal_code,
                                        "municipality_key": chosen}).status_code == 303
    back = client.get("/en/address?change=review").text
    assert f'value="{chosen}" checked' in back  # the answer, shown when coming back

    moved = post(client, "/en/address?change=review", {"postal_code": "14467",
                                                       "municipality_key": chosen})

    assert moved.status_code == 303
    review = client.get("/en/review").text
    assert html.escape(asked.places[0].name) not in review
    assert post(client, "/en/review", {"consent": "yes"}).status_code == 303
    with runtime.db.read() as session:
        stored = session.scalars(select(models.Registration)).one()
        household = household_rows.household_of(runtime.cipher, stored, stored.persons)
    assert (stored.authority_key, household.municipality_key) == ("073400", None)


def test_the_api_answers_422_with_the_choices_then_registers_with_one(
    client, submit_token, asked
):
    body = copy.deepcopy(ADULT) | {"postal_code": asked.postal_code}
    choices = [{"municipality_key": place.municipality_key, "place": place.name}
               for place in asked.places]

    unchosen = api_post(client, submit_token, body)

    assert unchosen.status_code == 422
    assert unchosen.json == {"errors": {"municipality_key": [
        "This postal code covers places served by different immigration authorities. "
        "Choose the place where you are staying."]}, "choices": choices}

    refused = api_post(client, submit_token, body | {"municipality_key": "99999999"})

    assert refused.status_code == 422 and refused.json == {"errors": {"municipality_key": [
        "Choose one of the places this postal code covers."]}, "choices": choices}

    for place in asked.places:
        chosen = api_post(client, submit_token, body | {"municipality_key":
                                                        place.municipality_key})
        assert chosen.status_code == 201, chosen.json
        assert place.authority is not None
        assert chosen.json["authority"]["key"] == place.authority.key


@pytest.mark.parametrize("key", ["1234567", "123456789", "abcdefgh", 12345678])
def test_a_municipality_key_is_eight_digits(client, submit_token, key):
    response = api_post(client, submit_token, ADULT | {"municipality_key": key})

    assert response.status_code == 422 and list(response.json["errors"]) == ["municipality_key"]


def test_a_place_chosen_where_nothing_asks_must_still_be_one_of_the_postal_codes(
    client, submit_token, runtime
):
    """The demo's postal codes are routed whole: they have no places to choose."""
    response = api_post(client, submit_token, ADULT | {"municipality_key": "12054000"})

    assert response.status_code == 422 and json.loads(response.data) == {
        "errors": {"municipality_key": [
            "This postal code is served as a whole: leave out the municipality key."]},
        "choices": []}
