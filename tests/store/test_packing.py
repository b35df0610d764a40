"""Stored values packed small (issue #29): read back unchanged, in every form stored before."""

from __future__ import annotations

import base64
import json
import os
import zlib

import pytest
from hypothesis import given, settings

from intake.dataset.domain import Household
from intake.delivery import batches
from intake.security.crypto import FieldCipher
from intake.store import household_rows, packing, stored_form
from tests.helpers import xaus
from tests.helpers.households import households

CIPHER = FieldCipher((("k1", os.urandom(32)),), os.urandom(32))


def test_a_shipped_dictionary_never_changes():
    """Stored values name their dictionary by its Adler-32: a changed one would leave every
    value packed with it unreadable. A better dictionary is added beside the old one."""
    assert {name: zlib.adler32(dictionary) for name, dictionary in (
        ("person", packing.PERSON), ("household", packing.HOUSEHOLD),
        ("mail", packing.MAIL), ("message", batches.MESSAGE_DICTIONARY),
    )} == {"person": 0x6C2E203C, "household": 0x6F3786C6, "mail": 0x72C72256,
           "message": 0x56766ED9}


@settings(max_examples=200, deadline=None, database=None)
@given(households)
def test_a_household_reads_back_unchanged_packed_and_as_stored_before(household: Household):
    document = stored_form.household_document(household)
    persons = [stored_form.person_document(person) for person in household.persons]
    for value, dictionary in [(document, packing.HOUSEHOLD),
                              *((person, packing.PERSON) for person in persons)]:
        sealed = household_rows.seal(CIPHER, value, dictionary, "t:1:data")
        assert household_rows.opened(CIPHER, sealed, dictionary, "t:1:data") == value
        before = CIPHER.encrypt(json.dumps(value), "t:1:data")  # JSON text, until 2026-12-07
        assert household_rows.opened(CIPHER, before, dictionary, "t:1:data") == value


def test_a_person_and_a_message_take_under_a_quarter_of_what_they_took():
    for person in xaus.FAMILY.persons:
        document = stored_form.person_document(person)
        before = CIPHER.encrypt(json.dumps(document), "person:1:data")
        packed = household_rows.seal(CIPHER, document, packing.PERSON, "person:1:data")
        assert len(packed) < len(before) / 4, (len(packed), len(before))
    for index in range(len(xaus.FAMILY.persons)):
        xml = xaus.build(xaus.FAMILY, index)
        payload, in_file = batches.seal(CIPHER, "m1", xml)
        assert batches.unseal(CIPHER, "m1", payload) == xml
        deflated = CIPHER.encrypt_bytes(zlib.compress(xml), "m")  # as stored before
        assert len(payload) < len(deflated) / 4, (len(payload), len(deflated))
        # What the batch file will hold of it: deflated on its own, in base64.
        assert in_file == len(base64.b64encode(zlib.compress(xml, batches.ZIP_LEVEL)))


def test_a_value_packed_with_a_dictionary_this_version_lacks_is_refused():
    packed = packing.pack(b'{"a":1}', b'{"b":2}')
    with pytest.raises(packing.UnknownDictionary):
        packing.unpack(packed, (packing.PERSON,))
    assert packing.unpack(packed, (packing.PERSON, b'{"b":2}')) == b'{"a":1}'
