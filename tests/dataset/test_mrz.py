"""intake.dataset.mrz: the ICAO 9303 specimens, every check digit, dates, and generated MRZs read back."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.dataset import mrz
from intake.dataset.domain import STATELESS, UNKNOWN, Document, PartialDate

TODAY = dt.date(2026, 11, 20)

# The specimens printed in Doc 9303 Part 4 (TD3) and Part 5 (TD1).
TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)


def digit(data: str) -> str:
    """Doc 9303 check digit, written apart from the module's so that each checks the other."""
    values = [
        ord(c) - ord("0") if c.isdigit() else ord(c) - ord("A") + 10 if c.isalpha() else 0
        for c in data
    ]
    return str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


def td3(
    name="ERIKSSON<<ANNA<MARIA",
    number="L898902C3",
    state="UTO",
    nationality="UTO",
    birth="740812",
    sex="F",
    expiry="120415",
    optional="ZE184226B",
    code="P<",
) -> str:
    number, optional = number.ljust(9, "<"), optional.ljust(14, "<")
    second = (
        number
        + digit(number)
        + nationality.ljust(3, "<")
        + birth
        + digit(birth)
        + sex
        + expiry
        + digit(expiry)
        + optional
        + digit(optional)
    )
    second += digit(second[0:10] + second[13:20] + second[21:43])
    return (code + state.ljust(3, "<") + name).ljust(44, "<") + "\n" + second


def td1(
    name="ERIKSSON<<ANNA<MARIA",
    number="D23145890",
    state="UTO",
    nationality="UTO",
    birth="740812",
    sex="F",
    expiry="120415",
    optional="",
    code="I<",
) -> str:
    if len(number) > 9:
        document = number[:9] + "<" + number[9:] + digit(number) + "<"
    else:
        document = number.ljust(9, "<") + digit(number.ljust(9, "<")) + optional
    first = (code + state.ljust(3, "<") + document).ljust(30, "<")
    second = (
        birth + digit(birth) + sex + expiry + digit(expiry) + nationality.ljust(3, "<")
    ).ljust(29, "<")
    second += digit(first[5:30] + second[0:7] + second[8:15] + second[18:29])
    return "\n".join([first, second, name.ljust(30, "<")])


def test_the_test_builders_reproduce_the_specimens():
    assert td3() == "\n".join(TD3)
    assert td1() == "\n".join(TD1)


def test_td3_specimen():
    read = mrz.parse("\n".join(TD3), today=TODAY)
    assert read == mrz.Mrz(
        document_type="P",
        issuing_state="UTO",
        family_name="ERIKSSON",
        given_names="ANNA MARIA",
        document_number="L898902C3",
        nationality="UTO",
        date_of_birth=PartialDate(1974, 8, 12),
        sex="female",
        expiry=dt.date(2012, 4, 15),
        lines=TD3,
    )


def test_td1_specimen():
    read = mrz.parse("\n".join(TD1), today=TODAY)
    assert read == mrz.Mrz(
        document_type="I",
        issuing_state="UTO",
        family_name="ERIKSSON",
        given_names="ANNA MARIA",
        document_number="D23145890",
        nationality="UTO",
        date_of_birth=PartialDate(1974, 8, 12),
        sex="female",
        expiry=dt.date(2012, 4, 15),
        lines=TD1,
    )


@pytest.mark.parametrize(
    "text",
    [
        "  " + "\r\n".join(TD3).lower() + "\n ",
        "".join(TD3),
        "\n\n".join(TD1),
        " " + "".join(TD1).lower() + "\t",
    ],
)
def test_whitespace_case_and_concatenated_lines_are_accepted(text):
    assert mrz.parse(text, today=TODAY).family_name == "ERIKSSON"


# (line, column) of every check digit, and the field an error must name.
TD3_DIGITS = [
    (1, 9, "document_number"),
    (1, 19, "date_of_birth"),
    (1, 27, "expiry"),
    (1, 42, "optional_data"),
    (1, 43, "composite"),
]
TD1_DIGITS = [
    (0, 14, "document_number"),
    (1, 6, "date_of_birth"),
    (1, 14, "expiry"),
    (1, 29, "composite"),
]


def _with(lines: tuple[str, ...], line: int, column: int, char: str) -> str:
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1 :]
    return "\n".join(changed)


@pytest.mark.parametrize(
    ("lines", "line", "column", "field"),
    [(TD3, *where) for where in TD3_DIGITS] + [(TD1, *where) for where in TD1_DIGITS],
)
def test_each_wrong_check_digit_names_its_field(lines, line, column, field):
    right = lines[line][column]
    for wrong in "0123456789<":
        if wrong == right:
            continue
        with pytest.raises(mrz.MrzError) as caught:
            mrz.parse(_with(lines, line, column, wrong), today=TODAY)
        assert (caught.value.field, caught.value.reason) == (field, "check_digit")


@pytest.mark.parametrize(
    ("lines", "line", "column", "field"),
    [
        (TD3, 1, 3, "document_number"),
        (TD3, 1, 15, "date_of_birth"),
        (TD3, 1, 23, "expiry"),
        (TD3, 1, 30, "optional_data"),
        (TD1, 0, 8, "document_number"),
        (TD1, 1, 2, "date_of_birth"),
        (TD1, 1, 10, "expiry"),
        (TD1, 0, 20, "composite"),
        (TD1, 1, 20, "composite"),
    ],
)
def test_a_changed_character_fails_the_check_digit_that_covers_it(lines, line, column, field):
    with pytest.raises(mrz.MrzError) as caught:
        mrz.parse(
            _with(lines, line, column, "1" if lines[line][column] != "1" else "2"), today=TODAY
        )
    assert caught.value.field == field


def test_unused_optional_data_may_carry_filler_or_zero():
    first, zero = td3(optional="").splitlines()
    assert zero[42] == "0"
    filler = zero[:42] + "<" + zero[43]  # the filler counts as 0 in the composite as well
    for second in (zero, filler):
        assert mrz.parse(first + "\n" + second, today=TODAY).document_number == "L898902C3"


def test_td1_long_document_number():
    read = mrz.parse(td1(number="D23145890734"), today=TODAY)
    assert read.document_number == "D23145890734"
    with pytest.raises(mrz.MrzError) as caught:
        mrz.parse(td1(number="D23145890734").replace("7349<", "7345<"), today=TODAY)
    assert caught.value.field == "document_number"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (TD3[0], "layout"),
        ("\n".join(TD3 + TD3[1:]), "layout"),
        ("\n".join(line[:-1] for line in TD3), "layout"),
        ("".join(TD3) + "<", "layout"),
        ("\n".join(TD1[:2]), "layout"),
        ("", "layout"),
        (TD3[0].replace("ERIKSSON", "ERIKSSÖN") + "\n" + TD3[1], "characters"),
        (TD3[0].replace("<ANNA", " ANNA") + "\n" + TD3[1], "characters"),
        (td3(name="ERIKSSON<<ANNA2"), "characters"),
        (td3(code="V<"), "document_code"),
        (td1(code="P<"), "document_code"),
        (td3(sex="Q"), "sex"),
        (td3(nationality="U1O"), "country"),
        (td3(state="<<<"), "country"),
    ],
)
def test_format_errors(text, reason):
    with pytest.raises(mrz.MrzError) as caught:
        mrz.parse(text, today=TODAY)
    assert (caught.value.field, caught.value.reason) == ("format", reason)


@pytest.mark.parametrize(
    ("sex", "value"), [("F", "female"), ("M", "male"), ("<", "unspecified"), ("X", "unspecified")]
)
def test_sex(sex, value):
    assert mrz.parse(td3(sex=sex), today=TODAY).sex == value


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        ("740812", PartialDate(1974, 8, 12)),
        ("150101", PartialDate(2015, 1, 1)),
        ("261120", PartialDate(2026, 11, 20)),  # born today
        ("261121", PartialDate(1926, 11, 21)),  # tomorrow would be the future: a century back
        ("000229", PartialDate(2000, 2, 29)),
        ("74<<<<", PartialDate(1974)),
        ("7408<<", PartialDate(1974, 8)),
        ("740800", PartialDate(1974, 8)),
        ("740000", PartialDate(1974)),
        ("74<<12", PartialDate(1974)),  # a day without its month says nothing
        ("26<<<<", PartialDate(2026)),
        ("<<<<<<", None),
    ],
)
def test_date_of_birth(birth, expected):
    assert mrz.parse(td3(birth=birth), today=TODAY).date_of_birth == expected


@pytest.mark.parametrize("birth", ["741312", "740231", "7A0812", "74081<"])
def test_impossible_date_of_birth(birth):
    with pytest.raises(mrz.MrzError) as caught:
        mrz.parse(td3(birth=birth), today=TODAY)
    assert (caught.value.field, caught.value.reason) == ("date_of_birth", "date")


@pytest.mark.parametrize(
    ("expiry", "expected"),
    [
        ("120415", dt.date(2012, 4, 15)),
        ("361119", dt.date(2036, 11, 19)),
        ("760101", dt.date(2076, 1, 1)),
        ("770101", dt.date(1977, 1, 1)),
    ],
)
def test_expiry_century(expiry, expected):
    assert mrz.parse(td1(expiry=expiry), today=TODAY).expiry == expected


@pytest.mark.parametrize("expiry", ["<<<<<<", "120231", "121315"])
def test_impossible_expiry(expiry):
    with pytest.raises(mrz.MrzError) as caught:
        mrz.parse(td3(expiry=expiry), today=TODAY)
    assert (caught.value.field, caught.value.reason) == ("expiry", "date")


def test_names():
    assert mrz.parse(td3(name="SHEVCHENKO<<OLENA"), today=TODAY).given_names == "OLENA"
    only_one = mrz.parse(td3(name="SHEVCHENKO"), today=TODAY)
    assert (only_one.family_name, only_one.given_names) == ("SHEVCHENKO", None)
    no_primary = mrz.parse(td1(name="<<OLENA<MARIIA"), today=TODAY)
    assert (no_primary.family_name, no_primary.given_names) == (None, "OLENA MARIIA")
    double = mrz.parse(td3(name="VAN<DER<BERG<<JAN"), today=TODAY)
    assert double.family_name == "VAN DER BERG"


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("UKR", "UA"),
        ("DEU", "DE"),
        ("D<<", "DE"),
        ("D", "DE"),
        ("SYR", "SY"),
        ("GBD", "GB"),
        ("XXA", STATELESS),
        ("XXX", UNKNOWN),
        ("XXB", None),
        ("UNO", None),
        ("RKS", None),
        ("UTO", None),
        ("ukr", "UA"),
    ],
)
def test_country_code(code, value):
    assert mrz.country_code(code) == value


def test_document():
    read = mrz.parse(td3(state="UKR", nationality="UKR", number="FE123456"), today=TODAY)
    assert read.document() == Document("passport", "FE123456", "UA", dt.date(2012, 4, 15))
    card = mrz.parse(td1(state="D", number="L01X00T47"), today=TODAY)
    assert card.document() == Document("other", "L01X00T47", "DE", dt.date(2012, 4, 15))


def test_error_is_a_value_error_with_data():
    error = mrz.MrzError("expiry", "date")
    assert isinstance(error, ValueError)
    assert error.field in mrz.FIELDS and error.args == ("expiry", "date")


# Generated documents: any valid MRZ reads back to what was written into it.
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_word = st.text(_LETTERS, min_size=1, max_size=8)
_states = st.sampled_from(["UKR", "SYR", "AFG", "D", "UTO", "XXA", "TUR", "RUS", "BLR"])
_dates = st.dates(dt.date(1927, 11, 21), TODAY)
_expiries = st.dates(dt.date(1977, 1, 1), dt.date(2076, 12, 31))


@st.composite
def documents(draw):
    family = draw(st.lists(_word, min_size=1, max_size=2))
    given = draw(st.lists(_word, max_size=2))
    return {
        "name": "<".join(family) + ("<<" + "<".join(given) if given else ""),
        "family": " ".join(family),
        "given": " ".join(given) or None,
        "state": draw(_states),
        "nationality": draw(_states),
        "birth": draw(_dates),
        "expiry": draw(_expiries),
        "sex": draw(st.sampled_from("FM<")),
    }


def _check_read(read: mrz.Mrz, doc: dict, number: str) -> None:
    assert (read.family_name, read.given_names) == (doc["family"], doc["given"])
    assert (read.issuing_state, read.nationality) == (doc["state"], doc["nationality"])
    assert read.document_number == number
    assert read.date_of_birth == PartialDate(
        doc["birth"].year, doc["birth"].month, doc["birth"].day
    )
    assert read.expiry == doc["expiry"]
    assert read.sex == {"F": "female", "M": "male", "<": "unspecified"}[doc["sex"]]


@given(
    documents(),
    st.text(_LETTERS + "0123456789", min_size=1, max_size=9),
    st.text(_LETTERS + "0123456789<", max_size=14),
)
def test_generated_td3_reads_back(doc, number, optional):
    text = td3(
        name=doc["name"][:39],
        number=number,
        state=doc["state"],
        nationality=doc["nationality"],
        birth=doc["birth"].strftime("%y%m%d"),
        sex=doc["sex"],
        expiry=doc["expiry"].strftime("%y%m%d"),
        optional=optional,
    )
    doc = {**doc, **_names_after_cut(doc["name"][:39])}
    _check_read(mrz.parse(text, today=TODAY), doc, number)


@given(documents(), st.text(_LETTERS + "0123456789", min_size=1, max_size=13))
def test_generated_td1_reads_back(doc, number):
    text = td1(
        name=doc["name"][:30],
        number=number,
        state=doc["state"],
        nationality=doc["nationality"],
        birth=doc["birth"].strftime("%y%m%d"),
        sex=doc["sex"],
        expiry=doc["expiry"].strftime("%y%m%d"),
    )
    doc = {**doc, **_names_after_cut(doc["name"][:30])}
    _check_read(mrz.parse(text, today=TODAY), doc, number)


def _names_after_cut(name: str) -> dict:
    """What a name field says once cut to the width of its line (long names are truncated)."""
    family, _, given = name.partition("<<")
    words = [w for w in given.split("<") if w]
    return {
        "family": " ".join(w for w in family.split("<") if w) or None,
        "given": " ".join(words) or None,
    }
