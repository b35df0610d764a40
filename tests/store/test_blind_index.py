"""Blind indexes: which spellings meet, how one typed name is read, and the persons stored
before the family-name index (revision 0016), indexed by `intake db upgrade`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.cli import main
from intake.store import blind_index, household_rows, models
from intake.web.forms import as_latin
from tests.helpers.forms import APPLICANT, register


@pytest.mark.parametrize("spellings", [
    ("Kovalenko", "Kowalenko", "KOVALENKO", "Коваленко"),
    ("Oleksandr", "Aleksandr", "Olexandr", "Alexander", "Олександр", "Александр"),
    ("Olena", "Elena", "Alena", "Олена", "Елена"),
    ("Shevchenko", "Шевченко"),
    ("Yurii", "Yuriy", "Iurii", "Jurij", "Юрій", "Юрий"),
    ("Serhii", "Sergei", "Sergiy", "Сергій", "Сергей"),
    ("Tetiana", "Tatiana", "Tetyana", "Тетяна", "Татьяна"),
    ("Kharkiv", "Harkiv", "Харків"),
])
def test_the_usual_spellings_of_a_name_share_a_skeleton(spellings):
    """What the desk search and the duplicate warning can promise; German forms such as
    Schewtschenko or Charkiw are not among them."""
    assert len({blind_index.skeleton(as_latin(spelling)) for spelling in spellings}) == 1


def test_a_name_in_one_field_is_read_as_a_family_name_alone_or_divided_both_ways():
    assert blind_index.readings("Kovalenko") == [("Kovalenko", None)]
    assert blind_index.readings(" Kovalenko ,  Taras ") == [("Kovalenko", "Taras")]
    assert blind_index.readings("Kovalenko,") == [("Kovalenko", None)]
    assert blind_index.readings("Anna Maria Schmidt") == [
        ("Anna Maria Schmidt", None),
        ("Anna", "Maria Schmidt"), ("Maria Schmidt", "Anna"),
        ("Anna Maria", "Schmidt"), ("Schmidt", "Anna Maria"),
    ]
    assert blind_index.readings("  ") == blind_index.readings(", Taras") == []


def test_persons_stored_before_the_family_index_are_indexed_by_db_upgrade(app, client, runtime):
    register(client, "en", [APPLICANT], "14467")
    register(client, "en", [{**APPLICANT, "given_names": "Ostap"}], "14467")
    cli = app.test_cli_runner()
    with runtime.db.read() as session:
        erased = session.scalars(select(models.Registration.reference)).all()[1]
    assert cli.invoke(main, ["erase", erased]).exit_code == 0
    # Back to the release before the index, and up again: the rows have no family index.
    assert cli.invoke(main, ["db", "downgrade", "0015"]).exit_code == 0

    upgraded = cli.invoke(main, ["db", "upgrade"])

    assert upgraded.exit_code == 0, upgraded.output
    assert "search indexes written for persons stored before them: 1" in upgraded.output
    with runtime.db.read() as session:
        indexes = dict(session.execute(
            select(models.Person.data.is_(None), models.Person.family_index)).all())
    # Found by the family name alone, as the desk searches (any spelling: the skeleton).
    assert indexes[False] == blind_index.family_index(runtime.cipher, "Kowalenko", "1985-03-09")
    assert indexes[True] is None  # the erased person stays unfindable
    assert "search indexes" not in cli.invoke(main, ["db", "upgrade"]).output  # nothing left


def test_persons_indexed_with_256_bits_are_found_after_db_upgrade(app, client, runtime):
    """Revision 0022 keeps 128 bits of each blind index (issue #29): rows written before,
    with all 64 hex digits, are found by the desk's search and the lost-link page after."""
    from sqlalchemy import update

    from intake.store import mail_rows

    register(client, "en", [APPLICANT], "14467")
    cli = app.test_cli_runner()
    assert cli.invoke(main, ["db", "downgrade", "0021"]).exit_code == 0
    full = runtime.cipher.blind_index  # as written before: 64 digits
    family, given = blind_index.skeleton("Kovalenko"), blind_index.skeleton("Taras")
    with runtime.db.transaction() as session:
        session.execute(update(models.Person).values(
            name_index=full(f"name|{family}|{given}|1985-03-09"),
            family_index=full(f"family|{family}|1985-03-09"),
        ))
        session.execute(update(models.Registration).values(
            email_index=full("email|taras@example.org")))

    assert cli.invoke(main, ["db", "upgrade"]).exit_code == 0

    with runtime.db.read() as session:
        assert {len(index) for index in session.scalars(select(models.Person.name_index))} == {32}
        by_name = blind_index.registrations_named(
            session, runtime.cipher, "Kowalenko, Taras", "1985-03-09")
        by_family = blind_index.registrations_named(
            session, runtime.cipher, "Kovalenko", "1985-03-09")
        by_address = session.scalars(select(models.Registration).where(
            models.Registration.email_index == mail_rows.email_index(
                runtime.cipher, "Taras@Example.org"))).all()
    assert len(by_name) == len(by_family) == len(by_address) == 1


@pytest.mark.parametrize("households", [1, 4])
def test_a_duplicate_check_reads_the_same_statements_however_many_it_finds(
        households, client, runtime):
    """Issue #29: each found household's persons were read one query each (lazy loading),
    so a check cost more the more it found."""
    from sqlalchemy import event

    for _ in range(households):
        register(client, "en", [APPLICANT], "14467")
    person = {"family_name": "Kovalenko", "given_names": "Taras", "date_of_birth": "1985-03-09"}
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT"):
            statements.append(statement)

    with runtime.db.read() as session:
        event.listen(runtime.db.engine, "before_cursor_execute", count)
        try:
            found = blind_index.duplicates(session, runtime.cipher, [person], ("073400",))
            named = blind_index.registrations_named(
                session, runtime.cipher, "Kovalenko Taras", "1985-03-09")
            names = [household_rows.load_household(runtime.cipher, r).persons[0].given_names
                     for r in named]
        finally:
            event.remove(runtime.db.engine, "before_cursor_execute", count)
    assert len(found) == len(named) == households and set(names) == {"Taras"}
    # The check: persons by index, their registrations, those households' persons; the
    # search: the registrations, their persons.
    assert len(statements) == 5, statements
    if runtime.db.engine.dialect.name == "sqlite":  # by the indexes, never a walk of an authority
        with runtime.db.engine.connect() as connection:
            plans = [" ".join(str(step[3]) for step in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, (("x",) * statement.count("?"))).all())
                for statement in statements[:2]]
        assert all("authority_key" not in plan and "SCAN person" not in plan
                   and "SCAN registration" not in plan for plan in plans), plans
