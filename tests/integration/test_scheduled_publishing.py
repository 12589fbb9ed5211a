"""A story scheduled in the admin goes live when `publish_scheduled` runs (a timer in
deploy/systemd, a loop in `make demo`)."""

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
