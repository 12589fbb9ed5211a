"""Small publications built by the tests themselves (never the demo content)."""

import io
from datetime import timedelta

from django.conf import settings
from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image as PILImage
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.images import get_image_model
from wagtail.models import Collection, Locale, Page, Site
from wagtail.rich_text import RichText

from masthead.news.models import (
    ArticleAuthor,
    ArticlePage,
    Author,
    HomePage,
    SectionPage,
    SeriesIndexPage,
    SeriesPage,
    Sponsor,
)


def wagtail_roots():
    """The tree root, root collection and default locale. Migrations create them, but
    transactional tests flush every table after each test, so later tests recreate them."""
    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    return root


def publish(parent, page):
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def make_image(title="Picture", description="A described picture"):
    buffer = io.BytesIO()
    PILImage.new("RGB", (1600, 900), (40, 90, 160)).save(buffer, format="JPEG")
    image = get_image_model()(title=title, description=description)
    image.file = ImageFile(buffer, name=f"{title.lower().replace(' ', '-')}.jpg")
    image.save()
    return image


def make_home(title="The Test Gazette"):
    root = Page.get_first_root_node()
    for placeholder in root.get_children():
        placeholder.delete()
    home = root.add_child(instance=HomePage(title=title, slug="home", intro="Test news"))
    Site.objects.all().delete()
    Site.objects.create(hostname="testserver", port=80, root_page=home, is_default_site=True)
    return home


def make_section(home, title="World"):
    return publish(home, SectionPage(title=title, slug=title.lower(), show_in_menus=True))


def make_series(home, title="Southern Compass"):
    index = SeriesIndexPage.objects.first() or publish(
        home, SeriesIndexPage(title="Series", slug="series")
    )
    return publish(index, SeriesPage(title=title, slug=title.lower().replace(" ", "-")))


def make_author(name="Ada Reporter"):
    return Author.objects.create(name=name, slug=name.lower().replace(" ", "-"), role="Reporter")


def make_sponsor(name="Acme Shipping"):
    return Sponsor.objects.create(
        name=name,
        slug=name.lower().replace(" ", "-"),
        disclosure=f"This content was commissioned by {name}.",
    )


def body(paragraphs=10, prefix="Paragraph"):
    stream = [("paragraph", RichText(f"<p>{prefix} {n} text.</p>")) for n in range(1, 4)]
    stream.append(("subheading", "A subheading"))
    stream.append(("pull_quote", {"quote": "A memorable line.", "attribution": "A. Source"}))
    stream += [
        ("paragraph", RichText(f"<p>{prefix} {n} text.</p>")) for n in range(4, paragraphs + 1)
    ]
    return stream


def make_article(
    section, title="A headline", *, authors=(), days_ago=0, prefix="Paragraph", **fields
):
    defaults = {
        "slug": title.lower().replace(" ", "-").replace("'", ""),
        "deck": f"The deck of {title}",
        "dateline": "SEOUL",
        "published_at": timezone.now() - timedelta(days=days_ago),
        "body": body(prefix=prefix),
    }
    defaults.update(fields)
    topics = defaults.pop("topics", [])
    page = ArticlePage(title=title, **defaults)
    for order, author in enumerate(authors):
        page.article_authors.add(ArticleAuthor(author=author, sort_order=order))
    if topics:
        page.topics.add(*topics)
    return publish(section, page)
