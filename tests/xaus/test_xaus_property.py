"""Every message of every generated household is valid against the official schema set."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from lxml import etree

from intake.dataset import family
from intake.dataset.domain import (
    Household,
)
from tests.helpers.households import (
    households,
)
from tests.helpers.xaus import APPLICATION_DATE, XA, build

settings.register_profile(
    "xaus",
    max_examples=500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@settings(settings.get_profile("xaus"))
@given(households)
def test_every_message_of_any_household_is_valid(household: Household) -> None:
    for index, person in enumerate(household.persons):
        xml = build(household, index)  # built and validated against the official schema set
        root = etree.fromstring(xml)
        linked = family.linked(household, index, APPLICATION_DATE)
        assert len(root.findall(f"{XA}verbundenerAntrag")) == len(linked)
        assert (root.find(f"{XA}referenzperson") is None) == (index == 0)
        channels = root.findall(f".//{XA}kommunikation")
        assert root.findtext(f"{XA}rueckkanalVorhanden") == "false"  # no back channel exists
        contact = household.contact
        assert bool(channels) == bool(contact and (contact.email or contact.phone))  # it travels
        if not family.is_minor(person, APPLICATION_DATE):
            assert root.find(f"{XA}antragstellerVertreter") is None
        assert "Олена".encode() not in xml
        # What goes in comes out: the writer's escaping loses nothing.
        family_name = root.findtext(f"{XA}angabenZurPerson/{XA}familienname/name")
        assert family_name == person.family_name
        note = root.findtext(f"{XA}sonstigeAnmerkung")
        assert note is not None and note.endswith(household.remarks or "")
