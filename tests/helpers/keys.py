"""An authority's RSA key pair, made with an implementation independent of the service's
(joserfc, not jwcrypto), and batch files opened with it."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from joserfc import jwe
from joserfc.jwk import RSAKey


@dataclass(frozen=True)
class KeyPair:
    private: RSAKey

    @property
    def public_pem(self) -> bytes:
        return bytes(self.private.as_pem(private=False))

    @property
    def public_jwk(self) -> bytes:
        return json.dumps(self.private.as_dict(private=False)).encode()

    @property
    def private_jwk(self) -> str:
        return json.dumps(self.private.as_dict(private=True))

    @property
    def thumbprint(self) -> str:
        return str(self.private.thumbprint())

    def open(self, sealed: bytes) -> tuple[dict[str, Any], bytes]:
        """The protected header and the plaintext of a JWE sealed to this key."""
        opened = jwe.decrypt_compact(sealed, self.private, algorithms=["RSA-OAEP-256", "A256GCM"])
        return dict(opened.protected), bytes(opened.plaintext or b"")


def key_pair(bits: int = 2048) -> KeyPair:
    return KeyPair(RSAKey.generate_key(bits))


def zip_members(zipped: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A batch zip's manifest and its messages by file name."""
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        return manifest, {name: archive.read(name) for name in archive.namelist()
                          if name != "manifest.json"}
