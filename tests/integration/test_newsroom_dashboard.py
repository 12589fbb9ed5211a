"""The newsroom panel on the admin's dashboard (news.dashboard, subscriptions.dashboard):
stories scheduled, in review and published today, and new subscribers today, counted
from real rows in the newsroom's day (settings.TIME_ZONE, Asia/Tokyo in the tests)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from wagtail.models import GroupPagePermission, Page, Workflow

from masthead.demo.roles import newsroom_editors
from masthead.subscriptions import actions
from tests.factories import make_article
from tests.integration.subscription_factories import make_plan, make_reader, make_trial

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
# The moment the dashboard is looked at: Thursday 15 October 2026, 09:00 in the newsroom.
MORNING = datetime(2026, 10, 15, 9, tzinfo=TOKYO)


@pytest.fixture
def clock(time_machine):
    def move(when):
        time_machine.move_to(when, tick=False)

    return move


@pytest.fixture
def editor(django_user_model):
    group, _ = newsroom_editors()
    user = django_user_model.objects.create_user(
        username="desk", email="desk@example.com", password="pw-for-tests"
    )
    user.groups.add(group)
    return user


def panel(client, user):
    """The newsroom panel of the dashboard as `user` sees it now."""
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").find(id="newsroom-section")


def figure(section, name) -> str:
    return " ".join(section.select_one(f'[data-figure="{name}"]').get_text().split())


def rows(section, list_id) -> list[tuple[str, str, str]]:
    """(title, edit link, time shown) of each story in one list of the panel."""
    table = section.find(id=list_id)
    found = []
    for row in table.select("tbody tr") if table else []:
        link = row.select_one("td.title a")
        found.append((link.get_text(strip=True), link["href"], row.find("time").get_text()))
    return found


def test_published_today_counts_the_newsroom_day_only(site, client, clock, editor):
    # given: one story went live late yesterday (Tokyo), two today, one is only a draft
    clock(datetime(2026, 10, 14, 23, 50, tzinfo=TOKYO))
    make_article(site["world"], "Late news from yesterday")
    clock(datetime(2026, 10, 15, 0, 10, tzinfo=TOKYO))  # 15:10 UTC on the 14th
    first = make_article(site["world"], "Just after midnight")
    clock(datetime(2026, 10, 15, 8, 30, tzinfo=TOKYO))
    second = make_article(site["business"], "Markets open higher")
    draft = make_article(site["world"], "Still a draft")
    draft.unpublish()
    # when: the editor looks at the dashboard at nine
    clock(MORNING)
    section = panel(client, editor)
    # then
    assert "Thursday 15 October" in section.find("h2").get_text()
    assert figure(section, "published") == "2 published today"
    assert rows(section, "newsroom-published") == [
        ("Markets open higher", f"/admin/pages/{second.pk}/edit/", "Thu 15 Oct, 08:30"),
        ("Just after midnight", f"/admin/pages/{first.pk}/edit/", "Thu 15 Oct, 00:10"),
    ]
    live_links = [
        a["href"] for a in section.select("#newsroom-published a") if "View live" in a.text
    ]
    assert live_links == [second.url, first.url]


def test_a_scheduled_story_is_listed_until_it_goes_live(site, client, clock, editor):
    # given: at nine, a new story scheduled for six in the evening
    clock(MORNING)
    story = make_article(site["world"], "Budget embargo lifts")
    story.unpublish()
    story.go_live_at = datetime(2026, 10, 15, 18, tzinfo=TOKYO)
    story.save_revision().publish()
    story.refresh_from_db()
    assert not story.live
    # when / then: the dashboard lists it with its time and a link to edit it
    section = panel(client, editor)
    assert figure(section, "scheduled") == "1 scheduled"
    assert rows(section, "newsroom-scheduled") == [
        ("Budget embargo lifts", f"/admin/pages/{story.pk}/edit/", "Thu 15 Oct, 18:00"),
    ]
    assert figure(section, "published") == "0 published today"
    # when: the timer runs publish_scheduled just after six
    clock(datetime(2026, 10, 15, 18, 1, tzinfo=TOKYO))
    call_command("publish_scheduled")
    # then: it has left the schedule and went live today
    section = panel(client, editor)
    assert figure(section, "scheduled") == "0 scheduled"
    assert rows(section, "newsroom-scheduled") == []
    assert "Nothing is scheduled." in section.get_text()
    assert figure(section, "published") == "1 published today"
    assert [title for title, _, _ in rows(section, "newsroom-published")] == [
        "Budget embargo lifts"
    ]


def reporter(django_user_model):
    """Someone who may only draft and submit for review."""
    group = Group.objects.create(name="Reporters")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in ["add_page", "change_page"]:
        GroupPagePermission.objects.create(
            group=group,
            page=Page.get_first_root_node(),
            permission=Permission.objects.get(codename=codename),
        )
    user = django_user_model.objects.create_user(
        username="cub",
        email="cub@example.com",
        first_name="Cub",
        last_name="Reporter",
        password="pw-for-tests",
    )
    user.groups.add(group)
    return user


def test_a_story_in_review_is_listed_with_its_task_and_who_submitted_it(
    site, client, clock, editor, django_user_model
):
    # given: a reporter submitted a new story at eight; another was sent back for changes
    clock(datetime(2026, 10, 15, 8, tzinfo=TOKYO))
    cub = reporter(django_user_model)
    workflow = Workflow.objects.get(active=True)
    story = make_article(site["world"], "Harbour strike talks")
    story.unpublish()
    story.save_revision(user=cub)
    workflow.start(story, cub)
    returned = make_article(site["world"], "Ferry timetable changes")
    returned.save_revision(user=cub)
    state = workflow.start(returned, cub)
    state.current_task_state.task.specific.on_action(state.current_task_state, editor, "reject")
    # when
    clock(MORNING)
    section = panel(client, editor)
    # then: only the one still waiting
    assert figure(section, "in-review") == "1 in review"
    assert rows(section, "newsroom-in-review") == [
        ("Harbour strike talks", f"/admin/pages/{story.pk}/edit/", "Thu 15 Oct, 08:00"),
    ]
    review = section.find(id="newsroom-in-review").get_text()
    assert "Moderators approval, submitted by Cub Reporter" in review


def test_new_subscribers_today_come_from_the_ledger(site, client, clock, editor, admin_user):
    # given: yesterday one reader subscribed; today one paid and one began a free trial
    plan = make_plan()
    month = timedelta(days=30)
    yesterday = datetime(2026, 10, 14, 22, tzinfo=TOKYO)
    clock(yesterday)
    trial = make_trial(plan, yesterday)
    actions.start(user=make_reader(), plan=plan, period_end=yesterday + month, now=yesterday)
    today = datetime(2026, 10, 15, 7, tzinfo=TOKYO)
    clock(today)
    actions.start(user=make_reader(), plan=plan, period_end=today + month, now=today)
    actions.start_trial(user=make_reader(), offer=trial, now=today)
    # when / then: the editor sees the figure, without a way into subscriptions
    clock(MORNING)
    section = panel(client, editor)
    assert figure(section, "new-subscribers") == "2 new subscribers today (1 on a free trial)"
    assert section.select_one('[data-figure="new-subscribers"] a') is None
    # and an administrator has it as a link to the subscriptions
    section = panel(client, admin_user)
    link = section.select_one('[data-figure="new-subscribers"] a')
    assert link["href"] == "/admin/snippets/subscriptions/subscription/"


def test_the_panel_is_for_those_who_work_on_pages(site, client, django_user_model):
    # given: someone who may open the admin but edit no page
    user = django_user_model.objects.create_user(
        username="finance", email="finance@example.com", password="pw-for-tests"
    )
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    # when
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    # then
    assert 'id="newsroom-section"' not in html
