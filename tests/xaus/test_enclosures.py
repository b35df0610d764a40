"""Documents in the message: ausweisdokument, antragszusammenfassung, nachweis (issue #27).

Every message here passes the service's own checks; where the official schema set is found
(tests/helpers/official.py) it is validated against that too, so these run with and without.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io

import pytest
from lxml import etree
from PIL import Image

from intake import xaus
from intake.dataset.domain import Document
from tests.helpers import official
from tests.helpers.xaus import APPLICATION_DATE, ENVELOPE, FAMILY, XA, ids

NSMAP = {"xa": XA[1:-1]}
ISSUED = dt.date(2021, 5, 1)


def jpeg(colour: str) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(output, "JPEG")
    return output.getvalue()


PHOTO_PAGE, VALIDITY_PAGE = (xaus.Enclosure(jpeg(colour), "image/jpeg") for colour in
                             ("red", "blue"))
PROOFS = (
    xaus.Enclosure(b"%PDF-1.7 arrival", "application/pdf", "Ankunftsnachweis"),
    xaus.Enclosure(jpeg("green"), "image/jpeg", "Meldebescheinigung oder Mietvertrag"),
)
SUMMARY = xaus.Enclosure(b"%PDF-1.7 summary", "application/pdf")
WITH_ISSUE_DATE = dataclasses.replace(FAMILY, persons=(
    dataclasses.replace(FAMILY.persons[0], document=dataclasses.replace(
        FAMILY.persons[0].document, valid_from=ISSUED)),  # type: ignore[type-var]
    *FAMILY.persons[1:],
))
ENCLOSED = xaus.Enclosures(pages={0: (PHOTO_PAGE, VALIDITY_PAGE)}, proofs=PROOFS,
                           summary=SUMMARY)


def message(household: object = WITH_ISSUE_DATE, index: int = 0,
            enclosed: xaus.Enclosures = ENCLOSED) -> etree._Element:
    """Built as the worker does, checked by the schema where there is one, parsed again and
    given every check `validate` has for bytes."""
    xml = xaus.render(household, index, application_ids=ids(household),  # type: ignore[arg-type]
                      envelope=ENVELOPE, application_date=APPLICATION_DATE,
                      schema=official.schema(), enclosed=enclosed)
    xaus.validate(xml, official.schema())
    return etree.fromstring(xml)


def contents(root: etree._Element, path: str) -> list[bytes]:
    return [base64.b64decode(text) for text in root.xpath(f"{path}/text()", namespaces=NSMAP)]


def test_pages_proofs_and_summary_go_where_the_schema_orders_them() -> None:
    root = message()

    document = root.find("xa:angabenZurPerson/xa:ausweisdokument", NSMAP)
    assert document is not None
    assert [etree.QName(child).localname for child in document] == [
        "ausweisseite", "ausweisseite", "gueltigkeitszeitraum", "seriennummer"]
    assert contents(document, "xa:ausweisseite/xa:dokument") == [
        PHOTO_PAGE.content, VALIDITY_PAGE.content]
    assert document.xpath("xa:ausweisseite/xa:dokumententyp/code/text()",
                          namespaces=NSMAP) == ["2", "2"]
    assert document.findtext("xa:gueltigkeitszeitraum/xa:von", namespaces=NSMAP) == "2021-05-01"
    assert document.findtext("xa:gueltigkeitszeitraum/xa:bis", namespaces=NSMAP) == "2031-04-30"
    assert document.findtext("xa:seriennummer", namespaces=NSMAP) == "FE123456"
    # After the person's other parts, before vertrauensniveau (the last of OZG.Person).
    assert etree.QName(root.find("xa:angabenZurPerson", NSMAP)[-1]).localname == "ausweisdokument"

    body = [etree.QName(child).localname for child in root][3:]
    assert body.index("angabenZurPerson") < body.index("antragszusammenfassung") \
        < body.index("nachweis") < body.index("sonstigeAnmerkung")
    assert contents(root, "xa:antragszusammenfassung/xa:dokumentOderReferenz/xa:dokument") == [
        SUMMARY.content]
    assert root.findtext("xa:antragszusammenfassung/xa:dateiname", namespaces=NSMAP) == \
        "Antragszusammenfassung.pdf"
    assert contents(root, "xa:nachweis/xa:dokumentOderReferenz/xa:dokument") == [
        proof.content for proof in PROOFS]
    assert root.xpath("xa:nachweis/xa:bezeichnung/text()", namespaces=NSMAP) == [
        "Ankunftsnachweis", "Meldebescheinigung oder Mietvertrag"]
    assert root.xpath("xa:nachweis/xa:dateiname/text()", namespaces=NSMAP) == [
        "Nachweis-1.pdf", "Nachweis-2.jpg"]


def test_every_member_gets_the_proofs_and_summary_but_only_their_own_pages() -> None:
    for index in range(1, len(WITH_ISSUE_DATE.persons)):
        root = message(index=index)
        assert root.find(".//xa:ausweisdokument", NSMAP) is None
        assert contents(root, "xa:nachweis/xa:dokumentOderReferenz/xa:dokument") == [
            proof.content for proof in PROOFS]
        assert len(root.findall("xa:antragszusammenfassung", NSMAP)) == 1


def test_pages_without_a_date_of_issue_travel_as_proofs_with_a_description() -> None:
    # The form and the API ask the expiry date only; a Zeitraum needs von and bis.
    assert FAMILY.persons[0].document is not None
    assert FAMILY.persons[0].document.valid_from is None
    root = message(FAMILY)

    assert root.find(".//xa:ausweisdokument", NSMAP) is None
    assert root.xpath("xa:nachweis/xa:bezeichnung/text()", namespaces=NSMAP)[2:] == [
        "Ausweisdokument (Reisepass, Nationalpass): Seite 1 von 2",
        "Ausweisdokument (Reisepass, Nationalpass): Seite 2 von 2",
    ]
    assert contents(root, "xa:nachweis/xa:dokumentOderReferenz/xa:dokument")[2:] == [
        PHOTO_PAGE.content, VALIDITY_PAGE.content]
    assert root.xpath("xa:nachweis/xa:dateiname/text()", namespaces=NSMAP)[2:] == [
        "Ausweisseite-1.jpg", "Ausweisseite-2.jpg"]
    # The document's facts stay in the remark, as before.
    assert "Nummer FE123456" in root.findtext("xa:sonstigeAnmerkung", namespaces=NSMAP)


@pytest.mark.parametrize("document", [
    None,
    Document("passport", "FE123456", "UA", None, ISSUED),
    Document("passport", "FE123456", "UA", dt.date(2020, 1, 1), ISSUED),  # ends before it began
])
def test_ausweisdokument_needs_every_fact_it_requires(document: Document | None) -> None:
    household = dataclasses.replace(FAMILY, persons=(
        dataclasses.replace(FAMILY.persons[0], document=document), *FAMILY.persons[1:]))
    root = message(household)
    assert root.find(".//xa:ausweisdokument", NSMAP) is None
    assert len(root.findall("xa:nachweis", NSMAP)) == len(PROOFS) + 2


def test_a_household_without_documents_gets_the_message_it_got_before() -> None:
    plain = xaus.build(FAMILY, 0, application_ids=ids(FAMILY), envelope=ENVELOPE,
                       application_date=APPLICATION_DATE)
    assert plain == xaus.build(FAMILY, 0, application_ids=ids(FAMILY), envelope=ENVELOPE,
                               application_date=APPLICATION_DATE, enclosed=xaus.Enclosures())
    assert b"nachweis" not in plain and b"ausweisdokument" not in plain


def test_a_format_the_schema_has_no_code_for_is_refused() -> None:
    png = xaus.Enclosures(proofs=(xaus.Enclosure(b"\x89PNG", "image/png", "Foto"),))
    with pytest.raises(ValueError, match="dokumentformat"):
        message(enclosed=png)


def test_a_proof_without_description_is_refused() -> None:
    with pytest.raises(ValueError, match="description"):
        message(enclosed=xaus.Enclosures(proofs=(xaus.Enclosure(b"%PDF", "application/pdf"),)))


def test_the_same_documents_give_the_same_bytes() -> None:
    first, again = (etree.tostring(message()) for _ in range(2))
    assert first == again


def test_an_other_proofs_own_words_are_sent_as_din_91379_allows() -> None:
    said = ("Довідка з роботи", "شهادة عمل", "Arbeitsvertrag  mit\tFirma")
    enclosed = xaus.Enclosures(proofs=tuple(
        xaus.Enclosure(b"%PDF-1.7", "application/pdf", words) for words in said))
    root = message(enclosed=enclosed)
    assert root.xpath("xa:nachweis/xa:bezeichnung/text()", namespaces=NSMAP) == [
        "Dovidka z roboty",
        "Sonstiger Nachweis (Beschreibung in der Antragszusammenfassung)",
        "Arbeitsvertrag mit Firma",
    ]
