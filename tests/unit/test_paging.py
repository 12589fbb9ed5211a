import pytest

from masthead.news.paging import FIRST, INVALID, MAX_PAGE, parse_page


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], FIRST),
        (["1"], 1),
        (["2"], 2),
        (["007"], 7),
        ([str(MAX_PAGE)], MAX_PAGE),
        ([str(MAX_PAGE + 1)], INVALID),
        (["0"], INVALID),
        (["000"], INVALID),
        (["-1"], INVALID),
        (["+2"], INVALID),
        ([" 2"], INVALID),
        (["2 "], INVALID),
        (["2.0"], INVALID),
        (["1e3"], INVALID),
        (["10^20"], INVALID),
        (["100000000000000000000"], INVALID),
        (["9" * 5000], INVALID),
        (["abc"], INVALID),
        ([""], INVALID),
        (["２"], INVALID),  # fullwidth digit two
        (["٣"], INVALID),  # Arabic-Indic digit three
        (["2", "3"], INVALID),
        (["2", "2"], INVALID),
        (["1_0"], INVALID),
        (["\x00"], INVALID),
    ],
)
def test_parse_page(values, expected):
    assert parse_page(values) == expected
