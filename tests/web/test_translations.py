"""Reproducible, complete catalogs: the template is current, nothing is missing or broken."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from intake.dataset.languages import LANGUAGES

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def read(path: Path):  # type: ignore[no-untyped-def]
    with open(path, "rb") as file:
        return read_po(file)


def catalog(language: str):  # type: ignore[no-untyped-def]
    return read(REPO / "translations" / language / "LC_MESSAGES" / "messages.po")


def test_the_committed_template_is_what_extraction_gives(tmp_path: Path):
    extracted = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "--no-location", "--omit-header", "--sort-output", "--no-wrap", "-c", "Translators:",
         "-k", "lazy_gettext", "-k", "_l", "-o", str(extracted), "."],
        cwd=REPO, check=True, capture_output=True,
    )
    committed = (REPO / "translations" / "messages.pot").read_text()
    assert extracted.read_text() == committed, "run `make translations` and commit the result"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_translates_every_message(language: str):
    template = {entry.id for entry in read(REPO / "translations" / "messages.pot") if entry.id}
    translated = {message.id: all(said for _source, said in _forms(message))
                  for message in catalog(language) if message.id}
    missing = sorted(str(msgid) for msgid in template if not translated.get(msgid))
    assert not missing, f"{language}: {len(missing)} untranslated, e.g. {missing[:3]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_translation_drops_or_invents_a_placeholder(language: str):
    broken = [
        message.id
        for message in catalog(language)
        for source, said in _forms(message)
        if said and sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(said))
    ]
    assert not broken


def _forms(message: Any) -> list[tuple[str, str]]:
    """(source, translation) of each form of a message: a plural message's forms are each
    said of the plural msgid, which names the same placeholders as the singular."""
    if not message.id:
        return []
    if isinstance(message.id, str):
        return [(message.id, message.string)]
    return [(message.id[-1], form) for form in message.string]


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_are_not_english_leftovers(language: str):
    same = [
        message.id
        for message in catalog(language)
        for source, said in _forms(message)
        if said == source and len(source.split()) > 2
    ]
    assert not same, f"{language}: {same[:3]}"


def test_pages_speak_the_language_of_the_url(client):
    english = client.get("/en/").text
    for language in ("de", "uk", "ar"):
        page = client.get(f"/{language}/").text
        assert "Who are you registering?" in english
        assert "Who are you registering?" not in page, language
