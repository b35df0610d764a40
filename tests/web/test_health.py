"""Readiness turns red when any dependency is missing."""

from __future__ import annotations

import dataclasses

import pytest

from intake import create_app
from intake.delivery import overview
from tests.helpers import official


def test_healthy_and_ready(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "redis": "ok", "schema": "ok",
                                    "xml_out": "ok"}


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
        answer = app.test_client().get("/readyz")
    finally:
        app.extensions["intake"].close()

    assert answer.status_code == 503
    assert answer.json["checks"][broken].startswith("failed")
    assert all(value == "ok" for key, value in answer.json["checks"].items() if key != broken)


@pytest.mark.parametrize("schema_set", ["absent", "present"])
def test_readyz_and_status_say_which_validation_is_active(runtime, schema_set):
    folder = official.require() if schema_set == "present" else None
    app = create_app(dataclasses.replace(runtime.settings, xsd_dir=folder))
    try:
        ready = app.test_client().get("/readyz")
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
