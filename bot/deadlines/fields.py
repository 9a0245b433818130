"""A deadline's fields as the ICC team types them (inline options or a form), checked before
anything is stored: each problem names its field and says what would be right."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.deadlines.planning import (
    MAX_PLAN_STEPS,
    MAX_STEP_DAYS,
    PlanningError,
    parse_due,
    parse_plan,
    parse_repeat,
    parse_time,
)
from bot.i18n import Message, _

MAX_TITLE = 120
MAX_DESCRIPTION = 1000
MAX_LINK = 500
FIELDS = ("title", "due", "audience", "description", "link", "repeat", "plan", "time")
_LINK = re.compile(r"^https?://[^\s<>]+\.[^\s<>]+$", re.IGNORECASE)


class FieldError(ValueError):
    def __init__(self, field: str, message: Message) -> None:
        super().__init__(field)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DeadlineFields:
    """What was given (None: not given, keep what is there)."""

    title: str | None = None
    due: date | None = None
    audience: str | None = None
    description: str | None = None
    link: str | None = None
    repeat: str | None = None
    repeat_given: bool = False
    plan: tuple[int, ...] | None = None
    remind_at: time | None = None

    @property
    def replans(self) -> bool:
        return self.due is not None or self.plan is not None or self.remind_at is not None


def parse_fields(values: Mapping[str, str | None], *, today: date) -> DeadlineFields:
    """Check every given field; raise FieldError for the first wrong one."""

    def given(name: str) -> str | None:
        value = values.get(name)
        return None if value is None else str(value).strip()

    title = given("title")
    if title is not None:
        if not title:
            raise FieldError("title", _("A deadline needs a title."))
        if len(title) > MAX_TITLE:
            raise FieldError("title", _("A title has at most {max} characters; this one has {count}.",
                                        max=MAX_TITLE, count=len(title)))
    due = None
    if (text := given("due")) is not None:
        try:
            due = parse_due(text)
        except PlanningError:
            raise FieldError("due", _("`{value}` is not a date. Write it as YYYY-MM-DD, for example {example}.",
                                      value=text[:40], example=(today + timedelta(days=30)).isoformat())) from None
        if due < today:
            raise FieldError("due", _("The due date {date} has already passed (today is {today}). Give a date from "
                                      "today on.", date=due.isoformat(), today=today.isoformat()))
    description = given("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise FieldError("description", _("A description has at most {max} characters; this one has {count}.",
                                          max=MAX_DESCRIPTION, count=len(description)))
    link = given("link")
    if link and (len(link) > MAX_LINK or not _LINK.match(link)):
        raise FieldError("link", _("`{value}` is not a link. Give a full address starting with https://.",
                                   value=link[:80]))
    repeat = None
    repeat_text = given("repeat")
    if repeat_text is not None:
        try:
            repeat = parse_repeat(repeat_text)
        except PlanningError:
            raise FieldError("repeat", _("`{value}` is not a repetition. Use `yearly`, `every-<n>-months` (n from 1 "
                                         "to 24) or `none`.", value=repeat_text[:40])) from None
    plan = None
    if (text := given("plan")) is not None:
        try:
            plan = parse_plan(text)
        except PlanningError:
            raise FieldError("plan", _("`{value}` is not a reminder plan. List days from the due date, negative "
                                       "before it, like `-14,-7,-1,0,3,7` (at most {steps} steps, within {days} "
                                       "days).", value=text[:60], steps=MAX_PLAN_STEPS, days=MAX_STEP_DAYS)) from None
    remind_at = None
    if (text := given("time")) is not None:
        try:
            remind_at = parse_time(text)
        except PlanningError:
            raise FieldError("time", _("`{value}` is not a reminder time. Give a local time between 07:00 and 19:00, "
                                       "like `09:30`.", value=text[:20])) from None
    return DeadlineFields(title=title, due=due, audience=given("audience") or None, description=description,
                          link=link, repeat=repeat, repeat_given=repeat_text is not None, plan=plan,
                          remind_at=remind_at)
