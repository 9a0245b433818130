"""What the sender reads about a broadcast: its preview, its status, the report when it is done,
the list of recent ones. Each is built for one reader's locale (dates and language names are
formatted for it) and stays short enough for an ephemeral answer on any platform: long lists
are cut with "and N more"."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.broadcasts.audience import Audience, audience_label
from bot.broadcasts.timing import SenderZone, format_when
from bot.i18n import Message, _, _n, join_lines
from bot.languages import language_name
from storage.models import Broadcast, BroadcastTarget
from storage.models.broadcasts import (
    CHANNEL,
    CONFIRMED,
    DELIVERED,
    DISCARDED,
    DM,
    DRAFT,
    FAILED,
    NOWHERE,
    PENDING,
    SKIPPED,
    TARGET_CANCELLED,
    UNDELIVERABLE,
)
from storage.queries.broadcasts import Outcome

LISTED = 12
"""Names listed before "and N more"."""
DETAILED_TARGETS = 30
"""Up to this many destinations, the status lists each; beyond, only those not delivered."""
ICONS = {DELIVERED: "✅", FAILED: "❌", PENDING: "⏳", TARGET_CANCELLED: "🚫", SKIPPED: "⏭️", UNDELIVERABLE: "⚠️"}


@dataclass(frozen=True)
class Pending:
    """What the outbox says about a destination still pending: tries so far and the last error."""

    attempts: int
    last_error: str | None


def names_list(names: Sequence[str], limit: int = LISTED) -> Message:
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        return _n("{names} and {count} more", "{names} and {count} more", len(names) - limit, names=shown)
    return _("{names}", names=shown)


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def when_line(broadcast: Broadcast, locale: str) -> str:
    zone = ZoneInfo(broadcast.timezone)
    return f"{format_when(broadcast.send_at, zone, locale)} ({broadcast.timezone})"


# ---- preview -----------------------------------------------------------------------------------------


def preview_message(broadcast: Broadcast, targets: Sequence[BroadcastTarget], audience: Audience, zone: SenderZone,
                    locale: str, *, running: Iterable[str], sender_name: str) -> Message:
    assert broadcast.id is not None
    reachable = [t for t in targets if t.kind != NOWHERE]
    lines: list[Message | str] = [
        _("**Broadcast #{id}: preview**", id=broadcast.id),
        _("To: {audience} · {count}", audience=audience_label(audience.spec),
          count=_n("{count} destination", "{count} destinations", len(reachable))),
    ]
    lines += destination_lines(targets, locale)
    nowhere = [t.label for t in targets if t.kind == NOWHERE]
    if nowhere:
        lines.append(_("⚠️ Not reached (no channel and no registered coordinator): {names}",
                       names=names_list(nowhere)))
    if audience.unreached:
        lines.append(_n("Not reached: {count} city of the network has no channel of its own ({names}); group "
                        "channels are shared with other networks, so they are left out.",
                        "Not reached: {count} cities of the network have no channel of their own ({names}); "
                        "group channels are shared with other networks, so they are left out.",
                        len(audience.unreached), names=names_list(audience.unreached, 8)))
    idle = sorted({t.platform for t in reachable} - set(running))
    if idle:
        waiting = sum(1 for t in reachable if t.platform in idle)
        lines.append(_n("{count} destination is on {platforms}, which is not running now: it gets the broadcast "
                        "once it runs.",
                        "{count} destinations are on {platforms}, which is not running now: they get the broadcast "
                        "once it runs.", waiting, platforms=", ".join(idle)))
    if broadcast.scheduled:
        lines.append(_("When: {time} ({zone}, {why}).", time=format_when(broadcast.send_at, zone.zone, locale),
                       zone=zone.name, why=zone.why))
    else:
        lines.append(_("When: as soon as you confirm."))
    languages = sorted({t.language for t in reachable})
    lines.append(_("Translated once per language ({languages}) and posted as “{name}”.",
                   languages=", ".join(language_name(code, locale) for code in languages), name=sender_name))
    lines.append(quoted(broadcast.text))
    lines.append(_("Confirm within an hour, or the preview expires."))
    return join_lines(lines)


def destination_lines(targets: Sequence[BroadcastTarget], locale: str) -> list[Message | str]:
    """Channels grouped by platform and language, then the people reached by direct message."""
    by_group: dict[tuple[str, str], list[str]] = defaultdict(list)
    for target in targets:
        if target.kind == CHANNEL:
            by_group[(target.platform, target.language)].append(target.label)
    lines: list[Message | str] = []
    for (platform, language), labels in sorted(by_group.items()):
        lines.append(_("• {platform} · {language}: {channels}", platform=platform,
                       language=language_name(language, locale), channels=names_list(sorted(labels), 8)))
    people = [t.label for t in targets if t.kind == DM]
    if people:
        lines.append(_("• by direct message (their city has no channel of its own): {people}",
                       people=names_list(people)))
    return lines


# ---- status ---------------------------------------------------------------------------------------------


def state_line(broadcast: Broadcast, now: datetime, locale: str) -> Message:
    when = when_line(broadcast, locale)
    match broadcast.state:
        case "draft":
            return _("A preview that was never confirmed.")
        case "discarded":
            return _("A preview that was cancelled: nothing was sent.")
        case "cancelled":
            return _("Cancelled.")
        case "finished":
            return _("Done: sent {time}.", time=when)
    if broadcast.send_at > now:
        return _("Scheduled for {time}.", time=when)
    return _("Sending since {time}.", time=when)


def counts_line(outcomes: Sequence[Outcome]) -> Message:
    counts = Counter(o.state for o in outcomes)
    parts: list[Message] = [
        _n("{count} delivered", "{count} delivered", counts[DELIVERED]),
        _n("{count} failed", "{count} failed", counts[FAILED]),
        _n("{count} pending", "{count} pending", counts[PENDING]),
    ]
    if counts[TARGET_CANCELLED]:
        parts.append(_n("{count} cancelled", "{count} cancelled", counts[TARGET_CANCELLED]))
    if counts[SKIPPED]:
        parts.append(_n("{count} skipped", "{count} skipped", counts[SKIPPED]))
    if counts[UNDELIVERABLE]:
        parts.append(_n("{count} undeliverable", "{count} undeliverable", counts[UNDELIVERABLE]))
    return Message(" · ".join("{p" + str(index) + "}" for index in range(len(parts))),
                   {f"p{index}": part for index, part in enumerate(parts)})


def target_line(outcome: Outcome, broadcast: Broadcast, locale: str, pending: Pending | None, *,
                waiting: bool = False) -> Message:
    target, state = outcome.target, outcome.state
    what: Message
    if state == DELIVERED:
        if outcome.version < broadcast.version:
            what = (_("delivered; its edit failed: {reason}", reason=target.reason) if target.reason
                    else _("delivered; edit on its way"))
        elif broadcast.version > 1:
            what = _("delivered and edited")
        else:
            what = _("delivered")
    elif state == FAILED:
        what = _("failed: {reason}", reason=target.reason or "?")
    elif state == PENDING:
        if pending is not None and pending.attempts and pending.last_error:
            what = _n("pending, retrying after {count} failed try ({reason})",
                      "pending, retrying after {count} failed tries ({reason})", pending.attempts,
                      reason=pending.last_error)
        else:
            what = _("scheduled") if waiting else _("pending")
    elif state == TARGET_CANCELLED:
        what = _("cancelled")
    elif state == SKIPPED:
        what = _("skipped: {reason}", reason=target.reason or "?")
    else:
        what = _("undeliverable: no channel and no registered coordinator")
    label = target.label if target.kind != CHANNEL else f"{target.label} ({target.platform})"
    return _("{icon} {destination} · {language}: {what}", icon=ICONS.get(state, "•"), destination=label,
             language=language_name(target.language, locale), what=what)


def status_message(broadcast: Broadcast, outcomes: Sequence[Outcome], locale: str, now: datetime, *,
                   pending: Mapping[int, Pending] | None = None) -> Message:
    assert broadcast.id is not None
    pending = pending or {}
    lines: list[Message | str] = [
        _("**Broadcast #{id}** to {audience}, from {sender}", id=broadcast.id,
          audience=audience_label(broadcast.audience), sender=broadcast.sender_name),
        state_line(broadcast, now, locale),
    ]
    if broadcast.state not in (DRAFT, DISCARDED):
        lines.append(counts_line(outcomes))
        waiting = broadcast.state == CONFIRMED and broadcast.send_at > now
        lines += detail_lines(broadcast, outcomes, locale, pending, waiting=waiting)
    if broadcast.version > 1:
        lines.append(_n("Edited once.", "Edited {count} times.", broadcast.version - 1))
    lines.append(quoted(broadcast.text if len(broadcast.text) <= 300 else broadcast.text[:299] + "…"))
    return join_lines(lines)


def detail_lines(broadcast: Broadcast, outcomes: Sequence[Outcome], locale: str,
                 pending: Mapping[int, Pending], *, waiting: bool = False) -> list[Message | str]:
    shown = list(outcomes)
    hidden: list[Outcome] = []
    if len(outcomes) > DETAILED_TARGETS:
        shown = [o for o in outcomes if o.state != DELIVERED or o.version < broadcast.version]
        hidden = [o for o in outcomes if o not in shown]
    lines: list[Message | str] = [target_line(o, broadcast, locale, pending.get(o.target.id or 0), waiting=waiting)
                                  for o in shown[:DETAILED_TARGETS]]
    if len(shown) > DETAILED_TARGETS:
        lines.append(_n("… and {count} more not delivered yet.", "… and {count} more not delivered yet.",
                        len(shown) - DETAILED_TARGETS))
    if hidden:
        per_platform = Counter(o.target.platform for o in hidden)
        lines.append(_("✅ Delivered, not listed one by one: {counts}.",
                       counts=", ".join(f"{platform} {count}" for platform, count in sorted(per_platform.items()))))
    return lines


# ---- the report when it is done, and the list ------------------------------------------------------


def report_message(broadcast: Broadcast, outcomes: Sequence[Outcome], locale: str) -> Message:
    assert broadcast.id is not None
    counts = Counter(o.state for o in outcomes)
    lines: list[Message | str] = [
        _("Broadcast #{id} to {audience} is done: {delivered} delivered, {failed} failed.", id=broadcast.id,
          audience=audience_label(broadcast.audience), delivered=counts[DELIVERED], failed=counts[FAILED]),
    ]
    problems = [o for o in outcomes if o.state in (FAILED, SKIPPED, UNDELIVERABLE)]
    lines += [target_line(o, broadcast, locale, None) for o in problems[:LISTED]]
    if len(problems) > LISTED:
        lines.append(_n("… and {count} more.", "… and {count} more.", len(problems) - LISTED))
    lines.append(_("`/icc broadcast status {id}` shows every destination.", id=broadcast.id))
    return join_lines(lines)


def list_message(broadcasts: Sequence[Broadcast], counts: Mapping[int, Counter[str]], locale: str,
                 now: datetime) -> Message:
    if not broadcasts:
        return _("No broadcast has been sent yet. `/icc broadcast <text>` prepares one.")
    lines: list[Message | str] = [_("Recent broadcasts:")]
    for broadcast in broadcasts:
        assert broadcast.id is not None
        tally = counts.get(broadcast.id, Counter())
        lines.append(_("• #{id} {audience} · {state} · {delivered}/{total} delivered · from {sender}: {excerpt}",
                       id=broadcast.id, audience=audience_label(broadcast.audience),
                       state=state_line(broadcast, now, locale), delivered=tally[DELIVERED],
                       total=sum(n for state, n in tally.items() if state != UNDELIVERABLE),
                       sender=broadcast.sender_name, excerpt=excerpt(broadcast.text)))
    return join_lines(lines)


def excerpt(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"
