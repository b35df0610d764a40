"""Pure cryptography for batch files: authorities' public keys, and JWE sealed to them.

A sealed batch is JWE compact serialization with RSA-OAEP-256 and A256GCM, as FIT-Connect
uses: any JOSE implementation (the `jose` command, `step crypto jwe decrypt`, joserfc,
jwcrypto, nimbus) opens it with the authority's private key, and nobody else can, the
service's operator included. The `kid` header is the key's RFC 7638 thumbprint, so that an
authority holding several keys knows which one to use.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwcrypto import jwe, jwk
from jwcrypto.common import JWException, base64url_decode, base64url_encode

from intake.security import streams

# NIST SP 800-57 and BSI TR-02102-1: RSA below 2048 bits no longer protects data that must
# stay confidential for years.
MIN_RSA_BITS = 2048
ALGORITHM, ENCRYPTION = "RSA-OAEP-256", "A256GCM"


class KeyRefused(ValueError):
    """A key an authority cannot be given: `problem` names it for a translated text, the
    message for the command line (never quoting the key)."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class PublicKey:
    """An authority's RSA public key as stored: a minimal JWK and its thumbprint."""

    jwk: str
    thumbprint: str


def public_key(text: bytes) -> PublicKey:
    """Check a PEM or JWK public key an authority gave; refuse anything batches must not be
    sealed to (a private key, another kind, too short, declared for signatures only)."""
    if b"PRIVATE KEY" in text:  # also a PEM encrypted with a passphrase, which cannot load
        raise KeyRefused("private", "this is a private key: give the public key only "
                                    "(openssl pkey -in private.pem -pubout)")
    try:
        key = (jwk.JWK.from_json(text) if text.lstrip().startswith(b"{")
               else jwk.JWK.from_pem(text))
    except (JWException, ValueError, TypeError, UnicodeDecodeError) as error:
        raise KeyRefused("not a key", "not a public key in PEM or JWK form") from error
    if key.has_private:
        raise KeyRefused("private", "this is a private key: give the public key only")
    if key.get("kty") != "RSA":
        raise KeyRefused("not RSA", f"this is an {key.get('kty')} key: batches are sealed "
                                    "to RSA keys only")
    if key.get("use", "enc") != "enc":
        raise KeyRefused("for signatures",
                         "this key is declared for signatures (use: sig), not for encryption")
    fields = key.export_public(as_dict=True)
    bits = int.from_bytes(base64url_decode(fields["n"]), "big").bit_length()
    if bits < MIN_RSA_BITS:
        raise KeyRefused("too short",
                         f"this RSA key has {bits} bits: at least {MIN_RSA_BITS} are needed")
    minimal = {name: fields[name] for name in ("e", "kty", "n")}
    return PublicKey(json.dumps(minimal, sort_keys=True), key.thumbprint())


def seal(key: PublicKey, plaintext: bytes) -> bytes:
    """`plaintext` as JWE compact serialization that only the key's holder can open."""
    header = {"alg": ALGORITHM, "enc": ENCRYPTION, "kid": key.thumbprint}
    token = jwe.JWE(plaintext, protected=json.dumps(header))
    token.add_recipient(jwk.JWK.from_json(key.jwk))
    return str(token.serialize(compact=True)).encode()


@contextlib.contextmanager
def sealing(key: PublicKey, out: BinaryIO) -> Iterator[streams.GcmWriter]:
    """A file to write plaintext to, that reaches `out` as the JWE `seal` makes of the whole
    (the same header, algorithms and compact form), written in pieces: a batch file of
    hundreds of megabytes is never held in memory. Any JOSE library opens it."""
    header = json.dumps({"alg": ALGORITHM, "enc": ENCRYPTION, "kid": key.thumbprint})
    protected = base64url_encode(header.encode())
    content_key, iv = secrets.token_bytes(32), secrets.token_bytes(12)
    fields = json.loads(key.jwk)
    public = rsa.RSAPublicNumbers(
        int.from_bytes(base64url_decode(fields["e"]), "big"),
        int.from_bytes(base64url_decode(fields["n"]), "big"),
    ).public_key()
    wrapped = public.encrypt(content_key, padding.OAEP(
        mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    out.write(f"{protected}.{base64url_encode(wrapped)}.{base64url_encode(iv)}.".encode())
    text = streams.Base64Writer(out, padded=False)
    # RFC 7516 5.1: the additional data is the encoded protected header, as ASCII.
    writer = streams.GcmWriter(content_key, iv, protected.encode(), text)
    yield writer
    tag = writer.finish()
    text.close()
    out.write(f".{base64url_encode(tag)}".encode())


def unseal(private_keys: jwk.JWKSet, sealed: bytes) -> bytes:
    """What `seal` sealed, opened with the matching private key (found by `kid`)."""
    token = jwe.JWE()
    token.deserialize(sealed.decode(), key=private_keys)
    return bytes(token.payload)


def kid(sealed: bytes) -> str:
    """The thumbprint of the key a sealed file is for, read from its protected header."""
    header = sealed.split(b".", 1)[0]
    return str(json.loads(base64url_decode(header.decode()))["kid"])
