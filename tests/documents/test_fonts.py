"""The fonts are written once for every process of a version, in a folder of the user's own."""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest

from intake.documents import fonts


def _folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("intake-fonts-*"))


def _write_fonts_and_die(folders: Any) -> None:
    fonts.files.cache_clear()  # the parent's, inherited by the fork, stay the parent's
    folders.put(str(fonts.files()[fonts.TEXT].parent))
    folders.close()
    folders.join_thread()  # sent, before the end
    os.kill(os.getpid(), signal.SIGKILL)  # as an OOM-killed worker ends: nothing runs


# Python 3.12 warns of a fork in a process with threads (pytest's): granian forks all the same.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_processes_share_one_folder_and_a_killed_one_leaves_none_of_its_own():
    # Each process wrote a private folder and removed it as it ended: a killed one (16 during
    # one CI run) left it in /tmp.
    before = _folders()
    context = multiprocessing.get_context("fork")
    folders = context.Queue()
    worker = context.Process(target=_write_fonts_and_die, args=(folders,))
    worker.start()
    folder = Path(folders.get(timeout=60))
    worker.join(60)
    assert worker.exitcode == -signal.SIGKILL

    fonts.files.cache_clear()
    assert fonts.files()[fonts.TEXT].parent == folder  # the next process finds them there
    assert _folders() - before <= {folder}
    assert {path.name for path in folder.iterdir()} == {
        f"{name}.ttf" for name in (fonts.TEXT, fonts.ARABIC, fonts.UNSHAPED)}
    assert folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("planted", ["open to others", "a link"])
def test_a_folder_of_that_name_others_could_write_to_is_not_used(
        tmp_path, monkeypatch: pytest.MonkeyPatch, planted: str):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    fonts.files.cache_clear()
    monkeypatch.setattr(fonts, "_remove_at_exit", lambda _folder: None)
    shared = fonts._shared_folder()
    assert shared is not None
    shared.rmdir()
    if planted == "a link":
        (tmp_path / "theirs").mkdir()
        shared.symlink_to(tmp_path / "theirs")
    else:
        shared.mkdir()
        shared.chmod(0o777)

    try:
        used = fonts.files()[fonts.TEXT].parent
    finally:
        fonts.files.cache_clear()

    assert used != shared and used.parent == tmp_path / "tmp"
    assert not list((tmp_path / "theirs").iterdir()) if planted == "a link" else \
        not list(shared.iterdir())
