"""`intake schemas fetch` (make schemas): a whole, verified set or nothing, never online in tests.

A stand-in for XRepository and xoev.de runs on loopback and serves the official files in the
shapes those sites publish them (zip archives of the standards' schemas, single library
schemas, genericode lists); `--mirror` points the command at it.
"""

from __future__ import annotations

import functools
import shutil
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from intake import xaus
from intake.cli import main
from intake.config import Settings
from intake.xaus import fetch
from tests.helpers import official


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static web server on loopback: its base URL and the folder it serves."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", root
    finally:
        server.shutdown()
        server.server_close()


def served(root: Path, url: str) -> Path:
    """Where the stand-in serves a URL from: host, then path, as --mirror asks for it."""
    return root / url.split("//", 1)[1]


def publish(root: Path, source: Path, *, leave_out: str | None = None) -> None:
    """Lay the official files out under root as XRepository and xoev.de publish them."""
    for folder, url in fetch.ARCHIVES.items():
        archive = served(root, url)
        archive.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive, "w") as zipped:
            for schema in sorted((source / folder).glob("*.xsd")):
                if schema.name != leave_out:
                    zipped.write(schema, f"{folder}/xsd/{schema.name}")  # nested, as archives are
    library = {
        "xoev-code.xsd": "xoev.de/schemata/code/1_0/",
        "xoev-basisnachricht-unqualified-g2g_1.1.xsd":
            "xoev.de/schemata/basisnachricht/unqualified/g2g/1_1/",
        "din-norm-91379-datatypes.xsd": "xoev.de/schemata/din/91379/2022-08/",
    }
    for name, path in library.items():
        (root / path).mkdir(parents=True, exist_ok=True)
        shutil.copy(source / "xoev-common" / name, root / path / name)
    for urn, version, name in fetch.CODE_LISTS:
        target = served(root, f"{fetch.XREPOSITORY}{urn}_{version}:technischerBestandteilGenericode")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / "codelists" / f"{name}.xml", target)


def run(*arguments: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["schemas", "fetch", *arguments])


def leftovers(parent: Path) -> list[str]:
    return sorted(path.name for path in parent.iterdir() if path.name.startswith("."))


def test_the_fetched_set_is_found_by_the_service_and_validates(site, tmp_path) -> None:
    base, root = site
    publish(root, official.require())
    instance = tmp_path / "instance"

    result = run("--into", str(instance / "xoev"), "--mirror", base)

    assert result.exit_code == 0, result.output
    assert "34 files verified and installed" in result.output
    sources = (instance / "xoev" / "SOURCES.txt").read_text()
    assert "din-norm-91379-datatypes.xsd | https://xoev.de/schemata/din/" in sources
    assert "Creative Commons Namensnennung - Keine Bearbeitung 4.0 International" in sources
    settings = Settings.from_env({"INTAKE_INSTANCE_DIR": str(instance)})
    assert settings.xsd_dir == instance / "xoev"
    fetched = xaus.load_schema(settings.xsd_dir)
    message = (Path(__file__).parent / "golden" / "family_0.xml").read_bytes()
    xaus.validate(message, fetched)
    assert leftovers(instance) == []


def test_without_network_it_says_so_and_writes_nothing(tmp_path) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    target = tmp_path / "instance" / "xoev"

    result = run("--into", str(target), "--mirror", f"http://127.0.0.1:{port}")

    assert result.exit_code == 1
    assert "could not download" in result.output and "is this machine online?" in result.output
    assert f"Nothing was written to {target}" in result.output
    assert not target.exists() and leftovers(target.parent) == []


def test_a_failure_half_way_keeps_the_set_that_was_there(site, tmp_path) -> None:
    base, root = site
    publish(root, official.require())
    [last_list] = root.rglob(f"*{fetch.CODE_LISTS[-1][0]}_*")
    last_list.unlink()  # the last download of all fails
    target = tmp_path / "instance" / "xoev"
    target.mkdir(parents=True)
    (target / "kept.txt").write_text("the set before")

    result = run("--into", str(target), "--mirror", base)

    assert result.exit_code == 1
    assert "answered 404" in result.output
    assert [path.name for path in target.iterdir()] == ["kept.txt"]
    assert leftovers(target.parent) == []


def test_a_set_that_does_not_compile_is_refused(site, tmp_path) -> None:
    base, root = site
    publish(root, official.require(), leave_out="xinneres-datum.xsd")
    target = tmp_path / "xoev"

    result = run("--into", str(target), "--mirror", base)

    # Not in the archive: fetched where the importing schema says it lives, which has none.
    assert result.exit_code == 1
    assert "xinneres-datum.xsd answered 404" in result.output
    assert not target.exists()


def test_a_code_list_of_another_version_is_refused(site, tmp_path) -> None:
    base, root = site
    source = official.require()
    publish(root, source)
    [familienstand] = root.rglob("*codelist:familienstand_2:*")
    shutil.copy(source / "codelists" / "Art.der.Vertretung_3.xml", familienstand)

    result = run("--into", str(tmp_path / "xoev"), "--mirror", base)

    assert result.exit_code == 1
    assert "holds urn:de:xauslaender:codelist:vertretungsart version 3" in result.output


def test_a_mirror_that_is_no_web_address_is_said_so(tmp_path) -> None:
    result = run("--into", str(tmp_path / "xoev"), "--mirror", "mirror.example")

    assert result.exit_code == 1 and "--mirror must be an http(s) address" in result.output
