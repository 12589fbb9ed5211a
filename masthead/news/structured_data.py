"""JSON-LD for articles, built from plain values so it can be tested without a database.

The body text is deliberately absent: the paywall decides who may receive it, and
structured data is served to every reader alike."""

import json
from dataclasses import dataclass, field
from datetime import datetime

# Characters that could end a <script> element or open a comment inside it.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


@dataclass(frozen=True)
class Person:
    name: str
    url: str


@dataclass(frozen=True)
class ArticleFacts:
    headline: str
    description: str
    url: str
    published: datetime
    modified: datetime | None
    section: str
    publisher: str
    publisher_url: str
    authors: list[Person] = field(default_factory=list)
    image_urls: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    sponsor: str | None = None
    paywalled_selector: str | None = None  # None: free to read


def news_article(facts: ArticleFacts) -> dict:
    data: dict = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": facts.url},
        "url": facts.url,
        "headline": facts.headline,
        "description": facts.description,
        "datePublished": facts.published.isoformat(),
        "dateModified": (facts.modified or facts.published).isoformat(),
        "articleSection": facts.section,
        "author": [{"@type": "Person", "name": a.name, "url": a.url} for a in facts.authors],
        "publisher": {
            "@type": "NewsMediaOrganization",
            "name": facts.publisher,
            "url": facts.publisher_url,
        },
    }
    if facts.image_urls:
        data["image"] = facts.image_urls
    if facts.keywords:
        data["keywords"] = facts.keywords
    data["isAccessibleForFree"] = facts.paywalled_selector is None
    if facts.paywalled_selector:
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": facts.paywalled_selector,
        }
    if facts.sponsor:
        data["sponsor"] = {"@type": "Organization", "name": facts.sponsor}
    return data


def to_script_json(data: dict) -> str:
    """Serialise for an inline <script type="application/ld+json"> element."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES)
