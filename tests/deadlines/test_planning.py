"""When reminders go out: local 09:30 on working days, across daylight-saving changes, in each
city's own calendar; what a late creation, a weekend or a snooze does to the plan."""

from datetime import UTC, date, datetime, time

import pytest

from bot.deadlines.planning import (
    DEFAULT_PLAN,
    PlanningError,
    add_months,
    next_occurrence,
    next_working_hour,
    parse_due,
    parse_plan,
    parse_repeat,
    parse_time,
    plan_city,
    snooze_end,
)

AT = time(9, 30)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def planned(due: date, zone: str, now: datetime) -> dict[int, datetime]:
    return {p.step: p.due_at for p in plan_city(due, DEFAULT_PLAN, zone, AT, now) if p.skipped is None}


def test_lisbon_keeps_0930_across_the_march_change() -> None:
    # Portugal moves from WET (UTC+0) to WEST (UTC+1) on Sunday 28 March 2027.
    steps = planned(date(2027, 4, 5), "Europe/Lisbon", utc(2027, 3, 1))
    assert steps == {
        -14: utc(2027, 3, 22, 9, 30),   # Monday, still winter time
        -7: utc(2027, 3, 29, 8, 30),    # Monday after the change: 09:30 WEST
        -1: utc(2027, 4, 2, 8, 30),     # Sunday 4 April → Friday 2 April
        0: utc(2027, 4, 5, 8, 30),
        3: utc(2027, 4, 8, 8, 30),
        7: utc(2027, 4, 12, 8, 30),
    }


def test_rome_keeps_0930_across_the_october_change() -> None:
    # Italy leaves CEST (UTC+2) for CET (UTC+1) on Sunday 31 October 2027.
    steps = planned(date(2027, 11, 3), "Europe/Rome", utc(2027, 10, 1))
    assert steps[-7] == utc(2027, 10, 27, 7, 30)
    assert steps[-1] == utc(2027, 11, 2, 8, 30)
    assert steps[0] == utc(2027, 11, 3, 8, 30)


def test_melbourne_keeps_0930_when_its_summer_time_ends() -> None:
    # Victoria leaves AEDT (UTC+11) for AEST (UTC+10) on Sunday 4 April 2027.
    steps = planned(date(2027, 4, 5), "Australia/Melbourne", utc(2027, 3, 1))
    assert steps[-14] == utc(2027, 3, 21, 22, 30)   # Monday 22 March 09:30 AEDT
    assert steps[-1] == utc(2027, 4, 1, 22, 30)     # Friday 2 April 09:30 AEDT
    assert steps[0] == utc(2027, 4, 4, 23, 30)      # Monday 5 April 09:30 AEST


def test_weekend_steps_move_before_the_due_date_and_after_when_overdue() -> None:
    # Due Saturday 16 January 2027: "on the day" and "the day before" both land on Friday 15,
    # where only the later one is kept; +3 (Tuesday 19) stays; +7 (Saturday 23) moves to Monday 25.
    plan = {p.step: p for p in plan_city(date(2027, 1, 16), DEFAULT_PLAN, "Europe/Paris", AT, utc(2026, 12, 1))}
    assert plan[-1].skipped == "superseded" and plan[-1].planned_at == plan[0].planned_at
    assert plan[0].due_at == utc(2027, 1, 15, 8, 30) and plan[0].skipped is None
    assert plan[3].due_at == utc(2027, 1, 19, 8, 30)
    assert plan[7].due_at == utc(2027, 1, 25, 8, 30)


def test_a_friday_saturday_weekend_is_respected() -> None:
    # In Israel the weekend is Friday and Saturday: a step on Friday moves to Thursday.
    steps = planned(date(2027, 1, 22), "Asia/Jerusalem", utc(2026, 12, 1))   # due Friday
    assert steps[0] == utc(2027, 1, 21, 7, 30)   # Thursday 09:30 IST


def test_a_deadline_created_late_reaches_each_city_once_at_a_sane_hour() -> None:
    # Created on Wednesday 13 January 2027 at 15:00 UTC, due Wednesday 20: -14 and -7 have passed.
    now = utc(2027, 1, 13, 15)
    paris = {p.step: p for p in plan_city(date(2027, 1, 20), DEFAULT_PLAN, "Europe/Paris", AT, now)}
    assert paris[-14].skipped == "before-creation"
    assert paris[-7].skipped is None and paris[-7].due_at == now   # 16:00 in Paris: still the working day
    assert paris[-1].due_at == utc(2027, 1, 19, 8, 30)
    tokyo = {p.step: p for p in plan_city(date(2027, 1, 20), DEFAULT_PLAN, "Asia/Tokyo", AT, now)}
    assert tokyo[-7].due_at == utc(2027, 1, 14, 0, 30)   # midnight in Tokyo: the next morning at 09:30
    # Created the evening before the -1 step: a late -7 would come together with it, so it is dropped.
    evening = utc(2027, 1, 18, 18)
    late = {p.step: p for p in plan_city(date(2027, 1, 20), DEFAULT_PLAN, "Europe/Paris", AT, evening)}
    assert late[-7].skipped == "before-creation" and late[-1].skipped is None


def test_working_hours_and_snooze_ends() -> None:
    friday_evening = utc(2027, 1, 15, 18)
    assert next_working_hour(friday_evening, "Europe/Paris", AT) == utc(2027, 1, 18, 8, 30)
    assert snooze_end(friday_evening, 1, "Europe/Paris", AT) == utc(2027, 1, 18, 8, 30)   # Saturday → Monday
    assert snooze_end(utc(2027, 1, 12, 10), 7, "Europe/Paris", AT) == utc(2027, 1, 19, 8, 30)


def test_snoozed_steps_wait_for_the_snooze_end() -> None:
    until = utc(2027, 1, 21, 8, 30)
    plan = {p.step: p for p in plan_city(date(2027, 1, 22), DEFAULT_PLAN, "Europe/Paris", AT, utc(2027, 1, 1),
                                         snoozed_until=until)}
    assert plan[-14].due_at == until and plan[-7].due_at == until and plan[-1].due_at == until
    assert plan[0].due_at == utc(2027, 1, 22, 8, 30)


def test_months_keep_their_day() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 2, 28), 1, anchor_day=31) == date(2027, 3, 31)
    assert add_months(date(2027, 11, 15), 2) == date(2028, 1, 15)
    assert next_occurrence(date(2027, 3, 31), "yearly", 31, not_before=date(2027, 4, 1)) == date(2028, 3, 31)
    # Far behind (the bot was off for months): the next occurrence is the first one still to come.
    assert next_occurrence(date(2027, 1, 10), "every-2-months", 10, not_before=date(2027, 8, 1)) == date(2027, 9, 10)


def test_what_the_icc_team_types() -> None:
    assert parse_due("2027-03-31") == date(2027, 3, 31)
    for bad in ("2027-13-40", "tomorrow", "31/03/2027", "2027-3-31", ""):
        with pytest.raises(PlanningError):
            parse_due(bad)
    assert parse_plan("-14, -7,-1,0,3,7,7") == (-14, -7, -1, 0, 3, 7)
    for bad in ("", "soon", "-400", ",".join(str(n) for n in range(11))):
        with pytest.raises(PlanningError):
            parse_plan(bad)
    assert parse_repeat("yearly") == "yearly" and parse_repeat("every-2-months") == "every-2-months"
    assert parse_repeat("none") is None
    for bad in ("weekly", "every-0-months", "every-25-months"):
        with pytest.raises(PlanningError):
            parse_repeat(bad)
    assert parse_time("9:30") == time(9, 30)
    for bad in ("03:00", "25:00", "9h30", "19:01"):
        with pytest.raises(PlanningError):
            parse_time(bad)
