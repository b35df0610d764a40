"""The authority directory: the official ABH list, and the postal codes each authority serves."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from sqlalchemy.orm import Session

from intake.store import models
from intake.xaus import genericode

ABH_LIST_URI = "urn:de:xauslaender:codelist:abhkennung"
AUTHORITY_KEY = re.compile(r"^\d{6}$")
POSTAL_CODE = re.compile(r"^\d{5}$")


class DirectoryError(ValueError):
    """An input file that cannot be imported; the message says where and why."""


def import_abh_list(session: Session, path: str | Path) -> int:
    """Create or update every authority of the official list (genericode `abhkennung`).

    Names, kinds and states come from the list; addresses and contacts entered here are kept.
    """
    code_list = genericode.read(path)
    if code_list.uri != ABH_LIST_URI:
        raise DirectoryError(f"{path} is {code_list.uri or 'no code list'}, not {ABH_LIST_URI}")
    for row in code_list.rows:
        key = row.get("BHKNZ", "")
        if not AUTHORITY_KEY.match(key):
            raise DirectoryError(f"{path}: authority key {key!r} is not six digits")
        authority = session.get(models.Authority, key) or models.Authority(key=key)
        # The list publishes some names with a trailing space (030401, 880791).
        authority.name = row.get("Kurzbezeichnung", "").strip()
        authority.kind = row.get("Behoerdenart", "").strip() or None
        authority.state = row.get("Bundesland", "").strip() or None
        session.add(authority)
    return len(code_list.rows)


def import_postal_codes(session: Session, path: str | Path) -> int:
    """Route postal codes from a CSV of `postal_code,authority_key` rows (header optional).

    A postal code already routed elsewhere is moved: the file is the newer word.
    """
    count = 0
    with open(path, newline="", encoding="utf-8") as file:
        for number, row in enumerate(csv.reader(file), start=1):
            if not row or row[0].strip().lower() == "postal_code":
                continue
            if len(row) != 2:
                raise DirectoryError(f"{path}:{number}: expected postal_code,authority_key")
            code, key = (value.strip() for value in row)
            if not POSTAL_CODE.match(code):
                raise DirectoryError(f"{path}:{number}: {code!r} is not a five-digit postal code")
            if session.get(models.Authority, key) is None:
                raise DirectoryError(f"{path}:{number}: no authority with key {key!r}")
            session.merge(models.PostalCode(code=code, authority_key=key))
            count += 1
    return count
