"""`intake demo-seed`: demo authorities for a demo, never in production."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from intake import create_app
from intake.cli import main
from intake.runtime import Runtime
from intake.store import models


def test_demo_seed_refuses_to_run_in_production(settings):
    """Seen: nothing stopped demo authorities, hours and slots landing in production."""
    app = create_app(dataclasses.replace(settings, env="production"))
    runtime: Runtime = app.extensions["intake"]
    runtime.db.upgrade()

    result = app.test_cli_runner().invoke(main, ["demo-seed"])

    assert result.exit_code == 1
    assert "demo-seed is refused in production (INTAKE_ENV=production)" in result.output
    assert "Traceback" not in result.output
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Authority)) == 0
    runtime.close()


def test_demo_seed_runs_outside_production(app, runtime):
    result = app.test_cli_runner().invoke(main, ["demo-seed"])

    assert result.exit_code == 0 and "3 demo authorities ready" in result.output
