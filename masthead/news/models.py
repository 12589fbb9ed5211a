"""The content model: a home page, sections holding articles, series that give articles
their kicker, and the Author and Sponsor snippets."""

import functools
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Count
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, TitleFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, PageViewRestriction
from wagtail.search import index

from masthead.access.channels import Channel, Visibility, what_may_be_seen
from masthead.access.context import reader_context
from masthead.access.teaser import exhausted_reader_decision
from masthead.core import clock

from . import routing, search_index
from .blocks import ArticleBodyBlock
from .dateline import with_dateline
from .feeds import FeedRoutes, SeriesFeedRoutes, SiteFeedRoutes
from .forms import ArticlePageForm, PageForm, TopicsWidget, slug_refusal
from .images import AUTHOR_SHARE_IMAGE, SHARE_IMAGE
from .listings import HOME, cached_index, lead_picture, listing_head, listing_page
from .paragraphs import split_paragraphs
from .rendering import PAYWALLED_CLASS, ArticleRef, article_response, teaser_split
from .renditions import rendition_or_none
from .robots import default_rules as default_robots_rules
from .robots import problems as robots_problems
from .share import share_links
from .structured_data import ArticleFacts, Person, news_article, to_script_json

TOPICS_PAGE_SIZE = 200  # topics on a page of the topics index
RELATED_WINDOW = timedelta(days=365)
INFO_PAGE_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul"]


class BodyPiece(NamedTuple):
    kind: str
    html: str


class Access(models.TextChoices):
    """Who may read an article. The paywall enforces it; here it is only recorded."""

    FREE = "free", "Free to everyone"
    METERED = "metered", "Metered (counts towards the monthly allowance)"
    SUBSCRIBERS = "subscribers", "Subscribers only"


def live_articles():
    return (
        ArticlePage.objects.live()
        .public()
        .select_related("series", "sponsor", "lead_image")
        .order_by("-published_at", "-pk")
    )


class RoutedSlugRule:
    """For a page whose parent answers some addresses itself (a feed, an index, the site's
    own URLs): a slug one of them would hide is refused (news.reserved_slugs), in the
    editor's form (PageForm, for a page not in the tree yet) and here, when a page already
    in the tree is cleaned: by the editor's form again, and by every save that validates."""

    base_form_class = PageForm

    def clean(self):
        super().clean()
        problem = slug_refusal(self.slug, self.get_parent() if self.path else None)
        if problem:
            raise ValidationError({"slug": problem})


class Author(index.Indexed, models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    role = models.CharField(
        "role or title", max_length=120, blank=True, help_text="E.g. Seoul bureau chief."
    )
    bio = models.TextField(blank=True, help_text="Plain text; a blank line starts a new paragraph.")
    photo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown square on the author's page and in the authors index.",
    )
    website = models.URLField(blank=True)
    email = models.EmailField("e-mail", blank=True, help_text="Shown to readers on the page.")
    x_handle = models.CharField(
        "X (Twitter) handle",
        max_length=16,
        blank=True,
        validators=[RegexValidator(r"^@?[A-Za-z0-9_]{1,15}$", "Letters, digits and _ only.")],
        help_text="E.g. @hana_okafor",
    )
    mastodon = models.URLField("Mastodon profile", blank=True, help_text="The profile's address.")
    linkedin = models.URLField("LinkedIn profile", blank=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("role"),
        FieldPanel("photo"),
        FieldPanel("bio"),
        MultiFieldPanel(
            [
                FieldPanel("website"),
                FieldPanel("email"),
                FieldPanel("x_handle"),
                FieldPanel("mastodon"),
                FieldPanel("linkedin"),
            ],
            heading="Links",
        ),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_url(self):
        return f"/authors/{self.slug}/"

    @property
    def bio_paragraphs(self) -> list[str]:
        return [p.strip() for p in self.bio.split("\n\n") if p.strip()]

    @property
    def links(self) -> list[tuple[str, str]]:
        """(label, URL) of each link the author has, in a fixed order."""
        links = []
        if self.website:
            links.append(("Website", self.website))
        if self.email:
            links.append(("E-mail", f"mailto:{self.email}"))
        if self.x_handle:
            links.append(
                (f"X: @{self.x_handle.lstrip('@')}", f"https://x.com/{self.x_handle.lstrip('@')}")
            )
        if self.mastodon:
            links.append(("Mastodon", self.mastodon))
        if self.linkedin:
            links.append(("LinkedIn", self.linkedin))
        return links


class Sponsor(models.Model):
    """Who commissioned a piece of sponsored content, and the disclosure readers see."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    logo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.URLField(blank=True)
    disclosure = models.TextField(
        help_text="Shown under 'About sponsored content' on every sponsored article."
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("logo"),
        FieldPanel("url"),
        FieldPanel("disclosure"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class HomePage(SiteFeedRoutes, RoutablePageMixin, Page):
    intro = models.CharField(max_length=250, blank=True)
    lead_article = models.ForeignKey(
        "news.ArticlePage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The story at the top of the home page. Empty: the latest news article.",
    )

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("lead_article")]
    subpage_types = ["news.SectionPage", "news.SeriesIndexPage", "news.InfoPage"]
    max_count = 1

    def route(self, request, path_components):
        """Wagtail's routing, from the cache for an article it has routed before
        (news.routing): readers mostly open articles."""
        found = routing.cached_article(request, path_components)
        if found is not None:
            article, rest = found
            return article.route(request, rest)
        result = super().route(request, path_components)
        if isinstance(result.page, ArticlePage) and result.page.live:
            routing.remember(request, self, result.page)
        return result

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        articles = live_articles().descendant_of(self)
        lead = self.lead_article if self.lead_article and self.lead_article.live else None
        # Sponsored content is labelled wherever it appears, but never leads the paper.
        lead = lead or articles.filter(sponsor__isnull=True).first()
        sections = []
        for section in SectionPage.objects.live().child_of(self).order_by("path"):
            latest = articles.child_of(section)
            if lead:
                latest = latest.exclude(pk=lead.pk)
            sections.append((section, list(latest[:4])))
        context.update(lead=lead, sections=sections)
        context["listing"] = listing_head(
            request,
            path=self.url_path_for(request),
            title=settings.MASTHEAD_SITE_NAME,
            description=self.search_description or self.intro,
            image=lead.lead_image if lead else None,
        )
        return context

    def render_route(self, request, template: str, context: dict):
        """A route's page (authors, topics) with only its own context: not the home page's
        lead and sections, which it does not show."""
        base = super().get_context(request)
        return TemplateResponse(request, template, {**base, **context})

    def url_path_for(self, request, route: str = "") -> str:
        """The path of this page (or of one of its routes, e.g. "authors/") on this site."""
        return (self.get_url(request) or "/") + route

    def live_articles(self):
        return live_articles().descendant_of(self)

    def author_counts(self) -> list[tuple[int, int]]:
        """(author id, number of live articles) of every author with one, A to Z."""
        return list(
            ArticleAuthor.objects.filter(page__in=self.live_articles().values("pk"))
            .values_list("author_id")
            .annotate(articles=Count("page_id", distinct=True))
            .order_by(Lower("author__name"), "author_id")
        )

    def topic_counts(self) -> list[dict]:
        """Every topic on a live article, A to Z: tag_id, tag__name, tag__slug, articles."""
        return list(
            ArticlePageTag.objects.filter(content_object__in=self.live_articles().values("pk"))
            .values("tag_id", "tag__name", "tag__slug")
            .annotate(articles=Count("content_object_id", distinct=True))
            .order_by(Lower("tag__name"), "tag_id")
        )

    @path("authors/", name="authors")
    def authors_index(self, request):
        """Every author with at least one live article, alphabetically, with their count, a
        page at a time; only the page's authors are loaded."""
        # A to Z in the cache: a page of the index loads only its own authors.
        counts = cached_index(request, f"authors-a-z:{self.pk}", lambda: self.author_counts())
        page, listing = listing_page(
            request,
            counts,
            path=self.url_path_for(request, "authors/"),
            title="Authors",
            description=f"The reporters and editors who write for {settings.MASTHEAD_SITE_NAME}.",
            trail=[(HOME, self.url_path_for(request))],
        )
        loaded = Author.objects.select_related("photo").in_bulk([pk for pk, _ in page])
        authors = []
        for pk, count in page:
            if pk in loaded:  # an author deleted since the counts were cached is left out
                loaded[pk].article_count = count
                authors.append(loaded[pk])
        return self.render_route(
            request,
            "news/authors_index.html",
            {"authors": authors, "authors_page": page, "listing": listing},
        )

    @path("authors/<slug:slug>/", name="author")
    def author_page(self, request, slug):
        author = get_object_or_404(Author.objects.select_related("photo"), slug=slug)
        articles = self.live_articles().filter(article_authors__author=author)
        page, listing = listing_page(
            request,
            articles,
            path=self.url_path_for(request, f"authors/{author.slug}/"),
            title=author.name,
            description=(author.bio_paragraphs[:1] or [author.role or author.name])[0],
            trail=[
                (HOME, self.url_path_for(request)),
                ("Authors", self.url_path_for(request, "authors/")),
            ],
            og_type="profile",
            image=author.photo,
            image_spec=AUTHOR_SHARE_IMAGE,
        )
        return self.render_route(
            request,
            "news/author_page.html",
            {"author": author, "articles": page, "listing": listing},
        )

    @path("topics/", name="topics")
    def topics_index(self, request):
        """Every topic that tags at least one live article, alphabetically, with its count."""
        topics = cached_index(request, f"topics:{self.pk}", lambda: self.topic_counts())
        page, listing = listing_page(
            request,
            topics,
            per_page=TOPICS_PAGE_SIZE,
            path=self.url_path_for(request, "topics/"),
            title="Topics",
            description=f"Every subject {settings.MASTHEAD_SITE_NAME} covers, A to Z.",
            trail=[(HOME, self.url_path_for(request))],
        )
        return self.render_route(
            request, "news/topics_index.html", {"topics": page, "listing": listing}
        )

    @path("topics/<slug:slug>/", name="topic")
    def topic_page(self, request, slug):
        topic = get_object_or_404(Tag, slug=slug)
        articles = self.live_articles().filter(tagged_items__tag=topic).distinct()
        page, listing = listing_page(
            request,
            articles,
            picture=lead_picture,
            path=self.url_path_for(request, f"topics/{topic.slug}/"),
            title=topic.name,
            description=f"Articles on {topic.name} from {settings.MASTHEAD_SITE_NAME}.",
            trail=[
                (HOME, self.url_path_for(request)),
                ("Topics", self.url_path_for(request, "topics/")),
            ],
        )
        if not page.object_list:
            raise Http404("No articles on this topic")
        return self.render_route(
            request, "news/topic_page.html", {"topic": topic, "articles": page, "listing": listing}
        )


class SectionPage(RoutedSlugRule, FeedRoutes, RoutablePageMixin, Page):
    intro = models.CharField(max_length=250, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["news.HomePage"]
    subpage_types = ["news.ArticlePage"]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["articles"], context["listing"] = listing_page(
            request,
            live_articles().child_of(self),
            picture=lead_picture,
            path=self.get_url(request),
            title=self.title,
            description=self.search_description or self.intro,
            trail=[(HOME, self.get_parent().get_url(request))],
        )
        return context


class SeriesIndexPage(RoutedSlugRule, Page):
    intro = models.CharField(max_length=250, blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["news.HomePage"]
    subpage_types = ["news.SeriesPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["series_list"] = SeriesPage.objects.live().child_of(self).order_by("title")
        context["listing"] = listing_head(
            request,
            path=self.get_url(request),
            title=self.title,
            description=self.search_description or self.intro,
            trail=[(HOME, self.get_parent().get_url(request))],
        )
        return context


class SeriesPage(SeriesFeedRoutes, RoutablePageMixin, Page):
    """A running series; its title is the kicker above each of its articles."""

    intro = models.TextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["news.SeriesIndexPage"]
    subpage_types = []

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        index_page = self.get_parent()
        context["articles"], context["listing"] = listing_page(
            request,
            live_articles().filter(series=self),
            picture=lead_picture,
            path=self.get_url(request),
            title=self.title,
            description=self.search_description or self.intro,
            trail=[
                (HOME, index_page.get_parent().get_url(request)),
                (index_page.title, index_page.get_url(request)),
            ],
        )
        return context


@functools.cache
def _no_view_restrictions():
    """An empty queryset of view restrictions, evaluated once: iterating it again (Wagtail's
    check on every page it serves) builds no SQL."""
    restrictions = PageViewRestriction.objects.none()
    list(restrictions)
    return restrictions


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "news.ArticlePage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ArticleAuthor(Orderable):
    """Authors in byline order; an inline panel keeps the order editors choose."""

    page = ParentalKey("news.ArticlePage", related_name="article_authors", on_delete=models.CASCADE)
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="+")

    panels = [FieldPanel("author")]


def listing_families(series_id, topic_ids) -> list[str]:
    """The families of lists an article with this series and these topics is drawn into, and
    its own related articles from (masthead.core.generations): "series:<id>", "topic:<id>"."""
    series = [f"series:{series_id}"] if series_id else []
    return series + [f"topic:{pk}" for pk in topic_ids]


class ArticlePage(RoutedSlugRule, RoutablePageMixin, Page):
    """A story. The page title is the headline."""

    series = models.ForeignKey(
        SeriesPage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        help_text="Shown as the kicker above the headline.",
    )
    deck = models.CharField(max_length=250, blank=True, help_text="The first standfirst line.")
    deck_second = models.CharField(
        "second deck", max_length=250, blank=True, help_text="An optional second line."
    )
    lead_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead_image_caption = models.CharField("caption", max_length=400, blank=True)
    lead_image_credit = models.CharField("credit", max_length=200, blank=True)
    dateline = models.CharField(
        max_length=80, blank=True, help_text="Place names in capitals, e.g. WASHINGTON/SEOUL."
    )
    published_at = models.DateTimeField(
        "first published",
        null=True,
        blank=True,
        default=timezone.now,
        help_text="Leave empty and it is the moment the story first goes live (for a "
        "scheduled story, its go-live time). Set it only to date a story otherwise.",
    )
    updated_at = models.DateTimeField("updated", null=True, blank=True)
    body = StreamField(ArticleBodyBlock())
    topics = ClusterTaggableManager(through=ArticlePageTag, blank=True)
    access = models.CharField(max_length=12, choices=Access.choices, default=Access.METERED)
    sponsor = models.ForeignKey(
        Sponsor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text="Set only for sponsored content: the article is labelled everywhere.",
    )

    content_panels = [
        FieldPanel("series"),
        TitleFieldPanel("title", heading="Headline", placeholder="Headline*"),
        MultiFieldPanel([FieldPanel("deck"), FieldPanel("deck_second")], heading="Decks"),
        MultiFieldPanel(
            [
                FieldPanel(
                    "access",
                    help_text="Free: everyone reads it all. Metered: readers without a "
                    "subscription read it in full while their monthly free articles last, "
                    "then see the teaser. Subscribers only: everyone else sees the teaser "
                    "(the first paragraphs) and the offers.",
                ),
                FieldPanel("sponsor"),
            ],
            heading="Access",
        ),
        MultiFieldPanel(
            [
                FieldPanel("lead_image"),
                FieldPanel("lead_image_caption"),
                FieldPanel("lead_image_credit"),
            ],
            heading="Lead photo",
        ),
        InlinePanel("article_authors", heading="Authors", label="Author", min_num=1),
        FieldPanel("dateline"),
        FieldPanel("body"),
        FieldPanel(
            "topics",
            heading="Topics",
            help_text="What the story is about; each topic has its page at /topics/<slug>/.",
            widget=TopicsWidget,
        ),
        MultiFieldPanel([FieldPanel("published_at"), FieldPanel("updated_at")], heading="Dates"),
    ]
    base_form_class = ArticlePageForm
    # Only what every reader may see is indexed (news.search_index, docs/search.md): the
    # paywalled part of a story never feeds the search.
    search_fields = Page.search_fields + [
        index.SearchField("deck"),
        index.SearchField("deck_second"),
        index.SearchField("search_body_text"),
        index.SearchField("search_names"),
        index.FilterField("access"),
        index.FilterField("published_at"),
    ]
    parent_page_types = ["news.SectionPage"]
    subpage_types = []

    class Meta:
        # The sitemaps' months and the news sitemap's 48 hours are ranges of the date
        # (news.sitemaps): 100,000 articles are not read to find one month's.
        indexes = [models.Index(fields=["published_at"], name="news_article_published_idx")]

    @property
    def headline(self):
        return self.title

    def search_body_text(self) -> str:
        """Site search's text of the body: all of a free story, the teaser of any other."""
        return self._search_texts[0]

    def search_names(self) -> str:
        return self._search_texts[1]

    @cached_property
    def _search_texts(self) -> tuple[str, str]:
        """The body's public text and the names, worked out once per instance: the search
        backend asks for every field's value once for each column it fills (five times per
        article), and each answer costs the body's rendering and a handful of queries (the
        site's teaser length, the authors, the topics). Indexing loads the article afresh by
        its id (modelsearch's task, reindex_teasers), and a save forgets them (save()), so
        no instance is indexed with texts of another state."""
        return search_index.public_body_text(self), search_index.names(self)

    @property
    def decks(self):
        return [d for d in (self.deck, self.deck_second) if d]

    @property
    def section(self):
        return self.get_parent().specific_deferred

    @cached_property
    def authors(self):
        return [item.author for item in self.article_authors.select_related("author")]

    def body_pieces(self) -> list[BodyPiece]:
        """The body as rendered pieces, the dateline leading the first paragraph.

        A list rather than one string so that the paywall can choose how many pieces a
        reader receives; each paragraph of rich text is a piece of its own (a story pasted
        as one block must not go out whole), so a rich-text block gives several."""
        pieces = []
        for block in self.body:
            html = str(block.render())
            if block.block_type != "paragraph":
                pieces.append(BodyPiece(block.block_type, mark_safe(html)))  # noqa: S308 - Wagtail's own blocks
                continue
            for piece in split_paragraphs(html):
                pieces.append(BodyPiece(piece.kind, mark_safe(piece.html)))  # noqa: S308 - re-serialised from the parse
        for position, piece in enumerate(pieces):
            if piece.kind == "paragraph":
                dated = with_dateline(piece.html, self.dateline)
                pieces[position] = BodyPiece(piece.kind, mark_safe(dated))  # noqa: S308
                break
        return pieces

    def save(self, *args, **kwargs):
        """A new article's date is left empty in the editor (ArticlePageForm) so that it is
        the moment the story goes live, not the moment its form was opened: Wagtail sets
        first_published_at just before it saves a page going live (now, or the go-live
        time of a scheduled story), and this copies it. A field default in effect, not a
        rule of the newsroom's: kept beside the field rather than in a signal."""
        if self.published_at is None and self.live and self.first_published_at:
            self.published_at = self.first_published_at
        self.__dict__.pop("_search_texts", None)
        super().save(*args, **kwargs)

    @property
    def published(self):
        """The story's date for readers; a draft never published (a preview) is dated now."""
        return self.published_at or self.first_published_at or clock.now()

    def topic_ids(self) -> list[int]:
        return list(self.tagged_items.values_list("tag_id", flat=True))

    def listing_families(self, topic_ids=None) -> list[str]:
        """listing_families() of this article. `topic_ids`: when the caller has them."""
        topic_ids = self.topic_ids() if topic_ids is None else topic_ids
        return listing_families(self.series_id, topic_ids)

    def related_articles(self, limit=4, topic_ids=None):
        """Same series first (newest first), then articles sharing the most topics: drawn
        from the article's listing_families() only. `topic_ids`: when the caller has them."""
        others = live_articles().exclude(pk=self.pk)
        related = list(others.filter(series=self.series_id)[:limit]) if self.series_id else []
        topic_ids = self.topic_ids() if topic_ids is None else topic_ids
        if len(related) < limit and topic_ids:
            # Within a year either side: a large archive shares topics with thousands of
            # articles, and counting them all made the first render of a page slow.
            near = (self.published - RELATED_WINDOW, self.published + RELATED_WINDOW)
            # The ranking groups article ids alone; the few chosen are then loaded with
            # their series, sponsor and picture. Grouping the joined rows, every column of
            # them, took twice as long over 100,000 articles.
            by_topic = (
                others.exclude(pk__in=[a.pk for a in related])
                .filter(tagged_items__tag_id__in=topic_ids, published_at__range=near)
                .values("pk")
                .annotate(shared_topics=Count("tagged_items"))
                .order_by("-shared_topics", "-published_at", "-pk")
                .values_list("pk", flat=True)
            )
            chosen = list(by_topic[: limit - len(related)])
            found = live_articles().in_bulk(chosen)
            related += [found[pk] for pk in chosen if pk in found]
        return related

    def structured_data(self, request, url, image_url, topics=None):
        """Identical for every reader: search engines see what readers see described.
        `topics`: the article's tags when the caller has them already (one query, not two)."""
        topics = list(self.topics.all()) if topics is None else topics
        facts = ArticleFacts(
            headline=self.title,
            description=self.deck,
            url=url,
            published=timezone.localtime(self.published),
            modified=timezone.localtime(self.updated_at) if self.updated_at else None,
            section=self.section.title,
            publisher=settings.MASTHEAD_SITE_NAME,
            publisher_url=request.build_absolute_uri("/"),
            authors=[Person(a.name, request.build_absolute_uri(a.get_url())) for a in self.authors],
            image_urls=[image_url] if image_url else [],
            keywords=[t.name for t in topics],
            sponsor=self.sponsor.name if self.sponsor else None,
            paywalled_selector=None if self.access == Access.FREE else f".{PAYWALLED_CLASS}",
        )
        return to_script_json(news_article(facts))

    def reading(self, request, decision, *, channel=Channel.API) -> dict:
        """What this reader receives of the body through `channel` (the app API's by
        default): all of it, or the teaser, as access.channels.what_may_be_seen answers
        for the channel's one decision for this request (access.gate.channel_decision).
        The HTML pages assemble the same cut from cached pieces (news.rendering). The whole
        body is rendered either way: the cut depends on how many paragraphs it holds, which
        only the rendered rich text tells."""
        pieces = self.body_pieces()
        visibility = what_may_be_seen(channel, self.access, decision)
        split = teaser_split(reader_context(request), self.access, [p.kind for p in pieces])
        rest = pieces[split:] if visibility == Visibility.FULL else []
        return {
            "access": decision,
            "visibility": visibility,
            "teaser": pieces[:split],
            "rest": rest,
        }

    def frame_context(self, request) -> dict:
        """Everything of the page that is the same for every reader: rendered once per
        revision into the cached frame (news.rendering). No body text, no decision."""
        context = self.get_context(request)
        url = request.build_absolute_uri(self.get_url(request))
        og_image_url = None
        share_image = rendition_or_none(self.lead_image, SHARE_IMAGE) if self.lead_image else None
        if share_image is not None:
            og_image_url = request.build_absolute_uri(share_image.url)
        topics = list(self.topics.all())
        # The trail is the same for every reader, so it lives in the cached frame.
        section = self.section
        trail = [
            (HOME, section.get_parent().get_url(request)),
            (section.title, section.get_url(request)),
        ]
        if self.series_id and self.series.live:
            trail.append((self.series.title, self.series.get_url(request)))
        context["trail"] = listing_head(
            request, path=self.get_url(request), title=self.title, description="", trail=trail
        )
        context.update(
            canonical_url=url,
            og_image_url=og_image_url,
            json_ld=self.structured_data(request, url, og_image_url, topics=topics),
            share_links=share_links(url, self.title),
            topics=topics,
        )
        return context

    # True on an article routed from the cache (news.routing), which keeps only the routes
    # of articles that no view restriction covers (a new restriction forgets them all).
    known_unrestricted = False

    def get_view_restrictions(self):
        if self.known_unrestricted:
            return _no_view_restrictions()
        return super().get_view_restrictions()

    @property
    def ref(self) -> ArticleRef:
        return ArticleRef(pk=self.pk, access=self.access, live_revision_id=self.live_revision_id)

    preview_modes = [("", "Full"), ("paywalled", "As a reader without access")]

    def serve_preview(self, request, mode_name):
        """The "As a reader without access" mode: the teaser and the paywall panel that an
        anonymous reader whose allowance is used up gets, so editors see where the cut falls."""
        if mode_name != "paywalled":
            return super().serve_preview(request, mode_name)
        decision = exhausted_reader_decision(self.access, clock.now())
        return article_response(request, self.ref, lambda: self, "page", decision=decision)

    def whole(self) -> "ArticlePage":
        """This article with every field the cached pieces show: itself, or loaded whole
        when it was routed from the cache with only a few fields (news.routing)."""
        if not self.get_deferred_fields():
            return self
        return ArticlePage.objects.select_related("series", "sponsor", "lead_image").get(pk=self.pk)

    @path("")
    def article(self, request):
        return article_response(request, self.ref, self.whole, "page")

    @path("print/", name="print")
    def print_view(self, request):
        return article_response(request, self.ref, self.whole, "print")


class InfoPage(RoutedSlugRule, Page):
    """A page about the publication itself (About, Contact, Privacy, Terms): a title and
    rich text, linked from the footer through FooterSettings."""

    body = RichTextField(features=INFO_PAGE_FEATURES)

    content_panels = Page.content_panels + [FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]
    parent_page_types = ["news.HomePage"]
    subpage_types = []

    class Meta:
        verbose_name = "information page"


@register_setting(icon="list-ul")
class FooterSettings(BaseSiteSetting):
    """The publication's own pages that every page's footer links to (Settings > Footer).
    Saving it changes what every cached page shows (news.apps)."""

    about_page = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_page = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    privacy_page = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    terms_page = models.ForeignKey(
        "wagtailcore.Page", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    panels = [
        FieldPanel("about_page"),
        FieldPanel("contact_page"),
        FieldPanel("privacy_page"),
        FieldPanel("terms_page"),
    ]
    LINK_FIELDS = ("about_page", "contact_page", "privacy_page", "terms_page")

    class Meta:
        verbose_name = "footer"

    def linked_pages(self) -> list[Page]:
        """The chosen pages that readers can open (live and public), in footer order."""
        ids = [getattr(self, f"{name}_id") for name in self.LINK_FIELDS]
        found = Page.objects.live().public().in_bulk([pk for pk in ids if pk])
        return [found[pk] for pk in ids if pk in found]


def validate_robots_rules(rules: str) -> None:
    """Every problem of the rules at once, each naming its line (news.robots)."""
    from django.core.exceptions import ValidationError

    found = robots_problems(rules)
    if found:
        raise ValidationError([str(problem) for problem in found])


@register_setting(icon="cogs")
class RobotsSettings(BaseSiteSetting):
    """What crawlers may fetch: the rules of /robots.txt (Settings > Robots); the site adds
    the Sitemap lines itself (news.sitemap_views). Saving it forgets the cached robots.txt
    (the pages generation, news.apps)."""

    rules = models.TextField(
        default=default_robots_rules,
        blank=True,
        validators=[validate_robots_rules],
        help_text="One rule a line: User-agent:, Allow:, Disallow: or Crawl-delay:, or a "
        "comment starting with #. Leave out Sitemap lines: the site adds its sitemaps.",
    )

    panels = [FieldPanel("rules")]

    class Meta:
        verbose_name = "robots"
