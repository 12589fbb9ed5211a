"""The demo publication's files: complete, original-looking, and covering every feature."""

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from masthead.demo.content import ContentError, load_catalogue, parse_article, parse_body

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
