from urllib.parse import parse_qs, urlsplit

from masthead.news.share import share_links

URL = "https://news.example/world/a-b/?ref=x&y=1"
HEADLINE = "Seoul & Jakarta sign pact: 'a new era' — 100% agreed?"


def links():
    return {link.network: link.url for link in share_links(URL, HEADLINE)}


def test_every_network_is_a_plain_https_or_mailto_link():
    urls = links()
    assert set(urls) == {"facebook", "linkedin", "x", "email"}
    assert urls["facebook"].startswith("https://www.facebook.com/sharer/sharer.php?u=")
    assert urls["linkedin"].startswith("https://www.linkedin.com/sharing/share-offsite/?url=")
    assert urls["x"].startswith("https://x.com/intent/post?")
    assert urls["email"].startswith("mailto:?")


def test_article_url_survives_the_round_trip_through_each_query_string():
    urls = links()
    assert parse_qs(urlsplit(urls["facebook"]).query)["u"] == [URL]
    assert parse_qs(urlsplit(urls["linkedin"]).query)["url"] == [URL]
    x = parse_qs(urlsplit(urls["x"]).query)
    assert x["url"] == [URL]
    assert x["text"] == [HEADLINE]
    mail = parse_qs(urlsplit(urls["email"]).query)
    assert mail["subject"] == [HEADLINE]
    assert mail["body"] == [URL]


def test_reserved_characters_are_percent_encoded_and_spaces_are_not_plus():
    for url in links().values():
        query = url.split("?", 1)[1]
        assert " " not in query
        assert "+" not in query
        assert "%26" in query  # the & inside the article URL or headline
        for name_value in query.split("&"):
            assert name_value.count("=") == 1
