"""`intake authorities hours import FILE` and `export`: opening hours for many authorities."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from intake.cli import main
from intake.registrations import booking, schedule
from intake.store import models

HEADER = "authority,slot_minutes,seats_per_slot,priority_seats,mon,tue,wed,thu,fri,sat,sun\n"


def hours_import(app, path):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(main, ["authorities", "hours", "import", str(path)])


def weeks(runtime) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return {authority.key: schedule.week_of(session, authority).fields()
                for authority in session.scalars(select(models.Authority))}


def test_a_file_gives_several_authorities_their_weeks_and_slots(app, runtime, tmp_path):
    path = tmp_path / "hours.csv"
    path.write_text(HEADER
                    + '073000,30,8,1,08:00-12:00,"08:00-12:00, 13:00-15:00",,,07:30-11:30,,\n'
                    + "075600,,,,9-12 13-15,,,,,,\n")

    result = hours_import(app, path)

    assert result.exit_code == 0, result.output
    assert "opening hours of 2 authorities saved" in result.output
    saved = weeks(runtime)
    assert saved["073000"] == {"slot_minutes": "30", "seats_per_slot": "8",
                               "priority_seats": "1", "mon": "08:00-12:00",
                               "tue": "08:00-12:00, 13:00-15:00", "wed": "", "thu": "",
                               "fri": "07:30-11:30", "sat": "", "sun": ""}
    assert saved["075600"]["mon"] == "09:00-12:00, 13:00-15:00"
    assert saved["075600"]["slot_minutes"] == "15"  # an empty cell keeps the value
    assert saved["073400"]["thu"] == "08:00-12:00, 13:00-17:00"  # not in the file: as it was
    with runtime.db.read() as session:
        starts = session.scalars(select(models.Slot.starts_at).where(
            models.Slot.authority_key == "073000",
            models.Slot.starts_at > dt.datetime.now(dt.UTC))).all()
        assert starts and {booking.aware(start).astimezone(booking.LOCAL_TIME).weekday()
                           for start in starts} <= {0, 1, 4}
        audited = session.scalar(select(func.count()).select_from(models.AuditEntry).where(
            models.AuditEntry.action == "opening hours", models.AuditEntry.user_id.is_(None),
            models.AuditEntry.record_id == "073000"))
        assert audited == 1


def test_export_writes_the_file_that_import_takes_back(app, runtime, tmp_path):
    exported = app.test_cli_runner().invoke(main, ["authorities", "hours", "export", "073400"])

    assert exported.exit_code == 0, exported.output
    assert exported.output == (HEADER + '073400,15,20,2,08:00-12:00,"08:00-12:00, 13:00-17:00",'
                               '08:00-12:00,"08:00-12:00, 13:00-17:00",08:00-12:00,,\n')
    path = tmp_path / "hours.csv"
    path.write_text(exported.output.replace("073400,15,20,2", "073400,20,20,2"))
    assert hours_import(app, path).exit_code == 0
    assert weeks(runtime)["073400"]["slot_minutes"] == "20"
    unknown = app.test_cli_runner().invoke(main, ["authorities", "hours", "export", "999999"])
    assert unknown.exit_code == 2 and "no authority 999999" in unknown.output


def test_a_spreadsheets_semicolons_and_byte_order_mark_are_read(app, runtime, tmp_path):
    path = tmp_path / "hours.csv"
    path.write_bytes("\ufeffauthority;mon;fri\n075600;08:00-12:00, 13:00-15:00;8-10\n"
                     .encode())

    result = hours_import(app, path)

    assert result.exit_code == 0, result.output
    assert weeks(runtime)["075600"]["mon"] == "08:00-12:00, 13:00-15:00"
    assert weeks(runtime)["075600"]["tue"] == ""  # no column: no appointments


@pytest.mark.parametrize(("content", "problem"), [
    (HEADER + "073000,15,20,2,8-12,,,,,,\n073400,15,20,2,,9 bis 10,,,,,\n",
     "hours.csv:3: Tuesday: Enter the times from and to, such as 08:00-12:00"),
    (HEADER + "073000,0,20,2,8-12,,,,,,\n",
     "hours.csv:2: Slot length in minutes: Enter a whole number from 5 to 240."),
    (HEADER + "073000,15,20,2,10-12 11-13,,,,,,\n", "hours.csv:2: Monday: The periods overlap."),
    (HEADER + "999999,15,20,2,8-12,,,,,,\n", "hours.csv:2: no authority with key '999999'"),
    (HEADER + "073000,15,20,2,8-12,,,,,,\n073000,15,20,2,8-12,,,,,,\n",
     "hours.csv:3: authority 073000 is on line 2 already"),
    (HEADER + "073000,15,20\n", "hours.csv:2: 3 cells, the header has 11"),
    ("authority,monday\n073000,8-12\n", "hours.csv:1: the header names the columns"),
    ("mon\n8-12\n", "authority is missing"),
    ("", "authority is missing"),
])
def test_a_bad_file_is_refused_whole_naming_file_and_line(app, runtime, tmp_path, content,
                                                         problem):
    path = tmp_path / "hours.csv"
    path.write_text(content)
    before = weeks(runtime)

    result = hours_import(app, path)

    assert result.exit_code == 1
    assert problem in result.output and str(path) in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert weeks(runtime) == before


def test_a_file_that_is_not_utf8_is_named(app, tmp_path):
    path = tmp_path / "hours.csv"
    path.write_bytes("authority,mon\n073000,8–12\n".encode("cp1252"))

    result = hours_import(app, path)

    assert result.exit_code == 1 and "not UTF-8 text" in result.output


def test_booked_appointments_that_no_longer_fit_are_listed(app, runtime, tmp_path):
    with runtime.db.transaction() as session:
        slot = session.scalars(select(models.Slot).where(
            models.Slot.authority_key == "073400",
            models.Slot.starts_at > dt.datetime.now(dt.UTC)).order_by(models.Slot.starts_at)
        ).first()
        assert slot is not None
        slot.taken = 4  # as if booked (the seats only: no household is listed anyway)
        local = booking.aware(slot.starts_at).astimezone(booking.LOCAL_TIME)
    path = tmp_path / "hours.csv"
    path.write_text("authority,sun\n073400,10-11\n")

    result = hours_import(app, path)

    assert result.exit_code == 0, result.output
    assert "073400: 1 booked appointment(s) no longer fit and are kept:" in result.output
    assert f"{local:%Y-%m-%d %H:%M}: 4 people booked, outside the opening hours" in result.output
