"""XAusländer 26.11 messages (OZG.Antrag.130101): a pure builder and its validation."""

from intake.xaus.builder import Envelope, build, build_element, render
from intake.xaus.enclosures import Enclosure, Enclosures
from intake.xaus.schema import InvalidMessage, load_schema, validate
from intake.xaus.writer import serialize

__all__ = [
    "Enclosure",
    "Enclosures",
    "Envelope",
    "InvalidMessage",
    "build",
    "build_element",
    "load_schema",
    "render",
    "serialize",
    "validate",
]
