import json
from datetime import UTC, datetime, timedelta, timezone

from masthead.news.structured_data import ArticleFacts, Person, news_article, to_script_json

TOKYO = timezone(timedelta(hours=9))


def facts(**overrides):
    values = dict(
        headline="Pact signed",
        description="The deck",
        url="https://news.example/world/pact/",
        published=datetime(2026, 11, 4, 7, 45, tzinfo=TOKYO),
        modified=None,
        section="World",
        publisher="The Test Gazette",
        publisher_url="https://news.example/",
        authors=[Person("Ada Reporter", "https://news.example/authors/ada/")],
        image_urls=["https://news.example/media/a.jpg"],
        keywords=["Korea", "Defence"],
    )
    values.update(overrides)
    return ArticleFacts(**values)


def test_news_article_has_the_fields_search_engines_expect():
    data = news_article(facts())
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Pact signed"
    assert data["datePublished"] == "2026-11-04T07:45:00+09:00"
    assert data["dateModified"] == data["datePublished"]
    assert data["author"] == [
        {"@type": "Person", "name": "Ada Reporter", "url": "https://news.example/authors/ada/"}
    ]
    assert data["publisher"]["name"] == "The Test Gazette"
    assert data["image"] == ["https://news.example/media/a.jpg"]
    assert data["mainEntityOfPage"]["@id"] == data["url"]


def test_body_text_is_never_part_of_structured_data():
    assert "articleBody" not in news_article(facts())


def test_modified_date_and_sponsor_are_reported_when_present():
    modified = datetime(2026, 11, 5, 1, 0, tzinfo=UTC)
    data = news_article(facts(modified=modified, sponsor="Acme"))
    assert data["dateModified"] == "2026-11-05T01:00:00+00:00"
    assert data["sponsor"] == {"@type": "Organization", "name": "Acme"}


def test_script_json_cannot_close_its_script_element():
    hostile = facts(headline="</script><script>alert(1)</script> & <!--")
    text = to_script_json(news_article(hostile))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["headline"] == "</script><script>alert(1)</script> & <!--"
