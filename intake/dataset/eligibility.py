"""Who may be registered for temporary protection, from what the household answered.

The legal sources:
- Council Implementing Decision (EU) 2022/382 of 4 March 2022, Article 2: (1)(a) Ukrainian
  nationals residing in Ukraine before 24 February 2022; (b) stateless persons and nationals
  of third countries who benefited from international protection, or equivalent national
  protection, in Ukraine before that day; (c) their family members (spouse or unmarried
  partner, minor children, other close relatives who lived with them as part of the family);
  (2) stateless persons and third-country nationals legally residing in Ukraine before that
  day on a valid permanent residence permit, who cannot return safely. Extended since, last
  by Council Implementing Decision (EU) 2025/1460 to 4 March 2027.
- § 24 AufenthG: the residence permit granted to those the decision covers.
- Ukraine-Aufenthalts-Übergangsverordnung (UkraineAufenthÜV), § 2: those who were resident in
  Ukraine on 24 February 2022 need no residence title for their first 90 days in Germany.

Those who do not qualify are not registered as applicants under § 24: asylum is asked for at
an arrival centre of the Federal Office for Migration and Refugees (BAMF), other residence
titles at the immigration authority's regular service. Requests that did not ask (partners'
requests from before the question) are sent without a § 24 claim, marked for the clerk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from intake.dataset.domain import Person

UKRAINE = "UA"
# Statuses in Ukraine that qualify a person who is not Ukrainian (Article 2(1)(b) and 2(2)).
QUALIFYING_STATUSES = frozenset(("international_protection", "permanent_residence"))


@dataclass(frozen=True)
class Outcome:
    """"eligible" (on their own, or as a family member), "not_eligible", or "not_asked"."""

    verdict: str
    reason: str  # own | family | not_in_ukraine | status | not_asked


def own(person: Person) -> Outcome:
    """What a person's own answers say, before family ties."""
    answers = person.eligibility
    if answers is None:
        return Outcome("not_asked", "not_asked")
    if not answers.lived_in_ukraine:
        return Outcome("not_eligible", "not_in_ukraine")
    if UKRAINE in person.nationalities or answers.status_in_ukraine in QUALIFYING_STATUSES:
        return Outcome("eligible", "own")
    return Outcome("not_eligible", "status")


def _article_2_1(person: Person) -> bool:
    answers = person.eligibility
    return UKRAINE in person.nationalities or (
        answers is not None and answers.status_in_ukraine == "international_protection"
    )


def assess(persons: Sequence[Person]) -> list[Outcome]:
    """Each member's outcome: a member who lived in Ukraine with the family qualifies as a
    family member of one who qualifies under Article 2(1)(a) or (b), a Ukrainian or a person
    with international protection there (Article 2(1)(c); the family of a permanent resident,
    Article 2(2), is not covered). The household registered together is the family."""
    outcomes = [own(person) for person in persons]
    anyone = any(
        outcome.reason == "own" and _article_2_1(person)
        for person, outcome in zip(persons, outcomes, strict=True)
    )
    return [
        Outcome("eligible", "family") if outcome.reason == "status" and anyone else outcome
        for outcome in outcomes
    ]
