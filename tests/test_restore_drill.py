"""The restore drill passes against the local PostgreSQL and Redis servers (CI sets them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
DATABASE = os.environ.get("INTAKE_TEST_DATABASE_URL")
REDIS = os.environ.get("INTAKE_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (DATABASE and REDIS), reason="needs a PostgreSQL and a Redis server"),
]


def test_backup_restore_and_reconcile_lose_and_double_nothing():
    server = make_url(DATABASE).set(database="postgres").render_as_string(hide_password=False)
    redis_url = REDIS.rsplit("/", 1)[0] + "/12"  # a database of its own: the drill empties it
    result = subprocess.run(
        [sys.executable, str(REPO / "ops" / "restore_drill.py"), server, redis_url,
         "--registrations", "300"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "300 delivered after the restore, nothing lost or duplicated" in result.stdout
