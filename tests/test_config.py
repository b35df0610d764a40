from __future__ import annotations

from pathlib import Path

import pytest

from intake.config import BlobUrl, ConfigError, Settings, new_data_key, parse_blob_url


def test_development_secrets_are_generated_once_into_instance(tmp_path: Path):
    env = {"INTAKE_INSTANCE_DIR": str(tmp_path / "instance")}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    assert first.secret_key and first.secret_key == second.secret_key
    assert first.data_keys == second.data_keys
    assert (tmp_path / "instance" / "data_keys").stat().st_mode & 0o777 == 0o600
    assert first.database_url == f"sqlite:///{tmp_path / 'instance' / 'intake.db'}"
    assert first.redis_url is None


def test_production_refuses_to_start_without_secrets(tmp_path: Path):
    env = {"INTAKE_ENV": "production", "INTAKE_INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="INTAKE_SECRET_KEY"):
        Settings.from_env(env)
    env["INTAKE_SECRET_KEY"] = "s" * 40
    with pytest.raises(ConfigError, match="INTAKE_DATA_KEYS"):
        Settings.from_env(env)
    env["INTAKE_DATA_KEYS"] = new_data_key("p1")
    with pytest.raises(ConfigError, match="INTAKE_INDEX_KEY"):
        Settings.from_env(env)
    env["INTAKE_INDEX_KEY"] = new_data_key("x").split(":", 1)[1]
    with pytest.raises(ConfigError, match=r"INTAKE_SENDER_KEY.*INTAKE_SENDER_CITY"):
        Settings.from_env(env)
    env.update(PRODUCTION_SENDER)
    settings = Settings.from_env(env)
    assert settings.env == "production" and settings.sender_city == "Potsdam"
    assert settings.message_test_flag is None  # real deliveries
    assert not list(tmp_path.iterdir())  # nothing generated in production


PRODUCTION_SENDER = {
    "INTAKE_SENDER_KEY": "alp:ukraine-hilfe-bb",
    "INTAKE_SENDER_NAME": "Registrierung Ukraine Brandenburg",
    "INTAKE_SENDER_EMAIL": "registrierung@example.org",
    "INTAKE_SENDER_STREET": "Heinrich-Mann-Allee",
    "INTAKE_SENDER_HOUSE_NUMBER": "103",
    "INTAKE_SENDER_POSTAL_CODE": "14473",
    "INTAKE_SENDER_CITY": "Potsdam",
}


@pytest.mark.parametrize(
    ("mode", "value", "flag"),
    [
        ("development", None, "true"),
        ("development", "0", None),
        ("development", "Abnahmetest", "Abnahmetest"),
        ("production", None, None),
        ("production", "true", "true"),
    ],
)
def test_messages_are_marked_test_outside_production(tmp_path, mode, value, flag):
    env = {"INTAKE_ENV": mode, "INTAKE_INSTANCE_DIR": str(tmp_path), **PRODUCTION_SENDER,
           "INTAKE_SECRET_KEY": "s" * 40, "INTAKE_DATA_KEYS": new_data_key("p1"),
           "INTAKE_INDEX_KEY": new_data_key("x").split(":", 1)[1]}
    if value is not None:
        env["INTAKE_MESSAGE_TEST"] = value

    settings = Settings.from_env(env)

    assert settings.message_test_flag == flag
    assert Settings.from_env(settings.to_env()).message_test_flag == flag  # and in children


@pytest.mark.parametrize(
    "keys", ["", "k1:short", "k1", "k1:!!!", f"{new_data_key('a')},{new_data_key('a')}"]
)
def test_malformed_data_keys_are_refused(keys: str, tmp_path: Path):
    env = {"INTAKE_INSTANCE_DIR": str(tmp_path), "INTAKE_DATA_KEYS": keys, "INTAKE_SECRET_KEY": "x"}
    if keys == "":
        Settings.from_env(env)  # empty means "generate" in development
        return
    with pytest.raises(ConfigError):
        Settings.from_env(env)


def test_settings_survive_the_trip_to_a_child_process(tmp_path: Path):
    settings = Settings.from_env({"INTAKE_INSTANCE_DIR": str(tmp_path), "INTAKE_XSD_DIR": "/x"})
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("variable", "value"), [("INTAKE_SENDER_KEY", "intake"), ("INTAKE_SENDER_POSTAL_CODE", "1447")]
)
def test_a_malformed_sender_is_refused_at_start(tmp_path, variable, value):
    env = {"INTAKE_INSTANCE_DIR": str(tmp_path), **PRODUCTION_SENDER, variable: value}
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


def test_the_smtp_url_is_read_checked_and_passed_on():
    env = {"INTAKE_ENV": "test", "INTAKE_SMTP_URL": "smtps://user:p%40ss@mail.example.org:465",
           "INTAKE_SMTP_CA_FILE": "/etc/intake/ca.pem", "INTAKE_SECRET_KEY": "x",
           "INTAKE_DATA_KEYS": new_data_key("k1"), "INTAKE_INDEX_KEY": "a" * 43 + "="}
    settings = Settings.from_env(env)
    assert settings.smtp_url == env["INTAKE_SMTP_URL"]
    assert Settings.from_env(settings.to_env()) == settings
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({**env, "INTAKE_SMTP_URL": "mail.example.org:587"})
    assert "p%40ss" not in str(refused.value)


def test_the_blob_url_is_read_checked_and_passed_on():
    env = {"INTAKE_ENV": "test", "INTAKE_SECRET_KEY": "x", "INTAKE_DATA_KEYS": new_data_key("k1"),
           "INTAKE_INDEX_KEY": "a" * 43 + "=",
           "INTAKE_BLOB_URL": "s3://intake-docs/berlin/?endpoint=http://127.0.0.1:9000&region=eu"}
    settings = Settings.from_env(env)
    assert Settings.from_env(settings.to_env()) == settings
    assert parse_blob_url(settings.blob_url or "") == BlobUrl(
        bucket="intake-docs", prefix="berlin/", endpoint="http://127.0.0.1:9000", region="eu")
    assert parse_blob_url("s3://intake-docs") == BlobUrl("intake-docs", "", None, None)
    assert Settings.from_env({**env, "INTAKE_BLOB_URL": ""}).blob_url is None


@pytest.mark.parametrize("url", [
    "s3://key:secret@intake-docs",  # credentials belong to AWS_* variables
    "s3://intake-docs:9000",
    "s3://Intake_Docs",
    "https://intake-docs.s3.amazonaws.com",
    "s3://intake-docs?endpoint=ftp://host",
    "s3://intake-docs?endpoint=http://user:pw@host",
    "s3://intake-docs?endpint=http://host:9000",  # a typo, said at start
])
def test_a_malformed_blob_url_is_refused_without_repeating_it(url: str):
    with pytest.raises(ConfigError, match="INTAKE_BLOB_URL must be") as refused:
        parse_blob_url(url)
    assert "secret" not in str(refused.value) and "pw" not in str(refused.value)


@pytest.mark.parametrize("value", ["0", "-1", "200MB", ""])
def test_the_batch_byte_bound_is_a_positive_number(tmp_path: Path, value: str):
    env = {"INTAKE_INSTANCE_DIR": str(tmp_path)}
    assert Settings.from_env(env).batch_max_bytes == 200_000_000
    settings = Settings.from_env({**env, "INTAKE_BATCH_MAX_BYTES": "50000000"})
    assert settings.batch_max_bytes == 50_000_000
    assert Settings.from_env(settings.to_env()) == settings
    with pytest.raises(ConfigError, match="INTAKE_BATCH_MAX_BYTES"):
        Settings.from_env({**env, "INTAKE_BATCH_MAX_BYTES": value})
