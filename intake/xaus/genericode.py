"""Read OASIS genericode 1.0 code lists (the format XRepository publishes XÖV code lists in)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

GC = "{http://docs.oasis-open.org/codelist/ns/genericode/1.0/}"
# One hardened parser for everything read from outside (RELIABILITY.md, "XML").
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


@dataclass(frozen=True)
class CodeList:
    uri: str
    version: str
    key_column: str
    rows: tuple[dict[str, str], ...]

    def codes(self) -> dict[str, dict[str, str]]:
        """Rows by their key column's value."""
        return {row[self.key_column]: row for row in self.rows}


def read(path: str | Path) -> CodeList:
    """Parse a genericode file into its identification and rows (column id -> value)."""
    root = etree.parse(str(path), SAFE_PARSER).getroot()
    ident = root.find("Identification")
    if root.tag != f"{GC}CodeList" or ident is None:
        raise ValueError(f"{path} is not a genericode code list")
    key_ref = root.find("ColumnSet/Key/ColumnRef")
    rows = tuple(
        {
            value.get("ColumnRef", ""): (value.findtext("SimpleValue") or "")
            for value in row.findall("Value")
        }
        for row in root.iterfind("SimpleCodeList/Row")
    )
    return CodeList(
        uri=ident.findtext("CanonicalUri", ""),
        version=ident.findtext("Version", ""),
        key_column=key_ref.get("Ref", "") if key_ref is not None else "",
        rows=rows,
    )
