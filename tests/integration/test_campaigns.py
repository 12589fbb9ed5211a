"""Campaigns: what is live when, how it is dated, cached, edited and shown."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string

from masthead.campaigns.context_processors import campaigns
from masthead.campaigns.fetch import current_campaigns, free_access_active
from masthead.campaigns.models import Banner, FreeAccessWindow

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 9, 30, 12, 0, 20, tzinfo=TOKYO)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def make_banner(text="We are now The Meridian Ledger", *, starts_at=NOW - HOUR, **fields):
    fields.setdefault("ends_at", starts_at + DAY)
    return Banner.objects.create(text=text, starts_at=starts_at, **fields)


def make_window(title="Free day", *, starts_at, ends_at, banner_text=""):
    return FreeAccessWindow.objects.create(
        title=title, starts_at=starts_at, ends_at=ends_at, banner_text=banner_text
    )


# What is live


def test_only_banners_live_at_now_are_returned():
    # given
    live = make_banner("Live")
    make_banner("Over", starts_at=NOW - 2 * DAY, ends_at=NOW - DAY)
    make_banner("Not yet", starts_at=NOW + HOUR)
    make_banner("Ended exactly now", starts_at=NOW - HOUR, ends_at=NOW)
    starting = make_banner("Starts exactly now", starts_at=NOW)
    # when
    banners = current_campaigns(NOW).banners
    # then
    assert banners == [live, starting]


def test_banners_are_ordered_by_priority_then_start():
    # given
    early = make_banner("Early", starts_at=NOW - 2 * HOUR)
    late = make_banner("Late", starts_at=NOW - HOUR)
    urgent = make_banner("Urgent", starts_at=NOW - HOUR, priority=10, kind="notice")
    # then
    assert current_campaigns(NOW).banners == [urgent, early, late]


def test_a_banner_starting_mid_minute_appears_at_its_second_despite_the_cache():
    # given rows cached at 12:00:20 for the minute, and a banner starting at 12:00:40
    banner = make_banner(starts_at=NOW + timedelta(seconds=20))
    assert current_campaigns(NOW).banners == []
    # then the cached minute is filtered at the exact instant
    assert current_campaigns(NOW + timedelta(seconds=20)).banners == [banner]


def test_free_access_window_is_found_only_while_live():
    # given
    window = make_window(starts_at=datetime(2026, 9, 30, tzinfo=TOKYO), ends_at=NOW + HOUR)
    # then
    assert current_campaigns(NOW).free_access == window
    assert free_access_active(NOW) is True
    assert free_access_active(NOW + HOUR) is False
    assert current_campaigns(NOW + HOUR).free_access is None


def test_of_overlapping_free_access_windows_the_latest_to_start_is_shown():
    make_window("Week", starts_at=NOW - 3 * DAY, ends_at=NOW + 3 * DAY)
    day = make_window("Day", starts_at=NOW - HOUR, ends_at=NOW + HOUR)
    assert current_campaigns(NOW).free_access == day


def test_no_campaigns_means_no_banners_and_the_meter_stays_on():
    result = current_campaigns(NOW)
    assert result.banners == [] and result.free_access is None
    assert result.free_access_active is False


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="aware"):
        current_campaigns(datetime(2026, 9, 30, 12))


def test_two_queries_at_most_and_none_from_the_cache(django_assert_num_queries):
    make_banner()
    make_window(starts_at=NOW - HOUR, ends_at=NOW + HOUR)
    with django_assert_num_queries(2):
        first = current_campaigns(NOW)
    with django_assert_num_queries(0):
        second = current_campaigns(NOW + timedelta(seconds=30))
    assert second == first


def test_a_free_access_window_opens_every_article_subscribers_only_ones_too(client, exclusive):
    # given a subscribers-only story that an anonymous reader sees as a teaser
    assert "Paragraph 9 text." not in client.get(exclusive.url).content.decode()
    # when a free-access window is live (the access decision's rule 1)
    now = datetime.now(UTC)
    make_window(starts_at=now - HOUR, ends_at=now + HOUR)
    # then the whole story is sent, to the same reader
    body = client.get(exclusive.url).content.decode()
    assert "Paragraph 9 text." in body
    assert "Free access for everyone" in body


# Banner text of a free-access window, in the site's time zone (Asia/Tokyo)


def test_single_day_window_is_dated_by_its_day():
    # given 00:00-24:00 on 30 September in Tokyo, written in UTC
    window = FreeAccessWindow(
        starts_at=datetime(2026, 9, 29, 15, tzinfo=UTC),
        ends_at=datetime(2026, 9, 30, 15, tzinfo=UTC),
    )
    assert window.banner_message == "Free access for everyone — 30 September"


def test_multi_day_window_is_dated_by_its_first_and_last_day():
    window = FreeAccessWindow(
        starts_at=datetime(2026, 9, 29, tzinfo=TOKYO), ends_at=datetime(2026, 10, 2, tzinfo=TOKYO)
    )
    assert window.banner_message == "Free access for everyone — 29 September to 1 October"


def test_window_ending_mid_morning_counts_that_day():
    window = FreeAccessWindow(
        starts_at=datetime(2026, 9, 30, 18, tzinfo=TOKYO),
        ends_at=datetime(2026, 10, 1, 10, tzinfo=TOKYO),
    )
    assert window.banner_message == "Free access for everyone — 30 September to 1 October"


def test_window_across_new_year_names_the_years():
    window = FreeAccessWindow(
        starts_at=datetime(2026, 12, 31, tzinfo=TOKYO), ends_at=datetime(2027, 1, 2, tzinfo=TOKYO)
    )
    assert window.banner_message == (
        "Free access for everyone — 31 December 2026 to 1 January 2027"
    )


def test_editor_words_replace_the_generated_text():
    window = FreeAccessWindow(
        starts_at=NOW, ends_at=NOW + DAY, banner_text="Read everything free this weekend"
    )
    assert window.banner_message == "Read everything free this weekend"


# Validation


@pytest.mark.parametrize("ends_at", [NOW, NOW - HOUR])
def test_campaigns_must_end_after_they_start(ends_at):
    for campaign in [
        Banner(text="Hello", starts_at=NOW, ends_at=ends_at),
        FreeAccessWindow(title="Free day", starts_at=NOW, ends_at=ends_at),
    ]:
        with pytest.raises(ValidationError) as error:
            campaign.full_clean()
        assert "ends_at" in error.value.message_dict


@pytest.mark.parametrize("link", ["/series/", "https://example.com/rebrand", "http://a.example"])
def test_banner_links_may_be_site_paths_or_web_addresses(link):
    Banner(text="Hello", link_url=link, starts_at=NOW, ends_at=NOW + DAY).full_clean()


@pytest.mark.parametrize("link", ["javascript:alert(1)", "//evil.example/", "series/", "ftp://x.y"])
def test_banner_links_that_are_not_plain_web_links_are_refused(link):
    banner = Banner(text="Hello", link_url=link, starts_at=NOW, ends_at=NOW + DAY)
    with pytest.raises(ValidationError) as error:
        banner.full_clean()
    assert "link_url" in error.value.message_dict


def test_link_text_needs_a_link():
    banner = Banner(text="Hello", link_text="Read more", starts_at=NOW, ends_at=NOW + DAY)
    with pytest.raises(ValidationError) as error:
        banner.full_clean()
    assert "link_url" in error.value.message_dict


def test_free_access_scope_is_every_article():
    window = FreeAccessWindow(title="Free day", starts_at=NOW, ends_at=NOW + DAY)
    window.full_clean()
    assert window.scope == FreeAccessWindow.Scope.ALL == "all"


# The cache forgets edits


def test_saving_a_banner_replaces_the_cached_answer():
    # given
    banner = make_banner("Old words")
    assert [b.text for b in current_campaigns(NOW).banners] == ["Old words"]
    # when
    banner.text = "New words"
    banner.save()
    # then
    assert [b.text for b in current_campaigns(NOW).banners] == ["New words"]


def test_creating_and_deleting_campaigns_clears_the_cache():
    assert current_campaigns(NOW).free_access is None
    window = make_window(starts_at=NOW - HOUR, ends_at=NOW + HOUR)
    banner = make_banner()
    assert current_campaigns(NOW) == current_campaigns(NOW)
    assert current_campaigns(NOW).free_access == window
    assert current_campaigns(NOW).banners == [banner]
    window.delete()
    banner.delete()
    assert current_campaigns(NOW).free_access is None
    assert current_campaigns(NOW).banners == []


def test_the_cache_is_cleared_again_when_the_edit_commits(django_capture_on_commit_callbacks):
    banner = make_banner("Old words")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        banner.text = "New words"
        banner.save()
        # a reader between the save and the commit re-caches what it sees
        current_campaigns(NOW)
    assert len(callbacks) == 1
    assert [b.text for b in current_campaigns(NOW).banners] == ["New words"]


def test_the_cache_is_used_until_an_edit(django_assert_num_queries):
    make_banner()
    current_campaigns(NOW)
    Banner.objects.update(text="Changed without signals")
    with django_assert_num_queries(0):
        stale = current_campaigns(NOW)
    assert [b.text for b in stale.banners] == ["We are now The Meridian Ledger"]


def test_a_dead_cache_neither_breaks_reading_nor_editing(
    dead_redis, caplog, django_assert_num_queries
):
    banner = make_banner("Before")
    window = make_window(starts_at=NOW - HOUR, ends_at=NOW + HOUR)
    with django_assert_num_queries(2):
        result = current_campaigns(NOW)
    assert result.banners == [banner] and result.free_access == window
    assert free_access_active(NOW) is True
    banner.text = "After"
    banner.save()
    banner2 = make_banner("Second", priority=-1)
    assert [b.text for b in current_campaigns(NOW).banners] == ["After", "Second"]
    banner2.delete()
    assert current_campaigns(NOW).banners == [banner]
    assert "could not change the generation masthead:campaigns" in caplog.text


# Templates


def render_banners(banners=(), window=None):
    return render_to_string(
        "campaigns/banners.html",
        {"campaign_banners": list(banners), "free_access_window": window},
    )


def test_banner_text_and_link_are_escaped():
    banner = Banner(
        text='<script>alert("x")</script> & more',
        link_url="/series/?a=1&b=2",
        link_text="<b>Read</b>",
        starts_at=NOW,
        ends_at=NOW + DAY,
    )
    html = render_banners([banner])
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html
    assert '<a href="/series/?a=1&amp;b=2">&lt;b&gt;Read&lt;/b&gt;</a>' in html


def test_banners_render_as_one_labelled_region_with_plain_links():
    announcement = Banner(
        text="We are now The Meridian Ledger",
        link_url="/series/",
        link_text="What changes",
        starts_at=NOW,
        ends_at=NOW + DAY,
    )
    notice = Banner(
        text="Maintenance tonight",
        link_url="/help/",
        kind="notice",
        starts_at=NOW,
        ends_at=NOW + DAY,
    )
    window = FreeAccessWindow(
        starts_at=datetime(2026, 9, 30, tzinfo=TOKYO), ends_at=datetime(2026, 10, 1, tzinfo=TOKYO)
    )
    html = render_banners([announcement, notice], window)
    assert html.count('<aside class="campaign-banners" aria-label="Announcements">') == 1
    assert "Free access for everyone — 30 September" in html
    assert 'We are now The Meridian Ledger <a href="/series/">What changes</a>' in html
    assert '<a href="/help/">Maintenance tonight</a>' in html
    assert "campaign-banner--notice" in html and "<script" not in html
    assert html.index("Free access") < html.index("Meridian") < html.index("Maintenance")


def test_nothing_is_rendered_without_campaigns():
    assert render_banners().strip() == ""


def test_context_processor_queries_only_when_a_template_uses_it(rf, django_assert_num_queries):
    # given campaigns live whenever the test runs (the context processor reads the clock)
    always = {
        "starts_at": datetime(2000, 1, 1, tzinfo=UTC),
        "ends_at": datetime(2100, 1, 1, tzinfo=UTC),
    }
    banner = make_banner(**always)
    window = make_window(**always)
    # when nothing reads the values, then nothing is fetched
    with django_assert_num_queries(0):
        context = campaigns(rf.get("/"))
    # when a template reads both, then one fetch serves both
    with django_assert_num_queries(2):
        html = render_to_string("campaigns/banners.html", context)
    assert list(context["campaign_banners"]) == [banner]
    assert context["free_access_window"] == window
    assert "We are now The Meridian Ledger" in html and "Free access for everyone" in html


def test_context_processor_answers_falsy_when_nothing_is_live(rf):
    context = campaigns(rf.get("/"))
    assert not context["free_access_window"]
    assert not context["campaign_banners"]


# Admin


def test_campaign_snippets_are_in_the_admin(admin_client):
    make_banner()
    make_window(starts_at=NOW, ends_at=NOW + DAY)
    for model in ["banner", "freeaccesswindow"]:
        assert admin_client.get(f"/admin/snippets/campaigns/{model}/").status_code == 200
        assert admin_client.get(f"/admin/snippets/campaigns/{model}/add/").status_code == 200
    window = FreeAccessWindow.objects.get()
    response = admin_client.get(f"/admin/snippets/campaigns/freeaccesswindow/edit/{window.pk}/")
    assert response.status_code == 200
    assert "Campaigns" in admin_client.get("/admin/").content.decode()


def test_admin_refuses_a_banner_that_ends_before_it_starts(admin_client):
    response = admin_client.post(
        "/admin/snippets/campaigns/banner/add/",
        {
            "text": "We are now The Meridian Ledger",
            "link_url": "/series/",
            "link_text": "",
            "starts_at": "2026-10-01 09:00",
            "ends_at": "2026-09-30 09:00",
            "kind": "announcement",
            "priority": "0",
        },
    )
    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    assert not Banner.objects.exists()


def test_admin_creates_a_banner_in_the_site_time_zone(admin_client):
    response = admin_client.post(
        "/admin/snippets/campaigns/banner/add/",
        {
            "text": "We are now The Meridian Ledger",
            "link_url": "/series/",
            "link_text": "Find out more",
            "starts_at": "2026-09-30 00:00",
            "ends_at": "2026-10-01 00:00",
            "kind": "announcement",
            "priority": "0",
        },
    )
    assert response.status_code == 302
    banner = Banner.objects.get()
    assert banner.starts_at == datetime(2026, 9, 30, tzinfo=TOKYO)
    assert current_campaigns(datetime(2026, 9, 30, 23, 59, tzinfo=TOKYO)).banners == [banner]


def test_pages_get_the_banners_from_the_configured_context_processor(rf):
    make_banner(
        "We are now The Meridian Ledger",
        starts_at=datetime(2000, 1, 1, tzinfo=UTC),
        ends_at=datetime(2100, 1, 1, tzinfo=UTC),
    )
    html = render_to_string("campaigns/banners.html", request=rf.get("/"))
    assert "We are now The Meridian Ledger" in html
