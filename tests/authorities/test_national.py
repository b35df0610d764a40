"""Routing for the whole country, with a national directory shaped like the real files
(tests/helpers/national.py): imported fast and once, every postal code routed or asked."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from intake.authorities import directory, routes
from intake.cli import main
from intake.registrations import routing
from intake.store import models
from tests.helpers.national import NationalSet


def test_the_national_set_is_imported_in_seconds_and_every_postal_code_routed_or_asked(
    app, runtime, national_set: NationalSet
):
    """Seen: the official list alone routed 0 postal codes (coverage 35 of ~8,200)."""
    started = time.perf_counter()
    output = national_set.import_into(app)
    took = time.perf_counter() - started
    print(f"\nnational set imported in {took:.2f} s")  # the figure in the commit

    assert took < 30  # some 1.5 s on a laptop's SQLite: bulk writes, not row by row
    assert f"ABH list: {national_set.authorities} authorities" in output
    assert (f"municipalities: {national_set.municipalities} municipalities in "
            f"{national_set.districts} districts") in output
    # Off a terminal, each file's progress in a plain line: all of its lines read.
    for what in ("municipalities", "postal codes", "jurisdictions"):
        assert re.search(rf"^reading the {what}: (\d+)/\1 \(100%\) in [\d.]+ s, [\d.]+/s$",
                         output, re.MULTILINE), output
    with runtime.db.read() as session:
        count = session.scalar(select(func.count()).select_from(models.PostalRoute))
        assert count > national_set.postal_code_count > 8000
    coverage = app.test_cli_runner().invoke(main, ["authorities", "coverage"])
    assert coverage.exit_code == 0, coverage.output
    total = national_set.postal_code_count + 35  # and the demo pilots'
    assert coverage.output == (
        f"{total} postal codes: {total - len(national_set.asked)} routed, "
        f"{len(national_set.asked)} asked for the place (its places have different "
        "authorities), 0 unrouted; 100.0 % routed or asked\n"
    )


def test_importing_the_same_files_again_changes_nothing(app, runtime, regional_set):
    regional_set.import_into(app)
    before = _everything(runtime)

    again = regional_set.import_into(app)

    assert again.count("(unchanged)") == 4 and "routes: unchanged" in again
    assert _everything(runtime) == before


def _everything(runtime):  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return {model.__tablename__: sorted(map(tuple, session.execute(
            select(*models.table(model).c)).all()))
            for model in (models.Authority, models.District, models.Municipality,
                          models.PostalCodePlace, models.Jurisdiction, models.PostalRoute)}


def test_a_town_with_its_own_authority_wins_over_its_district(app, runtime, regional_set):
    regional_set.import_into(app)
    town, postal_code, authority = regional_set.town

    with runtime.db.read() as session:
        assert routing.route(session, postal_code).key == authority
        district = session.scalar(select(models.Jurisdiction.authority_key).where(
            models.Jurisdiction.official_key == town[:5]))
        assert district not in (None, authority)


def test_a_postal_code_reaching_into_places_of_different_authorities_asks_for_the_place(
    app, runtime, regional_set
):
    regional_set.import_into(app)
    postal_code = regional_set.asked[0]

    with runtime.db.read() as session:
        found = routing.routing(session, postal_code)
        with pytest.raises(routing.PlaceNeeded) as needed:
            routing.route(session, postal_code)
        with pytest.raises(routing.PlaceNeeded) as refused:
            routing.route(session, postal_code, "99999999")
        chosen = {place.municipality_key: routing.route(session, postal_code,
                                                        place.municipality_key).key
                  for place in found.places}

    assert found.asks and not needed.value.refused and refused.value.refused
    assert len(set(chosen.values())) > 1  # each place to its own authority
    assert [place.name for place in found.places] == sorted(p.name for p in found.places)


def _without_the_first_district(app, regional_set, folder) -> str:  # type: ignore[no-untyped-def]
    """Import the set with nobody serving its first district; that district's key."""
    lines = regional_set.jurisdictions.read_text().splitlines()
    fewer = folder / "jurisdictions.csv"
    fewer.write_text("\n".join([lines[0], *lines[2:]]) + "\n")
    arguments = regional_set.import_arguments()
    arguments[-1] = str(fewer)
    result = app.test_cli_runner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    return str(lines[1].split(",")[0])


def test_unrouted_postal_codes_are_listed_and_fail_the_check(app, runtime, regional_set,
                                                             tmp_path):
    regional_set.import_into(app)
    left_out = _without_the_first_district(app, regional_set, tmp_path)

    result = app.test_cli_runner().invoke(main, ["authorities", "coverage", "--listed", "2"])

    assert result.exit_code == 1
    summary, first, second, more = result.output.splitlines()
    assert " 0 unrouted" not in summary and "% routed or asked" in summary
    assert first.startswith("  unrouted: ") and f"({left_out}" in first + second
    assert more.startswith("  ... and ") and more.endswith(" more")
    with runtime.db.read() as session:
        unrouted = first.split()[1]
        with pytest.raises((routing.UnknownPostalCode, routing.PlaceNeeded)):
            routing.route(session, unrouted)  # never to a neighbour's authority


def test_an_empty_directory_fails_the_check(app, runtime):
    with runtime.db.transaction() as session:
        session.execute(models.table(models.PostalRoute).delete())
    result = app.test_cli_runner().invoke(main, ["authorities", "coverage"])
    assert result.exit_code == 1 and "no postal code is routed" in result.output


@pytest.mark.parametrize(
    ("kind", "line", "replaced", "problem"),
    [("gv100ad", 3, "60XXXXXXXX", ":3: not a record of the Gemeindeverzeichnis"),
     ("postal_codes", 2, "0106,01001001,Neuhagen", ":2: '0106' is not a five-digit postal code"),
     ("postal_codes", 2, "01068,0100100,Neuhagen",
      ":2: '0100100' is not an eight-digit municipality key"),
     ("postal_codes", 2, "01068,01001001,", ":2: a place name has 1 to 200 characters"),
     ("jurisdictions", 2, "03001,999999", ":2: no authority with key '999999'"),
     ("jurisdictions", 2, "03999,{2}",
      ":2: 03999 is no district or municipality of the Gemeindeverzeichnis imported"),
     ("jurisdictions", 3, "03001,{3}", ":3: 03001 is served by")],
)
def test_a_bad_line_names_its_file_and_line_and_nothing_is_imported(
    app, runtime, regional_set, tmp_path, kind, line, replaced, problem
):
    original = getattr(regional_set, kind)
    lines = original.read_text(encoding="utf-8").splitlines()
    authorities = {f"{{{n}}}": lines[n - 1].split(",")[-1] for n in (2, 3)}  # in the list
    for placeholder, authority in authorities.items():
        replaced = replaced.replace(placeholder, authority)
    lines[line - 1] = replaced if kind != "gv100ad" else replaced + lines[line - 1][10:]
    broken = tmp_path / original.name
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    arguments = [str(broken) if argument == str(original) else argument
                 for argument in regional_set.import_arguments()]

    result = app.test_cli_runner().invoke(main, arguments)

    # After the progress of the files read before it, the error in one line.
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(f"Error: {broken}{problem}")
    with runtime.db.read() as session:  # one transaction: not even the ABH list
        assert session.scalar(select(func.count()).select_from(models.Authority)) == 3


def test_progress_is_told_line_by_line_and_adds_up_to_each_file(runtime, regional_set):
    told: list[int] = []
    with runtime.db.transaction() as session:
        directory.import_abh_list(session, regional_set.abh_list, told.append)
        assert told == [regional_set.authorities]
        for step, path in ((directory.import_municipalities, regional_set.gv100ad),
                           (directory.import_postal_codes, regional_set.postal_codes),
                           (directory.import_jurisdictions, regional_set.jurisdictions)):
            told.clear()
            step(session, path, told.append)
            lines = len(path.read_text(encoding="utf-8").splitlines())
            assert sum(told) == lines and max(told) <= 1000
            assert len(told) == -(-lines // 1000)  # every thousand lines, not every line


def test_places_of_one_name_are_told_apart_by_their_district():
    districts = {"01001": "Landkreis Nord", "01002": "Landkreis Süd"}
    places = [("01001001", "Neustadt"), ("01002001", "Neustadt"), ("01002002", "Au"),
              ("01002003", "Au")]

    assert routes._labels(places, districts) == [
        ("01001001", "Neustadt (Landkreis Nord)"), ("01002001", "Neustadt (Landkreis Süd)"),
        ("01002002", "Au (Landkreis Süd) (01002002)"),
        ("01002003", "Au (Landkreis Süd) (01002003)"),
    ]


def test_a_postal_code_routed_whole_yields_to_the_jurisdiction_and_fills_in_where_it_is_silent(
    app, runtime, regional_set, tmp_path
):
    """The older form of the postal-code table (`postal_code,authority_key`) keeps routing
    what the jurisdiction does not cover, so a deployment moves over by importing."""
    _without_the_first_district(app, regional_set, tmp_path)
    with runtime.db.read() as session:
        [unrouted, *_] = routes.coverage(session).unrouted
    asked, silent = regional_set.asked[0], unrouted.split()[0]
    whole = tmp_path / "whole.csv"
    whole.write_text(f"{asked},073400\n{silent},073400\n")

    result = app.test_cli_runner().invoke(main, ["authorities", "import",
                                                 str(regional_set.abh_list),
                                                 "--postal-codes", str(whole)])

    assert result.exit_code == 0, result.output
    with runtime.db.read() as session:
        assert routing.routing(session, asked).asks  # each place still to its own authority
        found = routing.routing(session, silent)
        assert {place.authority.key for place in found.places if place.authority} >= {"073400"}
        assert all(place.authority is not None for place in found.places)


def test_a_table_of_another_kind_is_not_taken_for_postal_codes(app, regional_set):
    arguments = regional_set.import_arguments()
    arguments[arguments.index("--postal-codes") + 1] = str(regional_set.jurisdictions)

    result = app.test_cli_runner().invoke(main, arguments)

    assert result.exit_code == 1
    assert result.output.endswith(
        f"\nError: {regional_set.jurisdictions}:1: expected postal_code,municipality_key,"
        "place_name or postal_code,authority_key rows (CSV); this is none of them\n")
