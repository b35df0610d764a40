"""Progress of long commands: a bar on a terminal, plain lines anywhere else."""

from __future__ import annotations

import dataclasses
import os
import pty
import re
import subprocess
import sys

import pytest

from intake import progress
from intake.config import Settings, new_data_key, parse_data_keys
from tests.helpers.api import post
from tests.helpers.data import ADULT
from tests.helpers.processes import without_settings


def test_plain_lines_count_with_the_rate_and_end_with_the_time(capsys, monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_EVERY", 0.0)  # a line at every step

    with progress.shown("copying rows", 250) as advance:
        for _ in range(2):
            advance(100)
        advance(50)

    lines = capsys.readouterr().out.splitlines()
    assert [re.sub(r"[\d.]+(?= s,|/s)", "N", line) for line in lines] == [
        "copying rows: 100/250 (40%), N/s",
        "copying rows: 200/250 (80%), N/s",
        "copying rows: 250/250 (100%), N/s",
        "copying rows: 250/250 (100%) in N s, N/s",
    ]


def test_plain_lines_are_few_and_say_how_far_it_got_when_it_failed(capsys):
    def copy(advance: progress.Advance) -> None:
        for _ in range(300):
            advance(1)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError), progress.shown("copying rows", 1000) as advance:
        copy(advance)

    [line] = capsys.readouterr().out.splitlines()  # none in between: not 10 s yet
    assert line.startswith("copying rows: 300/1000 (30%) in ")


def test_nothing_to_do_shows_nothing(capsys):
    with progress.shown("copying rows", 0) as advance:
        advance(0)
    assert list(progress.each([], "copying rows")) == []
    assert capsys.readouterr().out == ""


def test_each_wraps_an_iterable_a_step_an_item(capsys):
    assert [item * 2 for item in progress.each(range(3), "doubling")] == [0, 2, 4]
    assert list(progress.each(iter("ab"), "letters", total=2)) == ["a", "b"]
    assert list(progress.each("abc", "silently", meter=progress.silent)) == ["a", "b", "c"]

    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" in ")[0] for line in lines] == [
        "doubling: 3/3 (100%)", "letters: 2/2 (100%)"]


@pytest.mark.slow  # starts a process
def test_a_terminal_gets_a_bar_and_a_pipe_plain_lines(app, client, submit_token, settings):
    """`intake keys rotate` as a person sees it, through a pseudo-terminal, and as a log
    keeps it: the same command, lines without control characters."""
    for _ in range(3):
        post(client, submit_token, ADULT)

    keys = parse_data_keys(f"{new_data_key('t3')},{new_data_key('t2')}") + settings.data_keys

    on_terminal = _on_a_terminal(_with_keys(settings, keys[1:]), "keys", "rotate")

    assert "\r" in on_terminal and "\x1b[?25l" in on_terminal  # drawn again in place
    drawn = on_terminal.replace("\x1b[?25l", "").replace("\x1b[?25h", "").split("\r")
    assert any(re.match(r"re-encrypting values  \[#+\]  6/6  100%  [\d.]+/s", line)
               for line in drawn), drawn
    assert on_terminal.rstrip().endswith("6 values and 0 batch files re-encrypted with key t2")

    in_a_pipe = subprocess.run(
        [sys.executable, "-m", "intake.cli", "keys", "rotate"], env=_with_keys(settings, keys),
        capture_output=True, text=True, timeout=60, check=True).stdout

    assert [re.sub(r"[\d.]+(?= s,|/s)", "N", line) for line in in_a_pipe.splitlines()] == [
        "re-encrypting values: 6/6 (100%) in N s, N/s",
        "6 values and 0 batch files re-encrypted with key t3",
    ]
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", in_a_pipe)


def _with_keys(settings: Settings, keys: tuple[tuple[str, bytes], ...]) -> dict[str, str]:
    """The environment of an `intake` command with these data keys, newest first."""
    return {**without_settings(), **dataclasses.replace(settings, data_keys=keys).to_env()}


def _on_a_terminal(env: dict[str, str], *args: str) -> str:
    """What `intake ARGS` writes to a terminal (a pseudo-terminal) as its standard output."""
    leader, follower = pty.openpty()
    with subprocess.Popen([sys.executable, "-m", "intake.cli", *args], env=env,
                          stdin=follower, stdout=follower, stderr=subprocess.DEVNULL) as command:
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the command closed its end
                break
            if not chunk:
                break
            output += chunk
        os.close(leader)
        assert command.wait(timeout=60) == 0
    return output.decode().replace("\r\n", "\n")  # the terminal's own line ends
