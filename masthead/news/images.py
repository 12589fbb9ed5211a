"""The pictures the pages show, as Wagtail rendition filter specs.

One place for both users of a spec: the `picture_of` template tag (news_images) that
renders a picture, and `load_demo`, which makes the renditions ahead of the first visit
(masthead.demo.renditions). A spec changed here changes both, so they cannot drift.

Each kind lists its sizes smallest first (the first is the fallback `<img>`'s `src`, width
and height) and its formats best first; the `sizes` attribute follows the grid in site.css
(`main` is at most 72rem with 1rem padding; `.card-list` is `auto-fill, minmax(16rem, 1fr)`
with a 1.5rem gap; `.article` is 42rem; the home page's lead card is 3fr of a 3fr 2fr grid
from 56rem)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PictureKind:
    resize: tuple[str, ...]
    sizes: str = ""
    formats: tuple[str, ...] = ("webp", "jpeg")

    @property
    def filter_specs(self) -> tuple[str, ...]:
        """One spec per format and size, spelt as Wagtail's `{% picture %}` tag expands
        `format-{webp,jpeg} width-{480,800}` ("format-webp|width-480", ...), so a template
        using that tag finds the same renditions."""
        return tuple(f"format-{fmt}|{rule}" for fmt in self.formats for rule in self.resize)


# A card in a listing (home sections, section, series, topic and author pages): 1 to 4 columns.
CARD = PictureKind(
    resize=("fill-320x180", "fill-480x270", "fill-640x360", "fill-960x540"),
    sizes=(
        "(min-width: 70.5rem) 17rem, "
        "(min-width: 53rem) calc((100vw - 5rem) / 3), "
        "(min-width: 35.5rem) calc((100vw - 3.5rem) / 2), "
        "calc(100vw - 2rem)"
    ),
)

# The home page's lead story: the page's largest picture (its LCP element).
LEAD_CARD = PictureKind(
    resize=("fill-480x270", "fill-800x450", "fill-1200x675"),
    sizes="(min-width: 72rem) 41.5rem, (min-width: 56rem) calc((100vw - 3rem) * 0.6), "
    "calc(100vw - 2rem)",
)

# An article's lead photo, uncropped, the width of the article's column.
ARTICLE_LEAD = PictureKind(
    resize=("width-480", "width-800", "width-1200"),
    sizes="(min-width: 44rem) 42rem, calc(100vw - 2rem)",
)

# A picture in an article's body: the same column, so the same renditions.
BODY = ARTICLE_LEAD

# The print view: one JPEG, one of the article lead's renditions.
PRINT = PictureKind(resize=("width-800",), formats=("jpeg",))

# An author's photo: square, beside the name on their page and in the authors index.
AUTHOR = PictureKind(resize=("fill-160x160", "fill-320x320"), sizes="10rem")
AUTHOR_THUMB = PictureKind(resize=("fill-96x96", "fill-192x192"), sizes="6rem")

KINDS = {
    "card": CARD,
    "author": AUTHOR,
    "author_thumb": AUTHOR_THUMB,
    "lead_card": LEAD_CARD,
    "article_lead": ARTICLE_LEAD,
    "body": BODY,
    "print": PRINT,
}

# og:image and the JSON-LD image of an article (1.91:1, as the social networks crop it).
SHARE_IMAGE = "fill-1200x630"
# og:image of an author's page: their photo, square (a face cropped to 1.91:1 loses its chin).
AUTHOR_SHARE_IMAGE = "fill-600x600"


def lead_image_specs() -> tuple[str, ...]:
    """Every rendition an article's lead image appears in: its cards (any article may lead
    the home page), its article page, print view and share image. Duplicates dropped."""
    specs = [
        *CARD.filter_specs,
        *LEAD_CARD.filter_specs,
        *ARTICLE_LEAD.filter_specs,
        *PRINT.filter_specs,
        SHARE_IMAGE,
    ]
    return tuple(dict.fromkeys(specs))


def author_photo_specs() -> tuple[str, ...]:
    """Every rendition an author's photo appears in: their page, the index, og:image."""
    return (*AUTHOR.filter_specs, *AUTHOR_THUMB.filter_specs, AUTHOR_SHARE_IMAGE)
