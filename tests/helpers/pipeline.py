"""Drive the delivery pipeline in tests: relay, build, batch; read what was delivered."""

from __future__ import annotations

from intake.config import Settings
from intake.runtime import Runtime


def process_queue(runtime: Runtime) -> None:
    """Relay owed work to Redis, let a real rq worker build the messages, then the batches."""
    from intake.delivery import scheduler

    scheduler.drain(runtime)


def delivered(settings: Settings) -> dict[str, bytes]:
    """Every message in the batch files under xml_out/ (checksums verified, none twice)."""
    from intake.delivery import batches

    return batches.read_files(settings.xml_out)

