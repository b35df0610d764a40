"""`intake erase` and `intake retention run` as an operator uses them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, update

from intake import progress
from intake.cli import main
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.deliveries import FETCHING, one_authority_not_fetching


def test_erase_of_an_unknown_reference_says_so_in_a_line(app):
    result = app.test_cli_runner().invoke(main, ["erase", "XXXX-XXXX-XX"])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for 'REFERENCE': no registration XXXX-XXXX-XX")
    assert "Traceback" not in result.output


def test_retention_run_erases_what_is_past_it_now(app, client, submit_token, runtime,
                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)
    one_authority_not_fetching(client, submit_token, runtime)  # Potsdam acknowledged
    runner = app.test_cli_runner()
    assert runner.invoke(main, ["retention", "run"]).stdout.splitlines() == [
        "0 batch(es) past retention erased, with their registrations' personal data"]
    with runtime.db.transaction() as session:
        session.execute(update(models.Batch).where(models.Batch.authority_key == FETCHING)
                        .values(acknowledged_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31)))

    result = runner.invoke(main, ["retention", "run"])

    assert result.exit_code == 0, result.output
    assert [re.sub(r"[\d.]+(?= s,|/s)", "N", line) for line in result.stdout.splitlines()] == [
        "erasing batches past retention: 1/1 (100%), N/s",  # a line at every step (here)
        "erasing batches past retention: 1/1 (100%) in N s, N/s",
        "1 batch(es) past retention erased, with their registrations' personal data"]
    with runtime.db.read() as session:
        erased = session.scalars(select(models.Registration.authority_key)
                                 .where(models.Registration.erased_at.is_not(None))).all()
        assert erased == [FETCHING]  # the other authority's are kept
        entry = session.scalar(select(models.AuditEntry).order_by(models.AuditEntry.id.desc()))
        assert (entry.action, entry.record_type, entry.record_id) == ("expire", "retention", "1")


def test_erase_still_erases(app, client, submit_token, runtime):
    made = post(client, submit_token, ADULT).json

    result = app.test_cli_runner().invoke(main, ["erase", made["reference"].lower()])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"personal data of {made['reference'].lower()} erased\n"
