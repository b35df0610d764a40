"""Batch files only their authority can read: sealed to its key, or under the data key at rest;
private modes; erasure, key changes and crashes write them again."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import subprocess

import pytest
from sqlalchemy import select, update

from intake.authorities import keys
from intake.delivery import batch_files, files, scheduler
from intake.store import models
from tests.helpers.api import api, authority_token, post
from tests.helpers.data import ADULT
from tests.helpers.keys import KeyPair, key_pair, zip_members
from tests.helpers.pipeline import batch_file_names, delivered, process_queue, unsealed_zip

POTSDAM = "073400"  # where ADULT's postal code routes


def set_key(runtime, pair: KeyPair, authority: str = POTSDAM) -> str:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        return keys.set_key(session, runtime.cipher, runtime.blobs, runtime.settings.xml_out, authority,
                            pair.public_pem, None)


def the_batch(runtime) -> models.Batch:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return session.scalars(select(models.Batch)).one()


@pytest.fixture(scope="module")
def pair() -> KeyPair:
    return key_pair()


@pytest.mark.parametrize("sealed", [False, True], ids=["data key", "sealed"])
def test_no_batch_file_holds_xml_or_a_name_in_the_clear(client, submit_token, runtime, pair,
                                                        sealed):
    if sealed:
        set_key(runtime, pair)
    made = post(client, submit_token, ADULT).json
    process_queue(runtime)

    [name] = batch_file_names(runtime.settings.xml_out)
    stored = name.read_bytes()
    assert name.name.endswith(".zip.jwe" if sealed else ".zip.enc")
    for clear in (b"<?xml", b"Shevchenko", b"manifest.json", b"PK\x03\x04",
                  made["applications"][0]["application_id"].encode()):
        assert clear not in stored, clear
    every_file = [path for path in runtime.settings.xml_out.rglob("*") if path.is_file()]
    assert every_file == [name]
    if sealed:  # and the authority reads it all
        header, zipped = pair.open(stored)
        assert header == {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": pair.thumbprint}
        assert the_batch(runtime).sealed_to == pair.thumbprint
    else:
        zipped = unsealed_zip(runtime.settings, name)
    [xml] = zip_members(zipped)[1].values()
    assert b"Shevchenko" in xml


def test_files_are_0600_in_folders_0700_whatever_the_umask(client, submit_token, runtime,
                                                           monkeypatch):
    runtime.settings.xml_out.mkdir(mode=0o755)  # as an earlier release left it
    modes_before_rename = []
    rename = os.replace

    def watched(source, target):  # type: ignore[no-untyped-def]
        modes_before_rename.append(stat.S_IMODE(os.stat(source).st_mode))
        rename(source, target)

    monkeypatch.setattr(files.os, "replace", watched)
    old_umask = os.umask(0o022)
    try:
        post(client, submit_token, ADULT)
        process_queue(runtime)
    finally:
        os.umask(old_umask)

    [name] = batch_file_names(runtime.settings.xml_out)
    assert modes_before_rename == [0o600]
    assert stat.S_IMODE(name.stat().st_mode) == 0o600
    for folder in (runtime.settings.xml_out, name.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_sealed_batch_from_the_api_opens_with_the_authoritys_private_key(
    client, submit_token, runtime, pair
):
    """Decrypted with joserfc, an implementation independent of the service's jwcrypto."""
    set_key(runtime, pair)
    made = [post(client, submit_token, ADULT).json for _ in range(2)]
    process_queue(runtime)
    batch = the_batch(runtime)

    answer = api(client, authority_token(runtime, POTSDAM), "GET", f"/api/v1/batches/{batch.id}")

    assert answer.status_code == 200 and answer.mimetype == "application/jose"
    assert f'filename="{batch.id}.zip.jwe"' in answer.headers["Content-Disposition"]
    header, zipped = pair.open(answer.data)
    assert header["kid"] == pair.thumbprint
    manifest, messages = zip_members(zipped)
    wanted = {f"{m['applications'][0]['application_id']}.xml" for m in made}
    assert set(messages) == wanted and manifest["count"] == 2
    with runtime.db.read() as session:
        entry = session.scalars(select(models.AuditEntry)
                                .order_by(models.AuditEntry.id.desc())).first()
        assert entry is not None and (entry.action, entry.record_id) == ("download", batch.id)


def jose_takes_rsa_oaep_256() -> bool:
    listed = subprocess.run(["jose", "alg"], capture_output=True, text=True, timeout=30)
    return "RSA-OAEP-256" in listed.stdout.split()


@pytest.mark.skipif(shutil.which("jose") is None,
                    reason="the jose command (Debian: apt-get install jose) is not installed")
def test_the_jose_command_decrypts_a_sealed_batch(client, submit_token, runtime, pair, tmp_path):
    if not jose_takes_rsa_oaep_256():  # a second reason, found only by asking it
        pytest.skip("this jose lacks RSA-OAEP-256: releases before 12, built with OpenSSL 3 "
                    "(Debian 12's 11), have no RSA-OAEP (latchset/jose#139, fixed in v12)")
    set_key(runtime, pair)
    made = post(client, submit_token, ADULT).json
    process_queue(runtime)
    [sealed] = batch_file_names(runtime.settings.xml_out)
    key = tmp_path / "authority.jwk"
    key.write_text(pair.private_jwk)
    out = tmp_path / "batch.zip"

    subprocess.run(["jose", "jwe", "dec", "-i", str(sealed), "-k", str(key), "-O", str(out)],
                   check=True, capture_output=True, timeout=60)

    _manifest, messages = zip_members(out.read_bytes())
    assert list(messages) == [f"{made['applications'][0]['application_id']}.xml"]


@pytest.mark.parametrize("sealed", [False, True], ids=["data key", "sealed"])
def test_intake_erase_takes_the_person_out_of_a_written_batch(app, client, submit_token, runtime,
                                                             pair, sealed):
    from intake.cli import main

    if sealed:
        set_key(runtime, pair)
    kept, erased = (post(client, submit_token, ADULT).json for _ in range(2))
    process_queue(runtime)
    batch = the_batch(runtime)
    token = authority_token(runtime, POTSDAM)

    def download() -> tuple[dict, dict]:  # type: ignore[type-arg]
        answer = api(client, token, "GET", f"/api/v1/batches/{batch.id}")
        return zip_members(pair.open(answer.data)[1] if sealed else answer.data)

    assert download()[0]["count"] == 2
    result = app.test_cli_runner().invoke(main, ["erase", erased["reference"]])

    assert result.exit_code == 0, result.output
    manifest, messages = download()
    assert manifest["count"] == 1
    assert list(messages) == [f"{kept['applications'][0]['application_id']}.xml"]
    [name] = batch_file_names(runtime.settings.xml_out)  # the file held, not only the answer
    on_disk = pair.open(name.read_bytes())[1] if sealed else unsealed_zip(runtime.settings, name)
    assert zip_members(on_disk)[0]["count"] == 1


def test_a_new_key_reseals_unacknowledged_batches_and_removing_it_unseals_them(
    client, submit_token, runtime, pair
):
    first, second = key_pair(), pair
    set_key(runtime, first)
    for postal_code in ("14467", "14467"):  # two batches: one acknowledged, one not
        post(client, submit_token, {**ADULT, "postal_code": postal_code})
        process_queue(runtime)
    with runtime.db.transaction() as session:
        done, waiting = session.scalars(select(models.Batch).order_by(models.Batch.sequence))
        done.acknowledged_at = dt.datetime.now(dt.UTC)
    folder = runtime.settings.xml_out / POTSDAM

    set_key(runtime, second)

    assert first.open((folder / f"{done.id}.zip.jwe").read_bytes())[0]["kid"] == first.thumbprint
    header, _zipped = second.open((folder / f"{waiting.id}.zip.jwe").read_bytes())
    assert header["kid"] == second.thumbprint
    with runtime.db.transaction() as session:
        keys.remove_key(session, runtime.cipher, runtime.blobs, runtime.settings.xml_out,
                        POTSDAM, None)
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [f"{done.id}.zip.jwe", f"{waiting.id}.zip.enc"])
    with runtime.db.read() as session:
        assert session.get(models.Batch, waiting.id).sealed_to is None  # type: ignore[union-attr]
        actions = session.scalars(select(models.AuditEntry.action)
                                  .where(models.AuditEntry.record_type == "authority")).all()
    assert actions == ["key set", "key set", "key remove"]


def test_the_scheduler_reseals_a_file_written_to_a_key_replaced_meanwhile(
    client, submit_token, runtime, pair, monkeypatch
):
    """A key set while a batch's job was writing its file: the job sealed it to the old key."""
    set_key(runtime, key_pair())
    post(client, submit_token, ADULT)
    process_queue(runtime)
    with runtime.db.transaction() as session:  # the new key, without writing the files again
        session.execute(update(models.Authority).where(models.Authority.key == POTSDAM).values(
            public_key=keys.sealing.public_key(pair.public_pem).jwk,
            public_key_thumbprint=pair.thumbprint))
        session.execute(update(models.Batch).values(sealed_to=pair.thumbprint))
    monkeypatch.setattr(scheduler, "FILE_GRACE", dt.timedelta(0))

    scheduler.queue_batches(runtime)

    [name] = batch_file_names(runtime.settings.xml_out)
    assert pair.open(name.read_bytes())[0]["kid"] == pair.thumbprint


def test_a_plaintext_zip_of_an_earlier_release_is_replaced(client, submit_token, runtime,
                                                          monkeypatch):
    post(client, submit_token, ADULT)
    process_queue(runtime)
    [name] = batch_file_names(runtime.settings.xml_out)
    zipped = unsealed_zip(runtime.settings, name)
    name.unlink()
    legacy = name.with_name(f"{batch_files.batch_id_of(name)}.zip")
    legacy.write_bytes(zipped)  # as releases before sealing wrote it
    monkeypatch.setattr(scheduler, "FILE_GRACE", dt.timedelta(0))

    scheduler.queue_batches(runtime)

    assert batch_file_names(runtime.settings.xml_out) == [name] and not legacy.exists()
    assert unsealed_zip(runtime.settings, name) == zipped


def test_a_receiver_skips_the_temporary_file_a_crash_left(client, submit_token, runtime):
    post(client, submit_token, ADULT)
    process_queue(runtime)
    [name] = batch_file_names(runtime.settings.xml_out)
    name.with_name(f".{name.name}.0123abcd.tmp").write_bytes(b"half a file")

    assert len(delivered(runtime.settings)) == 1


def test_a_batch_whose_key_changed_during_assembly_is_left_to_the_scheduler(
    client, submit_token, runtime, pair, monkeypatch
):
    """Its job must not seal it to a key other than the one the batch records."""
    post(client, submit_token, ADULT)
    recipient = batch_files.recipient
    monkeypatch.setattr(batch_files, "recipient", lambda session, key: keys.sealing.public_key(
        pair.public_pem))  # as if set between the batch's commit and its file
    process_queue(runtime)
    assert batch_file_names(runtime.settings.xml_out) == []
    monkeypatch.setattr(batch_files, "recipient", recipient)
    monkeypatch.setattr(scheduler, "FILE_GRACE", dt.timedelta(0))

    scheduler.queue_batches(runtime)

    assert len(delivered(runtime.settings)) == 1  # under the data key, as the batch records


def test_the_authority_sees_which_key_its_batches_are_sealed_to(staff_clients, runtime, pair):
    """Found in review: an administrator can replace an authority's key; the authority must
    be able to see it where it fetches its batches."""
    assert "no public key here" in staff_clients["authority_a"].get("/desk/batches").text
    set_key(runtime, pair)

    page = staff_clients["authority_a"].get("/desk/batches").text

    assert pair.thumbprint in page
    assert pair.thumbprint not in staff_clients["authority_b"].get("/desk/batches").text
