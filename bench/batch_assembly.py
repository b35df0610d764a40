"""Time to assemble a batch of 5,000 messages: the database step and the zip file, on SQLite.

    python bench/batch_assembly.py [COUNT]

Builds COUNT real, schema-shaped messages (encrypted like in production) in a temporary
SQLite database, then times batches.assemble (one transaction) and batch_files.write (the zip, encrypted).
Target (issue #7): under 2 seconds for 5,000 messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import tempfile
import time
import uuid
from pathlib import Path

from intake import xaus
from intake.authorities.demo import seed
from intake.config import new_data_key, parse_data_keys
from intake.dataset.domain import (
    Address,
    Authority,
    Contact,
    Household,
    PartialDate,
    Person,
    Sender,
)
from intake.delivery import batch_files, batches
from intake.documents.blobs import Blobs
from intake.security.crypto import FieldCipher
from intake.store import models
from intake.store.database import Database

TARGET_SECONDS = 2.0


def message_xml() -> bytes:
    person = Person("applicant", "Shevchenko", "Olena", "female", PartialDate(1990, 5, 1),
                    "Kyiv", "UA", ("UA",), "married")
    household = Household("uk", "14467", (person,),
                          address=Address("Friedrich-Ebert-Str.", "12a", "14467", "Potsdam"),
                          contact=Contact("olena@example.org", "+4915112345678"))
    envelope = xaus.Envelope(uuid.uuid4(), dt.datetime.now(dt.UTC),
                             Authority("073400", "STV Potsdam"),
                             Sender("alp:intake", "intake", "intake@example.org",
                                    Address("Musterstraße", "1", "10115", "Berlin")))
    return xaus.build(household, 0, application_ids=["A"], envelope=envelope,
                      application_date=dt.date.today())


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.db")
        db.upgrade()
        cipher = FieldCipher(parse_data_keys(new_data_key("b1")), b"i" * 32)
        xml = message_xml()
        with db.transaction() as session:
            seed(session)
            registration = models.Registration(id=models.new_id(), reference="BENCH-00001",
                                               status_token_hash="0" * 64, authority_key="073400",
                                               language="uk", data="-")
            session.add(registration)
            people = [
                models.Person(id=models.new_id(), registration_id=registration.id,
                              position=n, application_id=str(uuid.uuid4()), data="-")
                for n in range(count)
            ]
            session.add_all(people)
            session.flush()
            for person in people:
                message_id = models.new_id()
                payload, in_file = batches.seal(cipher, message_id, xml)
                message = models.Message(
                    id=message_id, person_id=person.id, registration_id=registration.id,
                    authority_key="073400", message_uuid=str(uuid.uuid4()),
                    file_name=f"{person.application_id}.xml",
                    sha256=hashlib.sha256(xml).hexdigest(), stored_bytes=in_file,
                )
                session.add(message)
                session.add(models.MessagePayload(message_id=message_id, payload=payload))
        started = time.perf_counter()
        with db.transaction() as session:
            batch = batches.assemble(session, "073400", dt.datetime.now(dt.UTC), limit=count)
        assembled = time.perf_counter()
        assert batch is not None and batch.count == count
        with db.transaction() as session:
            path = batch_files.write(session, cipher, Blobs(None), Path(folder) / "xml_out", batch)
        written = time.perf_counter()
        total = written - started
        verdict = "meets" if total < TARGET_SECONDS else "misses"
        print(f"{count:,} messages: assembled in {assembled - started:.2f} s, zip written in "
              f"{written - assembled:.2f} s ({path.stat().st_size / 1e6:.1f} MB); "
              f"total {total:.2f} s (target < {TARGET_SECONDS} s: {verdict})")
        db.dispose()


if __name__ == "__main__":
    main()
