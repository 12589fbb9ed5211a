"""Site search's pure rules (masthead.news.searching): what a typed query becomes, and the
escaped, marked snippet."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from masthead.news.searching import MAX_CHARS, MAX_TERMS, clean_query, highlight, snippet


@pytest.mark.parametrize(
    ("raw", "words", "phrases"),
    [
        ("korea", ("korea",), ()),
        ("  Korea   chips ", ("Korea", "chips"), ()),
        ('"bank of japan" yen', ("yen",), (("bank", "of", "japan"),)),
        ('yen "bank of', ("yen", "bank", "of"), ()),  # an unclosed quote: plain words
        ('"one"', ("one",), ()),  # a phrase of one word is a word
        ("Japan's chips", ("Japan", "chips"), ()),
        ("ｋｏｒｅａ", ("korea",), ()),  # fullwidth, NFKC
        ("a\x00b\x1bc\u200bd", ("a", "b", "c", "d"), ()),
        ("seoul OR busan AND NOT tokyo", ("seoul", "busan", "tokyo"), ()),
        ("seoul or busan", ("seoul", "or", "busan"), ()),  # lower case: a word
        ("-chips* title:yen (x)", ("chips", "title", "yen", "x"), ()),
        ("yen yen yen", ("yen",), ()),
    ],
)
def test_words_and_phrases_of_a_query(raw, words, phrases):
    query = clean_query(raw)
    assert (query.words, query.phrases) == (words, phrases)
    assert not query.truncated


@pytest.mark.parametrize("raw", ['"', '""', "-", "*", "OR", "()", ":", "AND NOT", "", "\x00\x01"])
def test_a_query_of_only_operators_or_controls_is_empty(raw):
    assert clean_query(raw).empty


def test_a_huge_query_is_cut_at_a_space_and_said_to_be():
    query = clean_query("shipping " * 2000)
    assert query.truncated
    assert len(query.text) <= MAX_CHARS
    assert query.text.endswith("shipping")
    assert query.words == ("shipping",)


def test_at_most_max_terms_words_and_phrases():
    query = clean_query(" ".join(f"w{n}" for n in range(20)) + ' "a b"')
    assert len(query.words) + len(query.phrases) == MAX_TERMS
    assert query.phrases == (("a", "b"),)
    assert query.truncated


@given(st.text(max_size=400))
def test_any_text_gives_words_of_letters_and_digits_only(raw):
    query = clean_query(raw)
    assert len(query.text) <= MAX_CHARS
    for word in query.words + tuple(w for p in query.phrases for w in p):
        assert word and all(c.isalnum() or c == "_" for c in word)


def test_highlight_escapes_first_and_marks_matching_words():
    out = highlight('<b>Korea</b> & "Koreans" market', ("korea", "markets"))
    assert out == (
        "&lt;b&gt;<mark>Korea</mark>&lt;/b&gt; &amp; &quot;<mark>Koreans</mark>&quot; "
        "<mark>market</mark>"
    )


def test_short_words_match_only_exactly():
    assert highlight("yen yens ye", ("yen",)) == "<mark>yen</mark> yens ye"


@given(st.text(max_size=200), st.lists(st.text(max_size=10), max_size=3))
def test_highlight_never_lets_markup_through(text, terms):
    out = highlight(text, tuple(t.lower() for t in terms))
    assert out.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_snippet_is_a_window_around_the_first_match():
    text = (
        " ".join(f"w{n}" for n in range(100)) + " typhoon " + " ".join(f"v{n}" for n in range(100))
    )
    out = snippet(text, ("typhoon",), words=20)
    assert out.startswith("… ") and out.endswith(" …")
    assert "<mark>typhoon</mark>" in out
    assert len(out.split()) == 22  # twenty words and two ellipses


def test_snippet_without_a_match_is_the_beginning():
    assert snippet("one two three four", ("zebra",), words=3) == "one two three …"
    assert snippet("", ("zebra",)) == ""
