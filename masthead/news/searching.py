"""Site search's rules that need no database: what a typed query becomes, and the snippet
with the matched words marked.

Pure Python (no Django): the view (news.search) hands the raw query string in and gets
words and phrases back, and hands the public text of a result (headline, deck, teaser; never
the paywalled part: access.channels, Channel.SEARCH) in to get an escaped snippet out.

What a query becomes (`clean_query`):

- Unicode NFKC (fullwidth ``ｋｏｒｅａ`` is ``korea``); control, format, surrogate, private
  and unassigned characters (NUL among them, which PostgreSQL refuses) become spaces;
- cut to MAX_CHARS characters (at a space where there is one), and the page says so;
- words are runs of letters and digits (``Japan's`` is looked for as ``Japan``);
  text between double quotes is a phrase. Everything else is a separator: the search syntax
  of the engines (``-``, ``*``, ``:``, ``()``, ``^``) and the words ``AND``, ``OR``, ``NOT``
  in capitals are not operators here, so a query of only those has no words (the page
  asks for some) and nothing the reader types can make the engine's parser fail;
- at most MAX_TERMS words and phrases: a bound on the cost of one query.
"""

import html
import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 200
MAX_TERMS = 8
SNIPPET_WORDS = 40
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_WORD = re.compile(r"\w+")
# "Japan's" is looked for as "Japan": the engines index the possessive differently.
_POSSESSIVE = re.compile(r"(\w)['’]s\b", re.IGNORECASE)
_TOKEN = re.compile(r"\w+")
# A word of the text matches a word of the query when one begins with the other and they
# share this many characters (korea/Korean, market/markets): the engines stem, so a result
# may have matched on a form that differs from the one typed.
_MIN_SHARED = 4


@dataclass(frozen=True)
class Query:
    text: str  # what was searched for, as the page shows it back
    words: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]
    truncated: bool = False

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases

    @property
    def terms(self) -> tuple[str, ...]:
        """Every word to mark in a snippet, lower case, phrases' words included."""
        seen = dict.fromkeys(w.lower() for w in self.words)
        for phrase in self.phrases:
            seen.update(dict.fromkeys(w.lower() for w in phrase))
        return tuple(seen)


def strip_controls(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(" " if unicodedata.category(c) in _REMOVED_CATEGORIES else c for c in text)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space > limit // 2 else head


def clean_query(raw: str) -> Query:
    """The words and phrases of what a reader typed (the module's docstring)."""
    # Bounded before the Unicode work too: a 10 KB query is cut, not normalised whole.
    text = " ".join(strip_controls(raw[: MAX_CHARS * 4]).split())
    truncated = len(text) > MAX_CHARS or len(raw) > MAX_CHARS * 4
    text = _cut(text, MAX_CHARS)
    words: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for position, part in enumerate(text.split('"')):
        # Odd parts lie between quotes; an unclosed quote's tail is plain words.
        quoted = position % 2 == 1 and position < text.count('"')
        part = _POSSESSIVE.sub(r"\1", part)
        found = [w for w in _WORD.findall(part) if w not in _OPERATORS]
        if quoted and len(found) > 1:
            phrases.append(tuple(found))
        else:
            words.extend(found)
    words = list(dict.fromkeys(words))
    kept_words = words[: MAX_TERMS - min(len(phrases), MAX_TERMS)]
    kept_phrases = phrases[:MAX_TERMS]
    if len(kept_words) < len(words) or len(kept_phrases) < len(phrases):
        truncated = True
    return Query(text, tuple(kept_words), tuple(kept_phrases), truncated)


def _matches(word: str, terms: tuple[str, ...]) -> bool:
    word = word.lower()
    for term in terms:
        if word == term:
            return True
        shorter, longer = sorted((word, term), key=len)
        if len(shorter) >= _MIN_SHARED and longer.startswith(shorter):
            return True
    return False


def snippet(text: str, terms: tuple[str, ...], words: int = SNIPPET_WORDS) -> str:
    """About `words` words of `text` (plain text, not HTML) around its first match, with an
    ellipsis where it was cut, escaped, and every matching word in <mark>. The result is
    safe HTML: every character of `text` is escaped before a mark is added."""
    tokens = text.split()
    if not tokens:
        return ""
    first = next(
        (i for i, tok in enumerate(tokens) if any(_matches(w, terms) for w in _TOKEN.findall(tok))),
        0,
    )
    start = max(0, min(first - words // 4, len(tokens) - words))
    chosen = tokens[start : start + words]
    while start > 0 and chosen and not _TOKEN.search(chosen[0]):
        chosen = chosen[1:]  # a cut leaves no stray dash or quote in front
    out = " ".join(highlight(tok, terms) for tok in chosen)
    if start > 0:
        out = "… " + out
    if start + words < len(tokens):
        out += " …"
    return out


def highlight(text: str, terms: tuple[str, ...]) -> str:
    """`text` escaped, with each word that matches one of `terms` (lower case) in <mark>."""
    out = []
    last = 0
    for found in _TOKEN.finditer(text):
        out.append(html.escape(text[last : found.start()]))
        word = html.escape(found.group())
        out.append(f"<mark>{word}</mark>" if _matches(found.group(), terms) else word)
        last = found.end()
    out.append(html.escape(text[last:]))
    return "".join(out)
