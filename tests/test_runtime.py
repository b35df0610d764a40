"""The runtime a process works with: built once from Settings, never guessed."""

from __future__ import annotations

import pytest

from intake import runtime


def test_a_job_outside_a_worker_is_refused_rather_than_run_on_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "_process_runtime", None)
    monkeypatch.setenv("INTAKE_DATABASE_URL", "sqlite:////nonexistent/elsewhere.db")

    with pytest.raises(RuntimeError, match="intake worker"):
        runtime.bound()


def test_an_app_and_its_jobs_share_the_runtime_create_app_built(app) -> None:  # type: ignore[no-untyped-def]
    built = runtime.of(app)
    runtime.bind(built)

    assert runtime.bound() is built
    assert built.settings.database_url.startswith(("sqlite", "postgresql"))
