"""Key rotation: every personal field ends up under the new key, and stays unreadable as text."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, update

from intake import create_app
from intake.config import new_data_key, parse_data_keys
from intake.delivery import batches
from intake.runtime import Runtime
from intake.security import rotation
from intake.store import household_rows, models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.forms import APPLICANT
from tests.helpers.forms import post as form_post
from tests.helpers.pipeline import delivered, process_queue
from tests.helpers.privacy import SECRETS, raw_database_text


def test_rotation_re_encrypts_everything_and_the_old_key_can_go(client, submit_token, runtime):
    for _ in range(3):
        post(client, submit_token, ADULT)
    process_queue(runtime)  # their messages built and delivered under the old key
    form_post(client, "/en/", {"who": "self"})
    form_post(client, "/en/person/0", APPLICANT)  # a draft in progress, too
    new_keys = parse_data_keys(new_data_key("t2")) + runtime.settings.data_keys
    rotated = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys))

    counts = rotation.rotate(rotated, batch=2)  # small batches: several transactions

    # Registrations, persons, the draft, messages, the summaries they name; a file.
    assert counts == (3 + 3 + 1 + 3 + 3, 1)
    assert rotation.rotate(rotated, batch=2) == (0, 0)  # nothing left on the old key
    with rotated.db.read() as session:
        values = [
            value
            for model, column, _context in rotation.ENCRYPTED
            for value in session.scalars(select(getattr(model, column)))
            if value is not None  # a summary has no description
        ]
    assert values and all(value.startswith("t2.") for value in values)
    stored = raw_database_text(rotated)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
    only_new = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys[:1]))
    with only_new.db.read() as session:
        for found in session.scalars(select(models.Registration)):
            assert household_rows.load_household(only_new.cipher, found).applicant.given_names
        for batch in session.scalars(select(models.Batch)):  # a lost file can be written again
            assert batches.archive(session, only_new.cipher, only_new.blobs, batch)
    assert len(delivered(only_new.settings)) == 3  # the batch file opens without the old key
    app = create_app(only_new.settings)
    assert app.test_client().get("/en/").status_code == 200
    app.extensions["intake"].close()
    rotated.close()
    only_new.close()


def test_cli_rotates(app, runtime):
    from intake.cli import main

    result = app.test_cli_runner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0 and "0 values and 0 batch files re-encrypted with key t1" in result.output


def test_a_mail_still_owed_opens_after_rotation_without_the_old_key(client, runtime):
    """An unsent e-mail carries the status token encrypted: found by a helper's review, the
    rotation passed it by, and removing the old key would have made it unsendable."""
    from intake.store import mail_rows
    from tests.helpers.forms import register

    assert register(client, "en", [APPLICANT], "14467").status_code == 303  # mail owed
    new_keys = parse_data_keys(new_data_key("t2")) + runtime.settings.data_keys
    rotated = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys))
    rotation.rotate(rotated)
    only_new = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys[:1]))

    with only_new.db.read() as session:
        [mail] = session.scalars(select(models.Mail)).all()
        assert mail_rows.carried(only_new.cipher, mail.id, mail.data)["token"]
    rotated.close()
    only_new.close()


def test_cli_refuses_a_batch_of_no_rows(app):
    from intake.cli import main

    result = app.test_cli_runner().invoke(main, ["keys", "rotate", "--batch", "0"])

    assert result.exit_code == 2  # was an IndexError's traceback
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--batch': 0 is not in the range x>=1.")


def test_cli_says_which_key_is_missing_and_what_to_do(app, client, submit_token, runtime):
    from intake.cli import main

    post(client, submit_token, ADULT)  # under t1
    without_t1 = dataclasses.replace(runtime.settings,
                                     data_keys=parse_data_keys(new_data_key("t2")))
    other = create_app(without_t1)

    result = other.test_cli_runner().invoke(main, ["keys", "rotate"])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: stopped: no data key with id 't1'. A key missing from INTAKE_DATA_KEYS goes "
        "back in (after the newest), then rotate again; what was re-encrypted stays so")
    assert "Traceback" not in result.stderr
    other.extensions["intake"].close()


def _with_new_key(runtime: Runtime) -> Runtime:
    new_keys = parse_data_keys(new_data_key("t2")) + runtime.settings.data_keys
    return Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys))


def _statements(runtime: Runtime, verb: str) -> list[tuple[str, Any, bool]]:
    """The statements beginning with `verb` that `runtime` sends from now on: text,
    parameters, and whether as executemany."""
    seen: list[tuple[str, Any, bool]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(verb):
            seen.append((statement, parameters, executemany))

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    return seen


def _stored(runtime: Runtime, model: Any = models.Registration) -> dict[str, str]:
    with runtime.db.read() as session:
        return {key: value for key, value in session.execute(select(model.id, model.data))}


def test_a_page_is_written_with_one_statement_whatever_its_rows(client, submit_token, runtime):
    """A page of rows is one UPDATE sent with all its rows (executemany): one per row took
    a round trip each, and on SQLite held the one write slot through all of them."""
    for _ in range(7):
        post(client, submit_token, ADULT)  # a registration and a person each
    rotated = _with_new_key(runtime)
    updates = _statements(rotated, "UPDATE")

    assert rotation.rotate(rotated, batch=4) == (7 + 7, 0)

    pages = sorted((statement.split()[1], executemany, len(parameters))
                   for statement, parameters, executemany in updates)
    assert pages == [("person", True, 3), ("person", True, 4),
                     ("registration", True, 3), ("registration", True, 4)]
    rotated.close()


def test_a_page_of_large_values_is_written_in_parts_each_its_own_transaction(
        client, submit_token, runtime, monkeypatch):
    """Messages that enclose a summary PDF take some 20 KB each: a page of 500 written at
    once held SQLite's write lock for seconds while registrations waited."""
    for _ in range(3):
        post(client, submit_token, ADULT)
    rotated = _with_new_key(runtime)
    updates = _statements(rotated, "UPDATE")
    commits: list[int] = []
    event.listen(rotated.db.engine, "commit", lambda _conn: commits.append(1))
    monkeypatch.setattr(rotation, "WRITE_BYTES", 1)  # every value a part of its own

    assert rotation.rotate(rotated, batch=4) == (3 + 3, 0)

    # One value each: a statement with one row's parameters, not a list of rows.
    assert sorted((statement.split()[1], many) for statement, _parameters, many
                  in updates) == [("person", False)] * 3 + [("registration", False)] * 3
    assert len(commits) >= 6
    assert all(value.startswith("t2.") for value in _stored(rotated).values())
    rotated.close()


def test_rotation_over_many_small_pages_rotates_everything(client, submit_token, runtime):
    for _ in range(5):
        post(client, submit_token, ADULT)
    rotated = _with_new_key(runtime)
    updates = _statements(rotated, "UPDATE")

    assert rotation.rotate(rotated, batch=2) == (5 + 5, 0)

    assert len(updates) == 3 + 3  # pages of 2, 2 and 1 for each table
    for model in (models.Registration, models.Person):
        assert all(value.startswith("t2.") for value in _stored(rotated, model).values())
    rotated.close()


def test_a_value_changed_meanwhile_is_kept_and_the_next_rotation_takes_it(
    client, submit_token, runtime, monkeypatch
):
    """The service may change a value between the page's reading and its writing (here a
    process still on the old key): what it wrote stays, and the next rotation takes it."""
    for _ in range(3):
        post(client, submit_token, ADULT)
    rotated = _with_new_key(runtime)
    target = sorted(_stored(runtime))[1]
    context = household_rows.context("registration", target)
    changed = runtime.cipher.encrypt(json.dumps({"changed": "meanwhile"}), context)
    encrypt = rotated.cipher.encrypt_bytes

    def while_encrypting(plaintext: bytes, at: str) -> str:
        if at == context:  # between the page's reading and its writing
            with runtime.db.transaction() as session:
                session.execute(update(models.Registration)
                                .where(models.Registration.id == target).values(data=changed))
        return encrypt(plaintext, at)

    monkeypatch.setattr(rotated.cipher, "encrypt_bytes", while_encrypting)
    assert rotation.rotate(rotated, batch=10) == (3 + 3 - 1, 0)  # all but the changed one
    assert _stored(rotated)[target] == changed
    monkeypatch.undo()

    assert rotation.rotate(rotated) == (1, 0)
    assert _stored(rotated)[target].startswith("t2.")
    assert json.loads(rotated.cipher.decrypt(_stored(rotated)[target], context)) == {
        "changed": "meanwhile"}
    rotated.close()


def test_a_stopped_rotation_goes_on_where_it_stopped(client, submit_token, runtime, monkeypatch):
    for _ in range(5):
        post(client, submit_token, ADULT)
    rotated = _with_new_key(runtime)
    encrypt, encrypted = rotated.cipher.encrypt_bytes, 0

    def stopping(plaintext: bytes, at: str) -> str:
        nonlocal encrypted
        encrypted += 1
        if encrypted > 4:  # the third page of registrations
            raise KeyboardInterrupt
        return encrypt(plaintext, at)

    monkeypatch.setattr(rotated.cipher, "encrypt_bytes", stopping)
    with pytest.raises(KeyboardInterrupt):
        rotation.rotate(rotated, batch=2)
    assert sorted(value[:3] for value in _stored(rotated).values()) == ["t1."] + ["t2."] * 4
    monkeypatch.undo()
    counted: list[tuple[str, int]] = []

    @contextmanager
    def meter(label: str, total: int) -> Iterator[Any]:
        counted.append((label, total))
        yield lambda steps: counted.append((label, steps))

    assert rotation.rotate(rotated, batch=2, meter=meter) == (1 + 5, 0)
    assert counted[0] == ("re-encrypting values", 6)
    assert sum(steps for label, steps in counted[1:] if label == "re-encrypting values") == 6
    assert all(value.startswith("t2.") for value in _stored(rotated).values())
    rotated.close()


def test_a_page_walks_the_primary_key_index_and_sorts_nothing(client, submit_token, runtime):
    """Each page starts where the last ended, on the primary key's index: at a million rows
    it costs what it costs at ten (a sort, or an OFFSET, would read the table each time)."""
    if not runtime.db.takes_write_lock_in_process:
        pytest.skip("SQLite's plan; PostgreSQL chooses by the table's size (bench/key_rotation.py)")
    for _ in range(3):
        post(client, submit_token, ADULT)
    rotated = _with_new_key(runtime)
    selects = _statements(rotated, "SELECT")

    rotation.rotate(rotated, batch=2)

    pages = [(statement, parameters) for statement, parameters, _many in selects
             if "LIMIT" in statement]
    assert len(pages) >= 4  # first and next pages of registrations and persons at least
    with rotated.db.read() as session:
        for statement, parameters in pages:
            plan = " | ".join(row[3] for row in session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "TEMP B-TREE" not in plan, plan  # no sort
            assert "USING INDEX sqlite_autoindex" in plan or "USING PRIMARY KEY" in plan, plan
    rotated.close()


def test_batch_files_are_encrypted_again_as_they_are_and_a_broken_one_made_anew(
    client, submit_token, runtime, monkeypatch
):
    for postal_code in ("14467", "14943"):  # two authorities: two batch files
        post(client, submit_token, {**ADULT, "postal_code": postal_code})
    process_queue(runtime)
    sent = delivered(runtime.settings)
    [kept, broken] = sorted(runtime.settings.xml_out.glob("*/*.zip.enc"))
    broken.write_bytes(broken.read_bytes()[:-40])  # cut short: it opens under no key
    packed, pack_into = [], batches.pack_into
    monkeypatch.setattr(batches, "pack_into", lambda *args: packed.append(args[-1].id)
                        or pack_into(*args))
    new_keys = parse_data_keys(new_data_key("t2")) + runtime.settings.data_keys
    rotated = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys))

    assert rotation.rotate(rotated)[1] == 2

    # The intact file was read and written again; only the broken one was packed anew.
    assert packed == [broken.name.split(".")[0]]
    only_new = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys[:1]))
    assert delivered(only_new.settings) == sent
    assert kept.read_bytes().startswith(b"t2.") and broken.read_bytes().startswith(b"t2.")
    rotated.close()
    only_new.close()


def test_a_batch_file_written_meanwhile_is_not_replaced_by_the_older_one(
    client, submit_token, runtime, monkeypatch
):
    from intake.delivery import batch_files

    post(client, submit_token, ADULT)
    process_queue(runtime)
    [path] = runtime.settings.xml_out.glob("*/*.zip.enc")
    new_keys = parse_data_keys(new_data_key("t2")) + runtime.settings.data_keys
    rotated = Runtime(dataclasses.replace(runtime.settings, data_keys=new_keys))
    encrypt_again = batch_files.encrypt_again

    def written_meanwhile(cipher, xml_out, batch):  # type: ignore[no-untyped-def]
        aside = encrypt_again(cipher, xml_out, batch)
        path.write_bytes(b"t2.written by an erasure meanwhile")  # replaced after the read
        return aside

    monkeypatch.setattr(batch_files, "encrypt_again", written_meanwhile)
    assert rotation.rotate(rotated)[1] == 1

    assert path.read_bytes() == b"t2.written by an erasure meanwhile"
    assert not list(runtime.settings.xml_out.glob("*/.*"))  # nothing left aside
    rotated.close()
