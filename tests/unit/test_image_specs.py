"""The pictures' filter specs (masthead.news.images) are spelt as Wagtail's own tags expand
them, so a template using `{% picture %}` with the same rules finds the same renditions."""

from wagtail.images.models import Filter

from masthead.news.images import ARTICLE_LEAD, CARD, KINDS, PRINT, SHARE_IMAGE, lead_image_specs


def test_specs_match_wagtails_picture_tag_expansion():
    expanded = Filter.expand_spec(["format-{webp,jpeg}", "width-{480,800,1200}"])
    assert list(ARTICLE_LEAD.filter_specs) == expanded
    assert CARD.filter_specs[:4] == tuple(
        Filter.expand_spec(["format-webp", "fill-{320x180,480x270,640x360,960x540}"])
    )


def test_every_kind_is_a_valid_wagtail_filter_and_lists_sizes_smallest_first():
    for kind in KINDS.values():
        for spec in kind.filter_specs:
            assert Filter(spec=spec).operations  # raises on an unknown operation
        assert kind.resize == tuple(
            sorted(kind.resize, key=lambda r: int(r.split("-")[1].split("x")[0]))
        )
        assert len(kind.resize) == 1 or kind.sizes


def test_lead_image_specs_cover_print_and_sharing_once_each():
    specs = lead_image_specs()
    assert len(specs) == len(set(specs))
    assert set(PRINT.filter_specs) <= set(specs)
    assert SHARE_IMAGE in specs
    assert set(CARD.filter_specs) | set(KINDS["lead_card"].filter_specs) <= set(specs)
