"""The desk's search by name (issue #26 item 16): one name field in any script and usual
spelling, the family name alone with the date of birth, dates as people type them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.store import models
from tests.helpers.forms import APPLICANT, register
from tests.helpers.staff import find_person as find


@pytest.mark.parametrize(("name", "born"), [
    ("Kovalenko", "09.03.1985"),
    ("KOWALENKO", "9/3/1985"),  # a variant spelling, a date with slashes
    ("Коваленко", "1985-03-09"),  # Cyrillic
    ("kovalenko", "۰۹.۰۳.۱۹۸۵"),  # Persian digits
    ("Коваленко", "٠٩.٠٣.١٩٨٥"),  # Arabic-Indic digits
])
def test_the_family_name_alone_with_the_date_of_birth_finds_the_person(
    staff_clients, client, name, born
):
    """Issue #26: a family name alone found nothing."""
    register(client, "en", [APPLICANT], "14467")

    found = find(staff_clients["volunteer"], name, born)

    assert found.status_code == 200
    assert "Kovalenko, Taras" in found.text, (name, born)


@pytest.mark.parametrize(("name", "born"), [
    ("Kovalenko Oleksandr", "9.3.1985"),
    ("Oleksandr Kovalenko", "09/03/1985"),  # given names first, as many type them
    ("KOVALENKO, Oleksandr", "1985-03-09"),  # as the desk lists people
    ("Kowalenko Aleksandr", "9 3 1985"),
    ("kovalenko alexander", "۰۹.۰۳.۱۹۸۵"),
    ("Коваленко Олександр", "09.03.1985"),  # Ukrainian
    ("Коваленко Александр", "9.3.1985"),  # Russian
    ("Олександр Коваленко", "9.3.1985"),
])
def test_one_name_field_takes_both_names_in_either_order_script_and_usual_spelling(
    staff_clients, client, name, born
):
    """Issue #26: Cyrillic or "15.03.1985" found nothing; the search wanted the names in
    two fields."""
    register(client, "en", [{**APPLICANT, "given_names": "Oleksandr"}], "14467")

    found = find(staff_clients["volunteer"], name, born)

    assert "Kovalenko, Oleksandr" in found.text, (name, born)


def test_a_search_that_finds_nothing_says_what_was_searched_and_what_to_try(
    staff_clients, client
):
    register(client, "en", [APPLICANT], "14467")
    desk = staff_clients["volunteer"]

    nothing = find(desk, "Kovalenko Tanja", "9/3/1985")  # not the given name registered
    the_hint_followed = find(desk, "Kovalenko", "9/3/1985")

    assert nothing.status_code == 200
    assert "No registration found for “Kovalenko Tanja”, born March 9, 1985." in nothing.text
    assert "Try the family name alone with the date of birth." in nothing.text
    assert "Kovalenko, Taras" in the_hint_followed.text


def test_a_search_in_cyrillic_that_finds_nothing_shows_how_the_name_was_read(staff_clients):
    nothing = find(staff_clients["volunteer"], "Шевчук", "01.02.1970")

    assert "No registration found for “Шевчук”, born February 1, 1970." in nothing.text
    assert "Searched in Latin letters as Shevchuk." in nothing.text


@pytest.mark.parametrize("born", ["31.02.1985", "15.03.85", "03/15/1985", "1985-13", "soon"])
def test_a_date_of_birth_that_cannot_be_read_is_an_error_at_its_field(staff_clients, born):
    page = find(staff_clients["volunteer"], "Kovalenko", born)

    assert page.status_code == 422
    assert "Enter the date of birth as 15.03.1985, 03.1985 or 1985." in page.text
    assert 'id="date_of_birth" name="date_of_birth"' in page.text
    assert 'aria-invalid="true"' in page.text.split('id="date_of_birth"', 1)[1].split(">", 1)[0]
    assert 'value="Kovalenko"' in page.text  # what was typed stays, to be corrected


def test_a_family_name_alone_asks_for_the_date_of_birth(staff_clients):
    page = find(staff_clients["volunteer"], "Kovalenko")

    assert page.status_code == 422
    assert "Enter the date of birth too: a family name alone finds too many people." in page.text


def test_a_search_without_a_name_asks_for_one(staff_clients):
    page = find(staff_clients["volunteer"], "  ", "09.03.1985")

    assert page.status_code == 422
    assert "Enter the family name, or the family name and the given names." in page.text


def test_the_name_search_shows_only_the_authorities_the_account_works_for(
    staff_clients, client
):
    register(client, "en", [APPLICANT], "04916")  # Elbe-Elster (075600): nobody works for it
    register(client, "en", [{**APPLICANT, "given_names": "Ostap"}], "14467")  # Potsdam, 073400

    volunteer = find(staff_clients["volunteer"], "Kovalenko", "09.03.1985").text
    authority_b = find(staff_clients["authority_b"], "Kovalenko", "09.03.1985").text

    assert "Kovalenko, Ostap" in volunteer and "Kovalenko, Taras" not in volunteer
    assert "No registration found" in authority_b and "Kovalenko, " not in authority_b


def test_each_search_is_audited_by_ids_only(staff_clients, client, runtime):
    register(client, "en", [APPLICANT], "14467")

    find(staff_clients["volunteer"], "Коваленко", "09.03.1985")

    with runtime.db.read() as session:
        entries = session.scalars(select(models.AuditEntry).where(
            models.AuditEntry.action == "search")).all()
        registration = session.scalar(select(models.Registration.id))
    assert [(e.record_type, e.record_id) for e in entries] == [("registration", registration)]
    assert all(entry.user_id for entry in entries)


def test_names_and_dates_of_birth_are_sent_in_the_body_never_in_the_address(
    staff_clients, client
):
    """A name and a date of birth in a URL end up in browser histories and proxy logs."""
    register(client, "en", [APPLICANT], "14467")
    desk = staff_clients["volunteer"]
    home = desk.get("/desk/").text
    form = home[home.rindex("<form", 0, home.index('name="name"')):]

    by_address = desk.get("/desk/search?name=Kovalenko&date_of_birth=09.03.1985")

    assert form.startswith('<form method="post"')
    assert "Kovalenko, Taras" not in by_address.text
