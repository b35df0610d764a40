"""Jurisdiction: districts and municipalities, the places of each postal code, which
authority serves which area, and the routes made from them.

The first four tables hold what the operator imported, each file as a whole
(`authorities/directory.py`); `postal_route` is made from them (`authorities/routes.py`)
and is the one table registrations are routed by (`registrations/routing.py`).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.store.models.base import Base


class District(Base):
    """A Kreis or kreisfreie Stadt of the Gemeindeverzeichnis: the first five digits of its
    municipalities' keys."""

    __tablename__ = "district"

    key: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class Municipality(Base):
    """A Gemeinde of the Gemeindeverzeichnis, by its Amtlicher Gemeindeschlüssel (AGS)."""

    __tablename__ = "municipality"

    key: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class PostalCodePlace(Base):
    """A municipality a postal code reaches into, with the name people know the place by.

    No foreign key to `municipality`: the postal-code table may be of another date than the
    Gemeindeverzeichnis, and a place it names is routed by its district all the same.
    """

    __tablename__ = "postal_code_place"

    postal_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    municipality_key: Mapped[str] = mapped_column(String(8), primary_key=True)
    place_name: Mapped[str] = mapped_column(Text)


class Jurisdiction(Base):
    """The authority serving a district (five digits) or a municipality (eight digits); a
    municipality's entry wins over its district's (a city with its own authority)."""

    __tablename__ = "jurisdiction"

    official_key: Mapped[str] = mapped_column(String(8), primary_key=True)
    authority_key: Mapped[str] = mapped_column(ForeignKey("authority.key"))


class PostalRoute(Base):
    """Where a registration from a place of a postal code goes: one row per place, or one
    row with `municipality_key` "" for a postal code routed whole (`postal_code` table).

    `authority_key` is NULL for a place no jurisdiction covers: it is never routed to a
    neighbour's authority. `place` is the name shown when a person chooses among the places.
    """

    __tablename__ = "postal_route"

    postal_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    municipality_key: Mapped[str] = mapped_column(String(8), primary_key=True)
    place: Mapped[str] = mapped_column(Text)
    authority_key: Mapped[str | None] = mapped_column(ForeignKey("authority.key"))
