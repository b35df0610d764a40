"""Which authority a registration goes to: by its postal code and, where the postal code's
places are served by different authorities, the place the person chose.

The routes are made when the directory is imported (`authorities/routes.py`); here they are
only read, one indexed query per postal code, remembered a minute per process on the
registration's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cachetools.func import ttl_cache
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from intake.dataset import domain
from intake.store import models
from intake.store.household_rows import authority_of

if TYPE_CHECKING:
    from intake.runtime import Runtime


class UnknownPostalCode(LookupError):
    """No authority is responsible for the postal code, or for the place chosen in it
    (`place_chosen`): never routed to a default."""

    def __init__(self, postal_code: str, place_chosen: bool = False) -> None:
        super().__init__(postal_code)
        self.place_chosen = place_chosen


class PlaceNeeded(LookupError):
    """The postal code's places are served by different authorities, and none of them was
    chosen (`refused`: a municipality key was given that is not one of them)."""

    def __init__(self, routing: Routing, refused: bool = False) -> None:
        super().__init__(routing.postal_code)
        self.routing = routing
        self.refused = refused

    def message(self, why: bool = True) -> str:
        """What to do; `why`: after why it is asked (the form's hint says it instead)."""
        if self.refused and not self.routing.choices:
            return str(_("This postal code is served as a whole: leave out the "
                         "municipality key."))
        if self.refused:
            return str(_("Choose one of the places this postal code covers."))
        choose = str(_("Choose the place where you are staying."))  # babel reads no f-string
        return f"{covers_places_message()} {choose}" if why else choose


def covers_places_message() -> str:
    return str(_("This postal code covers places served by different immigration "
                 "authorities."))


def unknown_postal_code_message() -> str:
    return str(_(
        "We do not know which immigration authority is responsible for this postal code. "
        "Check the postal code of the place where you are staying."
    ))


@dataclass(frozen=True)
class Place:
    """A municipality a postal code reaches into, and the authority serving it (None: no
    jurisdiction covers it). A postal code routed whole has one, with the key ""."""

    municipality_key: str
    name: str
    authority: domain.Authority | None


@dataclass(frozen=True)
class Routing:
    """The places of a postal code, in the order they are offered."""

    postal_code: str
    places: tuple[Place, ...]

    @property
    def choices(self) -> tuple[Place, ...]:
        """The places a person may choose among (none for a postal code routed whole)."""
        return tuple(place for place in self.places if place.municipality_key)

    @property
    def asks(self) -> bool:
        """Whether the place decides the authority (its places have different ones)."""
        return len({_key_of(place) for place in self.places}) > 1

    def authority(self, municipality_key: str | None = None) -> domain.Authority:
        """The authority for a registration from the place chosen (None: none chosen).

        Raises PlaceNeeded when the choice decides and is missing, or is not one of the
        places; UnknownPostalCode when nobody serves the place.
        """
        if municipality_key is not None:
            chosen = self.place(municipality_key)
            if chosen is None:
                raise PlaceNeeded(self, refused=True)
            found = chosen.authority
        elif self.asks:
            raise PlaceNeeded(self)
        else:
            found = self.places[0].authority
        if found is None:
            raise UnknownPostalCode(self.postal_code, municipality_key is not None)
        return found

    def place(self, municipality_key: str) -> Place | None:
        """The place of that municipality key, if it is one of this postal code's."""
        return next((place for place in self.choices
                     if place.municipality_key == municipality_key), None)


def _key_of(place: Place) -> str | None:
    return None if place.authority is None else place.authority.key


_route, _authority = models.table(models.PostalRoute), models.table(models.Authority)
# Built once: composing the statement anew cost more than running it.
_ROUTING = (
    select(_route.c.municipality_key, _route.c.place, *_authority.c)
    .outerjoin(_authority, _authority.c.key == _route.c.authority_key)
    .where(_route.c.postal_code == bindparam("code"))
    .order_by(_route.c.place, _route.c.municipality_key)
)


def routing(session: Session, postal_code: str) -> Routing:
    """The places of a postal code with their authorities; UnknownPostalCode for a postal
    code the directory does not know."""
    found = session.connection().execute(_ROUTING, {"code": postal_code}).all()
    if not found:
        raise UnknownPostalCode(postal_code)
    return Routing(postal_code, tuple(
        Place(row.municipality_key, row.place,
              None if row.key is None else authority_of(row))
        for row in found
    ))


def route(
    session: Session, postal_code: str, municipality_key: str | None = None
) -> domain.Authority:
    """The authority responsible for a postal code (and the place chosen in it)."""
    return routing(session, postal_code).authority(municipality_key)


@ttl_cache(maxsize=20_000, ttl=60)
def remembered(runtime: Runtime, postal_code: str) -> Routing:
    """`routing`, remembered for a minute per process: the directory changes only when it
    is imported, and a registration should not pay a query for it. Unknown postal codes
    are not remembered, so a code newly served works at once."""
    with runtime.db.read() as session:
        return routing(session, postal_code)


def authority_for(runtime: Runtime, household: domain.Household) -> domain.Authority:
    """The authority a household goes to, by its postal code and the place it chose."""
    return remembered(runtime, household.postal_code).authority(household.municipality_key)
