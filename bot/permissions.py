"""Who may do what: the one place that decides.

Every command has a rule here (a test fails when a registered command has none), and handlers
that need a finer check (the author of a practice, the coordinator of a city) ask `allows` with
the scope they know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    COORDINATOR = "coordinator"
    GROUP_LEAD = "group-lead"
    ICC_TEAM = "icc-team"


class Access(StrEnum):
    ANYONE = "anyone"
    """Everyone who can type in a channel the bot is in."""
    COORDINATOR = "coordinator"
    """A registered city coordinator, a group lead or the ICC team."""
    CITY_COORDINATOR = "city-coordinator"
    """A coordinator of the city concerned, or the ICC team."""
    GROUP_LEAD = "group-lead"
    """A lead of the group concerned (any group when none is concerned yet), or the ICC team."""
    AUTHOR = "author"
    """The person who made the record concerned, or the ICC team."""
    ICC_TEAM = "icc-team"


@dataclass(frozen=True)
class PersonRoles:
    """What one person is, gathered from grants, their city and `ICC_ADMINS`."""

    icc_team: bool = False
    lead_of: frozenset[int] = field(default_factory=frozenset)
    coordinator_of: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_coordinator(self) -> bool:
        return bool(self.coordinator_of)


@dataclass(frozen=True)
class Scope:
    """What the action is about, as far as the caller knows."""

    group_id: int | None = None
    city_id: int | None = None
    owner_person_id: int | None = None
    person_id: int | None = None


# (area, verb) → access; verb None is the area's default form (`/icc translate …`).
RULES: dict[tuple[str, str | None], Access] = {
    ("help", None): Access.ANYONE,
    ("lang", None): Access.GROUP_LEAD,
    ("lang", "me"): Access.ANYONE,
    ("group", "create"): Access.ICC_TEAM,
    ("group", "link"): Access.GROUP_LEAD,
    ("group", "unlink"): Access.GROUP_LEAD,
    ("group", "list"): Access.ANYONE,
    ("group", "members"): Access.ANYONE,
    ("group", "join"): Access.CITY_COORDINATOR,
    ("group", "leave"): Access.CITY_COORDINATOR,
    ("city", "register"): Access.ANYONE,
    ("city", "show"): Access.ANYONE,
    ("city", "list"): Access.ANYONE,
    ("city", "set"): Access.CITY_COORDINATOR,
    ("role", "grant"): Access.ICC_TEAM,
    ("role", "revoke"): Access.ICC_TEAM,
    ("role", "list"): Access.ANYONE,
    ("translate", None): Access.ANYONE,
    ("practice", "add"): Access.COORDINATOR,
    ("practice", "search"): Access.ANYONE,
    ("practice", "list"): Access.ANYONE,
    ("practice", "show"): Access.ANYONE,
    ("practice", "edit"): Access.AUTHOR,
    ("practice", "submit"): Access.AUTHOR,
    ("practice", "delete"): Access.ICC_TEAM,
    ("practice", "review"): Access.ICC_TEAM,
    ("practice", "publish"): Access.ICC_TEAM,
    ("practice", "export"): Access.ICC_TEAM,
    ("deadline", "add"): Access.ICC_TEAM,
    ("deadline", "edit"): Access.ICC_TEAM,
    ("deadline", "cancel"): Access.ICC_TEAM,
    ("deadline", "list"): Access.ANYONE,
    ("deadline", "show"): Access.ANYONE,
    ("deadline", "done"): Access.CITY_COORDINATOR,
    ("deadline", "snooze"): Access.CITY_COORDINATOR,
    ("deadline", "reopen"): Access.CITY_COORDINATOR,
    ("deadline", "status"): Access.ICC_TEAM,
    ("broadcast", None): Access.ICC_TEAM,
    ("broadcast", "status"): Access.ICC_TEAM,
    ("broadcast", "cancel"): Access.ICC_TEAM,
    ("broadcast", "edit"): Access.ICC_TEAM,
    ("broadcast", "list"): Access.ICC_TEAM,
    ("match", None): Access.ANYONE,
    ("usage", None): Access.ICC_TEAM,
    ("report", "failures"): Access.ICC_TEAM,
}


def allows(access: Access, roles: PersonRoles, scope: Scope | None = None) -> bool:
    scope = scope or Scope()
    if roles.icc_team:
        return True
    match access:
        case Access.ANYONE:
            return True
        case Access.ICC_TEAM:
            return False
        case Access.COORDINATOR:
            return roles.is_coordinator or bool(roles.lead_of)
        case Access.CITY_COORDINATOR:
            if scope.city_id is None:
                return roles.is_coordinator
            return scope.city_id in roles.coordinator_of
        case Access.GROUP_LEAD:
            if scope.group_id is None:
                return bool(roles.lead_of)
            return scope.group_id in roles.lead_of
        case Access.AUTHOR:
            return scope.owner_person_id is not None and scope.owner_person_id == scope.person_id
    return False


def rule_for(area: str, verb: str | None) -> Access:
    try:
        return RULES[(area, verb)]
    except KeyError:
        raise LookupError(f"no permission rule for /icc {area} {verb or ''}".rstrip()) from None
