"""The `intake` command as an operator meets it: its help, its version, its errors."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from intake import create_app
from intake.cli import main
from tests.helpers.processes import without_settings

COMMANDS = {"audit", "authorities", "batch", "db", "demo-seed", "erase", "keys", "outbox",
            "retention", "scheduler", "schemas", "serve", "status", "token", "user", "web",
            "worker"}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_help_lists_intakes_commands_and_options_only():
    result = CliRunner().invoke(main, ["--help"])

    assert result.exit_code == 0
    options = result.stdout.split("Options:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in options] == ["--version", "--help"]
    listed = result.stdout.split("Commands:\n")[1].splitlines()
    assert {line.split()[0] for line in listed} >= COMMANDS
    assert not {line.split()[0] for line in listed} & {"limiter", "run", "shell", "routes"}
    assert "--env-file" not in result.stdout and "--debug" not in result.stdout


@pytest.mark.slow  # starts a process
def test_help_builds_no_app(tmp_path):
    """Production settings missing: listing the commands works all the same."""
    env = {**without_settings(), "INTAKE_ENV": "production",
           "INTAKE_INSTANCE_DIR": str(tmp_path / "instance")}

    result = _run(env, "-m", "intake.cli", "--help")

    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout and not (tmp_path / "instance").exists()


def test_version_is_intakes():
    result = CliRunner().invoke(main, ["--version"])

    assert result.stdout == f"intake {importlib.metadata.version('intake')}\n"
    assert "Flask" not in result.stdout


def test_flask_limiters_commands_are_not_intakes():
    result = CliRunner().invoke(main, ["limiter"])

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: No such command 'limiter'."


@pytest.mark.slow  # starts a process
def test_the_app_is_found_without_flask_options_and_flask_app_intake_works(app, settings):
    """`intake status` finds the app with no -A; `flask --app intake status` (CONTRACT §3)
    runs the same command, which Flask's own command did not know."""
    env = {**without_settings(), **settings.to_env()}

    by_intake = _run(env, "-m", "intake.cli", "status", "--json")
    by_flask = _run(env, "-m", "flask", "--app", "intake", "status", "--json")

    assert by_intake.returncode == 0, by_intake.stderr
    assert by_flask.returncode == 0, by_flask.stderr
    assert json.loads(by_flask.stdout).keys() == json.loads(by_intake.stdout).keys() >= {
        "queues", "authorities", "validation"}


def test_a_database_without_schema_says_what_to_run(settings):
    app = create_app(settings)  # a database without tables
    try:
        result = app.test_cli_runner().invoke(main, ["status"])
    finally:
        app.extensions["intake"].close()

    assert result.exit_code == 1
    # The driver's error class: OperationalError (SQLite), UndefinedTable (PostgreSQL).
    assert re.fullmatch(r"Error: the database has no schema yet \((OperationalError|"
                        r"UndefinedTable)\): run `intake db upgrade`",
                        result.stderr.splitlines()[-1]), result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_says_so_in_a_line(settings):
    app = create_app(dataclasses.replace(
        settings, database_url="postgresql+psycopg://intake@127.0.0.1:1/intake"))

    result = app.test_cli_runner().invoke(main, ["batch"])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: the database cannot be reached (OperationalError): check INTAKE_DATABASE_URL "
        "and that its server runs")
    assert "Traceback" not in result.stderr
    app.extensions["intake"].close()


def test_an_unknown_revision_says_so_in_a_line(app):
    result = app.test_cli_runner().invoke(main, ["db", "upgrade", "9999"])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: cannot upgrade to '9999': Can't locate revision identified by '9999'")
    assert "Traceback" not in result.output


def test_an_unreachable_redis_says_so_in_a_line(app, settings):
    other = create_app(dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0"))

    result = other.test_cli_runner().invoke(main, ["status"])

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: Redis cannot be reached (ConnectionError): check INTAKE_REDIS_URL and that "
        "its server runs")
    other.extensions["intake"].close()
