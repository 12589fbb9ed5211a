"""Readers see dates in one format (masthead/core/formats): every |date filter in the
reader-facing templates names one of its formats, or writes a machine-readable value."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "masthead" / "templates"
DATE_FILTER = re.compile(r"""\|date:(["'])(.*?)\1""")
READER_FORMATS = {"DATE_FORMAT", "DATETIME_FORMAT", "MONTH_DAY_FORMAT"}
MACHINE_FORMATS = {"c", "Y-m-d", "YmdHi"}  # <time datetime>, meta tags, comparisons
MASTHEAD = "l j F Y"  # the header's date: the reader format with the weekday before it


def test_every_date_a_reader_sees_uses_the_one_format():
    found = []
    for path in TEMPLATES.rglob("*"):
        if path.suffix not in {".html", ".txt"} or "admin" in path.parts:
            continue
        for match in DATE_FILTER.finditer(path.read_text(encoding="utf-8")):
            found.append((path.relative_to(TEMPLATES).as_posix(), match.group(2)))
    assert found, "no |date filters found: the pattern is wrong"
    other = [
        (name, fmt)
        for name, fmt in found
        if fmt not in READER_FORMATS | MACHINE_FORMATS and fmt != MASTHEAD
    ]
    assert not other, f"dates in a format of their own: {other}"


def test_the_one_format_reads_day_month_year():
    from masthead.core.formats.en import formats

    assert formats.DATE_FORMAT == "j F Y"
    assert formats.DATETIME_FORMAT.startswith(formats.DATE_FORMAT + ", ")
