from masthead.news.dateline import with_dateline


def test_dateline_goes_inside_the_first_paragraph():
    html = with_dateline("<p>The two governments agreed.</p>", "SEOUL/JAKARTA")
    assert html == (
        '<p><span class="dateline">SEOUL/JAKARTA --</span> The two governments agreed.</p>'
    )


def test_paragraph_attributes_are_kept():
    html = with_dateline('<p data-block-key="k1">Text</p>', "TOKYO")
    assert html.startswith('<p data-block-key="k1"><span class="dateline">TOKYO --</span> ')


def test_dateline_is_escaped():
    html = with_dateline("<p>Text</p>", "<b>X</b>")
    assert "<b>" not in html and "&lt;b&gt;X&lt;/b&gt; --" in html


def test_no_dateline_leaves_the_paragraph_alone():
    assert with_dateline("<p>Text</p>", "") == "<p>Text</p>"


def test_content_without_an_opening_paragraph_gets_its_own():
    html = with_dateline("<ul><li>x</li></ul>", "MANILA")
    assert html == '<p><span class="dateline">MANILA --</span> </p><ul><li>x</li></ul>'
