"""What every table shares: the declarative base, the clock and the ids."""

from __future__ import annotations

import datetime as dt
import uuid

import uuid_utils.compat
from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_uuid() -> uuid.UUID:
    """A UUID of version 7 (RFC 9562): random, after the millisecond it was made in.

    Rows made one after another get ids near each other, so inserting them touches the
    same few index pages instead of a random page per index and row, which costs SQLite
    much CPU time per registration written. The time in an id says no more than the row's
    created_at.
    """
    return uuid_utils.compat.uuid7()


def new_id() -> str:
    return new_uuid().hex


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """The Core table of a model, for statements that skip the ORM on hot paths."""
    return Base.metadata.tables[model.__tablename__]
