"""The routes registrations follow, made from the directory, and how far they reach.

A place (a municipality under a postal code) goes to the authority serving the
municipality, else its district, else the one its postal code is routed whole to
(`postal_code`: the older form of the postal-code table, and the demo), which so fills in
only where the jurisdiction says nothing. A postal code routed whole that has no places goes
there from its one row. `postal_route` holds the result, one row per place, so that routing
a registration is one indexed lookup (`registrations/routing.py`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.store import bulk, models

WHOLE = ""  # the municipality key of a postal code routed whole


def rebuild(session: Session) -> bulk.Changes:
    """Make the routes anew from the directory as it is in this transaction; writes only
    the routes that changed. Run after every import (and the demo seed)."""
    served = dict(session.execute(select(models.Jurisdiction.official_key,
                                         models.Jurisdiction.authority_key)).all())
    whole = dict(session.execute(select(models.PostalCode.code,
                                        models.PostalCode.authority_key)).all())
    districts = dict(session.execute(select(models.District.key,
                                            models.District.name)).all())
    places: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for code, key, name in session.execute(select(
        models.PostalCodePlace.postal_code, models.PostalCodePlace.municipality_key,
        models.PostalCodePlace.place_name,
    )).all():
        places[code].append((key, name))
    routes = [
        {"postal_code": code, "municipality_key": key, "place": label,
         "authority_key": served.get(key) or served.get(key[:5]) or whole.get(code)}
        for code, found in places.items()
        for key, label in _labels(found, districts)
    ]
    routes += [
        {"postal_code": code, "municipality_key": WHOLE, "place": "", "authority_key": key}
        for code, key in whole.items() if code not in places
    ]
    return bulk.replace(session, models.table(models.PostalRoute),
                        ("postal_code", "municipality_key"), routes)


def _labels(places: list[tuple[str, str]], districts: dict[str, str]) -> list[tuple[str, str]]:
    """Each place's name as a person choosing among them sees it: a name that two places of
    the postal code share gets its district's (or, failing that, its key) beside it."""
    shared = Counter(name for _key, name in places)
    labelled = [
        (key, f"{name} ({districts.get(key[:5], key)})" if shared[name] > 1 else name)
        for key, name in places
    ]
    still = Counter(label for _key, label in labelled)
    return [(key, f"{label} ({key})" if still[label] > 1 else label)
            for key, label in labelled]


@dataclass(frozen=True)
class Coverage:
    """How the postal codes known are routed: to one authority, by asking for the place
    (its places are served by different authorities), or not at all (a place no
    jurisdiction covers: nothing is routed there by guess)."""

    routed: int
    asked: int
    unrouted: tuple[str, ...]  # "01234 Musterdorf (14625110)", by postal code

    @property
    def postal_codes(self) -> int:
        return self.routed + self.asked + len(self.unrouted)


def coverage(session: Session) -> Coverage:
    """Count the postal codes by how they are routed."""
    authorities: dict[str, set[str | None]] = defaultdict(set)
    lacking: dict[str, list[str]] = defaultdict(list)
    for code, key, place, authority in session.execute(select(
        models.PostalRoute.postal_code, models.PostalRoute.municipality_key,
        models.PostalRoute.place, models.PostalRoute.authority_key,
    ).order_by(models.PostalRoute.postal_code, models.PostalRoute.place)).all():
        authorities[code].add(authority)
        if authority is None:
            lacking[code].append(f"{place} ({key})")
    routed = sum(len(found) == 1 for code, found in authorities.items() if code not in lacking)
    return Coverage(
        routed=routed,
        asked=len(authorities) - routed - len(lacking),
        unrouted=tuple(f"{code} {', '.join(places)}" for code, places in sorted(lacking.items())),
    )
