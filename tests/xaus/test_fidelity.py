"""Messages an authority can import as they are (issue #23): what the service says of itself,
of the date and of the back channel.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from lxml import etree
from sqlalchemy import update

from intake.delivery import building
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.pipeline import delivered, process_queue

NS = {"xa": "http://www.osci.de/xauslaender2611"}


def only_message(runtime) -> etree._Element:  # type: ignore[no-untyped-def]
    [xml] = delivered(runtime.settings).values()
    return etree.fromstring(xml)


def test_the_author_is_the_configured_operator_and_development_marks_tests(
    app, client, submit_token, runtime
):
    """Before: every author was "Musterstraße 1, 10115 Berlin", messages were not marked test,
    and produktversion was missing."""
    runtime.settings = dataclasses.replace(
        runtime.settings, sender_key="alp:ukraine-hilfe-bb", sender_name="Registrierung BB",
        sender_street="Heinrich-Mann-Allee", sender_house_number="103",
        sender_postal_code="14473", sender_city="Potsdam", message_test_flag="true",
    )
    post(client, submit_token, {**ADULT, "contact": {"email": "olena@example.org"}})
    process_queue(runtime)

    root = only_message(runtime)
    author = "anschrift.autor/gebaeude"
    assert root.findtext(f"{author}/strasse") == "Heinrich-Mann-Allee"
    assert root.findtext(f"{author}/hausnummer") == "103"
    assert root.findtext(f"{author}/wohnort") == "Potsdam"
    assert root.findtext("nachrichtenkopf.g2g/autor/kennung") == "alp:ukraine-hilfe-bb"
    assert root.get("test") == "true" and root.get("produktversion") == building.PRODUCT_VERSION
    # No back channel exists, so none is announced; the e-mail still travels.
    assert root.findtext("xa:rueckkanalVorhanden", namespaces=NS) == "false"
    assert root.findtext(".//xa:kommunikation/kennung", namespaces=NS) == "olena@example.org"


def test_the_application_date_is_the_day_in_germany(client, submit_token, runtime):
    """Before: the UTC date, a day early between midnight and 01:00/02:00 in Germany."""
    post(client, submit_token, ADULT)
    with runtime.db.transaction() as session:
        session.execute(update(models.Registration).values(
            created_at=dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)))  # 00:30 in Berlin
    process_queue(runtime)

    assert only_message(runtime).findtext("xa:antragsdatum", namespaces=NS) == "2026-11-21"
    assert building.application_date(dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)) == dt.date(
        2026, 7, 2)  # summer: 00:30 CEST
