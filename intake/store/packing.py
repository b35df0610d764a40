"""Stored plaintexts made small before they are encrypted: deflate with a preset dictionary.

A person's stored JSON is some 450 bytes, most of them the same keys and values in every
row; deflate alone cannot find those repeats within one short text, but it can in a
dictionary of the text's usual shape. A person then takes about 70 bytes instead of 450,
and a built message about 300 instead of 1,700, which keeps a database of a million
registrations under 4 KB each (issue #29, bench/SCALE.md).

The format is zlib's own (RFC 1950): its header names the dictionary by its Adler-32, so
a value says which dictionary it needs, and values packed before this module existed (JSON
or XML as they were, or zlib without a dictionary) still read. A dictionary is never
changed once shipped: a better one is added under a new name, and the old one stays for
the values packed with it. `tests/store/test_packing.py` holds their checksums fixed.

Lengths of encrypted values were visible before and still are; packing changes what they
reveal only as far as how well a text compresses, not what it says.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import Any

# The usual shape of a person's stored form (store.stored_form.person_document), with the
# values most rows share. Compact JSON, as `pack_json` writes it.
PERSON = (
    b'{"role":"child","family_name":"","given_names":"","family_name_native":null,'
    b'"given_names_native":null,"sex":"male","date_of_birth":"20","place_of_birth":null,'
    b'"country_of_birth":"UA","nationalities":["UA"],"marital_status":"single",'
    b'"document":null,"no_family_name":false,"no_given_name":false,'
    b'"eligibility":{"lived_in_ukraine":true,"status_in_ukraine":null}}'
    b'{"role":"applicant","family_name":"","given_names":"","family_name_native":"",'
    b'"given_names_native":"","sex":"female","date_of_birth":"19","place_of_birth":"",'
    b'"country_of_birth":"UA","nationalities":["UA"],"marital_status":"married",'
    b'"document":{"type":"passport","number":"","issuing_country":"UA","valid_until":"20",'
    b'"valid_from":null},"no_family_name":false,"no_given_name":false,'
    b'"eligibility":{"lived_in_ukraine":true,"status_in_ukraine":"temporary_protection"}}'
)
# The household-level fields (store.stored_form.household_document).
HOUSEHOLD = (
    b'{"language":"uk","postal_code":"","municipality_key":null,"address":null,'
    b'"entry_date":"2026-","contact":null,"remarks":null,"consent":{"data_processing":true}}'
    b'{"language":"ar","postal_code":"","municipality_key":"","address":{"street":"",'
    b'"house_number":"","postal_code":"","city":""},"entry_date":null,'
    b'"contact":{"email":"@gmail.com","phone":"+49"},"remarks":"",'
    b'"consent":{"data_processing":true}}'
)

# What a mail row carries (store.mail_rows.owed): appointment details and a status token.
MAIL = (
    b'{"starts_at":"2026-12-01T08:00:00+00:00","ends_at":"2026-12-01T08:15:00+00:00",'
    b'"booked_at":"2026-11-30T12:00:00+00:00","seats":1,"token":"'
)


class UnknownDictionary(ValueError):
    """A packed value names a dictionary this version does not have."""


def pack(plaintext: bytes, dictionary: bytes) -> bytes:
    """`plaintext` deflated with `dictionary` preset, in zlib's format."""
    packer = zlib.compressobj(9, zdict=dictionary)
    return packer.compress(plaintext) + packer.flush()


def unpack(stored: bytes, dictionaries: Iterable[bytes]) -> bytes:
    """What `pack` was given, with whichever of `dictionaries` the value names; a value
    stored as it was (starting with `{` or `<`) is given back unchanged."""
    if stored[:1] in (b"{", b"<"):
        return stored
    if not _names_a_dictionary(stored):
        return zlib.decompress(stored)
    wanted = int.from_bytes(stored[2:6], "big")
    for dictionary in dictionaries:
        if zlib.adler32(dictionary) == wanted:
            unpacker = zlib.decompressobj(zdict=dictionary)
            return unpacker.decompress(stored) + unpacker.flush()
    raise UnknownDictionary(f"no dictionary with Adler-32 {wanted:08x}")


def pack_json(document: Any, dictionary: bytes) -> bytes:
    """A JSON document packed: compact, its letters as UTF-8 rather than escapes (a
    Cyrillic or Arabic name takes 2 bytes a letter, not 6)."""
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    # A lone surrogate in free text (a crafted form) is kept as it came, as escapes kept it.
    return pack(text.encode("utf-8", "surrogatepass"), dictionary)


def unpack_json(stored: bytes, dictionaries: Iterable[bytes]) -> Any:
    """The document `pack_json` was given (or a JSON text stored as it was)."""
    return json.loads(unpack(stored, dictionaries).decode("utf-8", "surrogatepass"))


def _names_a_dictionary(stored: bytes) -> bool:
    """The FDICT bit of the zlib header (RFC 1950, 2.2)."""
    return len(stored) >= 6 and bool(stored[1] & 0x20)
