"""What the newsroom panel on the admin's dashboard is built from.

The panel belongs to news (news.dashboard): stories scheduled, in review and published
today. Other apps add figures to it through the Wagtail hook named by `NEWSROOM_FIGURES`,
so news imports none of them (subscriptions adds the new subscribers of the day):

    @hooks.register(NEWSROOM_FIGURES)
    def my_figures(request, day, figures):
        figures.append(MyFigure(day))  # a wagtail.admin.ui.components.Component

Each figure renders one `<li>` of the panel's list of figures. `day` is the newsroom's
day: midnight to midnight in settings.TIME_ZONE, whatever the server's or the editor's
own time zone."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from . import clock

NEWSROOM_FIGURES = "construct_newsroom_figures"


@dataclass(frozen=True)
class Day:
    date: date
    start: datetime  # aware, the day's first moment
    end: datetime  # aware, the next day's first moment (excluded)

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def day_of(moment: datetime, zone: ZoneInfo) -> Day:
    """The calendar day in `zone` that the aware `moment` falls in. The bounds are each
    day's own midnight, so a day with a clock change is 23 or 25 hours long."""
    local = moment.astimezone(zone).date()
    start = datetime.combine(local, time.min, tzinfo=zone)
    end = datetime.combine(local + timedelta(days=1), time.min, tzinfo=zone)
    return Day(date=local, start=start, end=end)


def newsroom_today() -> Day:
    return day_of(clock.now(), ZoneInfo(settings.TIME_ZONE))
