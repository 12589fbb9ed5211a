"""An editor's first articles, in the browser: signed in to /admin/ as the demo's editor role
(masthead.demo.roles), a new article under a section with a headline, deck, body, author
and access, saved as a draft and then published, never opening the Promote tab (the slug
comes from the headline); and a second one scheduled for later, which goes live when
`publish_scheduled` runs after its time (the timer's job in deploy/, the loop's in make demo).
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from masthead.demo.roles import newsroom_editors
from masthead.news.models import ArticlePage

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "an editor's long password"  # noqa: S105 - a test account's


@pytest.fixture
def editor(publication):
    """A user in the Editors group, made the way load_demo makes the demo's `editor`."""
    group, _ = newsroom_editors()
    user = get_user_model().objects.create_user(
        username="desk", email="desk@example.com", password=PASSWORD
    )
    user.groups.add(group)
    return user


def sign_in_to_the_admin(page, live_server, user):
    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Newsroom today")).to_be_visible()


def write_article(page, live_server, section, *, headline, deck, paragraphs, author, access):
    """From the section's page in the admin: Add child page, and the Content tab filled in."""
    page.goto(f"{live_server.url}/admin/pages/{section.pk}/")
    page.get_by_role("link", name="Add child page").first.click()
    # A section holds only articles, so Wagtail opens the article form at once.
    expect(page).to_have_url(re.compile(r"/admin/pages/add/news/articlepage/\d+/$"))
    page.get_by_placeholder("Headline*").fill(headline)
    page.get_by_label("Deck", exact=True).fill(deck)
    page.get_by_role("combobox", name="Access").select_option(access)
    body = page.locator('[data-contentpath="body"]')
    body.get_by_role("button", name="Insert a block").first.click()
    page.get_by_role("option", name="Paragraph").click()
    body.locator('[contenteditable="true"]').first.click()
    for number, paragraph in enumerate(paragraphs):
        if number:
            page.keyboard.press("Enter")
        page.keyboard.type(paragraph)
    page.get_by_role("button", name="Choose author").click()
    page.locator(".modal").get_by_role("link", name=author.name).click()
    expect(page.locator("#id_article_authors-0-author-title")).to_have_text(author.name)


def save_draft(page, headline):
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text(f"Page '{headline}' created.")
    expect(page).to_have_url(re.compile(r"/admin/pages/\d+/edit/$"))


def publish(page, label="Publish"):
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name=label).click()


def test_an_editor_writes_saves_and_publishes_a_first_article(
    page, live_server, publication, editor
):
    # given: the editor signed in
    sign_in_to_the_admin(page, live_server, editor)
    # when: a new article is written under World, saved as a draft, then published
    headline = "Tide gauges record a new high"
    write_article(
        page,
        live_server,
        publication.world,
        headline=headline,
        deck="The harbour saw its highest water since 1953.",
        paragraphs=["Water rose over the quay at dawn.", "Shops on Front Street closed early."],
        author=publication.author,
        access="free",
    )
    save_draft(page, headline)
    article = ArticlePage.objects.get(title=headline)
    assert not article.live
    assert article.slug == "tide-gauges-record-a-new-high"  # from the headline, in the browser
    publish(page)
    expect(page.locator(".messages")).to_contain_text(f"Page '{headline}' has been published.")
    # then: it is live at its address, with all of it
    page.goto(live_server.url + "/world/tide-gauges-record-a-new-high/")
    expect(page.get_by_role("heading", level=1)).to_have_text(headline)
    story = page.locator("main")
    expect(story).to_contain_text("The harbour saw its highest water since 1953.")
    expect(story).to_contain_text("Water rose over the quay at dawn.")
    expect(story).to_contain_text("Shops on Front Street closed early.")
    expect(story).to_contain_text(publication.author.name)
    article.refresh_from_db()
    assert article.live
    assert article.access == "free"


def test_an_editor_schedules_an_article_and_it_goes_live_after_its_time(
    page, live_server, publication, editor, time_machine
):
    # given: the editor has written an article
    sign_in_to_the_admin(page, live_server, editor)
    headline = "Budget embargo lifts at six"
    write_article(
        page,
        live_server,
        publication.business,
        headline=headline,
        deck="Spending rises for the third year.",
        paragraphs=["The finance ministry published its plan.", "Ports get a new fund."],
        author=publication.author,
        access="metered",
    )
    # when: they set it to go live in two hours (the newsroom's time) and schedule it
    go_live = timezone.localtime(timezone.now()).replace(second=0, microsecond=0)
    go_live += timedelta(hours=2)
    page.get_by_role("button", name="Toggle status").click()
    page.get_by_role("button", name="Set schedule").click()
    page.get_by_label("Go live date/time").fill(go_live.strftime("%Y-%m-%d %H:%M"))
    # From the keyboard: the field's date picker may still cover the button for a mouse.
    page.get_by_role("button", name="Save schedule").focus()
    page.keyboard.press("Enter")
    publish(page, label="Schedule to publish")
    expect(page.locator(".messages")).to_contain_text("has been scheduled for publishing")
    # then: not yet live; the dashboard lists it at its time
    article = ArticlePage.objects.get(title=headline)
    assert not article.live
    url = f"{live_server.url}/business/budget-embargo-lifts-at-six/"
    assert page.goto(url).status == 404
    page.goto(live_server.url + "/admin/")
    scheduled = page.locator("#newsroom-scheduled")
    expect(scheduled.get_by_role("link", name=headline)).to_be_visible()
    expect(scheduled).to_contain_text(go_live.strftime("%H:%M"))
    # when: the clock passes the time and the timer runs publish_scheduled
    time_machine.move_to(go_live + timedelta(minutes=1), tick=False)
    call_command("publish_scheduled")
    # then: the story is live at its address
    assert page.goto(url).status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(headline)
    article.refresh_from_db()
    assert article.live
