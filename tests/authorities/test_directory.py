"""The authority directory's files: the official ABH list, postal codes, the demo pilots;
wrong files refused with a line that says why (the national set: test_national.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.authorities.demo import seed
from intake.cli import main
from intake.registrations import routing
from intake.store import models


def abh_list(xsd_dir: Path) -> Path:
    return xsd_dir / "codelists" / "Gueltige_Auslaenderbehoerden_64.0.xml"


def test_cli_imports_the_official_list_and_routes_postal_codes(app, runtime, xsd_dir, tmp_path):
    codes = tmp_path / "plz.csv"
    codes.write_text("postal_code,authority_key\n76133,000300\n14467,073400\n")

    result = app.test_cli_runner().invoke(
        main, ["authorities", "import", str(abh_list(xsd_dir)), "--postal-codes", str(codes)]
    )

    assert result.exit_code == 0, result.output
    assert "ABH list: 655 authorities (" in result.output
    assert "postal codes: 2 postal codes routed whole (1 new, 0 gone, 0 changed)" in result.output
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Authority)) == 655
        potsdam = session.get_one(models.Authority, "073400")
        assert (potsdam.name, potsdam.kind, potsdam.state) == (
            "STV Potsdam", "Ausländerbehörde", "Brandenburg"
        )
        assert potsdam.street == "Friedrich-Ebert-Straße"  # the demo address is kept
        assert session.get_one(models.Authority, "030401").name == (
            session.get_one(models.Authority, "030401").name.strip()
        )
        assert routing.route(session, "76133").key == "000300"


@pytest.mark.parametrize(
    ("content", "problem"),
    [("1446,073400\n", "five-digit"), ("14467,999999\n", "no authority"),
     ("14467\n", "expected postal_code,authority_key")],
)
def test_a_bad_postal_code_file_is_refused_whole(app, runtime, xsd_dir, tmp_path, content, problem):
    codes = tmp_path / "plz.csv"
    codes.write_text("14471,073000\n" + content)

    result = app.test_cli_runner().invoke(
        main, ["authorities", "import", str(abh_list(xsd_dir)), "--postal-codes", str(codes)]
    )

    assert result.exit_code == 1 and problem in result.output
    assert f"{codes}:2: " in result.output  # the file and the line
    with runtime.db.read() as session:
        assert routing.route(session, "14471").key == "073400"  # nothing changed


def test_another_code_list_is_not_taken_for_the_abh_list(app, xsd_dir):
    result = app.test_cli_runner().invoke(
        main, ["authorities", "import", str(xsd_dir / "codelists" / "Familienstand_2.xml")]
    )
    assert result.exit_code != 0 and "abhkennung" in result.output


def test_demo_pilots_route_their_real_postal_codes(runtime):
    with runtime.db.transaction() as session:
        seed(session)  # a second time: nothing doubles
    with runtime.db.read() as session:
        assert routing.route(session, "14467").name == "STV Potsdam"
        assert routing.route(session, "14943").name == "KRV Teltow-Fläming"
        assert routing.route(session, "04916").name == "LKR Elbe-Elster"
        with pytest.raises(routing.UnknownPostalCode):
            routing.route(session, "10115")


@pytest.mark.parametrize(
    ("option", "is_not"),
    [(None, " is not the ABH list (urn:de:xauslaender:codelist:abhkennung): it is no genericode "
            "code list"),
     ("--municipalities", ":1: not a record of the Gemeindeverzeichnis (GV100AD"),
     ("--postal-codes", ":1: expected postal_code,municipality_key,place_name or "
                        "postal_code,authority_key rows (CSV); this is none of them"),
     ("--jurisdictions", ":1: expected official_key,bhknz rows (CSV); this is none of them")],
)
def test_a_file_of_another_kind_is_named_in_one_line_not_a_traceback(app, xsd_dir, option,
                                                                      is_not):
    """Seen: `intake authorities import README.md` ended in lxml's traceback."""
    readme = Path(__file__).resolve().parents[2] / "README.md"
    arguments = [str(readme)] if option is None else [str(abh_list(xsd_dir)), option,
                                                      str(readme)]

    result = app.test_cli_runner().invoke(main, ["authorities", "import", *arguments])

    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith(f"Error: {readme}{is_not}"), result.output
    assert result.output.count("\n") == 1
