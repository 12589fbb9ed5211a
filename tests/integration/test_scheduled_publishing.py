"""A story scheduled in the admin goes live when `publish_scheduled` runs (a timer in
deploy/systemd, a loop in `make demo`)."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from masthead.news.models import ArticleAuthor, ArticlePage
from tests.factories import body

pytestmark = pytest.mark.django_db


def test_a_scheduled_story_goes_live_when_publish_scheduled_runs(site, client, time_machine):
    # given: a new story, never live, published with a go-live time an hour ahead (what the
    # admin's "Schedule to publish" does)
    ada, _ = site["authors"]
    article = ArticlePage(
        title="Embargoed budget",
        slug="embargoed-budget",
        live=False,
        body=body(),
        article_authors=[ArticleAuthor(author=ada)],
    )
    site["world"].add_child(instance=article)
    article.go_live_at = timezone.now() + timedelta(hours=1)
    article.save_revision().publish()
    article.refresh_from_db()
    assert not article.live
    assert client.get(article.url).status_code == 404
    # when: an hour and a minute later (the clock moved for Django and Wagtail alike), the
    # command runs
    time_machine.move_to(timezone.now() + timedelta(hours=1, minutes=1), tick=False)
    call_command("publish_scheduled")
    # then
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.live
    assert client.get(article.url).status_code == 200


def test_a_story_left_undated_is_dated_when_it_goes_live_not_when_it_was_written(
    site, client, time_machine
):
    # given: a story written at nine with its date left empty (the editor's form leaves it
    # so) and scheduled for six
    ada, _ = site["authors"]
    written = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
    time_machine.move_to(written, tick=False)
    article = ArticlePage(
        title="Evening edition",
        slug="evening-edition",
        live=False,
        published_at=None,
        body=body(),
        article_authors=[ArticleAuthor(author=ada)],
    )
    site["world"].add_child(instance=article)
    article.go_live_at = written + timedelta(hours=9)
    article.save_revision().publish()
    assert ArticlePage.objects.get(pk=article.pk).published_at is None
    # when: it goes live at six
    time_machine.move_to(written + timedelta(hours=9, minutes=1), tick=False)
    call_command("publish_scheduled")
    # then: its date for readers is six, in the page, its byline and its next publication
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.published_at == written + timedelta(hours=9, minutes=1)
    html = client.get(article.url).content.decode()
    assert f'datetime="{timezone.localtime(article.published_at).isoformat()}"' in html
    time_machine.move_to(written + timedelta(days=1), tick=False)
    article.save_revision().publish()
    assert ArticlePage.objects.get(pk=article.pk).published_at == article.published_at


def test_the_editor_offers_a_new_story_undated_and_keeps_an_existing_date(admin_client, site):
    world = site["world"]
    new = admin_client.get(f"/admin/pages/add/news/articlepage/{world.pk}/").content.decode()
    assert 'name="published_at"' in new
    tag = re.search(r'<input[^>]*name="published_at"[^>]*>', new).group(0)
    assert 'value="' not in tag or 'value=""' in tag
    article = ArticlePage.objects.live().filter(published_at__isnull=False).first()
    edit = admin_client.get(f"/admin/pages/{article.pk}/edit/").content.decode()
    assert timezone.localtime(article.published_at).strftime("%Y-%m-%d") in edit
