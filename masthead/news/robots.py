"""robots.txt: the rules editors keep in Settings > Robots (news.models.RobotsSettings), checked
line by line, and the Sitemap lines the site adds itself. Pure: no Django here, so the rules
are tested without a database."""

from dataclasses import dataclass

# Google reads the first 500 KiB of a robots.txt and ignores the rest.
MAX_BYTES = 500 * 1024

DEFAULT_RULES = """\
# One rule a line: User-agent:, Allow:, Disallow: or Crawl-delay:, or a comment after #.
# The Sitemap: lines are added by the site itself (the sitemap index and the news sitemap).
# Crawlers of AI companies get no rules of their own yet: that policy is a later change.
User-agent: *
Disallow: /admin/
Disallow: /account/
Disallow: /subscribe/checkout/
Disallow: /search/
Allow: /api/v1/openapi.yaml
Disallow: /api/
"""


def default_rules() -> str:
    """The field's default (a callable, so that a change of the text needs no migration)."""
    return DEFAULT_RULES


FIELDS = {"user-agent", "allow", "disallow", "crawl-delay"}


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self):
        return f"Line {self.line}: {self.message}"


def problems(rules: str) -> list[Problem]:
    """What is wrong with `rules`, line by line; empty when every line is a rule robots.txt
    knows, a comment or blank."""
    found = []
    if len(rules.encode()) > MAX_BYTES:
        found.append(
            Problem(
                1,
                f"the rules are longer than {MAX_BYTES // 1024} KiB, "
                "which crawlers stop reading at.",
            )
        )
    seen_agent = False
    for number, raw in enumerate(rules.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, colon, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not colon or name not in FIELDS:
            if name == "sitemap" and colon:
                message = (
                    f"“{raw.strip()}”: leave Sitemap lines out, the site adds its own "
                    "(the sitemap index and the news sitemap)."
                )
            else:
                message = (
                    f"“{raw.strip()}” is not a rule crawlers know. Write User-agent:, "
                    "Allow:, Disallow: or Crawl-delay: and a value, or start a comment with #."
                )
            found.append(Problem(number, message))
            continue
        if name == "user-agent":
            seen_agent = True
            if not value:
                found.append(Problem(number, "User-agent: needs a crawler's name, or *."))
            continue
        if not seen_agent:
            found.append(
                Problem(number, f"“{raw.strip()}” comes before any User-agent: line it belongs to.")
            )
            continue
        if name == "crawl-delay":
            if not _is_number(value):
                found.append(Problem(number, "Crawl-delay: takes a number of seconds, e.g. 10."))
        elif value and not value.startswith(("/", "*")):
            found.append(Problem(number, f"the path of “{raw.strip()}” must start with / (or *)."))
        elif name == "allow" and not value:
            found.append(Problem(number, "Allow: needs a path, e.g. Allow: /news/."))
    return found


def _is_number(value: str) -> bool:
    try:
        return float(value) >= 0
    except ValueError:
        return False


def robots_txt(rules: str, sitemap_urls: list[str]) -> str:
    """The file: the editors' rules as written (trailing spaces dropped), then one Sitemap
    line per absolute URL."""
    lines = [line.rstrip() for line in rules.strip().splitlines()]
    if lines:
        lines.append("")
    lines += [f"Sitemap: {url}" for url in sitemap_urls]
    return "\n".join(lines) + "\n"
