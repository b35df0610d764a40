"""A household's family ties as the authority needs them: who is a minor on a day, who
represents a minor, how each member relates to the applicant, which applications belong
together.

Roles are relative to the applicant: a "child" is the applicant's child (and the spouse's),
"parent" the applicant's parent, "other_relative" any other family member.

- Age decides, not the role: minority is counted on the application date (§ 2 BGB: of age
  at 18). A partly known date of birth counts from the latest day it may stand for, so that
  nobody is taken for an adult too early; an unknown one leaves the role to decide (a child
  is a minor).
- A minor is represented by a parent in the household, the applicant or the spouse (§ 1629
  BGB, Art der Vertretung 2), else by another adult relative there, by the parents' leave
  (§ 7 Abs. 1 Nr. 6 SGB VIII, 2a). A minor without an adult in the household is
  unaccompanied: the youth welfare office takes them into care (§ 42a SGB VIII) and a
  guardian is appointed (3), so no representative is named.
- Each member names the applicant as reference person, with the relationship from the
  member's side (OZG familiäre Beziehung Referenzperson 1).
- Linked applications (verbundenerAntrag) are those of parents and minor children, filed
  together, as the standard defines them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from intake.dataset.domain import Household, Person

ADULT_AGE = 18


def is_minor(person: Person, on: dt.date) -> bool:
    """Whether the person is under 18 on that day, as far as can be told."""
    if person.date_of_birth is None:
        return person.role == "child"
    born = person.date_of_birth.latest()
    coming_of_age = (born.year + ADULT_AGE, born.month, born.day)
    return coming_of_age > (on.year, on.month, on.day)


@dataclass(frozen=True)
class Representation:
    """Who represents a member: nobody (an adult), a person and how, or nobody because the
    minor is unaccompanied."""

    representative: Person | None = None
    kind: str | None = None  # "elterlich" (2) or "personensorge" (2a)
    unaccompanied: bool = False


def representation(household: Household, index: int, on: dt.date) -> Representation:
    person = household.persons[index]
    if not is_minor(person, on):
        return Representation()
    adults = [p for p in household.persons if p is not person and not is_minor(p, on)]
    if not adults:
        return Representation(unaccompanied=True)
    if person.role == "child":
        parents = [p for p in adults if p.role in ("applicant", "spouse")]
        if parents:
            return Representation(parents[0], "elterlich")
    if person.role == "applicant":  # a minor applicant with a parent along
        parents = [p for p in adults if p.role == "parent"]
        if parents:
            return Representation(parents[0], "elterlich")
    return Representation(adults[0], "personensorge")


def relationship(household: Household, index: int, on: dt.date) -> str | None:
    """What the member is to the applicant, their reference person: "partner",
    "minor_child", "parent" or "other"; None for the applicant."""
    person = household.persons[index]
    if index == 0:
        return None
    if person.role == "spouse":
        return "partner"
    if person.role == "parent":
        return "parent"
    if person.role == "child" and is_minor(person, on):
        return "minor_child"
    return "other"


def linked(household: Household, index: int, on: dt.date) -> list[int]:
    """The members whose applications are linked to this one's: a minor's parents in the
    household, a parent's minor children (the applicant's children, with the applicant and
    the spouse; a minor applicant, with the applicant's parents)."""
    persons = household.persons
    pairs: set[tuple[int, int]] = set()  # (parent, minor child)
    for child, member in enumerate(persons):
        if member.role == "child" and is_minor(member, on):
            parents = (i for i, p in enumerate(persons) if p.role in ("applicant", "spouse"))
            pairs |= {(i, child) for i in parents}
    if is_minor(persons[0], on):
        pairs |= {(i, 0) for i, p in enumerate(persons) if p.role == "parent"}
    return sorted({child for parent, child in pairs if parent == index}
                  | {parent for parent, child in pairs if child == index})
