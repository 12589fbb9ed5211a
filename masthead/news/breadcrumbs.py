"""Breadcrumbs: the trail from the home page to a page (home › section › series › article,
home › authors › author, home › topics › topic), for the visible `<nav>` and for schema.org
`BreadcrumbList` JSON-LD. Pure Python: built from names and absolute URLs, no database."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str  # absolute


def breadcrumb_list(crumbs: list[Crumb]) -> dict:
    """schema.org BreadcrumbList: one ListItem per crumb, positions from 1, each naming its
    page by `item` (the last one too: Google accepts either, and it keeps the trail whole
    when the JSON-LD is read without the page). Serialise with
    structured_data.to_script_json."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": crumb.name, "item": crumb.url}
            for position, crumb in enumerate(crumbs, start=1)
        ],
    }
