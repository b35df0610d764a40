"""The stored form of a household: what the schema dumps, read back without the schema."""

from __future__ import annotations

from hypothesis import given, settings

from intake.dataset.domain import Household
from intake.dataset.schemas import HouseholdSchema
from intake.store import stored_form
from tests.helpers.households import households


@settings(max_examples=200, deadline=None, database=None)
@given(households)
def test_the_stored_form_is_the_schemas_dump_and_reads_back_unchanged(household: Household) -> None:
    dumped = HouseholdSchema().dump(household)
    persons = dumped.pop("persons")

    assert stored_form.household_document(household) == dumped
    assert [stored_form.person_document(person) for person in household.persons] == persons
    assert stored_form.household(dumped, persons) == household
