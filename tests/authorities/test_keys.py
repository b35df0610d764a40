"""Authorities' public keys: `intake authorities key set|show|remove` and the admin desk page."""

from __future__ import annotations

import io

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select

from intake.cli import main
from intake.store import models
from tests.helpers.forms import CSRF
from tests.helpers.keys import KeyPair, key_pair

POTSDAM = "073400"


@pytest.fixture(scope="module")
def pair() -> KeyPair:
    return key_pair()


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def invoke(app, *args: str, stdin: bytes | None = None):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(main, ["authorities", "key", *args], input=stdin)


def audited(runtime) -> list[tuple[int | None, str, str]]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        return [(entry.user_id, entry.action, entry.record_id) for entry in session.scalars(
            select(models.AuditEntry).where(models.AuditEntry.record_type == "authority")
            .order_by(models.AuditEntry.id))]


def test_cli_sets_shows_and_removes_a_key_audited(app, runtime, pair, tmp_path):
    pem = tmp_path / "authority.pub.pem"
    pem.write_bytes(pair.public_pem)

    assert invoke(app, "show", POTSDAM).output.startswith(f"{POTSDAM} has no key")
    set_pem = invoke(app, "set", POTSDAM, str(pem))
    assert set_pem.exit_code == 0 and pair.thumbprint in set_pem.output
    shown = invoke(app, "show", POTSDAM)
    assert shown.exit_code == 0 and shown.output.strip() == pair.thumbprint
    set_jwk = invoke(app, "set", POTSDAM, "-", stdin=pair.public_jwk)  # a JWK, on stdin
    assert set_jwk.exit_code == 0, set_jwk.output
    removed = invoke(app, "remove", POTSDAM)
    assert removed.exit_code == 0
    assert invoke(app, "show", POTSDAM).output.startswith(f"{POTSDAM} has no key")
    assert audited(runtime) == [(None, "key set", POTSDAM), (None, "key set", POTSDAM),
                                (None, "key remove", POTSDAM)]


@pytest.mark.parametrize(("key", "problem"), [
    (lambda pair: pair.private.as_pem(private=True), "this is a private key"),
    (lambda pair: pair.private_jwk.encode(), "this is a private key"),
    (lambda _pair: public_pem(rsa.generate_private_key(65537, 1024)),  # noqa: S505 (refused)
     "has 1024 bits"),
    (lambda _pair: public_pem(ec.generate_private_key(ec.SECP256R1())), "an EC key"),
    (lambda _pair: b"-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n",
     "not a public key in PEM or JWK form"),
    (lambda _pair: b'{"kty": "RSA", "use": "sig"}', "not a public key"),
], ids=["private PEM", "private JWK", "1024 bits", "EC", "garbage", "incomplete JWK"])
def test_cli_refuses_a_key_batches_must_not_be_sealed_to(app, runtime, pair, tmp_path, key,
                                                         problem):
    refused = tmp_path / "key"
    refused.write_bytes(key(pair))

    result = invoke(app, "set", POTSDAM, str(refused))

    assert result.exit_code == 2 and problem in result.output, result.output
    with runtime.db.read() as session:
        assert session.get(models.Authority, POTSDAM).public_key is None  # type: ignore[union-attr]
    assert audited(runtime) == []


def test_a_key_declared_for_signatures_is_refused(app, pair, tmp_path):
    signing = tmp_path / "sig.jwk"
    signing.write_bytes(pair.public_jwk.replace(b"{", b'{"use": "sig", ', 1))
    result = invoke(app, "set", POTSDAM, str(signing))
    assert result.exit_code == 2 and "declared for signatures" in result.output


@pytest.mark.parametrize("args", [["set", "999999", "-"], ["show", "999999"],
                                  ["remove", "999999"]])
def test_cli_names_an_unknown_authority(app, pair, args):
    result = invoke(app, *args, stdin=pair.public_pem)
    assert result.exit_code == 2 and "no authority 999999" in result.output


def test_an_admin_sets_and_removes_a_key_in_the_desk(staff_clients, runtime, pair):
    admin = staff_clients["admin"]
    assert "/desk/authorities" in admin.get("/desk/").text
    page = admin.get("/desk/authorities")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    assert page.status_code == 200 and POTSDAM in page.text

    uploaded = admin.post(f"/desk/authorities/{POTSDAM}/key", data={
        "csrf_token": token, "key_file": (io.BytesIO(pair.public_pem), "authority.pub.pem"),
    }, content_type="multipart/form-data")

    assert uploaded.status_code == 303
    assert pair.thumbprint in admin.get("/desk/authorities").text
    pasted = admin.post(f"/desk/authorities/{POTSDAM}/key", data={
        "csrf_token": token, "key_text": pair.public_jwk.decode()})
    assert pasted.status_code == 303
    removed = admin.post(f"/desk/authorities/{POTSDAM}/key/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    with runtime.db.read() as session:
        admin_id = session.scalar(select(models.StaffUser.id)
                                  .where(models.StaffUser.email == "admin@example.org"))
    assert audited(runtime) == [(admin_id, "key set", POTSDAM), (admin_id, "key set", POTSDAM),
                                (admin_id, "key remove", POTSDAM)]


@pytest.mark.parametrize(("data", "shown"), [
    ({"key_text": "-----BEGIN RSA PRIVATE KEY-----"}, "This is a private key."),
    ({"key_text": "garbage"}, "This is not a public key in PEM or JWK form."),
    ({}, "Choose a key file or paste a key."),
], ids=["private", "garbage", "nothing"])
def test_the_desk_says_why_a_key_is_refused(staff_clients, runtime, data, shown):
    admin = staff_clients["admin"]
    token = CSRF.search(admin.get("/desk/authorities").text).group(1)  # type: ignore[union-attr]

    answer = admin.post(f"/desk/authorities/{POTSDAM}/key", data={"csrf_token": token, **data})

    assert answer.status_code == 422 and shown in answer.text
    assert audited(runtime) == []


def test_only_an_admin_reaches_the_keys(staff_clients, pair):
    admin_token = CSRF.search(  # type: ignore[union-attr]
        staff_clients["admin"].get("/desk/authorities").text).group(1)
    assert staff_clients["admin"].post("/desk/authorities/999999/key", data={
        "csrf_token": admin_token, "key_text": pair.public_jwk.decode()}).status_code == 404
    for name in ("volunteer", "authority_a"):
        client = staff_clients[name]
        token = CSRF.search(client.get("/desk/").text).group(1)  # type: ignore[union-attr]
        assert 'href="/desk/authorities"' not in client.get("/desk/").text
        assert client.get("/desk/authorities").status_code == 403
        assert client.post(f"/desk/authorities/{POTSDAM}/key", data={
            "csrf_token": token, "key_text": pair.public_jwk.decode()}).status_code == 403
        assert client.post(f"/desk/authorities/{POTSDAM}/key/remove",
                           data={"csrf_token": token}).status_code == 403
