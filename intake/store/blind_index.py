"""Finding people without decrypting everyone: blind indexes of names and document numbers.

Names are reduced to a skeleton before hashing so that the usual transliteration variants
meet: Oleksandr / Aleksandr / Olexandr, Yurii / Yuriy / Iurii, Kharkiv / Harkiv. The price is
that different names sometimes share a skeleton; a search shows the candidates, a person
decides. The date of birth keeps that set small.

A person is found by both names with the date of birth (name_index), by the family name with
the date of birth (family_index: the desk's search by family name alone, when the given
names are spelled past recognition or not known), or by the document number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, selectinload

from intake.dataset import domain
from intake.security.crypto import STORED_INDEX_CHARS, FieldCipher
from intake.store import household_rows, models, packing, stored_form
from intake.store.database import Database

# The person columns that hold blind indexes: written together (person_indexes), emptied
# together when a person is erased.
COLUMNS = ("name_index", "family_index", "document_index")

# Spellings that differ between transliteration systems, reduced to one (order matters).
_VARIANTS = (
    ("shch", "sh"), ("sch", "sh"), ("tsch", "ch"), ("tch", "ch"), ("kh", "h"), ("ch", "c"),
    ("zh", "z"), ("ts", "c"), ("tz", "c"), ("x", "ks"), ("w", "v"), ("ph", "f"), ("g", "h"),
    ("ck", "k"), ("q", "k"),
)
_NOT_SKELETON = re.compile(r"[aeiouyj\W\d_]+")


def skeleton(name: str | None) -> str:
    """Lower case, no diacritics, variant spellings unified, vowels and y/j/i dropped."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name.lower())
    text = "".join(char for char in text if not unicodedata.combining(char))
    for variant, common in _VARIANTS:
        text = text.replace(variant, common)
    text = _NOT_SKELETON.sub("", text)
    return re.sub(r"(.)\1+", r"\1", text)  # doubled letters: Anna / Ana


def name_index(
    cipher: FieldCipher, family_name: str | None, given_names: str | None, born: str | None
) -> str:
    """The index under which a person is found by name and date of birth."""
    return _stored(cipher, f"name|{skeleton(family_name)}|{skeleton(given_names)}|{born or ''}")


def family_index(cipher: FieldCipher, family_name: str | None, born: str | None) -> str:
    """The index under which a person is found by family name and date of birth alone."""
    return _stored(cipher, f"family|{skeleton(family_name)}|{born or ''}")


def document_index(cipher: FieldCipher, number: str) -> str:
    return _stored(cipher, f"document|{re.sub(r'[^0-9A-Z]', '', number.upper())}")


def _stored(cipher: FieldCipher, text: str) -> str:
    return cipher.blind_index(text, STORED_INDEX_CHARS)


def person_indexes(cipher: FieldCipher, person: domain.Person) -> dict[str, str | None]:
    """A person's indexes, by column (COLUMNS); no document index without a document."""
    born = _born(person)
    return {
        "name_index": name_index(cipher, person.family_name, person.given_names, born),
        "family_index": family_index(cipher, person.family_name, born),
        "document_index": (
            document_index(cipher, person.document.number) if person.document else None
        ),
    }


def _born(person: domain.Person) -> str | None:
    return str(person.date_of_birth) if person.date_of_birth else None


def fill_missing(database: Database, cipher: FieldCipher, batch: int = 500) -> int:
    """Index the persons stored before their family index existed (revision 0016); returns
    how many were indexed.

    Safe while the service runs and to run again: each batch is decrypted and hashed
    before its transaction (on SQLite, registrations wait for the write lock meanwhile),
    and a row is written only if its data is still what was read, so a person erased
    meanwhile is not indexed again.
    """
    person = models.Person
    filled, last = 0, ""
    while True:
        with database.read() as session:
            rows = session.execute(
                select(person.id, person.data)
                .where(person.family_index.is_(None), person.data.is_not(None), person.id > last)
                .order_by(person.id)
                .limit(batch)
            ).all()
        indexed = [
            (person_id, data, person_indexes(cipher, stored_form.person(household_rows.opened(
                cipher, data or "", packing.PERSON, household_rows.context("person", person_id)
            ))))
            for person_id, data in rows
        ]
        with database.transaction() as session:
            for person_id, data, indexes in indexed:
                written = session.scalar(
                    update(person)
                    .where(person.id == person_id, person.data == data)
                    .values(indexes)
                    .returning(person.id)
                )
                filled += written is not None
        if len(rows) < batch:
            return filled
        last = rows[-1].id


@dataclass(frozen=True)
class Duplicate:
    """An earlier registration with a matching person, as the desk names it."""

    reference: str
    name: str  # the matching person, "Family, Given"
    born: str | None  # their date of birth, as far as known (PartialDate's form)
    household: tuple[str, ...]  # everyone registered together, the matching person too


def duplicates(
    session: Session, cipher: FieldCipher, persons: list[dict[str, Any]], within: Collection[str]
) -> list[Duplicate]:
    """Earlier registrations with a person of the same document number, or the same name
    skeleton and date of birth, as one of these (stored-form) persons, among the
    registrations of the authorities `within` (those the viewer may see); each names the
    person that matched, so that a volunteer can tell a namesake from the same person.

    The persons of one household are never compared with each other: twins are not duplicates.
    """
    names, documents = set(), set()
    for person in persons:
        names.add(name_index(
            cipher, person.get("family_name"), person.get("given_names"),
            person.get("date_of_birth"),
        ))
        number = (person.get("document") or {}).get("number")
        if number:
            documents.add(document_index(cipher, number))
    # The persons first, by their indexes, then their registrations by id. Asked at once,
    # SQLite chose to walk every registration of the authority and look at its persons:
    # the check grew with the authority (2.6 ms median at 100,000 registrations, 1.0 at
    # 10,000; bench/SCALE.md).
    stored = models.Person
    matched: dict[str, list[str]] = {}  # registration id: its persons that matched
    for person_id, registration_id in session.execute(
        select(stored.id, stored.registration_id)
        .where(or_(stored.name_index.in_(names), stored.document_index.in_(documents)))
        .order_by(stored.id)
    ):
        matched.setdefault(registration_id, []).append(person_id)
    if not matched:
        return []
    registrations = session.scalars(
        # By id alone: with the authority too, SQLite chose the authority's index again.
        select(models.Registration).where(models.Registration.id.in_(matched))
        .order_by(models.Registration.reference)
    ).all()
    visible = [each for each in registrations if each.authority_key in within]
    if not visible:
        return []
    # Each household shown is read whole: all their persons in one more query.
    members: dict[str, list[models.Person]] = {}
    for member in session.scalars(
        select(stored).where(stored.registration_id.in_([each.id for each in visible]))
        .order_by(stored.registration_id, stored.position)
    ):
        members.setdefault(member.registration_id, []).append(member)
    found = []
    for registration in visible:
        household = household_rows.household_of(cipher, registration, members[registration.id])
        positions = [member.id for member in members[registration.id]]
        for person_id in matched[registration.id]:
            same = household.persons[positions.index(person_id)]
            found.append(Duplicate(
                registration.reference, same.listed_name, _born(same),
                tuple(member.listed_name for member in household.persons),
            ))
    return found


def readings(name: str) -> list[tuple[str, str | None]]:
    """The ways a name typed into one field divides into (family name, given names or None).

    At a comma, as the desk lists people ("Kovalenko, Taras"). Without one: the whole as a
    family name alone, and each division of its words with the family name first or last,
    as people type it ("Kovalenko Taras", "Taras Kovalenko"); a few readings more cost a few
    hashes, and the date of birth keeps what they find apart.
    """
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return [(family, given or None)] if family else []
    words = name.split()
    found: list[tuple[str, str | None]] = [(" ".join(words), None)] if words else []
    for cut in range(1, len(words)):
        first, last = " ".join(words[:cut]), " ".join(words[cut:])
        found += [(first, last), (last, first)]
    return found


def registrations_named(
    session: Session, cipher: FieldCipher, name: str, born: str | None
) -> list[models.Registration]:
    """Registrations with a person under any reading of `name` (readings) and date of birth
    `born`; a family name alone is looked for only with a date of birth."""
    names, families = set(), set()
    for family, given in readings(name):
        if given is not None:
            names.add(name_index(cipher, family, given, born))
        elif born:
            families.add(family_index(cipher, family, born))
    person = models.Person
    return list(
        session.scalars(
            select(models.Registration)
            .options(selectinload(models.Registration.persons))  # the desk lists their names
            .where(models.Registration.id.in_(
                select(person.registration_id).where(
                    or_(person.name_index.in_(names), person.family_index.in_(families))
                )
            ))
            .order_by(models.Registration.created_at)
        )
    )
