"""Drive the delivery pipeline in tests: relay, build, batch; read what was delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jwcrypto import jwk

from intake.config import Settings
from intake.runtime import Runtime
from intake.security.crypto import FieldCipher


def process_queue(runtime: Runtime) -> None:
    """Relay owed work to Redis, let a real rq worker build the messages, then the batches."""
    from intake.delivery import scheduler

    scheduler.drain(runtime)


def delivered(settings: Settings, private_keys: jwk.JWKSet | None = None) -> dict[str, bytes]:
    """Every message in the batch files under xml_out/ (checksums verified, none twice),
    sealed ones opened with `private_keys`."""
    from intake.delivery import batch_files

    return batch_files.read_files(settings.xml_out, cipher_of(settings), private_keys)


def cipher_of(settings: Settings) -> FieldCipher:
    return FieldCipher(settings.data_keys, settings.index_key)


def batch_file_names(xml_out: Path) -> list[Path]:
    """The batch files under xml_out/<authority>/, sealed or under the data key."""
    return sorted([*xml_out.glob("*/*.zip.jwe"), *xml_out.glob("*/*.zip.enc")])


def unsealed_zip(settings: Settings, name: Path) -> bytes:
    """The zip in a batch file under the data key."""
    from intake.delivery import batch_files

    return batch_files.opened(cipher_of(settings), batch_files.batch_id_of(name),
                              name.read_bytes())


def the_message(settings: Settings) -> tuple[Any, dict[str, str]]:
    """The one message delivered, parsed and valid against the official schema set where it
    lies beside the clone, with the namespace map for its `xa:` elements."""
    from lxml import etree

    from tests.helpers import official

    [xml] = delivered(settings).values()
    message = etree.fromstring(xml)
    schema = official.schema()
    if schema is not None:
        assert schema.validate(message), schema.error_log.last_error
    return message, {"xa": message.nsmap.get("xa") or message.nsmap[None]}
