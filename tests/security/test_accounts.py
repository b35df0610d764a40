"""Accounts and tokens can be listed, disabled, reset and revoked, each change audited.

An audit found that no account or token could be listed, disabled or revoked, and that token
and user creation left no audit entry (issue #25).
"""

from __future__ import annotations

from sqlalchemy import select

from intake.cli import main
from intake.store import models
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.staff import first_sign_in, sign_in, sign_in_with_password


def run(app, *args: str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def audit_trail(runtime) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with runtime.db.read() as session:
        entries = session.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id))
        return [(entry.action, entry.record_type) for entry in entries]


def test_a_revoked_token_is_listed_as_revoked_and_refused(app, runtime):
    value = run(app, "token", "create", "partner-a", "--scope", "submit").splitlines()[-1]
    listed = run(app, "token", "list")
    assert "partner-a" in listed and "submit" in listed and value not in listed
    token_id = listed.splitlines()[-1].split()[0]

    run(app, "token", "revoke", token_id)

    assert "revoked" in run(app, "token", "list").splitlines()[-1]
    other_app_client = app.test_client()
    from intake.web import bearer  # a revoked token stops at once in this process

    bearer.forget_tokens()
    assert post(other_app_client, value, ADULT).status_code == 401
    assert audit_trail(runtime) == [("create", "api_token"), ("revoke", "api_token")]


def test_revoking_a_token_that_does_not_exist_is_a_message(app):
    result = app.test_cli_runner().invoke(main, ["token", "revoke", "999"])
    assert result.exit_code != 0 and "no token 999" in result.output


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(app, runtime):
    password = run(app, "user", "create", "vol@example.org", "--role", "volunteer",
                   "--authority", "073400")
    client = app.test_client()
    account = first_sign_in(client, "vol@example.org", password.splitlines()[-1])
    assert client.get("/desk/").status_code == 200

    run(app, "user", "disable", "vol@example.org")

    assert client.get("/desk/").status_code == 302  # the open session ended
    assert sign_in(app.test_client(), account).status_code == 401
    listed = run(app, "user", "list")
    assert "vol@example.org" in listed and "disabled" in listed and "073400" in listed


def test_a_reset_gives_a_new_one_time_password_and_the_old_one_stops(app, runtime):
    old = run(app, "user", "create", "a@example.org", "--role", "admin").splitlines()[-1]
    account = first_sign_in(app.test_client(), "a@example.org", old)

    new = run(app, "user", "reset", "a@example.org").splitlines()[-1]

    assert new != old
    assert sign_in_with_password(app.test_client(), "a@example.org", old).status_code == 401
    assert sign_in_with_password(app.test_client(), "a@example.org",
                                 account.password).status_code == 401
    # The new one-time password, then the app's code (still set up), then a new password.
    account.password = new
    answer = sign_in(app.test_client(), account)
    assert answer.status_code == 303 and answer.location.endswith("/desk/password")
    changes = [entry for entry in audit_trail(runtime) if not entry[0].startswith("sign-in")]
    assert changes == [("create", "staff_user"), ("password change", "staff_user"),
                       ("second factor enrolled", "staff_user"), ("reset", "staff_user")]


def test_sign_ins_their_failures_and_batch_downloads_are_audited(app, runtime, client,
                                                                  submit_token):
    """An audit found batch downloads (portal and API), sign-ins and failures unaudited."""
    from tests.helpers.pipeline import process_queue

    password = run(app, "user", "create", "a@example.org", "--role", "authority",
                   "--authority", "073400").splitlines()[-1]
    portal = app.test_client()
    account = first_sign_in(portal, "a@example.org", password)
    assert sign_in_with_password(portal, "a@example.org", "wrong").status_code == 401
    assert sign_in_with_password(app.test_client(), "nobody@example.org", "x").status_code == 401
    assert sign_in(portal, account).status_code == 303
    post(client, submit_token, ADULT)
    process_queue(runtime)
    with runtime.db.read() as session:
        batch_id = session.scalar(select(models.Batch.id))
    authority_token = run(app, "token", "create", "abh", "--scope",
                          "authority:073400").splitlines()[-1]
    assert portal.get(f"/desk/batches/{batch_id}.zip").status_code == 200
    assert client.get(f"/api/v1/batches/{batch_id}",
                      headers={"Authorization": f"Bearer {authority_token}"}).status_code == 200

    trail = audit_trail(runtime)
    assert trail.count(("sign-in failed", "staff_user")) == 2
    assert ("sign-in", "staff_user") in trail
    assert trail.count(("download", "batch")) == 2
    with runtime.db.read() as session:
        entries = session.scalars(select(models.AuditEntry)).all()
        assert "example.org" not in " ".join(f"{e.action} {e.record_id}" for e in entries)
        downloads = [e for e in entries if e.action == "download"]
        assert {e.user_id is None for e in downloads} == {True, False}  # the API, the portal


def test_the_audit_log_is_exported_as_json_lines_since_a_day(app, runtime):
    import datetime as dt
    import json

    from sqlalchemy import update

    run(app, "user", "create", "vol@example.org", "--role", "volunteer", "--authority", "073400")
    run(app, "token", "create", "partner-a", "--scope", "submit")
    run(app, "keys", "rotate")
    with runtime.db.transaction() as session:  # the first entry is from last year
        session.execute(update(models.AuditEntry).where(models.AuditEntry.id == 1)
                        .values(at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)))

    everything = [json.loads(line) for line in run(app, "audit", "export").splitlines()]
    recent = [json.loads(line) for line in
              run(app, "audit", "export", "--since", "2026-01-01").splitlines()]

    assert [e["action"] for e in everything] == ["create", "create", "rotate"]
    assert [e["record_type"] for e in recent] == ["api_token", "data_key"]
    assert everything[0]["at"].startswith("2025-01-01") and everything[0]["user_id"] is None


def test_an_account_or_token_for_what_does_not_exist_is_refused_in_one_line(app, runtime):
    """Seen (issue #28): `user create x` made an account for "x", and a token's scope could
    name an authority that does not exist."""
    cli = app.test_cli_runner()

    not_email = cli.invoke(main, ["user", "create", "x", "--role", "admin"])
    no_authority = cli.invoke(main, ["token", "create", "p", "--scope", "authority:999999"])

    assert not_email.exit_code == 2 and no_authority.exit_code == 2
    assert not_email.output.splitlines()[-1] == (
        "Error: x is not an e-mail address: An email address must have an @-sign.")
    assert no_authority.output.splitlines()[-1] == (
        "Error: Invalid value for --scope: no authority with key 999999")
    with runtime.db.read() as session:
        assert session.scalars(select(models.StaffUser.email)).all() == []
        assert session.scalars(select(models.ApiToken)).all() == []
