"""A message that cannot be built is never silent (issue #22, item 3).

Before, a registration whose message the checks refused was acknowledged with 201, its
status page said "received" for ever, and only a row id in `intake status` told of it.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from intake.cli import main
from intake.delivery import outbox
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import delivered, process_queue
from tests.helpers.staff import create_staff, sign_in


def break_the_sender(runtime, key: str = "nobody") -> None:  # type: ignore[no-untyped-def]
    """A deployment whose author key is no DVDV key: every message is refused by the checks
    (the stand-in for any fault that a fix to the service, not the applicant, cures)."""
    object.__setattr__(runtime.settings, "sender_key", key)


def give_up(runtime) -> None:  # type: ignore[no-untyped-def]
    """What the reconciler does once rq has no retries left."""
    with runtime.db.transaction() as session:
        for row in session.scalars(select(models.Outbox).where(models.Outbox.done_at.is_(None))):
            row.failed_at = dt.datetime.now(dt.UTC)


def test_an_undeliverable_registration_is_shown_delayed_and_told_to_operators(
    app, client, submit_token, runtime
):
    body = post(client, submit_token, ADULT).json
    break_the_sender(runtime)
    process_queue(runtime)  # the job fails; rq would retry it

    page = client.get(body["status_url"].removeprefix("http://localhost"))
    assert "Delayed." in page.text and "Received." not in page.text

    report = json.loads(app.test_cli_runner().invoke(main, ["status", "--json"]).output)
    [item] = report["undelivered"]
    assert item["reference"] == body["reference"] and item["state"] == "retrying"
    assert "autor/kennung" in item["reason"] and "Shevchenko" not in item["reason"]
    metrics_token = _metrics_token(runtime)
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert "intake_undelivered_registrations 1.0" in metrics.text


def test_after_a_fix_outbox_retry_delivers_it(app, client, submit_token, runtime):
    body = post(client, submit_token, ADULT).json
    break_the_sender(runtime)
    process_queue(runtime)
    give_up(runtime)
    report = json.loads(app.test_cli_runner().invoke(main, ["status", "--json"]).output)
    assert report["undelivered"][0]["state"] == "given up"

    break_the_sender(runtime, "alp:intake")  # the fix
    typed = f" {body['reference'].lower()} "  # as an operator might type it
    result = app.test_cli_runner().invoke(main, ["outbox", "retry", typed])
    assert result.exit_code == 0 and "1 registration(s)" in result.output
    process_queue(runtime)

    assert len(delivered(runtime.settings)) == 1
    with runtime.db.read() as session:
        assert outbox.undelivered(session) == []
    page = client.get(body["status_url"].removeprefix("http://localhost"))
    assert "forwarded to the immigration authority" in page.text


def test_admins_see_undelivered_registrations_and_send_them_again(app, client, submit_token,
                                                                    runtime):
    body = post(client, submit_token, ADULT).json
    break_the_sender(runtime)
    process_queue(runtime)
    admin = app.test_client()
    assert sign_in(admin, create_staff(runtime, "admin@example.org", "admin")).status_code == 303

    page = admin.get("/desk/undelivered")
    assert body["reference"] in page.text and "autor/kennung" in page.text

    break_the_sender(runtime, "alp:intake")
    from tests.helpers.forms import CSRF
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    assert admin.post("/desk/undelivered/retry", data={"csrf_token": token}).status_code == 303
    process_queue(runtime)
    assert len(delivered(runtime.settings)) == 1


def test_retry_needs_references_or_all(app, runtime):
    result = app.test_cli_runner().invoke(main, ["outbox", "retry"])
    assert result.exit_code == 2 and "--all" in result.output


def test_an_erased_registration_owes_nothing(client, submit_token, runtime):
    from intake.registrations import retention

    post(client, submit_token, ADULT)
    with runtime.db.transaction() as session:
        retention.erase(session, session.scalar(select(models.Registration)), runtime.cipher,
                        runtime.settings.xml_out, runtime.blobs)
    process_queue(runtime)

    with runtime.db.read() as session:
        [row] = session.scalars(select(models.Outbox)).all()
        assert row.done_at is not None and row.failure is None


def _metrics_token(runtime) -> str:  # type: ignore[no-untyped-def]
    from intake.security import tokens

    with runtime.db.transaction() as session:
        return tokens.create(session, "prometheus", "metrics")
