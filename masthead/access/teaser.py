"""How much of a body a reader without access receives."""


def teaser_length(kinds: list[str], paragraphs: int) -> int:
    """The number of leading body pieces that make the teaser: everything up to and
    including the `paragraphs`-th paragraph (a subheading or quote before it comes along)."""
    seen = 0
    for index, kind in enumerate(kinds):
        if kind == "paragraph":
            seen += 1
            if seen >= paragraphs:
                return index + 1
    return len(kinds)
