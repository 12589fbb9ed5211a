import json

from masthead.news.breadcrumbs import Crumb, breadcrumb_list
from masthead.news.structured_data import to_script_json


def test_breadcrumb_list_numbers_each_crumb_from_one_in_order():
    data = breadcrumb_list(
        [
            Crumb("The Ledger", "https://news.example/"),
            Crumb("World", "https://news.example/world/"),
            Crumb("Seoul signs pact", "https://news.example/world/pact/"),
        ]
    )
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "BreadcrumbList"
    assert data["itemListElement"] == [
        {"@type": "ListItem", "position": 1, "name": "The Ledger", "item": "https://news.example/"},
        {
            "@type": "ListItem",
            "position": 2,
            "name": "World",
            "item": "https://news.example/world/",
        },
        {
            "@type": "ListItem",
            "position": 3,
            "name": "Seoul signs pact",
            "item": "https://news.example/world/pact/",
        },
    ]


def test_breadcrumb_names_cannot_close_the_script_element():
    data = breadcrumb_list([Crumb("</script><b>x</b> & co", "https://news.example/t/")])
    script = to_script_json(data)
    assert "</script>" not in script and "<" not in script
    assert json.loads(script)["itemListElement"][0]["name"] == "</script><b>x</b> & co"


def test_an_empty_trail_is_an_empty_list():
    assert breadcrumb_list([])["itemListElement"] == []
