"""The demo publication's files: complete, original-looking, and covering every feature."""

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from masthead.demo.content import ContentError, load_catalogue, parse_article, parse_body
from masthead.news.dateline import with_dateline

CATALOGUE = load_catalogue()


def test_publication_has_enough_sections_and_articles():
    assert len(CATALOGUE.sections) >= 4
    assert len(CATALOGUE.articles) >= 24
    assert {a.section for a in CATALOGUE.articles} == {s["slug"] for s in CATALOGUE.sections}


def test_every_article_has_8_to_20_paragraphs_with_quotes_and_a_dateline():
    for article in CATALOGUE.articles:
        assert 8 <= article.paragraph_count <= 20, article.slug
        assert article.dateline == article.dateline.upper(), article.slug
        text = " ".join(b.text for b in article.body)
        assert text.count('"') >= 4 or text.count("\u201c") >= 2, article.slug


def test_series_sponsors_and_access_levels_are_all_represented():
    per_series = Counter(a.series for a in CATALOGUE.articles if a.series)
    assert sum(1 for count in per_series.values() if count >= 3) >= 2
    assert sum(1 for a in CATALOGUE.articles if a.sponsor) >= 2
    assert {a.access for a in CATALOGUE.articles} == {"free", "metered", "subscribers"}
    assert len({author for a in CATALOGUE.articles for author in a.authors}) >= 4


def test_sponsored_articles_are_not_bylined_to_the_newsroom():
    for article in CATALOGUE.articles:
        if article.sponsor:
            assert article.authors == ["partner-content-team"], article.slug


def test_slugs_and_dates_are_unique_and_plausible():
    slugs = [a.slug for a in CATALOGUE.articles]
    assert len(slugs) == len(set(slugs))
    tokyo = ZoneInfo("Asia/Tokyo")
    for article in CATALOGUE.articles:
        assert datetime(2026, 9, 1, tzinfo=tokyo) <= article.published
        assert article.published <= datetime(2026, 11, 27, tzinfo=tokyo)
        assert article.updated is None or article.updated > article.published


def test_body_markup_becomes_blocks():
    blocks = parse_body(
        "First line\ncontinues.\n\n## A heading\n\n> Quoted words\n> more words\n> -- A. Person\n"
    )
    assert [(b.kind, b.text, b.attribution) for b in blocks] == [
        ("paragraph", "First line continues.", ""),
        ("subheading", "A heading", ""),
        ("pull_quote", "Quoted words more words", "A. Person"),
    ]


def _write(tmp_path, text):
    path = tmp_path / "story.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_template_markers_are_refused(tmp_path):
    path = _write(tmp_path, 'headline = "You have {{ n }} articles"\n')
    with pytest.raises(ContentError, match="template marker"):
        parse_article(path, "world")


def test_missing_keys_and_bad_toml_name_the_file(tmp_path):
    with pytest.raises(ContentError, match="story.toml: missing key"):
        parse_article(_write(tmp_path, 'headline = "x"\n'), "world")
    with pytest.raises(ContentError, match="story.toml"):
        parse_article(_write(tmp_path, "headline = \n"), "world")


def _reader_texts(article):
    yield from (article.headline, *article.decks, article.caption, article.credit)
    for block in article.body:
        yield block.text
        yield block.attribution


def test_the_demo_stories_have_typographic_quotes_and_apostrophes():
    for article in CATALOGUE.articles:
        for text in _reader_texts(article):
            assert '"' not in text, (article.slug, text)
            assert "'" not in text, (article.slug, text)
            assert " -- " not in text, (article.slug, text)
    # the quotes are still there, curly
    body = " ".join(b.text for a in CATALOGUE.articles for b in a.body)
    assert body.count("\u201c") == body.count("\u201d") > 100
    assert "Myanmar\u2019s" in body


def test_datelines_keep_the_references_form():
    # the dateline is read as typed, and the page writes "WASHINGTON/SEOUL --" from it
    [story] = [a for a in CATALOGUE.articles if a.dateline == "WASHINGTON/SEOUL"]
    first = next(b.text for b in story.body if b.kind == "paragraph")
    html = with_dateline(f"<p>{first}</p>", story.dateline)
    assert html.startswith('<p><span class="dateline">WASHINGTON/SEOUL --</span> ')
    for article in CATALOGUE.articles:
        assert not {"\u2013", "\u2014", "\u2019"} & set(article.dateline), article.slug


def test_a_story_typed_with_straight_quotes_reads_with_curly_ones(tmp_path):
    path = _write(
        tmp_path,
        """headline = "Seoul's 'southern turn' wins praise"
decks = ['"A door held half open," says envoy']
authors = ["hana-okafor"]
dateline = "WASHINGTON/SEOUL"
published = "2026-10-01T09:00:00"
access = "free"
topics = ["Korea"]
caption = "Ministers meet in Seoul on Oct. 1."
credit = "Source photos by Pool"
image_alt = "Two ministers"
image_hue = 10
image_label = "Talks"
body = '''
"It's a start," she said.

> We're ready.
> -- An Envoy
'''
""",
    )
    article = parse_article(path, "world")
    assert article.headline == "Seoul\u2019s \u2018southern turn\u2019 wins praise"
    assert article.decks == ["\u201cA door held half open,\u201d says envoy"]
    assert article.dateline == "WASHINGTON/SEOUL"
    assert article.body[0].text == "\u201cIt\u2019s a start,\u201d she said."
    assert (article.body[1].text, article.body[1].attribution) == ("We\u2019re ready.", "An Envoy")


def test_the_publications_own_pages_are_all_there_for_the_footer():
    pages = {page["footer"]: page for page in CATALOGUE.pages}
    assert set(pages) == {"about", "contact", "privacy", "terms"}
    for page in CATALOGUE.pages:
        text = " ".join(b.text for b in parse_body(page["body"]))
        assert page["slug"] and page["title"] and len(text) > 300, page["slug"]
        assert '"' not in text and "'" not in text, page["slug"]
    # the privacy page says what Masthead stores, and that nothing else is loaded
    privacy = pages["privacy"]["body"]
    for fact in ("mh_reader", "keyed hash", "session cookie", "card numbers", "other companies"):
        assert fact in privacy, fact
