"""intake.dataset.transliteration: the official examples, capitals, and proposals that pass DIN 91379."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.dataset import names
from intake.dataset.transliteration import _ALPHABETS, guess_language, propose_latin

# The examples printed in the table of Cabinet of Ministers resolution No. 55 (27 January 2010).
UKRAINIAN_2010 = {
    "Алушта": "Alushta", "Згорани": "Zghorany", "Розгон": "Rozghon", "Єнакієве": "Yenakiieve",
    "Гаєвич": "Haievych", "Короп'є": "Koropie", "Їжакевич": "Yizhakevych",
    "Кадиївка": "Kadyivka", "Мар'їне": "Marine", "Йосипівка": "Yosypivka", "Стрий": "Stryi",
    "Олексій": "Oleksii", "Юрій": "Yurii", "Корюківка": "Koriukivka", "Яготин": "Yahotyn",
    "Костянтин": "Kostiantyn", "Знам'янка": "Znamianka", "Феодосія": "Feodosiia",
    "Щербухи": "Shcherbukhy", "Гоща": "Hoshcha", "Ічня": "Ichnia", "Шостка": "Shostka",
    "Біла Церква": "Bila Tserkva", "Вінниця": "Vinnytsia", "Гадяч": "Hadiach",
    "Ґалаґан": "Galagan", "Дон": "Don", "Рівне": "Rivne", "Житомир": "Zhytomyr",
    "Закарпаття": "Zakarpattia", "Іршава": "Irshava", "Київ": "Kyiv", "Ковель": "Kovel",
    "Лебедин": "Lebedyn", "Миколаїв": "Mykolaiv", "Ніжин": "Nizhyn", "Одеса": "Odesa",
    "Полтава": "Poltava", "Ромни": "Romny", "Суми": "Sumy", "Тетерів": "Teteriv",
    "Ужгород": "Uzhhorod", "Фастів": "Fastiv", "Харків": "Kharkiv", "Чернівці": "Chernivtsi",
    "Шевченко": "Shevchenko",
}  # fmt: skip

# ICAO Doc 9303 Part 3: one example for each letter whose value is not the obvious one.
RUSSIAN_ICAO = {
    "Юлия Щеглова": "Iuliia Shcheglova", "Артём Краевой": "Artem Kraevoi",
    "Ян Разъездной": "Ian Razieezdnoi", "Игорь Ильин": "Igor Ilin", "Мадыр Чёткий": "Madyr Chetkii",
    "Хаджиев Эдуард": "Khadzhiev Eduard", "Цой": "Tsoi", "Ёжиков": "Ezhikov",
    "Галина": "Galina", "Наталья": "Natalia",
}  # fmt: skip

BELARUSIAN_ICAO = {
    "Бабрыковіч Аляксандр": "Babrykovich Aliaksandr", "Міховіч Марыя": "Mikhovich Maryia",
    "Ігар": "Ihar", "Мікалай": "Mikalai", "Палто Алена": "Palto Alena",
    "Алёна": "Aliona", "Ўладзімір": "Uladzimir", "Вераб'ёў": "Verabiou", "Святлана": "Sviatlana",
}  # fmt: skip


@pytest.mark.parametrize(("cyrillic", "latin"), UKRAINIAN_2010.items())
def test_ukrainian_2010_table(cyrillic, latin):
    assert propose_latin(cyrillic, "uk") == latin
    assert names.first_disallowed(latin) is None


@pytest.mark.parametrize(("cyrillic", "latin"), RUSSIAN_ICAO.items())
def test_russian_icao_9303(cyrillic, latin):
    assert propose_latin(cyrillic, "ru") == latin


@pytest.mark.parametrize(("cyrillic", "latin"), BELARUSIAN_ICAO.items())
def test_belarusian_icao_9303(cyrillic, latin):
    assert propose_latin(cyrillic, "be") == latin


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("ЩЕРБАК", "SHCHERBAK"),
        ("ЩЕРБАК Олена", "SHCHERBAK Olena"),  # the library alone gives "ShchERBAK" here
        ("ЗГУРОВСЬКИЙ Олег", "ZGHUROVSKYI Oleh"),
        ("ЄВГЕН", "YEVHEN"),
        ("Ю. Згурівська", "Yu. Zghurivska"),  # a capital alone is an initial
        ("Анна-Юлія", "Anna-Yuliia"),  # each part of a double name starts a word
        ("Мар’яна Дʼякова", "Mariana Diakova"),  # typographic and modifier apostrophes
        ("  Олена \t Шевченко ", "Olena Shevchenko"),
    ],
)
def test_capitals_words_and_apostrophes_in_ukrainian(cyrillic, latin):
    assert propose_latin(cyrillic, "uk") == latin


def test_input_is_composed_first():
    assert propose_latin("Олексіи\u0306", "uk") == "Oleksii"  # й typed as и + breve
    assert propose_latin("Киі\u0308в", "uk") == "Kyiv"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ўладзімір", "be"),
        ("Сяргей Бабрыковіч", "be"),
        ("Їжакевич", "uk"),
        ("Євген", "uk"),
        ("Ґалаґан", "uk"),
        ("Подъячев", "ru"),
        ("Эдуард", "ru"),
        ("Олена", "uk"),
        ("Іван", "uk"),
        ("Шевченко", "uk"),
        ("Latin", None),
        ("", None),
        ("Їжак Ўлад", None),
    ],
)
def test_guess_language(text, language):
    assert guess_language(text) == language


def test_preferred_language_wins_where_the_alphabet_allows():
    assert guess_language("Олена", preferred="ru") == "ru"
    assert guess_language("Іван", preferred="be") == "be"
    assert guess_language("Ёжиков", preferred="uk") == "ru"  # Ukrainian has no Ё
    assert guess_language("Олена", preferred="de") == "uk"


def test_language_is_guessed_when_not_given():
    assert propose_latin("Сяргей") == "Siarhei"
    assert propose_latin("Олена Шевченко") == "Olena Shevchenko"
    assert propose_latin("Mustermann") is None  # nothing Cyrillic: nothing to propose


def test_no_proposal_that_fails_din_91379():
    assert propose_latin("Ёжиков", "uk") is None  # Ё is not Ukrainian: it would stay Cyrillic
    assert propose_latin("Олена 😀", "uk") is None


def test_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="sr"):
        propose_latin("Јован", "sr")


def _words(language: str) -> st.SearchStrategy[str]:
    letters = "".join(sorted(_ALPHABETS[language]))
    word = st.text(alphabet=letters, min_size=2, max_size=10)
    styled = st.tuples(word, st.sampled_from([str.lower, str.title, str.upper]))
    return st.lists(styled.map(lambda pair: pair[1](pair[0])), min_size=1, max_size=3).map(" ".join)


@pytest.mark.parametrize("language", ["uk", "ru", "be"])
@given(data=st.data())
def test_every_word_of_the_alphabet_gives_an_allowed_ascii_proposal(language, data):
    text = data.draw(_words(language))
    proposal = propose_latin(text, language)
    assert proposal is not None
    assert proposal.isascii() and names.first_disallowed(proposal) is None
    assert len(proposal.split(" ")) == len(text.split(" "))


@pytest.mark.parametrize("language", ["uk", "ru", "be"])
@given(data=st.data())
def test_capitals_in_give_capitals_out(language, data):
    text = data.draw(_words(language)).lower()
    assert propose_latin(text.upper(), language) == propose_latin(text, language).upper()
