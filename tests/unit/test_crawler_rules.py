"""robots.txt rules as editors write them (news.robots) and the sitemaps' pure helpers
(news.sitemaps): which lines crawlers know, what the file says, how months and languages are
named."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from masthead.news import robots, sitemaps


def lines_with_problems(rules):
    return [problem.line for problem in robots.problems(rules)]


def test_the_default_rules_are_valid_and_keep_crawlers_out_of_private_paths():
    assert robots.problems(robots.DEFAULT_RULES) == []
    for path in ("/admin/", "/account/", "/subscribe/checkout/", "/api/", "/search/"):
        assert f"Disallow: {path}\n" in robots.DEFAULT_RULES
    assert "Allow: /api/v1/openapi.yaml" in robots.DEFAULT_RULES


@pytest.mark.parametrize(
    "rules",
    [
        "",
        "# only a comment",
        "User-agent: *\nDisallow:",  # an empty Disallow allows everything
        "user-agent: Googlebot\nallow: /news/\ndisallow: /*?print\ncrawl-delay: 2.5",
        "User-agent: *  # everyone\n\n  Disallow: /x/   # indented, with a comment",
        "User-agent: a\nUser-agent: b\nDisallow: /",
    ],
)
def test_rules_crawlers_know_pass(rules):
    assert robots.problems(rules) == []


@pytest.mark.parametrize(
    ("rules", "lines", "words"),
    [
        ("User-agent: *\nDisalow: /x/", [2], "not a rule crawlers know"),
        ("User-agent: *\nNoindex: /x/", [2], "not a rule crawlers know"),
        ("User-agent: *\nDisallow /x/", [2], "not a rule crawlers know"),
        ("Disallow: /x/", [1], "before any User-agent"),
        ("User-agent:\nDisallow: /", [1], "crawler's name"),
        ("User-agent: *\nDisallow: x/", [2], "must start with /"),
        ("User-agent: *\nAllow:", [2], "needs a path"),
        ("User-agent: *\nCrawl-delay: soon", [2], "number of seconds"),
        ("User-agent: *\nCrawl-delay: -1", [2], "number of seconds"),
        ("User-agent: *\nSitemap: https://x.test/s.xml", [2], "Sitemap lines"),
        ("User-agent: *\nbad\nDisallow: /\nworse", [2, 4], "not a rule"),
    ],
)
def test_each_wrong_line_is_named_with_its_number(rules, lines, words):
    found = robots.problems(rules)

    assert [problem.line for problem in found] == lines
    assert words in str(found[0])
    assert str(found[0]).startswith(f"Line {lines[0]}: ")


def test_rules_longer_than_crawlers_read_are_refused():
    rules = "User-agent: *\n" + "Disallow: /a-long-path/\n" * 30000

    assert 1 in lines_with_problems(rules)


def test_the_file_is_the_rules_then_the_sitemap_lines():
    text = robots.robots_txt(
        "User-agent: *   \nDisallow: /x/\n\n",
        ["https://n.test/sitemap.xml", "https://n.test/n.xml"],
    )

    assert text == (
        "User-agent: *\nDisallow: /x/\n\n"
        "Sitemap: https://n.test/sitemap.xml\nSitemap: https://n.test/n.xml\n"
    )
    assert robots.robots_txt("", ["https://n.test/s.xml"]) == "Sitemap: https://n.test/s.xml\n"


def test_month_sections_round_trip_and_refuse_anything_else():
    assert sitemaps.month_section(2026, 3) == "articles-2026-03"
    assert sitemaps.parse_month_section("articles-2026-03") == (2026, 3)
    for name in ("articles-2026-13", "articles-2026-00", "articles-2026-3", "pages", "news"):
        assert sitemaps.parse_month_section(name) is None


def test_month_bounds_are_the_newsrooms_months():
    tokyo = ZoneInfo("Asia/Tokyo")

    assert sitemaps.month_bounds(2026, 12, tokyo) == (
        datetime(2026, 12, 1, tzinfo=tokyo),
        datetime(2027, 1, 1, tzinfo=tokyo),
    )
    start, end = sitemaps.month_bounds(2028, 2, tokyo)
    assert (end - start).days == 29


@pytest.mark.parametrize(
    ("code", "language"),
    [("en-us", "en"), ("en", "en"), ("ja", "ja"), ("zh-hans", "zh-cn"), ("zh-hant", "zh-tw")],
)
def test_news_sitemap_language_is_what_google_news_expects(code, language):
    assert sitemaps.news_language(code) == language


def test_the_sitemap_picture_is_the_article_leads_largest_jpeg():
    assert sitemaps.IMAGE_SPEC == "format-jpeg|width-1200"
