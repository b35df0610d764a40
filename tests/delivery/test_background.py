"""A worker's share of the CPU beside the web server (intake/delivery/background.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from intake.delivery import background

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling")


@pytest.mark.slow  # starts a process (its scheduling policy is its own)
@pytest.mark.parametrize(("locks_here", "process", "computing"), [
    (True, "SCHED_OTHER", "SCHED_IDLE"),  # SQLite: the lock holder must not starve
    (False, "SCHED_IDLE", "SCHED_IDLE"),  # PostgreSQL: the whole worker yields
])
def test_a_worker_yields_the_cpu_to_the_web(locks_here, process, computing):
    probe = (
        "import os; from intake.delivery import background as b\n"
        f"b.yield_to_web({locks_here})\n"
        "print(os.sched_getscheduler(0), b.compute(os.sched_getscheduler, 0))"
    )
    seen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.split()
    assert seen == [str(getattr(os, process)), str(getattr(os, computing))]


def test_computing_raises_what_it_raised(monkeypatch):
    monkeypatch.setattr(background, "_yielding", True)
    with pytest.raises(ZeroDivisionError):
        background.compute(divmod, 1, 0)


def test_a_job_timeout_ends_the_wait_at_once(monkeypatch):
    """rq stops a job that runs too long with SIGALRM in its main thread: the job must end
    then, not when the computing it waits for is done."""
    monkeypatch.setattr(background, "_yielding", True)

    def timed_out(*_: object) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, timed_out)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            background.compute(time.sleep, 3)
        assert time.monotonic() - started < 1.5
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
