"""The lost-link page: the same answer for any address, a fresh link mailed for a known one."""

from __future__ import annotations

import re

import pytest

from tests.helpers.api import post as api_post
from tests.helpers.data import ADULT
from tests.helpers.forms import post
from tests.helpers.mail import parts, sending_to
from tests.helpers.pipeline import process_queue

ADDRESS = "Olena.Link@Example.org"
LINK = re.compile(r"http://\S+(/s/[A-Za-z0-9_-]+)")


@pytest.fixture
def settings(settings, smtp_server):  # type: ignore[no-untyped-def]
    return sending_to(settings, smtp_server)


@pytest.fixture
def registered(client, submit_token, runtime, smtp_server):  # type: ignore[no-untyped-def]
    """A registration with an e-mail address, its confirmation sent."""
    body = {**ADULT, "language": "uk", "contact": {"email": ADDRESS}}
    answer = api_post(client, submit_token, body).json
    process_queue(runtime)
    assert len(smtp_server.inbox.received) == 1
    return answer


def ask(client, address: str):  # type: ignore[no-untyped-def]
    return post(client, "/uk/lost-link", {"email": address})


def test_known_and_unknown_addresses_get_the_same_answer(client, registered, runtime,
                                                         smtp_server):
    unknown = ask(client, "nobody@example.org")
    known = ask(client, " olena.link@example.ORG ")  # as people type it
    assert (unknown.status_code, unknown.text) == (known.status_code, known.text)
    assert known.status_code == 200 and "csrf_token" not in known.text
    process_queue(runtime)
    assert len(smtp_server.inbox.received) == 2  # the confirmation, and the one new link


def test_a_new_link_replaces_the_old_one(client, registered, runtime, smtp_server):
    old = registered["status_url"].removeprefix("http://localhost")
    assert client.get(old).status_code == 200
    ask(client, ADDRESS)
    process_queue(runtime)
    [_confirmation, message] = smtp_server.inbox.messages()
    assert message["To"].lower() == ADDRESS.lower() and message["Content-Language"] == "uk"
    body = parts(message).text
    assert registered["reference"] in body and registered["reference"] in message["Subject"]
    new = LINK.search(body).group(1)  # type: ignore[union-attr]
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200

    ask(client, ADDRESS)  # again at once: the link just sent stays the one that works
    process_queue(runtime)
    assert len(smtp_server.inbox.received) == 2
    assert client.get(new).status_code == 200


def test_an_erased_registration_is_not_found(client, registered, runtime, smtp_server):
    from sqlalchemy import select

    from intake.registrations import retention
    from intake.store import models

    with runtime.db.transaction() as session:
        found = session.scalar(select(models.Registration))
        retention.erase(session, found, runtime.cipher, runtime.settings.xml_out, runtime.blobs)
    assert ask(client, ADDRESS).status_code == 200
    process_queue(runtime)
    assert len(smtp_server.inbox.received) == 1


def test_the_page_asks_for_an_address_and_a_form_token(client):
    page = client.get("/uk/lost-link")
    assert page.status_code == 200 and 'name="email"' in page.text
    assert ask(client, "  ").status_code == 422
    assert client.post("/uk/lost-link", data={"email": ADDRESS}).status_code == 400  # no token


def test_the_start_page_and_the_not_found_page_lead_to_it(client):
    assert 'href="/en/lost-link"' in client.get("/en/").text
    assert 'href="/en/lost-link"' in client.get("/en/s/no-such-token").text
