"""intake.xaus.schema: loading the official set offline, and what validate() rejects."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from intake import xaus
from tests.helpers import official
from tests.helpers.xaus import FAMILY, XA, build

Mutation = Callable[[etree._Element], None]


def broken(mutate: Mutation, index: int = 0) -> bytes:
    """A valid family message, changed by mutate."""
    root = etree.fromstring(build(FAMILY, index))
    mutate(root)
    xml: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return xml


def find(root: etree._Element, path: str) -> etree._Element:
    element = root.find(path)
    assert element is not None, path
    return element


def remove(path: str) -> Mutation:
    def mutate(root: etree._Element) -> None:
        element = find(root, path)
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return mutate


def set_text(path: str, text: str) -> Mutation:
    def mutate(root: etree._Element) -> None:
        find(root, path).text = text

    return mutate


def test_schema_is_loaded_once_per_folder() -> None:
    folder = official.require()
    assert xaus.load_schema(folder) is xaus.load_schema(str(folder))


def test_a_folder_without_the_schema_set_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        xaus.load_schema(tmp_path)


def test_a_missing_import_fails_instead_of_going_online(tmp_path: Path) -> None:
    shutil.copytree(
        official.require(),
        tmp_path / "xoev",
        ignore=shutil.ignore_patterns("xinneres-datum.xsd", "codelists"),
    )
    with pytest.raises(etree.XMLSchemaParseError, match=r"xinneres-datum\.xsd"):
        xaus.load_schema(tmp_path / "xoev")


def test_schema_rejects_a_message_without_a_required_element() -> None:
    xml = broken(remove(f"{XA}antragsdatum"))
    xaus.validate(xml, None)  # the service's own checks cannot see a missing element
    with pytest.raises(xaus.InvalidMessage, match="antragsdatum"):
        xaus.validate(xml, official.required_schema())


def test_schema_errors_name_the_place_but_not_the_value() -> None:
    # A value only the schema refuses (the own checks look at texts, not at types).
    xml = broken(set_text(f"{XA}rueckkanalVorhanden", "Shevchenko"))
    xaus.validate(xml, None)
    with pytest.raises(xaus.InvalidMessage) as caught:
        xaus.validate(xml, official.required_schema())
    message = str(caught.value)
    assert "xa:rueckkanalVorhanden" in message
    assert "Shevchenko" not in message and "'...'" in message


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (f"{XA}angabenZurPerson/{XA}vorname/name", "Олена"),  # DIN 91379: Latin only
        (f"{XA}angabenZurPerson/{XA}familienname/name", "Ali 🙂"),
        (f"{XA}angabenZurPerson/{XA}anschrift/hausnummer", "١٢"),  # [0-9 ], at most 4
        (f"{XA}angabenZurPerson/{XA}anschrift/hausnummer", "12345"),
        (f"{XA}angabenZurPerson/{XA}anschrift/hausnummerBuchstabeZusatzziffer", "a-b"),
        (f"{XA}angabenZurPerson/{XA}anschrift/postleitzahl", "1446a"),
        (f"{XA}antragsdatum", "0000-01-01"),  # xs:date has no year 0
        (f"{XA}angabenZurPerson/{XA}geburt/{XA}tagDerGeburt/teilbekanntesDatum/jahrMonatTag",
         "2019-02-30"),
    ],
)
def test_own_checks_refuse_what_the_schema_refuses_in_a_text(path: str, text: str) -> None:
    xml = broken(set_text(path, text), index=3)  # Sofiia: a full date of birth, an address
    with pytest.raises(xaus.InvalidMessage, match=r"DIN 91379|form the schema gives"):
        xaus.validate(xml, None)
    if official.folder():  # and the schema agrees, on its own
        assert not official.required_schema().validate(etree.fromstring(xml))


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (set_text(f"{XA}grundDesAntrags/code", "99"), "code not in"),
        (set_text(f"{XA}antragsidentifikation", " "), "antragsidentifikation: empty"),
        (
            lambda root: find(
                root, f"{XA}angabenZurPerson/{XA}staatsangehoerigkeit/{XA}staatsangehoerigkeit"
            ).set("listVersionID", "2024-08-01"),
            "listVersionID is not 2021-02-19",
        ),
        (set_text("nachrichtenkopf.g2g/leser/kennung", "073400"), "leser/kennung"),
        (set_text("nachrichtenkopf.g2g/autor/kennung", "intake"), "autor/kennung"),
        (
            lambda root: find(root, f"{XA}grundDesAntrags").set("listURI", "urn:x"),
            "not one the service",
        ),
    ],
)
def test_own_checks_catch_what_the_schema_lets_through(mutate: Mutation, reason: str) -> None:
    with pytest.raises(xaus.InvalidMessage, match=reason):
        xaus.validate(broken(mutate), official.schema())


def test_wrong_messages_and_non_xml_are_refused() -> None:
    with pytest.raises(xaus.InvalidMessage, match="root element"):
        xaus.validate(b"<OZG.Antrag.130102/>", None)
    with pytest.raises(xaus.InvalidMessage, match="not well-formed"):
        xaus.validate(b"<unclosed>", None)


def test_long_error_lists_are_cut() -> None:
    def empty_everything(root: etree._Element) -> None:
        for element in root.iter("code"):
            element.text = ""

    with pytest.raises(xaus.InvalidMessage, match=r"\.\.\. and \d+ more"):
        xaus.validate(broken(empty_everything), None)
