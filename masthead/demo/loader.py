"""Builds the demo publication in the database. Every step finds before it creates, so a
second run changes nothing (and leaves alone whatever an editor changed since)."""

from dataclasses import dataclass, field
from io import BytesIO

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.db import transaction
from django.utils.html import format_html
from wagtail.images import get_image_model
from wagtail.models import Collection, Page, Site
from wagtail.rich_text import RichText

from masthead.news.models import (
    ArticleAuthor,
    ArticlePage,
    Author,
    FooterSettings,
    HomePage,
    InfoPage,
    SectionPage,
    SeriesIndexPage,
    SeriesPage,
    Sponsor,
)

from . import subscriptions
from .accounts import STAFF, demo_password
from .content import Article, Catalogue, load_catalogue, parse_body
from .images import author_portrait, lead_image
from .roles import newsroom_editors


@dataclass
class Report:
    created: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.created.append(what)


@transaction.atomic
def load_demo(catalogue: Catalogue | None = None) -> Report:
    catalogue = catalogue or load_catalogue()
    report = Report()
    home = _home(catalogue, report)
    sections = {s["slug"]: _child(home, SectionPage, s, report) for s in catalogue.sections}
    series_index = _child(
        home,
        SeriesIndexPage,
        {"slug": "series", "title": "Series", "intro": "Our running series."},
        report,
    )
    series = {s["slug"]: _child(series_index, SeriesPage, s, report) for s in catalogue.series}
    authors = {a["slug"]: _snippet(Author, a, report) for a in catalogue.authors}
    for data in catalogue.authors:
        _author_photo(authors[data["slug"]], data, report)
    sponsors = {s["slug"]: _snippet(Sponsor, s, report) for s in catalogue.sponsors}
    for article in sorted(catalogue.articles, key=lambda a: a.published):
        _article(article, sections, series, authors, sponsors, report)
    _info_pages(home, catalogue, report)
    _users(report)
    subscriptions.load(password=demo_password(), report=report)
    return report


def _home(catalogue: Catalogue, report: Report) -> HomePage:
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        # Wagtail's installer leaves a placeholder "Welcome" page (and a site on it); it has no
        # place in a publication, and it holds the slug we want.
        for placeholder in root.get_children().filter(content_type__model="page"):
            if not placeholder.get_children().exists():
                placeholder.delete()
        home = root.add_child(
            instance=HomePage(
                title=catalogue.publication["name"],
                slug="home",
                intro=catalogue.publication["tagline"],
            )
        )
        report.add("home page")
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name=catalogue.publication["name"],
        )
        report.add("site")
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.site_name = catalogue.publication["name"]
        site.save()
        report.add("site root")
    return home


def _child(parent: Page, model, data: dict, report: Report):
    existing = model.objects.child_of(parent).filter(slug=data["slug"]).first()
    if existing:
        return existing
    page = parent.add_child(
        instance=model(
            title=data["title"], slug=data["slug"], intro=data.get("intro", ""), show_in_menus=True
        )
    )
    page.save_revision().publish()
    report.add(f"{model.__name__} {data['slug']}")
    return page


def _snippet(model, data: dict, report: Report):
    fields = {k: v for k, v in data.items() if k != "slug" and hasattr(model, k)}
    instance, created = model.objects.get_or_create(slug=data["slug"], defaults=fields)
    if created:
        report.add(f"{model.__name__} {data['slug']}")
    return instance


def _author_photo(author: Author, data: dict, report: Report) -> None:
    """A drawn portrait (images.author_portrait) the first time; an image that exists
    already is left as it is, and so is an author whose photo an editor removed."""
    image_model = get_image_model()
    title = f"Demo author: {data['slug']}"
    if image_model.objects.filter(title=title).exists():
        return
    initials = "".join(word[0] for word in data["name"].replace("-", " ").split()[:2])
    portrait = author_portrait(seed=data["slug"], hue=data.get("photo_hue", 200), initials=initials)
    image = image_model(
        title=title,
        description=f"Illustrated portrait of {data['name']}",
        collection=Collection.get_first_root_node(),
    )
    image.file = ImageFile(BytesIO(portrait), name=f"author-{data['slug'][:60]}.jpg")
    image.save()
    if author.photo_id is None:
        author.photo = image
        author.save(update_fields=["photo"])
    report.add(f"photo of {data['slug']}")


def _image(article: Article):
    image_model = get_image_model()
    title = f"Demo: {article.slug}"
    image = image_model.objects.filter(title=title).first()
    if image:
        return image
    collection = Collection.get_first_root_node()
    data = lead_image(seed=article.slug, hue=article.image_hue, label=article.image_label)
    image = image_model(title=title, description=article.image_alt, collection=collection)
    image.file = ImageFile(BytesIO(data), name=f"{article.slug[:80]}.jpg")
    image.save()
    return image


def _body(article: Article) -> list[tuple]:
    stream = []
    for block in article.body:
        if block.kind == "paragraph":
            stream.append(("paragraph", RichText(format_html("<p>{}</p>", block.text))))
        elif block.kind == "subheading":
            stream.append(("subheading", block.text))
        else:
            stream.append(("pull_quote", {"quote": block.text, "attribution": block.attribution}))
    return stream


def _article(article: Article, sections, series, authors, sponsors, report: Report) -> None:
    section = sections[article.section]
    if ArticlePage.objects.child_of(section).filter(slug=article.slug).exists():
        return
    page = ArticlePage(
        title=article.headline,
        slug=article.slug,
        deck=article.decks[0],
        deck_second=article.decks[1] if len(article.decks) > 1 else "",
        series=series.get(article.series),
        lead_image=_image(article),
        lead_image_caption=article.caption,
        lead_image_credit=article.credit,
        dateline=article.dateline,
        published_at=article.published,
        updated_at=article.updated,
        body=_body(article),
        access=article.access,
        sponsor=sponsors.get(article.sponsor),
        search_description=article.decks[0],
    )
    for order, slug in enumerate(article.authors):
        page.article_authors.add(ArticleAuthor(author=authors[slug], sort_order=order))
    page.topics.add(*article.topics)
    section.add_child(instance=page)
    page.save_revision().publish()
    ArticlePage.objects.filter(pk=page.pk).update(first_published_at=article.published)
    report.add(f"article {article.slug}")


def _info_pages(home: HomePage, catalogue: Catalogue, report: Report) -> None:
    """About, Contact, Privacy and Terms, and the footer's links to them (a link an editor
    has set already is kept)."""
    footer = FooterSettings.for_site(home.get_site())
    changed = False
    for data in catalogue.pages:
        page = InfoPage.objects.child_of(home).filter(slug=data["slug"]).first()
        if page is None:
            page = home.add_child(
                instance=InfoPage(title=data["title"], slug=data["slug"], body=_rich_text(data))
            )
            page.save_revision().publish()
            report.add(f"page {data['slug']}")
        field_name = f"{data['footer']}_page"
        if getattr(footer, f"{field_name}_id") is None:
            setattr(footer, field_name, page)
            changed = True
    if changed:
        footer.save()
        report.add("footer links")


def _rich_text(data: dict) -> str:
    html = []
    for block in parse_body(data["body"]):
        tag = "h2" if block.kind == "subheading" else "p"
        html.append(format_html("<{}>{}</{}>", tag, block.text, tag))
    return "".join(html)


def _users(report: Report) -> None:
    users = get_user_model()
    (admin, admin_email), (editor, editor_email) = STAFF
    # Every run, so a demo loaded before the role grew gets what it has now.
    editors, granted = newsroom_editors()
    if granted:
        report.add(f"role {editors.name}: {', '.join(granted)}")
    if not users.objects.filter(username=admin).exists():
        users.objects.create_superuser(username=admin, email=admin_email, password=demo_password())
        report.add(f"user {admin}")
    if not users.objects.filter(username=editor).exists():
        user = users.objects.create_user(
            username=editor, email=editor_email, password=demo_password()
        )
        user.groups.add(editors)
        report.add(f"user {editor}")
