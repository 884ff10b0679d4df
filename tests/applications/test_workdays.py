"""The deadlines' calendar: holidays, weekend days worked (调休), from the settings and a file, checked at start."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import config
from registry import create_app
from registry.applications import services
from registry.applications.workdays import CalendarError, build
from tests import factories
from tests.applications.support import in_state

# An invented week, not an official one: Thursday 1 April 2027 off, Saturday 3 April worked.
CALENDAR = """\
# test calendar (not official dates)
2027-04-01 holiday
2027-04-03 workday   # a Saturday worked

"""


def test_a_weekend_workday_counts_and_a_holiday_does_not():
    calendar = build(["2027-04-01"], ["2027-04-03"], None)
    assert calendar.is_working_day(date(2027, 4, 3)) and not calendar.is_working_day(date(2027, 4, 1))
    assert not calendar.is_working_day(date(2027, 4, 4))  # an ordinary Sunday
    # From Wednesday 31 March, 3 working days: Friday 2, Saturday 3 (worked), Monday 5.
    assert calendar.add_working_days(date(2027, 3, 31), 3) == date(2027, 4, 5)
    assert build([], [], None).add_working_days(date(2027, 3, 31), 3) == date(2027, 4, 5)  # Thu 1, Fri 2, Mon 5
    assert calendar.working_days_between(date(2027, 3, 31), date(2027, 4, 5)) == 3


def test_the_file_gives_the_same_calendar(tmp_path):
    path = tmp_path / "calendar.txt"
    path.write_text(CALENDAR, encoding="utf-8")
    assert build([], [], str(path)) == build(["2027-04-01"], ["2027-04-03"], None)


@pytest.mark.parametrize("text, said", [
    ("2027-04-01 holiday\n2027-04-31 holiday\n", "line 2: '2027-04-31' is not a date"),
    ("2027-04-01 day off\n", "line 1: expected 'YYYY-MM-DD holiday' or 'YYYY-MM-DD workday'"),
    ("2027-04-05 workday\n", "line 1: 2027-04-05 is a Monday, already a working day"),
    ("2027-04-03 workday\n2027-04-03 holiday\n", "line 2: 2027-04-03 is a holiday here but a workday in"),
])
def test_a_bad_file_is_refused_naming_the_line(tmp_path, text, said):
    path = tmp_path / "calendar.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        build([], [], str(path))
    assert said in str(caught.value) and str(path) in str(caught.value)


def test_bad_settings_and_a_missing_file_stop_the_start(tmp_path):
    for name, value, said in (
            ("APPLICATION_WORKDAYS", ("2027-04-06",), "APPLICATION_WORKDAYS: 2027-04-06 is a Tuesday"),
            ("APPLICATION_HOLIDAYS", ("1 April",), "APPLICATION_HOLIDAYS: '1 April' is not a date"),
            ("APPLICATION_CALENDAR_FILE", str(tmp_path / "none.txt"), "cannot be read")):
        cfg = config.TestingConfig()
        setattr(cfg, name, value)
        with pytest.raises(CalendarError) as caught:
            create_app(cfg, web=False, migrations=False)
        assert said in str(caught.value)


def test_deadlines_follow_the_configured_calendar(users, app, tmp_path):
    application = in_state("submitted", users, factories.standard(users.own))
    application.submitted_at = datetime(2027, 3, 29, 9, tzinfo=UTC)  # a Monday
    # 5 working days after Monday 29 March: Monday 5 April.
    assert services.deadline(application) == date(2027, 4, 5)
    assert services.age_working_days(application, date(2027, 4, 2)) == 4
    path = tmp_path / "calendar.txt"
    path.write_text(CALENDAR, encoding="utf-8")
    app.config["APPLICATION_CALENDAR_FILE"] = str(path)
    try:
        # Thursday 1 April off, Saturday 3 April worked: Tue 30, Wed 31, Fri 2, Sat 3, Mon 5.
        assert services.deadline(application) == date(2027, 4, 5)
        assert services.age_working_days(application, date(2027, 4, 2)) == 3
        assert services.age_working_days(application, date(2027, 4, 3)) == 4
        app.config["APPLICATION_WORKDAYS"] = ()
        app.config["APPLICATION_HOLIDAYS"] = ("2027-03-31",)
        # Wednesday 31 March off too: Tue 30, Fri 2, Sat 3, Mon 5, Tue 6.
        assert services.deadline(application) == date(2027, 4, 6)
        assert services.age_working_days(application, date(2027, 4, 6)) == 5
    finally:
        app.config["APPLICATION_CALENDAR_FILE"] = None
        app.config["APPLICATION_HOLIDAYS"] = ()
