"""bp "health": liveness and readiness for load balancers and orchestrators.

/healthz says the process answers. /readyz says whether it can do its work: database, Redis,
the schema set (when configured) and a writable xml_out/; which of them fails only to a
monitoring token. Neither shows any personal data.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from intake.observability import metrics_response
from intake.security.access import public
from intake.web import runtime
from intake.web.bearer import cached_find, require_scope

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> Any:
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz() -> Any:
    """Ready or not, for anyone (a load balancer); which check failed and how, and which
    validation is active, only for a monitoring token (scope `metrics`)."""
    checks = {
        "database": _database,
        "redis": _redis,
        "schema": _schema,
        "xml_out": _xml_out,
    }
    results = {name: _run(check) for name, check in checks.items()}
    ready = all(result == "ok" for result in results.values())
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable"}
    if _monitoring():
        # Which checks messages pass, without the folder's path.
        validation = "official schema set" if runtime().settings.xsd_dir else "own checks only"
        body.update(checks=results, validation=validation)
    return jsonify(body), (200 if ready else 503)


def _monitoring() -> bool:
    kind, _space, token = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "bearer" or not token:
        return False
    try:
        return cached_find(token, "metrics") is not None
    except Exception:  # the database is what failed: no details without knowing who asks
        return False


def _run(check: Any) -> str:
    try:
        check()
    except Exception as error:  # any failure means "not ready"; say which kind, not why
        return f"failed: {type(error).__name__}"
    return "ok"


def _database() -> None:
    with runtime().db.read() as session:
        session.execute(text("SELECT 1"))


def _redis() -> None:
    runtime().redis.ping()


def _schema() -> None:
    if runtime().settings.xsd_dir is not None and runtime().schema is None:
        raise RuntimeError("schema set not loaded")


def _xml_out() -> None:
    folder = runtime().settings.xml_out
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".ready-{os.getpid()}"
    probe.write_bytes(b"")  # a real write: permission bits alone do not tell (root, mounts)
    probe.unlink()


@bp.get("/metrics")
@require_scope("metrics")
def metrics() -> Any:
    """Prometheus metrics, for a scraper holding a token of scope `metrics`."""
    return metrics_response(runtime())
