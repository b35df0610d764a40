"""The fonts' private folder goes with the process that wrote it, however it ends."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from intake.documents import fonts


def _write_fonts(folders: Any) -> None:
    fonts.files.cache_clear()  # the parent's, inherited by the fork, stay the parent's
    folders.put(str(fonts.files()[fonts.TEXT].parent))


# Python 3.12 warns of a fork in a process with threads (pytest's): granian forks all the same.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_web_worker_leaves_no_font_folder_behind():
    # Granian's workers are forked by multiprocessing and end with os._exit, past atexit:
    # each worker, and each restart of one, left a folder in /tmp.
    context = multiprocessing.get_context("fork")
    folders = context.Queue()
    worker = context.Process(target=_write_fonts, args=(folders,))
    worker.start()
    folder = Path(folders.get(timeout=60))
    worker.join(60)

    assert worker.exitcode == 0
    assert folder.name.startswith("intake-fonts-")
    assert not folder.exists()
