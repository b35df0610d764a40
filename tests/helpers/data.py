"""Registrations as partners send them, for tests."""

from __future__ import annotations

ADULT = {
    "language": "en",
    "consent": {"data_processing": True},
    "postal_code": "14467",
    "persons": [
        {
            "role": "applicant",
            "family_name": "Shevchenko",
            "given_names": "Olena",
            "sex": "female",
            "date_of_birth": "1990-05-01",
            "place_of_birth": "Kyiv",
            "country_of_birth": "UA",
            "nationalities": ["UA"],
            "document": {"type": "passport", "number": "FE123456"},
        }
    ],
}

