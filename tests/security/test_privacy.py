"""What must never leak: personal data in the database file, the QR code, or the queue."""

from __future__ import annotations

import logging
import re

import pytest

from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import process_queue
from tests.helpers.privacy import SECRETS, raw_database_text
from tests.helpers.qr import decode_png_qr


def test_database_holds_no_personal_field_in_plain_text(client, submit_token, runtime):
    assert post(client, submit_token, ADULT).status_code == 201
    process_queue(runtime)

    stored = raw_database_text(runtime)

    assert b"073400" in stored  # the search does see the data: routing is stored in clear
    for secret in SECRETS:
        assert secret.encode() not in stored, secret


def test_qr_code_holds_the_status_url_and_nothing_else(client, submit_token):
    body = post(client, submit_token, ADULT).json
    path = body["status_url"].removeprefix("http://localhost")

    image = client.get(f"{path}/qr.png")

    assert image.status_code == 200 and image.mimetype == "image/png"
    scanned = decode_png_qr(image.data)
    assert scanned == body["status_url"]
    assert re.fullmatch(r"http://localhost/s/[A-Za-z0-9_-]{22,}", scanned)
    for secret in (*SECRETS, body["reference"]):
        assert secret not in scanned


def test_unknown_status_token_opens_nothing(client, submit_token):
    path = post(client, submit_token, ADULT).json["status_url"].removeprefix("http://localhost")
    # The real token's last character changed: as likely a guess as any.
    guessed = path[:-1] + ("A" if path[-1] != "A" else "B")

    assert client.get(path).status_code == 200
    assert client.get(f"{path}/qr.png").status_code == 200
    for asked in (guessed, f"{guessed}/qr.png"):
        answer = client.get(asked)
        assert answer.status_code == 404, asked
        assert b"073400" not in answer.data and b"Potsdam" not in answer.data


def test_queue_holds_ids_only(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    from intake.delivery import outbox

    outbox.relay(runtime)

    dump = b"".join(
        str(runtime.redis.hgetall(key)).encode() for key in runtime.redis.keys("rq:job:*")
    )
    assert b"build_payload" in dump
    for secret in SECRETS:
        assert secret.encode() not in dump


def test_status_page_is_not_cached_and_unknown_tokens_are_404(client, submit_token):
    body = post(client, submit_token, ADULT).json
    page = client.get(body["status_url"].removeprefix("http://localhost"))

    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert client.get("/s/not-a-real-token").status_code == 404


def test_a_status_link_of_an_erased_registration_says_deleted_and_nothing_else(app, client,
                                                                               submit_token):
    """An audit found status tokens working after the data was erased: reference, authority,
    state, appointment and QR code, for whoever holds the link."""
    from intake.cli import main

    made = post(client, submit_token, ADULT).json
    path = made["status_url"].removeprefix("http://localhost")
    assert client.get(f"{path}/qr.png").status_code == 200
    assert app.test_cli_runner().invoke(main, ["erase", made["reference"]]).exit_code == 0

    page = client.get(path)

    assert page.status_code == 200
    assert "deleted" in page.text
    assert made["reference"] not in page.text and "STV Potsdam" not in page.text
    assert "<svg" not in page.text  # no QR code of a link that leads to nothing
    for what in ("qr.png", "slots", "appointment.ics"):
        assert client.get(f"{path}/{what}").status_code == 404, what


def _every_message(records: list[logging.LogRecord]) -> str:
    return " ".join(f"{r.getMessage()} {r.exc_text or ''}" for r in records)


def test_no_typed_value_reaches_a_log_line_or_an_exception_message(app, client, submit_token,
                                                                   caplog):
    """An audit found user input in exception messages, where error reports and logs take
    it from. Wrong values, typed with a marker, are refused; the marker is nowhere."""
    from marshmallow import ValidationError

    from intake.dataset.schemas import HOUSEHOLD

    marker = "Zq7marker"
    person = {**ADULT["persons"][0], "date_of_birth": f"19{marker}", "family_name": f"{marker}<",
              "document": {"type": "passport", "number": f"{marker}!!"}}
    body = {**ADULT, "postal_code": marker, "entry_date": f"2026-{marker}",
            "contact": {"email": f"{marker}@@", "phone": f"+{marker}"}, "persons": [person]}
    with caplog.at_level(logging.DEBUG):
        assert post(client, submit_token, body).status_code == 422
        with pytest.raises(ValidationError) as refused:
            HOUSEHOLD.load(body)
    chain, error = [], refused.value
    while error is not None:  # the error and every error it was raised from
        chain.append(f"{error!r} {error.args!r}")
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    assert marker not in " ".join(chain)
    assert marker not in _every_message(caplog.records)


def test_a_date_that_is_none_is_refused_without_quoting_it(app):
    from marshmallow import ValidationError

    from intake.dataset import fields
    from intake.dataset.domain import PartialDate

    for wrong in ("1990-02-30", "19x0", "1990-13"):
        with pytest.raises(ValueError) as refused:
            PartialDate.parse(wrong)
        assert wrong not in str(refused.value)
        for field in (fields.PartialDateField(), fields.Day()):
            with app.test_request_context(), pytest.raises(ValidationError) as refused:
                field.deserialize(wrong)
            assert refused.value.__cause__ is None  # an error report would print it


def test_the_status_pages_qr_code_has_a_text_alternative(client, submit_token):
    """Issue #26: the QR code had no text alternative; a screen reader met an unnamed
    drawing. The drawing is hidden from it; the caption says what the code holds."""
    body = post(client, submit_token, ADULT).json
    page = client.get(body["status_url"].removeprefix("http://localhost")).text

    figure = page.split('<figure class="qr">', 1)[1].split("</figure>", 1)[0]
    assert '<div aria-hidden="true"><svg' in figure
    caption = figure.split("<figcaption>", 1)[1]
    assert body["status_url"] in caption and "link to this page" in caption
