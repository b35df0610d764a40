"""Fetch the official XAusländer 26.11 schema set and its code lists from XRepository.

The files are publications of KoSIT, BAMF, Destatis and BMI, not ours to ship, so a clone
has none and the service stands on its own checks. `intake schemas fetch` (`make schemas`)
brings them into a folder that the service and the tests then find by themselves
(`instance/xoev`). It writes a whole, verified folder or nothing: every file goes into a
folder beside the target; the schema set must compile from those files alone and accept a
reference message, every code list must name the list and version asked for; only then is
the folder renamed into place. This is the one module of `xaus` that touches the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from intake.dataset.domain import Address, Authority, Household, PartialDate, Person, Sender
from intake.xaus import genericode
from intake.xaus.builder import Envelope, render
from intake.xaus.codes import NS, VERSION
from intake.xaus.schema import ROOT_SCHEMA, InvalidMessage, load_schema

XREPOSITORY = "https://www.xrepository.de/api/xrepository/"
_STANDARD = XREPOSITORY + "urn:xoev-de:kosit:standard:xinneres.{}_26.11:xmlschema"
# The standards' XML schema archives, by the folder their files go to.
ARCHIVES = {
    "xauslaender-26.11": _STANDARD.format("xauslaender"),
    "xinneres-26.11": _STANDARD.format("basismodul"),
}
# A schema the archives lack (the XÖV-Bibliothek's) is fetched where the importing schema says
# it lives, into this folder.
LIBRARY_FOLDER = "xoev-common"
# The code list versions the builder's tables and the tests use: (URN, version, file name).
CODE_LISTS = (
    ("urn:de:xauslaender:codelist:abhkennung", "64.0", "Gueltige_Auslaenderbehoerden_64.0"),
    ("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat", "2024-08-01",
     "Destatis_Staat_2024-08-01"),
    ("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staatsgebiete", "2024-08-01",
     "Destatis_Staatsgebiete_2024-08-01"),
    ("urn:de:xauslaender:codelist:familienstand", "2", "Familienstand_2"),
    ("urn:de:xauslaender:codelist:geschlecht", "2", "XAuslaender_Geschlecht_2"),
    ("urn:xoev-de:xinneres:codeliste:geschlecht", "1", "XInneres_Geschlecht_1"),
    ("urn:de:xauslaender:codelist:ausweisart", "2", "Ausweisart_2"),
    ("urn:de:xauslaender:codelist:vertretungsart", "3", "Art.der.Vertretung_3"),
    ("urn:xoev-de:xauslaender:codeliste:ozg.antragsgrund", "4", "OZG_Antragsgrund_4"),
    ("urn:xoev-de:xauslaender:codeliste:ozg.aufenthaltsgrund", "2", "OZG_Aufenthaltsgrund_2"),
    ("urn:xoev-de:xauslaender:codeliste:ozg.familiaerebeziehungreferenzperson", "1",
     "OZG_familiaere_Beziehung_Referenzperson_1"),
    ("urn:de:xauslaender:codelist:azr:artderaugenfarbe", "1", "Augenfarbe_1"),
    ("urn:de:xauslaender:codelist:nachrichtentyp", "19", "NachrichtenID_19"),
    ("urn:xoev-de:kosit:codeliste:verzeichnisdienst", "3", "Verzeichnisdienst_3"),
    ("urn:de:xoev:codeliste:erreichbarkeit", "3", "Erreichbarkeit_3"),
    ("urn:de:xoev:codeliste:erreichbarkeit", "4.1", "Erreichbarkeit_4.1"),
    ("urn:xoev-de:bund:bmi:bit:codeliste:dvdv.praefix", "51", "DVDV_Praefix_51"),
)
MAX_BYTES = 64 * 1024 * 1024  # per download and per unpacked member; the set is a few MB
TIMEOUT = 60.0
_XSD = "{http://www.w3.org/2001/XMLSchema}"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.xsd")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class FetchError(Exception):
    """The set could not be fetched or verified; nothing was written."""


@dataclass
class Fetched:
    """What was written: each file (relative path) with its source, digest and licence."""

    folder: Path
    files: dict[str, tuple[str, str, str]] = field(default_factory=dict)


Download = Callable[[str], bytes]


def fetch(into: Path, *, mirror: str | None = None, download: Download | None = None) -> Fetched:
    """Fetch, verify and install the official set at `into` (replacing a set there).

    `mirror` serves every address under `<mirror>/<host>/<path>` (an internal mirror, or a
    test's server on loopback). Raises FetchError, leaving `into` as it was.
    """
    get = download or _downloader(mirror)
    into = into.absolute()
    into.parent.mkdir(parents=True, exist_ok=True)
    # A new name each time: the schema loader caches compiled sets by folder.
    staging = into.parent / f".{into.name}.partial-{uuid.uuid4().hex}"
    try:
        fetched = Fetched(staging)
        _fetch_schemas(staging, fetched, get)
        _fetch_code_lists(staging, fetched, get)
        _verify(staging)
        (staging / "SOURCES.txt").write_text(_sources(fetched), encoding="utf-8")
        _replace(into, staging)
    except OSError as error:  # the disk: full, read-only, or no such folder
        shutil.rmtree(staging, ignore_errors=True)
        raise FetchError(f"could not write {into}: {error.strerror or error}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fetched.folder = into
    return fetched


def _downloader(mirror: str | None) -> Download:
    def get(url: str) -> bytes:
        address = _mirrored(url, mirror) if mirror else url
        try:
            with urllib.request.urlopen(address, timeout=TIMEOUT) as answer:  # noqa: S310
                body: bytes = answer.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as error:
            error.close()
            raise FetchError(f"{address} answered {error.code} {error.reason}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise FetchError(
                f"could not download {address} ({reason}); is this machine online? "
                "A proxy is taken from HTTPS_PROXY; an internal mirror from --mirror"
            ) from None
        if len(body) > MAX_BYTES:
            raise FetchError(f"{address} is larger than {MAX_BYTES} bytes")
        return body

    return get


def _mirrored(url: str, mirror: str) -> str:
    if urllib.parse.urlsplit(mirror).scheme not in ("http", "https"):
        raise FetchError(f"--mirror must be an http(s) address, not {mirror!r}")
    parts = urllib.parse.urlsplit(url)
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path}"


def _fetch_schemas(staging: Path, fetched: Fetched, get: Download) -> None:
    """The archives' schemas, then whatever the root schema's imports still lack."""
    found = _archived_schemas(get)
    needed, queue = set(), [ROOT_SCHEMA]
    while queue:
        name = queue.pop()
        if name in needed:
            continue
        needed.add(name)
        if name not in found:
            raise FetchError(f"no schema named {name} was found")
        for location in _locations(found[name][1], name):
            child = PurePosixPath(urllib.parse.urlsplit(location).path).name
            if not _SAFE_NAME.fullmatch(child):
                raise FetchError(f"{name} imports a schema named {child!r}, which is no name")
            if child not in found and location.startswith(("http://", "https://")):
                found[child] = (LIBRARY_FOLDER, get(_https(location)), _https(location))
            queue.append(child)
    for name in sorted(needed):
        folder, content, source = found[name]
        _write(staging / folder / name, content, source, fetched)


def _archived_schemas(get: Download) -> dict[str, tuple[str, bytes, str]]:
    """The schemas of the published archives: file name -> (folder, bytes, source)."""
    found: dict[str, tuple[str, bytes, str]] = {}
    for folder, url in ARCHIVES.items():
        for name, content in _schemas_in(get(url), url):
            if name in found and found[name][1] != content:
                raise FetchError(f"two different files named {name} in the archives")
            found.setdefault(name, (folder, content, url))
    if ROOT_SCHEMA not in found:
        raise FetchError(f"{ROOT_SCHEMA} is not in {ARCHIVES['xauslaender-26.11']}")
    return found


def _schemas_in(body: bytes, url: str) -> list[tuple[str, bytes]]:
    """The XSD files of a zip archive, or the one schema a download is."""
    if not zipfile.is_zipfile(io.BytesIO(body)):
        name = PurePosixPath(urllib.parse.urlsplit(url).path).name
        return [(name if name.endswith(".xsd") else ROOT_SCHEMA, body)]
    schemas = []
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for member in archive.infolist():
            name = PurePosixPath(member.filename).name
            if member.is_dir() or not _SAFE_NAME.fullmatch(name):
                continue
            if member.file_size > MAX_BYTES:
                raise FetchError(f"{name} in {url} is larger than {MAX_BYTES} bytes")
            with archive.open(member) as file:
                schemas.append((name, file.read(MAX_BYTES + 1)))
    return schemas


def _locations(content: bytes, name: str) -> list[str]:
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as error:
        raise FetchError(f"{name} is not well-formed XML: {error}") from None
    return [
        location
        for tag in ("import", "include", "redefine")
        for element in root.iter(f"{_XSD}{tag}")
        if (location := element.get("schemaLocation"))
    ]


def _https(url: str) -> str:
    """Schemas name their imports with http://; they are fetched over TLS all the same."""
    return "https://" + url.removeprefix("http://") if url.startswith("http://") else url


def _fetch_code_lists(staging: Path, fetched: Fetched, get: Download) -> None:
    for urn, version, name in CODE_LISTS:
        url = f"{XREPOSITORY}{urn}_{version}:technischerBestandteilGenericode"
        path = staging / "codelists" / f"{name}.xml"
        _write(path, get(url), url, fetched)
        try:
            listed = genericode.read(path)
        except (ValueError, etree.XMLSyntaxError) as error:
            raise FetchError(f"{url} is not a genericode code list: {error}") from None
        if (listed.uri, listed.version) != (urn, version):
            raise FetchError(f"{url} holds {listed.uri} version {listed.version}")


def _write(path: Path, content: bytes, source: str, fetched: Fetched) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    relative = path.relative_to(fetched.folder).as_posix()
    fetched.files[relative] = (source, hashlib.sha256(content).hexdigest(), _licence(content))


def _licence(content: bytes) -> str:
    """The licence a file states in its XÖV metadata (`lizenz`), or that it states none."""
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError:
        return "none stated"
    stated = {(element.text or "").strip() for element in root.iter("{*}lizenz", "lizenz")}
    return "; ".join(sorted(filter(None, stated))) or "none stated"


def _verify(staging: Path) -> None:
    """The set compiles from these files alone and takes a message the service builds."""
    [root] = staging.glob(f"*/{ROOT_SCHEMA}")
    try:
        declared = etree.parse(str(root), _PARSER).getroot()
    except etree.XMLSyntaxError as error:
        raise FetchError(f"{ROOT_SCHEMA} is not well-formed XML: {error}") from None
    if (declared.get("targetNamespace"), declared.get("version")) != (NS, VERSION):
        raise FetchError(f"{ROOT_SCHEMA} is not XAusländer {VERSION} ({NS})")
    try:
        schema = load_schema(staging)
        render(
            REFERENCE,
            0,
            schema=schema,
            application_ids=["INT-REFERENCE-1"],
            application_date=dt.date(2026, 11, 21),
            envelope=_REFERENCE_ENVELOPE,
        )
    except (etree.XMLSchemaParseError, LookupError, OSError, ValueError) as error:
        raise FetchError(f"the fetched schema set does not compile: {error}") from None
    except InvalidMessage as error:
        raise FetchError(f"the fetched schema set refuses a valid message: {error}") from None


def _sources(fetched: Fetched) -> str:
    lines = [
        f"# Official XAusländer {VERSION} schema set and code lists, fetched "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `intake schemas fetch`.",
        "# Publications of KoSIT, BAMF, Destatis and BMI; kept unchanged. Do not edit them.",
        "# file | source | sha256 | licence stated in the file",
    ]
    lines += [
        f"{path} | {source} | {digest} | {licence}"
        for path, (source, digest, licence) in sorted(fetched.files.items())
    ]
    return "\n".join(lines) + "\n"


def _replace(into: Path, staging: Path) -> None:
    """Put the verified folder in place; a set there before is removed only after."""
    old = into.parent / f".{into.name}.old-{uuid.uuid4().hex}"
    if into.exists():
        into.rename(old)
    staging.rename(into)
    shutil.rmtree(old, ignore_errors=True)


# A message the service would send, to prove that the fetched set accepts what it must.
REFERENCE = Household(
    language="uk",
    postal_code="14467",
    persons=(
        Person(
            role="applicant",
            family_name="Shevchenko",
            given_names="Olena",
            sex="female",
            date_of_birth=PartialDate(1990, 5, 1),
            place_of_birth="Kyiv",
            country_of_birth="UA",
            nationalities=("UA",),
        ),
    ),
    address=Address("Friedrich-Ebert-Straße", "79", "14467", "Potsdam"),
)
_REFERENCE_ENVELOPE = Envelope(
    message_uuid=uuid.UUID(int=1),
    created=dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC),
    reader=Authority(key="073400", name="STV Potsdam"),
    author=Sender(key="alp:intake", name="intake", email="intake@example.org",
                  address=Address("Musterstraße", "1", "10115", "Berlin")),
    test="Referenznachricht",
)
