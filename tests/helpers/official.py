"""Where the tests find the official XAusländer 26.11 schema set and code lists, if anywhere.

The set is KoSIT's, not ours, so a clone does not carry it. The first of these that holds it
is used: INTAKE_TEST_XSD_DIR (exclusively, when set), INTAKE_XSD_DIR, `../shared/xoev` beside
the clone (as on CI), `instance/xoev` (what `make schemas` fetched). Tests that cannot mean
anything without it skip through `require()`, all with the same reason, so pytest's summary
shows one line and a count; INTAKE_TEST_REQUIRE_OFFICIAL=1 (set by .ci/run) fails them instead.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from intake import xaus
from intake.xaus.schema import ROOT_SCHEMA

REPO = Path(__file__).resolve().parents[2]
MISSING = (
    "needs the official XAusländer 26.11 schema set and code lists: run `make schemas`, "
    "or set INTAKE_XSD_DIR (README, Set-up)"
)


def _holds_the_set(folder: Path) -> bool:
    return any(folder.glob(f"*/{ROOT_SCHEMA}")) or (folder / ROOT_SCHEMA).is_file()


@cache
def folder() -> Path | None:
    """The folder holding the official set, or None when this machine has none."""
    configured = os.environ.get("INTAKE_TEST_XSD_DIR")
    if configured is not None:
        candidates = [Path(configured)] if configured else []
    else:
        candidates = [
            *([Path(os.environ["INTAKE_XSD_DIR"])] if os.environ.get("INTAKE_XSD_DIR") else []),
            REPO.parent / "shared" / "xoev",
            REPO / "instance" / "xoev",
        ]
    return next((path.resolve() for path in candidates if _holds_the_set(path)), None)


def require() -> Path:
    """The official set's folder; skips the calling test when there is none (fails on CI)."""
    found = folder()
    if found is None:
        if os.environ.get("INTAKE_TEST_REQUIRE_OFFICIAL") == "1":
            pytest.fail(f"official schema set not found; {MISSING}")
        pytest.skip(MISSING)
    return found


SKIP_LINE = require.__code__.co_firstlineno


def code_lists() -> Path:
    """The official genericode lists (`codelists/` of the set)."""
    lists = require() / "codelists"
    if not lists.is_dir():
        pytest.fail(f"the official set at {lists.parent} has no codelists/ folder")
    return lists


def schema() -> etree.XMLSchema | None:
    """The compiled official schema where the set is present, else None (own checks only)."""
    found = folder()
    return None if found is None else xaus.load_schema(found)


def required_schema() -> etree.XMLSchema:
    """The compiled official schema; skips the calling test when there is none."""
    return xaus.load_schema(require())
