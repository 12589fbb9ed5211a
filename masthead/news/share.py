"""Share links as plain URLs: no third-party script ever runs on our pages.

Each network's endpoint takes the article URL (and sometimes the headline) as query
parameters; everything is percent-encoded with %20 for spaces, which every target accepts
and which RFC 6068 requires inside mailto: links."""

from dataclasses import dataclass
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class ShareLink:
    network: str
    label: str
    url: str


def _query(**params: str) -> str:
    return urlencode(params, quote_via=quote)


def share_links(url: str, headline: str) -> list[ShareLink]:
    return [
        ShareLink(
            "facebook",
            "Share on Facebook",
            "https://www.facebook.com/sharer/sharer.php?" + _query(u=url),
        ),
        ShareLink(
            "linkedin",
            "Share on LinkedIn",
            "https://www.linkedin.com/sharing/share-offsite/?" + _query(url=url),
        ),
        ShareLink(
            "x",
            "Share on X",
            "https://x.com/intent/post?" + _query(url=url, text=headline),
        ),
        ShareLink(
            "email",
            "Share by e-mail",
            "mailto:?" + _query(subject=headline, body=url),
        ),
    ]
