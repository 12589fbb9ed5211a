"""The demo's `editor` role (masthead.demo.roles): what a newsroom editor needs in the
admin, and nothing of the business side."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image as PILImage
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Collection, GroupPagePermission, Page, Workflow

from masthead.demo.roles import newsroom_editors
from masthead.news.models import ArticlePage, Author
from masthead.subscriptions.models import PaymentEvent, Subscription
from tests.integration.subscription_factories import make_plan, make_reader
from tests.integration.test_admin import add_article_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(django_user_model):
    group, _ = newsroom_editors()
    user = django_user_model.objects.create_user(
        username="desk", email="desk@example.com", password="pw-for-tests-only"
    )
    user.groups.add(group)
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def byline(author):
    return {
        "article_authors-TOTAL_FORMS": "1",
        "article_authors-INITIAL_FORMS": "0",
        "article_authors-0-author": str(author.pk),
        "article_authors-0-ORDER": "1",
        "article_authors-0-id": "",
        "article_authors-0-DELETE": "",
    }


def test_the_editor_publishes_a_new_article_without_review(site, editor_client, client):
    # given: the add form filled in, the Promote tab untouched
    ada, _ = site["authors"]
    url, data = add_article_form(
        editor_client, site["world"], title="Dams fill after the rains", **byline(ada)
    )
    data["action-publish"] = "action-publish"
    # when: the editor presses Publish
    response = editor_client.post(url, data)
    # then: it is live at once, and readers can open it
    assert response.status_code == 302, response.content.decode()[:2000]
    article = ArticlePage.objects.get(title="Dams fill after the rains")
    assert article.live
    assert not article.workflow_in_progress
    editor_client.logout()
    assert client.get(article.url).status_code == 200


def test_the_editor_sees_publish_in_the_edit_form(site, editor_client):
    html = editor_client.get(f"/admin/pages/{site['lead'].pk}/edit/").content.decode()
    assert 'name="action-publish"' in html
    add = f"/admin/pages/add/news/articlepage/{site['world'].pk}/"
    assert 'name="action-publish"' in editor_client.get(add).content.decode()


def test_the_editor_unpublishes_a_story(site, editor_client):
    lead = site["lead"]
    response = editor_client.post(f"/admin/pages/{lead.pk}/unpublish/")
    assert response.status_code == 302
    lead.refresh_from_db()
    assert not lead.live


def jpeg(name="harbour.jpg"):
    buffer = io.BytesIO()
    PILImage.new("RGB", (800, 450), (10, 120, 90)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def test_the_editor_uploads_an_image_and_picks_images_in_the_chooser(site, editor_client):
    # when
    response = editor_client.post(
        "/admin/images/add/",
        {
            "title": "Harbour at dawn",
            "file": jpeg(),
            "collection": Collection.get_first_root_node().pk,
            "description": "Cranes against a pale sky",
        },
    )
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    assert get_image_model().objects.filter(title="Harbour at dawn").exists()
    chooser = editor_client.get("/admin/images/chooser/")
    assert chooser.status_code == 200
    assert "Harbour at dawn" in chooser.json()["html"]


def test_the_editor_adds_and_edits_authors(site, editor_client):
    # when: a new author is added, then their role changed
    response = editor_client.post(
        "/admin/snippets/news/author/add/",
        {"name": "Chae Correspondent", "slug": "chae-correspondent", "role": "Reporter"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    chae = Author.objects.get(slug="chae-correspondent")
    response = editor_client.post(
        f"/admin/snippets/news/author/edit/{chae.pk}/",
        {"name": "Chae Correspondent", "slug": "chae-correspondent", "role": "Seoul bureau"},
    )
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    chae.refresh_from_db()
    assert chae.role == "Seoul bureau"


def test_the_editor_adds_a_new_topic_with_an_article(site, editor_client):
    ada, _ = site["authors"]
    url, data = add_article_form(
        editor_client,
        site["world"],
        title="Typhoon season starts early",
        topics="Weather",
        **byline(ada),
    )
    assert editor_client.post(url, data).status_code == 302
    assert Tag.objects.filter(name="Weather").exists()
    assert editor_client.get("/admin/tag-autocomplete/?term=Wea").status_code == 200


def test_the_editor_picks_a_sponsor_but_cannot_add_or_change_one(site, editor_client):
    sponsor = site["sponsor"]
    chooser = editor_client.get("/admin/snippets/choose/news/sponsor/")
    assert chooser.status_code == 200
    assert sponsor.name in chooser.json()["html"]
    assert editor_client.get("/admin/snippets/news/sponsor/add/").status_code == 302
    edit = editor_client.post(
        f"/admin/snippets/news/sponsor/edit/{sponsor.pk}/",
        {"name": "Someone else", "slug": sponsor.slug, "disclosure": "Changed."},
    )
    assert edit.status_code == 302
    sponsor.refresh_from_db()
    assert sponsor.name == "Acme Shipping"


BUSINESS_SIDE = [
    "/admin/snippets/subscriptions/plan/",
    "/admin/snippets/subscriptions/plan/add/",
    "/admin/snippets/subscriptions/offer/",
    "/admin/snippets/subscriptions/subscription/",
    "/admin/snippets/campaigns/banner/",
    "/admin/snippets/campaigns/freeaccesswindow/",
    "/admin/snippets/django_tasks_database/dbtaskresult/",
    "/admin/settings/access/metersettings/",
    "/admin/users/",
    "/admin/groups/",
    "/admin/sites/",
    "/admin/workflows/list/",
]


@pytest.mark.parametrize("url", BUSINESS_SIDE)
def test_the_editor_cannot_reach_the_business_side(site, editor_client, url):
    # when
    response = editor_client.get(url)
    # then: Wagtail sends them back to the dashboard with "Sorry, you do not have permission"
    assert response.status_code == 302, url
    assert response["Location"] == "/admin/"


def test_the_editor_cannot_record_test_payments(site, editor_client):
    subscription = Subscription.objects.create(
        user=make_reader(),
        plan=make_plan(),
        status="active",
        current_period_end=timezone.now() + timedelta(days=30),
    )
    url = f"/admin/subscriptions/test-payments/{subscription.pk}/"
    assert editor_client.get(url)["Location"] == "/admin/"
    response = editor_client.post(url, {"event": "renew"})
    assert response["Location"] == "/admin/"
    assert not PaymentEvent.objects.exists()


def test_the_editor_menu_has_no_business_items(site, editor_client):
    html = editor_client.get("/admin/").content.decode()
    for item in ["Subscriptions", "Campaigns", "Settings"]:
        assert f'"label": "{item}"' not in html, item
    assert '"label": "Images"' in html


def test_the_editor_reviews_what_others_submit(site, editor_client, django_user_model):
    # given: a reporter who may only draft and submit (Wagtail's own Moderators approval)
    assert Workflow.objects.filter(active=True).exists()
    reporters = Group.objects.create(name="Reporters")
    reporters.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ["add_page", "change_page"]:
        GroupPagePermission.objects.create(
            group=reporters,
            page=Page.get_first_root_node(),
            permission=Permission.objects.get(codename=codename),
        )
    reporter = django_user_model.objects.create_user(username="cub", password="pw-for-tests")
    reporter.groups.add(reporters)
    story = site["earlier"]
    story.title = "Seoul pledges more aid"
    story.save_revision(user=reporter)
    Workflow.objects.get(active=True).start(story, reporter)
    assert story.workflow_in_progress
    # when: the editor opens the dashboard
    html = editor_client.get("/admin/").content.decode()
    # then: the story waits for them, with the approve action
    assert "Awaiting your review" in html
    assert f"/admin/pages/{story.pk}/edit/" in html
    assert "Approve" in html


def test_newsroom_editors_is_idempotent():
    group, first = newsroom_editors()
    assert "news.add_author" in first
    again, second = newsroom_editors()
    assert again == group
    assert second == []


def test_the_editor_role_as_other_code_checks_it(editor):
    assert editor.has_perm("news.add_author")
    assert editor.has_perm("news.change_author")
    assert editor.has_perm("taggit.add_tag")
    assert not editor.has_perm("news.add_sponsor")
    assert not editor.has_perm("news.change_sponsor")
    assert not editor.has_perm("subscriptions.view_plan")
    assert not editor.has_perm("subscriptions.view_subscription")
    assert not editor.has_perm("access.change_metersettings")


def test_access_comes_near_the_top_with_help_text(site, editor_client):
    html = editor_client.get(f"/admin/pages/add/news/articlepage/{site['world'].pk}/")
    html = html.content.decode()
    access = html.index('data-contentpath="access"')
    assert (
        html.index('data-contentpath="deck"') < access < html.index('data-contentpath="lead_image"')
    )
    help_text = html.index("Metered: readers without a subscription read it in full")
    assert access < help_text < html.index('data-contentpath="sponsor"')
