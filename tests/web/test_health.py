"""Readiness turns red when any dependency is missing."""

from __future__ import annotations

import dataclasses

import pytest

from intake import create_app
from intake.delivery import overview
from intake.security import tokens
from tests.helpers import official


def metrics_token(runtime) -> str:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        return tokens.create(session, "monitoring", "metrics")


def details(client, token: str):  # type: ignore[no-untyped-def]
    return client.get("/readyz", headers={"Authorization": f"Bearer {token}"})


def test_healthy_and_ready(client, runtime):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = details(client, metrics_token(runtime))
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "redis": "ok", "schema": "ok",
                                    "xml_out": "ok"}


def test_the_public_is_told_ready_or_not_and_nothing_of_what_fails_or_why(settings, runtime):
    """An audit found /readyz telling anyone which component failed and its exception class."""
    app = create_app(dataclasses.replace(runtime.settings, redis_url="redis://127.0.0.1:1/0"))
    try:
        client = app.test_client()
        public = client.get("/readyz")
        wrong_token = details(client, "not-a-token")
        monitoring = details(client, metrics_token(runtime))
    finally:
        app.extensions["intake"].close()

    assert public.status_code == wrong_token.status_code == 503
    assert public.json == wrong_token.json == {"status": "unavailable"}
    assert "redis" not in public.text.lower() and "Error" not in public.text
    assert monitoring.json["checks"]["redis"].startswith("failed")


@pytest.mark.parametrize("broken", ["database", "redis", "schema", "xml_out"])
def test_readyz_turns_red_for_each_missing_dependency(settings, runtime, tmp_path, broken):
    changes = {
        "database": {"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
        "redis": {"redis_url": "redis://127.0.0.1:1/0"},
        "schema": {"xsd_dir": tmp_path / "no-schemas-here"},
        "xml_out": {"xml_out": tmp_path / "a-file" / "xml_out"},  # cannot be a folder
    }[broken]
    (tmp_path / "a-file").write_text("")
    app = create_app(dataclasses.replace(runtime.settings, **changes))
    try:
        answer = details(app.test_client(), metrics_token(runtime))
    finally:
        app.extensions["intake"].close()

    assert answer.status_code == 503
    if broken == "database":  # the token cannot be checked: no details for an unknown caller
        assert answer.json == {"status": "unavailable"}
        return
    assert answer.json["checks"][broken].startswith("failed")
    assert all(value == "ok" for key, value in answer.json["checks"].items() if key != broken)


@pytest.mark.parametrize("schema_set", ["absent", "present"])
def test_readyz_and_status_say_which_validation_is_active(runtime, schema_set):
    folder = official.require() if schema_set == "present" else None
    app = create_app(dataclasses.replace(runtime.settings, xsd_dir=folder))
    try:
        ready = details(app.test_client(), metrics_token(runtime))
        status = overview.report(app.extensions["intake"])
    finally:
        app.extensions["intake"].close()

    assert ready.status_code == 200 and ready.json["checks"]["schema"] == "ok"
    if folder is None:
        assert ready.json["validation"] == "own checks only"
        assert status["validation"].startswith("own checks only")
    else:
        assert ready.json["validation"] == "official schema set"
        assert status["validation"].startswith(f"official schema set at {folder}")
        assert str(folder) not in ready.text  # the public answer names no path
