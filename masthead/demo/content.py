"""Reads the demo publication from the TOML files beside this module.

Pure Python (no Django) so the files can be validated in a fast unit test; see
content/ARTICLES.md for the format. The files are typed with straight quotes; every text a
reader sees is read through `typographic` (curly quotes, apostrophes and dashes)."""

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .typography import typographic

CONTENT_DIR = Path(__file__).resolve().parent / "content"
NEWSROOM_ZONE = ZoneInfo("Asia/Tokyo")
ACCESS_LEVELS = ("free", "metered", "subscribers")
FORBIDDEN = ("{{", "{%", "%(")


class ContentError(ValueError):
    """A demo content file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Block:
    kind: str  # paragraph | subheading | pull_quote
    text: str
    attribution: str = ""


@dataclass(frozen=True)
class Article:
    slug: str
    section: str
    headline: str
    decks: list[str]
    authors: list[str]
    dateline: str
    published: datetime
    access: str
    topics: list[str]
    caption: str
    credit: str
    image_alt: str
    image_hue: int
    image_label: str
    body: list[Block]
    series: str = ""
    sponsor: str = ""
    updated: datetime | None = None

    @property
    def paragraph_count(self) -> int:
        return sum(1 for block in self.body if block.kind == "paragraph")


@dataclass(frozen=True)
class Catalogue:
    publication: dict
    sections: list[dict]
    series: list[dict]
    authors: list[dict]
    sponsors: list[dict]
    articles: list[Article] = field(default_factory=list)
    # The publication's own pages (content/pages.toml): slug, title, footer link, body.
    pages: list[dict] = field(default_factory=list)


def parse_body(text: str) -> list[Block]:
    blocks = []
    for chunk in text.strip().split("\n\n"):
        lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("## "):
            blocks.append(Block("subheading", typographic(lines[0][3:].strip())))
        elif lines[0].startswith(">"):
            quoted = [line.lstrip(">").strip() for line in lines]
            attribution = ""
            if quoted[-1].startswith("--"):
                attribution = quoted.pop().lstrip("-").strip()
            blocks.append(
                Block("pull_quote", typographic(" ".join(quoted)), typographic(attribution))
            )
        else:
            blocks.append(Block("paragraph", typographic(" ".join(lines))))
    return blocks


def _local(value: str, path: Path) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=NEWSROOM_ZONE)
    except ValueError as error:
        raise ContentError(f"{path.name}: bad date {value!r}") from error


def parse_article(path: Path, section: str) -> Article:
    raw_text = path.read_text(encoding="utf-8")
    for marker in FORBIDDEN:
        if marker in raw_text:
            raise ContentError(f"{path.name}: contains the template marker {marker!r}")
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as error:
        raise ContentError(f"{path.name}: {error}") from error
    try:
        article = Article(
            slug=path.stem,
            section=section,
            headline=typographic(data["headline"]),
            decks=[typographic(deck) for deck in data["decks"]],
            authors=list(data["authors"]),
            dateline=data["dateline"],
            published=_local(data["published"], path),
            updated=_local(data["updated"], path) if data.get("updated") else None,
            access=data["access"],
            topics=list(data["topics"]),
            caption=typographic(data["caption"]),
            credit=typographic(data["credit"]),
            image_alt=typographic(data["image_alt"]),
            image_hue=int(data["image_hue"]),
            image_label=data["image_label"],
            body=parse_body(data["body"]),
            series=data.get("series", ""),
            sponsor=data.get("sponsor", ""),
        )
    except KeyError as error:
        raise ContentError(f"{path.name}: missing key {error}") from error
    if article.access not in ACCESS_LEVELS:
        raise ContentError(f"{path.name}: access must be one of {ACCESS_LEVELS}")
    if not 1 <= len(article.decks) <= 2:
        raise ContentError(f"{path.name}: one or two decks")
    return article


def load_catalogue(content_dir: Path = CONTENT_DIR) -> Catalogue:
    data = tomllib.loads((content_dir / "catalogue.toml").read_text(encoding="utf-8"))
    pages_file = content_dir / "pages.toml"
    pages = tomllib.loads(pages_file.read_text(encoding="utf-8")) if pages_file.exists() else {}
    catalogue = Catalogue(
        publication=_typographic_values(data["publication"], ("tagline",)),
        sections=[_typographic_values(s, ("intro",)) for s in data["sections"]],
        series=[_typographic_values(s, ("intro",)) for s in data["series"]],
        authors=[_typographic_values(a, ("role", "bio")) for a in data["authors"]],
        sponsors=[_typographic_values(s, ("disclosure",)) for s in data["sponsors"]],
        pages=[_typographic_values(p, ("title",)) for p in pages.get("pages", [])],
    )
    for section in catalogue.sections:
        folder = content_dir / "articles" / section["slug"]
        for path in sorted(folder.glob("*.toml")):
            catalogue.articles.append(parse_article(path, section["slug"]))
    _check_references(catalogue)
    return catalogue


def _typographic_values(entry: dict, keys: tuple[str, ...]) -> dict:
    """`entry` with the prose under `keys` made typographic (names and slugs untouched)."""
    return {key: typographic(value) if key in keys else value for key, value in entry.items()}


def _check_references(catalogue: Catalogue) -> None:
    known = {
        "author": {a["slug"] for a in catalogue.authors},
        "series": {s["slug"] for s in catalogue.series},
        "sponsor": {s["slug"] for s in catalogue.sponsors},
    }
    for article in catalogue.articles:
        for author in article.authors:
            if author not in known["author"]:
                raise ContentError(f"{article.slug}: unknown author {author!r}")
        if article.series and article.series not in known["series"]:
            raise ContentError(f"{article.slug}: unknown series {article.series!r}")
        if article.sponsor and article.sponsor not in known["sponsor"]:
            raise ContentError(f"{article.slug}: unknown sponsor {article.sponsor!r}")
