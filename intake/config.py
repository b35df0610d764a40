"""Typed settings: the one place that reads the environment (CONTRACT §2)."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENTS = ("development", "production", "test")


class ConfigError(RuntimeError):
    """The configuration cannot be used (a missing secret in production, a malformed key)."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    instance_dir: Path = Path("instance")
    database_url: str = "sqlite:///instance/intake.db"
    redis_url: str | None = None
    secret_key: str = ""
    # (key id, 32-byte key) pairs, newest first: the first encrypts, all decrypt.
    data_keys: tuple[tuple[str, bytes], ...] = ()
    # Key of the blind indexes (HMACs of names and document numbers); it does not rotate.
    index_key: bytes = b""
    xml_out: Path = Path("xml_out")
    # Where documents' encrypted content is kept: unset, in the database; s3://bucket[/prefix]
    # [?endpoint=http://host:port&region=name], in an S3-compatible object store (BlobUrl).
    blob_url: str | None = None
    xsd_dir: Path | None = None
    public_url: str | None = None
    # Where applicants' mails go: smtp://[user:password@]host[:587] (STARTTLS) or smtps://
    # (TLS from the start, port 465); unset, they are written to instance/mail/ instead.
    smtp_url: str | None = None
    # CA certificates that the mail server's certificate is checked against, when not the
    # system's (a relay with a private CA).
    smtp_ca_file: Path | None = None
    # This service as the author of every message: its DVDV key, name, contact and address.
    # The defaults are a demo's; production refuses to start without the real ones.
    sender_key: str = "alp:intake-demo"
    sender_name: str = "intake Demo"
    sender_email: str = "intake-demo@example.org"
    sender_street: str = "Musterstraße"
    sender_house_number: str = "1"
    sender_postal_code: str = "10115"
    sender_city: str = "Berlin"
    # The messages' `test` attribute: "true" outside production (INTAKE_MESSAGE_TEST=0 turns
    # it off), none in production unless set.
    message_test_flag: str | None = None
    # Number of proxies in front of the web server whose X-Forwarded-For may be trusted.
    proxies: int = 0
    bind: str = "127.0.0.1:8000"
    web_workers: int = 2
    web_threads: int = 16  # a request mostly waits for its group commit: more join each
    relay_interval: float = 0.5
    relay_chunk: int = 500  # outbox rows per job; 1 is the naive one-job-per-registration
    batch_interval: float = 120.0  # seconds between batch assemblies per authority
    # A batch file's size bound (bytes); with documents a message is ~1 MB. Transports and
    # the authorities' download clients fare better with a few hundred MB than with GB.
    batch_max_bytes: int = 200 * 10**6
    reconcile_after: float = 20.0  # seconds before a queued, unfinished job is looked into
    retention: dt.timedelta = dt.timedelta(days=30)  # after acknowledgement

    @property
    def redis_socket(self) -> Path:
        """Unix socket of the embedded Redis server (used when no redis_url is set)."""
        return self.instance_dir / "redis.sock"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read INTAKE_* variables; in development, generate missing secrets into instance/."""
        env = os.environ if environ is None else environ
        mode = env.get("INTAKE_ENV", "development")
        if mode not in ENVIRONMENTS:
            raise ConfigError(f"INTAKE_ENV must be one of {', '.join(ENVIRONMENTS)}")
        instance = instance_dir(env)
        secret_key = env.get("INTAKE_SECRET_KEY") or _generated(mode, instance, "secret_key")
        data_keys = env.get("INTAKE_DATA_KEYS") or _generated(mode, instance, "data_keys")
        index_key = env.get("INTAKE_INDEX_KEY") or _generated(mode, instance, "index_key")
        sender = _sender(env, mode)
        # Unset: what `make schemas` fetched, if anything; else the service's own checks only.
        xsd_dir = env.get("INTAKE_XSD_DIR") or (
            str(instance / "xoev") if (instance / "xoev").is_dir() else None
        )
        smtp_url = env.get("INTAKE_SMTP_URL") or None
        if smtp_url and not re.match(r"smtps?://[^/?#]+$", smtp_url):
            # Said at start: a typo here would fail every mail, out of sight.
            raise ConfigError("INTAKE_SMTP_URL must be smtp://[user:password@]host[:port] "
                              "or smtps://...")
        smtp_ca_file = env.get("INTAKE_SMTP_CA_FILE") or None
        blob_url = env.get("INTAKE_BLOB_URL") or None
        if blob_url:
            parse_blob_url(blob_url)  # said at start, as for the mail server
        return cls(
            env=mode,
            instance_dir=instance,
            database_url=env.get("INTAKE_DATABASE_URL", f"sqlite:///{instance / 'intake.db'}"),
            redis_url=env.get("INTAKE_REDIS_URL") or None,
            secret_key=secret_key,
            data_keys=parse_data_keys(data_keys),
            index_key=_decode_key("INTAKE_INDEX_KEY", index_key),
            xml_out=Path(env.get("INTAKE_XML_OUT", "xml_out")).absolute(),
            blob_url=blob_url,
            xsd_dir=Path(xsd_dir).absolute() if xsd_dir else None,
            public_url=env.get("INTAKE_PUBLIC_URL") or None,
            smtp_url=smtp_url,
            smtp_ca_file=Path(smtp_ca_file).absolute() if smtp_ca_file else None,
            sender_key=sender["sender_key"],
            sender_name=sender["sender_name"],
            sender_email=sender["sender_email"],
            sender_street=sender["sender_street"],
            sender_house_number=sender["sender_house_number"],
            sender_postal_code=sender["sender_postal_code"],
            sender_city=sender["sender_city"],
            message_test_flag=_test_flag(env.get("INTAKE_MESSAGE_TEST"), mode),
            bind=env.get("INTAKE_BIND", cls.bind),
            proxies=int(env.get("INTAKE_PROXIES", cls.proxies)),
            batch_interval=float(env.get("INTAKE_BATCH_INTERVAL", cls.batch_interval)),
            batch_max_bytes=_positive("INTAKE_BATCH_MAX_BYTES",
                                      env.get("INTAKE_BATCH_MAX_BYTES", cls.batch_max_bytes)),
            relay_chunk=int(env.get("INTAKE_RELAY_CHUNK", cls.relay_chunk)),
            reconcile_after=float(env.get("INTAKE_RECONCILE_AFTER", cls.reconcile_after)),
            retention=dt.timedelta(days=float(env.get("INTAKE_RETENTION_DAYS", "30"))),
            web_workers=int(env.get("INTAKE_WEB_WORKERS", cls.web_workers)),
            web_threads=int(env.get("INTAKE_WEB_THREADS", cls.web_threads)),
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes a child process (worker, web) see these settings."""
        env = {
            "INTAKE_ENV": self.env,
            "INTAKE_INSTANCE_DIR": str(self.instance_dir),
            "INTAKE_DATABASE_URL": self.database_url,
            "INTAKE_SECRET_KEY": self.secret_key,
            "INTAKE_DATA_KEYS": format_data_keys(self.data_keys),
            "INTAKE_INDEX_KEY": base64.urlsafe_b64encode(self.index_key).decode(),
            "INTAKE_XML_OUT": str(self.xml_out),
            **{variable: getattr(self, name) for name, variable in SENDER_VARIABLES.items()},
            "INTAKE_MESSAGE_TEST": self.message_test_flag or "0",
            "INTAKE_BIND": self.bind,
            "INTAKE_PROXIES": str(self.proxies),
            "INTAKE_BATCH_INTERVAL": str(self.batch_interval),
            "INTAKE_BATCH_MAX_BYTES": str(self.batch_max_bytes),
            "INTAKE_RELAY_CHUNK": str(self.relay_chunk),
            "INTAKE_RECONCILE_AFTER": str(self.reconcile_after),
            "INTAKE_RETENTION_DAYS": str(self.retention.total_seconds() / 86400),
            "INTAKE_WEB_WORKERS": str(self.web_workers),
            "INTAKE_WEB_THREADS": str(self.web_threads),
        }
        optional = {
            "INTAKE_REDIS_URL": self.redis_url,
            "INTAKE_BLOB_URL": self.blob_url,
            "INTAKE_XSD_DIR": str(self.xsd_dir) if self.xsd_dir else None,
            "INTAKE_PUBLIC_URL": self.public_url,
            "INTAKE_SMTP_URL": self.smtp_url,
            "INTAKE_SMTP_CA_FILE": str(self.smtp_ca_file) if self.smtp_ca_file else None,
        }
        env.update({name: value for name, value in optional.items() if value})
        return env


@dataclass(frozen=True)
class BlobUrl:
    """INTAKE_BLOB_URL taken apart: an S3 bucket, a folder in it, and where to reach it."""

    bucket: str
    prefix: str  # "" or a folder such as "intake/" (with its slash)
    endpoint: str | None  # None: AWS itself, in `region` or the one the environment names
    region: str | None


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BLOB_URL_FORM = ("INTAKE_BLOB_URL must be s3://bucket[/folder][?endpoint=http(s)://host:port"
                  "&region=name]; credentials come from AWS_ACCESS_KEY_ID and "
                  "AWS_SECRET_ACCESS_KEY (or any of boto3's sources), never from the URL")


def parse_blob_url(url: str) -> BlobUrl:
    """Take INTAKE_BLOB_URL apart, or refuse it with the form it must have.

    Credentials in the URL are refused: the URL is passed to child processes and shown
    to operators, and boto3's own sources (variables, files, roles) keep secrets apart.
    """
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    endpoint = query.get("endpoint", [None])[-1]
    # The bucket is the whole network location: a user, a password or a port is no bucket.
    if (
        parts.scheme != "s3" or not _BUCKET.fullmatch(parts.netloc)
        or parts.fragment or set(query) - {"endpoint", "region"}
        or (endpoint is not None and not re.fullmatch(r"https?://[^/?#@\s]+", endpoint))
    ):
        raise ConfigError(_BLOB_URL_FORM)
    folder = parts.path.strip("/")
    return BlobUrl(
        bucket=parts.netloc,
        prefix=f"{folder}/" if folder else "",
        endpoint=endpoint,
        region=query.get("region", [None])[-1],
    )


# This service as the messages' author: Settings field -> its variable.
SENDER_VARIABLES = {
    "sender_key": "INTAKE_SENDER_KEY",
    "sender_name": "INTAKE_SENDER_NAME",
    "sender_email": "INTAKE_SENDER_EMAIL",
    "sender_street": "INTAKE_SENDER_STREET",
    "sender_house_number": "INTAKE_SENDER_HOUSE_NUMBER",
    "sender_postal_code": "INTAKE_SENDER_POSTAL_CODE",
    "sender_city": "INTAKE_SENDER_CITY",
}


def _sender(env: Mapping[str, str], mode: str) -> dict[str, str]:
    """The INTAKE_SENDER_* settings; in production every one is required (a placeholder
    author would reach every authority, in messages not even marked as tests)."""
    missing = [variable for variable in SENDER_VARIABLES.values() if not env.get(variable)]
    if mode == "production" and missing:
        raise ConfigError(f"production needs this service's sender details: {', '.join(missing)}")
    sender = {
        name: env.get(variable) or getattr(Settings, name)
        for name, variable in SENDER_VARIABLES.items()
    }
    # A typo here would start fine, then fail every message: said at start instead.
    if not re.fullmatch(r"[a-z0-9]{2,8}:\S+", sender["sender_key"]):
        raise ConfigError("INTAKE_SENDER_KEY must be a DVDV key: prefix:id, such as alp:12345")
    if not re.fullmatch(r"[0-9]{5}", sender["sender_postal_code"]):
        raise ConfigError("INTAKE_SENDER_POSTAL_CODE must be five digits")
    return sender


def _positive(name: str, value: str | int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise ConfigError(f"{name} must be a whole number of bytes above 0")
    return number


def _test_flag(value: str | None, mode: str) -> str | None:
    if value == "0":
        return None
    return value or (None if mode == "production" else "true")


def instance_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The folder of generated development state (INTAKE_INSTANCE_DIR, default instance/)."""
    env = os.environ if environ is None else environ
    return Path(env.get("INTAKE_INSTANCE_DIR", "instance")).absolute()


def new_data_key(key_id: str) -> str:
    """A fresh keyring entry `id:base64url(32 random bytes)`."""
    return f"{key_id}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"


def parse_data_keys(text: str) -> tuple[tuple[str, bytes], ...]:
    """Parse `id:key,id:key` (newest first) into pairs; every key must be 32 bytes."""
    keys = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, encoded = entry.partition(":")
        try:
            key = base64.urlsafe_b64decode(encoded)
        except ValueError as error:
            raise ConfigError(f"data key {key_id!r} is not base64") from error
        if not key_id or len(key) != 32:
            raise ConfigError(f"data key {key_id!r} must be 'id:' + 32 bytes in base64url")
        keys.append((key_id, key))
    if not keys:
        raise ConfigError("INTAKE_DATA_KEYS holds no key")
    if len({key_id for key_id, _ in keys}) != len(keys):
        raise ConfigError("INTAKE_DATA_KEYS repeats a key id")
    return tuple(keys)


def format_data_keys(keys: tuple[tuple[str, bytes], ...]) -> str:
    return ",".join(f"{kid}:{base64.urlsafe_b64encode(key).decode()}" for kid, key in keys)


def _decode_key(name: str, text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text)
    except ValueError as error:
        raise ConfigError(f"{name} is not base64") from error
    if len(key) != 32:
        raise ConfigError(f"{name} must be 32 bytes in base64url")
    return key


_GENERATORS = {
    "secret_key": lambda: secrets.token_urlsafe(48),
    "data_keys": lambda: new_data_key("k1"),
    "index_key": lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
}


def _generated(mode: str, instance: Path, name: str) -> str:
    """Read a development secret from instance/, creating it (mode 0600) the first time."""
    if mode == "production":
        raise ConfigError(f"INTAKE_{name.upper()} must be set in production")
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(_GENERATORS[name]())
    return path.read_text().strip()
