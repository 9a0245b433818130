"""Every command × every role, from one table: a new command cannot land without a row here."""

import pytest

from bot.permissions import RULES, PersonRoles, Scope, allows

GROUP, OTHER_GROUP, CITY, OTHER_CITY, AUTHOR_ID, SOMEONE_ID = 10, 11, 20, 21, 30, 31

PERSONAS: dict[str, tuple[PersonRoles, int]] = {
    "stranger": (PersonRoles(), SOMEONE_ID),
    "coordinator": (PersonRoles(coordinator_of=frozenset({CITY})), SOMEONE_ID),
    "other-coordinator": (PersonRoles(coordinator_of=frozenset({OTHER_CITY})), SOMEONE_ID),
    "lead": (PersonRoles(lead_of=frozenset({GROUP})), SOMEONE_ID),
    "other-lead": (PersonRoles(lead_of=frozenset({OTHER_GROUP})), SOMEONE_ID),
    "author": (PersonRoles(), AUTHOR_ID),
    "icc": (PersonRoles(icc_team=True), SOMEONE_ID),
}
EVERYONE = set(PERSONAS)
COORDINATORS_AND_UP = {"coordinator", "other-coordinator", "lead", "other-lead", "icc"}
CITY_ONLY = {"coordinator", "icc"}
LEADS = {"lead", "icc"}
AUTHOR = {"author", "icc"}
ICC = {"icc"}

# Who may run each command when it concerns group GROUP, city CITY and a record by AUTHOR_ID.
EXPECTED: dict[tuple[str, str | None], set[str]] = {
    ("help", None): EVERYONE,
    ("lang", None): LEADS,
    ("lang", "me"): EVERYONE,
    ("group", "create"): ICC,
    ("group", "link"): LEADS,
    ("group", "unlink"): LEADS,
    ("group", "list"): EVERYONE,
    ("group", "members"): EVERYONE,
    ("group", "join"): CITY_ONLY,
    ("group", "leave"): CITY_ONLY,
    ("city", "register"): EVERYONE,
    ("city", "show"): EVERYONE,
    ("city", "list"): EVERYONE,
    ("city", "set"): CITY_ONLY,
    ("role", "grant"): ICC,
    ("role", "revoke"): ICC,
    ("role", "list"): EVERYONE,
    ("translate", None): EVERYONE,
    ("practice", "add"): COORDINATORS_AND_UP,
    ("practice", "search"): EVERYONE,
    ("practice", "list"): EVERYONE,
    ("practice", "show"): EVERYONE,
    ("practice", "edit"): AUTHOR,
    ("practice", "submit"): AUTHOR,
    ("practice", "delete"): ICC,
    ("practice", "review"): ICC,
    ("practice", "publish"): ICC,
    ("practice", "export"): ICC,
    ("deadline", "add"): ICC,
    ("deadline", "edit"): ICC,
    ("deadline", "cancel"): ICC,
    ("deadline", "list"): EVERYONE,
    ("deadline", "show"): EVERYONE,
    ("deadline", "done"): CITY_ONLY,
    ("deadline", "snooze"): CITY_ONLY,
    ("deadline", "reopen"): CITY_ONLY,
    ("deadline", "status"): ICC,
    ("broadcast", None): ICC,
    ("broadcast", "status"): ICC,
    ("broadcast", "cancel"): ICC,
    ("broadcast", "edit"): ICC,
    ("broadcast", "list"): ICC,
    ("match", None): EVERYONE,
    ("usage", None): ICC,
    ("report", "failures"): ICC,
}


def test_the_table_covers_every_rule() -> None:
    assert set(EXPECTED) == set(RULES)


@pytest.mark.parametrize("command", sorted(RULES, key=lambda key: (key[0], key[1] or "")),
                         ids=lambda key: " ".join(filter(None, key)))
def test_command_by_role(command: tuple[str, str | None]) -> None:
    allowed = {name for name, (roles, person_id) in PERSONAS.items()
               if allows(RULES[command], roles, Scope(group_id=GROUP, city_id=CITY, owner_person_id=AUTHOR_ID,
                                                      person_id=person_id))}
    assert allowed == EXPECTED[command]


def test_group_lead_commands_without_a_group_need_some_lead_role() -> None:
    from bot.permissions import Access

    assert allows(Access.GROUP_LEAD, PersonRoles(lead_of=frozenset({OTHER_GROUP})), Scope())
    assert not allows(Access.GROUP_LEAD, PersonRoles(coordinator_of=frozenset({CITY})), Scope())


async def test_every_registered_command_has_a_rule(sqlite_url: str) -> None:
    from bot.app import create_bot
    from bot.settings import Settings

    bot = await create_bot(Settings(_env_file=None, database_url=sqlite_url), migrate=False)
    registered = {(spec.area, spec.verb) for spec in bot.commands}
    await bot.db.dispose()
    assert registered and registered <= set(RULES)
