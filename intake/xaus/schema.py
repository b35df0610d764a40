"""Load the official schema set from a local folder and check messages against it.

The schema files are never part of the project: a deployment names their folder
(INTAKE_XSD_DIR). Their absolute import URLs are mapped to that folder by file name, so
loading never goes online.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from intake.dataset import names
from intake.xaus.codes import AUTHORITY_PREFIX, CODE_LISTS, DVDV_PREFIXES, NS

ROOT_SCHEMA = "xauslaender-nachrichten-ozg.xsd"
ROOT_TAG = f"{{{NS}}}OZG.Antrag.130101"
MAX_REPORTED = 5  # problems quoted in an InvalidMessage; the first ones explain the rest

_CODES = {
    uri: (codes.version, frozenset(codes.values.values())) for uri, codes in CODE_LISTS.items()
}
_READER_KENNUNG = etree.XPath("string(nachrichtenkopf.g2g/leser/kennung)")
_AUTHOR_KENNUNG = etree.XPath("string(nachrichtenkopf.g2g/autor/kennung)")
_AUTHORITY_KENNUNG = re.compile(rf"{AUTHORITY_PREFIX}:[0-9]{{6}}")
# libxml quotes offending values in its messages; they may be personal data, so they are cut.
_QUOTED_VALUE = re.compile(
    r"(?:(?<=value )|(?<=^)|(?<=: ))'.*?'(?= is not| has a length| does not match)", re.S
)
_PATTERN = re.compile(r"pattern '.*'", re.S)


def _hardened_parser(**options: bool) -> etree.XMLParser:
    """A parser for anything from outside (RELIABILITY.md, "XML"), like genericode.SAFE_PARSER."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, **options
    )


# Messages are parsed without the indentation between elements: fewer nodes to validate.
_MESSAGE_PARSER = _hardened_parser(remove_blank_text=True)


class InvalidMessage(Exception):
    """A message that the schema or the service's own checks reject; says where and why."""


class _LocalSchemas(etree.Resolver):  # type: ignore[misc]  # lxml ships no type stubs
    """Resolve http(s) schemaLocations to the file of the same name under one folder."""

    def __init__(self, files: dict[str, Path]) -> None:
        super().__init__()
        self.files = files

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if not system_url.startswith(("http://", "https://")):
            return None  # a local path: libxml reads it itself
        path = self.files.get(system_url.rsplit("/", 1)[-1])
        if path is None:
            # Never fall through to a download: this fails the schema load instead.
            raise LookupError(f"no local copy of {system_url}")
        return self.resolve_filename(str(path), context)


@functools.lru_cache(maxsize=4)
def _load(folder: Path) -> etree.XMLSchema:
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.xsd")):
        if path.name in files:
            raise ValueError(f"{path.name} occurs twice under {folder}")
        files[path.name] = path
    if ROOT_SCHEMA not in files:
        raise FileNotFoundError(f"{ROOT_SCHEMA} not found under {folder}")
    parser = _hardened_parser()
    parser.resolvers.add(_LocalSchemas(files))
    return etree.XMLSchema(etree.parse(str(files[ROOT_SCHEMA]), parser))


_LOADING = threading.Lock()


def load_schema(xsd_dir: str | Path) -> etree.XMLSchema:
    """The compiled OZG schema set from a folder holding the official files (cached per folder)."""
    # One thread compiles, the others wait for its result: libxml2 compiling the same
    # set in two threads at once fails to resolve the imports.
    with _LOADING:
        return _load(Path(xsd_dir).resolve())


def validate(xml: bytes | etree._Element, schema: etree.XMLSchema | None) -> None:
    """Raise InvalidMessage unless xml passes the service's own checks and, if given, the schema.

    `xml` is a message's bytes, or the element the builder made: the builder applied the own
    checks to what it recorded while building (`blank_texts`, `code_problem`,
    `kennung_problems`), so the element is checked against the schema only, without a second
    parse or a walk over every element.
    The message names element paths and reasons, never the values found there.
    """
    if isinstance(xml, etree._Element):
        root = xml
        problems = [] if root.tag == ROOT_TAG else [f"root element is {root.tag}"]
    else:
        try:
            root = etree.fromstring(xml, _MESSAGE_PARSER)
        except etree.XMLSyntaxError as error:
            raise InvalidMessage(f"not well-formed XML: {error}") from None
        problems = _own_problems(root)
    if not problems and schema is not None and not schema.validate(root):
        problems = [
            f"line {entry.line} {entry.path}: {_without_values(entry.message)}"
            for entry in schema.error_log
        ]
    if problems:
        more = len(problems) - MAX_REPORTED
        lines = problems[:MAX_REPORTED] + ([f"... and {more} more"] if more > 0 else [])
        raise InvalidMessage("\n".join(lines))


def _without_values(message: str) -> str:
    return _PATTERN.sub("pattern '...'", _QUOTED_VALUE.sub("'...'", message))


def _own_problems(root: etree._Element) -> list[str]:
    """What the schema cannot see (blank texts, codes outside our tables, the wrong message),
    and what it would refuse in a text (DIN 91379, the address and date patterns)."""
    if root.tag != ROOT_TAG:
        return [f"root element is {root.tag}, not {ROOT_TAG}"]
    problems = []
    # datatypeC accepts "", so a blank leaf would be schema-valid but says nothing. The
    # question is asked in libxml2; elements are visited in Python only to name the culprits.
    if _ANY_BLANK_LEAF(root):
        problems = [
            _at(element, "empty")
            for element in root.iter()
            if not len(element) and not (element.text or "").strip()
        ]
    leaves = [element for element in root.iter() if not len(element)]
    problems += [
        _at(element, reason)
        for element in leaves
        if (reason := text_problem(etree.QName(element).localname, element.text or ""))
    ]
    problems += [
        f"attribute {name}: {reason}"
        for name, value in root.attrib.items()
        if (reason := text_problem(name, value))
    ]
    # Every code element has a `code` child; its parent names list and version.
    for child in root.iter("code"):
        element = child.getparent()
        if element is not None and (reason := _code_problem(element, child.text)):
            problems.append(_at(element, reason))
    problems += kennung_problems(_READER_KENNUNG(root), _AUTHOR_KENNUNG(root))
    return problems


_ANY_BLANK_LEAF = etree.XPath("boolean(//*[not(*)][not(normalize-space())])")


def _at(element: etree._Element, reason: str) -> str:
    return f"{element.getroottree().getpath(element)}: {reason}"


def _code_problem(element: etree._Element, code: str | None) -> str | None:
    return code_problem(element.get("listURI"), element.get("listVersionID"), code)


def code_problem(uri: str | None, version_sent: str | None, code: str | None) -> str | None:
    """Why a code element is wrong for the service's tables, or None."""
    known = _CODES.get(uri or "")
    if known is None:
        return f"code list {uri} is not one the service sends"
    version, codes = known
    if version_sent != version:
        return f"listVersionID is not {version}"
    if code not in codes:
        return f"code not in {uri} version {version}"
    return None


def blank_texts(texts: list[str]) -> list[str]:
    """The blank-leaf check of `_own_problems`, on the texts the builder recorded."""
    if all(map(str.strip, texts)):  # the usual case, answered in C
        return []
    return [f"text {n}: empty" for n, text in enumerate(texts) if not text.strip()]


def leaf_problems(leaves: list[tuple[str, str]]) -> list[str]:
    """The text checks of `_own_problems`, on the (tag, text) leaves the builder recorded.

    On the worker's hot path: the DIN 91379 pattern is asked only of texts that are not plain
    printable ASCII (all of which it allows), and the other patterns only of the few elements
    that have one.
    """
    problems = []
    for tag, text in leaves:  # one pass, most texts asked nothing beyond two string tests
        if not (text.isascii() and text.isprintable()) and names.first_disallowed(text):
            problems.append(f"{tag}: a character outside DIN 91379 datatypeC")
        elif tag in _FACETS and not _FACETS[tag](text):
            problems.append(f"{tag}: {_FORM_PROBLEM}")
    return problems


def text_problem(tag: str, text: str) -> str | None:
    """Why the official schema would refuse `text` in element (or attribute) `tag`, or None.

    Every text the service sends is DIN 91379 `datatypeC` or narrower; the narrower ones are
    the address fields (XInneres Meldeanschrift) and the dates (xs:date, XInneres Datum).
    """
    if names.first_disallowed(text) is not None:
        return "a character outside DIN 91379 datatypeC"
    facet = _FACETS.get(tag.rpartition(":")[2])
    if facet is not None and not facet(text):
        return _FORM_PROBLEM
    return None


_FORM_PROBLEM = "not of the form the schema gives this element"


def _digits_and_spaces(most: int) -> Callable[[str], bool]:
    return lambda text: len(text) <= most and all(char in "0123456789 " for char in text)


def _house_number_suffix(text: str) -> bool:
    # [\p{L}0-9./ ]*, at most 4: isalpha() is exactly the letter categories \p{L}.
    return len(text) <= 4 and all(char.isalpha() or char in "0123456789./ " for char in text)


def _date_form(pattern: str, parse: Callable[[str], object]) -> Callable[[str], bool]:
    form = re.compile(pattern)

    def fits(text: str) -> bool:
        if not form.fullmatch(text) or text.startswith("0000"):  # xs:gYear has no year 0
            return False
        try:
            parse(text)
        except ValueError:
            return False
        return True

    return fits


_FULL_DATE = _date_form(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", dt.date.fromisoformat)
_FACETS: dict[str, Callable[[str], bool]] = {
    "hausnummer": _digits_and_spaces(4),
    "hausnummerBuchstabeZusatzziffer": _house_number_suffix,
    "postleitzahl": _digits_and_spaces(5),
    "jahr": _date_form(r"[0-9]{4}", int),
    "jahrMonat": _date_form(r"[0-9]{4}-(0[1-9]|1[0-2])", str),
    "jahrMonatTag": _FULL_DATE,
    "antragsdatum": _FULL_DATE,
    "ersteinreisedatum": _FULL_DATE,
    "tagDerGeburt": _FULL_DATE,  # the representative's: a leaf, unlike the person's
    "von": _FULL_DATE,  # an identity document's validity (xauslaender:Zeitraum)
    "bis": _FULL_DATE,
}
# The builder records XAusländer's own elements with their prefix.
_FACETS.update({f"xa:{tag}": check for tag, check in list(_FACETS.items())})


def kennung_problems(reader: str, author: str) -> list[str]:
    """What is wrong with the reader's and the author's DVDV key."""
    problems = []
    if not _AUTHORITY_KENNUNG.fullmatch(reader):
        problems.append(f"leser/kennung: not {AUTHORITY_PREFIX}: and a six-digit ABH key")
    prefix, _, organisation = author.partition(":")
    if prefix not in DVDV_PREFIXES or not organisation:
        problems.append("autor/kennung: not a known DVDV prefix, a colon and an id")
    return problems
