"""Real processes in tests: free ports, the intake command, child processes and their roles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def children(pid: int) -> list[tuple[int, int]]:
    """(pid, process group) of each child process of pid."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append((int(entry.name), int(stat[2])))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def intake(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", *args],
        env=env, check=True, capture_output=True, text=True, timeout=60,
    ).stdout


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")


def listening(pids: list[int], port: int) -> set[int]:
    """Those of the processes that have a socket of their own listening on the port (each
    granian worker binds its own)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":  # 0A: LISTEN
                sockets.add(f"socket:[{fields[9]}]")
    found = set()
    for pid in pids:
        try:
            if any(os.readlink(fd) in sockets for fd in Path(f"/proc/{pid}/fd").iterdir()):
                found.add(pid)
        except OSError:  # gone, or an fd closed while read
            continue
    return found


def without_settings() -> dict[str, str]:
    """This process's environment without intake's settings: each test sets its own."""
    return {key: value for key, value in os.environ.items() if not key.startswith("INTAKE_")}


def role_of(pid: int) -> str | None:
    """The role a child of `intake serve` runs ("web", "worker", "scheduler")."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return words[-2].decode() if len(words) >= 3 and words[-3] == b"intake.cli" else None


def roles_of(pid: int) -> dict[str, int]:
    return {role: child for child, _group in children(pid) if (role := role_of(child))}

