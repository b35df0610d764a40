"""The stored form of a household: what the schema dumps, read back without the schema."""

from __future__ import annotations

from hypothesis import given, settings
from test_xaus_property import households

from intake import stored
from intake.domain import Household
from intake.schemas import HouseholdSchema


@settings(max_examples=200, deadline=None, database=None)
@given(households)
def test_the_stored_form_is_the_schemas_dump_and_reads_back_unchanged(household: Household) -> None:
    dumped = HouseholdSchema().dump(household)
    persons = dumped.pop("persons")

    assert stored.household_document(household) == dumped
    assert [stored.person_document(person) for person in household.persons] == persons
    assert stored.household(dumped, persons) == household
