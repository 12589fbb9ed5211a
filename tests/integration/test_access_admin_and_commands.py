from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.utils import timezone

from masthead.access.meter import get_meter_store
from masthead.access.models import MeterEntry

pytestmark = pytest.mark.django_db


def test_purge_removes_only_reads_older_than_asked():
    now = timezone.now()
    MeterEntry.objects.create(reader_key="a:old", article_id=1, read_at=now - timedelta(days=500))
    MeterEntry.objects.create(reader_key="a:new", article_id=1, read_at=now - timedelta(days=3))
    out = StringIO()
    call_command("purge_meter", stdout=out)
    assert "Removed 1 meter reads" in out.getvalue()
    assert list(MeterEntry.objects.values_list("reader_key", flat=True)) == ["a:new"]


def test_purge_refuses_a_window_shorter_than_a_month():
    with pytest.raises(SystemExit) as exit_info:
        call_command("purge_meter", "--older-than-days", "7", stderr=StringIO())
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        ({"MASTHEAD_METER_STORE": "masthead.access.meter.nowhere"}, "masthead.E001"),
        ({"MASTHEAD_METER_STORE": "masthead.access.meter.redis", "REDIS_URL": ""}, "masthead.E002"),
        ({"MASTHEAD_TRUSTED_PROXY_HOPS": -1}, "masthead.E003"),
    ],
)
def test_paywall_misconfiguration_fails_the_system_check(overrides, check_id):
    get_meter_store.cache_clear()
    with override_settings(**overrides), pytest.raises(SystemCheckError, match=check_id):
        call_command("check")


def test_meter_settings_are_editable_in_the_admin(admin_client, site):
    page = admin_client.get("/admin/settings/access/metersettings/")
    assert page.status_code in (200, 302)
    if page.status_code == 302:
        page = admin_client.get(page["Location"])
    assert page.status_code == 200
    assert "Anonymous allowance" in page.content.decode()


def test_meter_bounds_command_shows_sets_and_refuses_a_bound_below_one_allowance(site):
    from io import StringIO

    from django.core.management import CommandError, call_command
    from wagtail.models import Site

    from masthead.access.models import MeterSettings

    out = StringIO()
    call_command("meter_bounds", stdout=out)
    assert "20 full texts per network per day" in out.getvalue()
    call_command("meter_bounds", "--off", stdout=out)
    config = MeterSettings.for_site(Site.objects.get(is_default_site=True))
    assert (config.identityless_per_day, config.full_texts_per_network) == (0, 0)
    with pytest.raises(CommandError, match="Less than one anonymous allowance"):
        call_command("meter_bounds", "--per-period", "2", stdout=out)
