"""From a platform identity to a person of the network: their record, roles and language."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.permissions import PersonRoles, Role
from bot.settings import AdminId
from storage.models import Person
from storage.queries import registry


async def roles_of(session: AsyncSession, person: Person, admins: Iterable[AdminId]) -> PersonRoles:
    assert person.id is not None
    grants = await registry.grants_of(session, person.id)
    icc_team = is_configured_admin(person, admins) or any(g.role == Role.ICC_TEAM for g in grants)
    lead_of = frozenset(g.group_id for g in grants if g.role == Role.GROUP_LEAD and g.group_id is not None)
    coordinator_of = frozenset({person.city_id}) if person.city_id is not None else frozenset()
    return PersonRoles(icc_team=icc_team, lead_of=lead_of, coordinator_of=coordinator_of)


def is_configured_admin(person: Person, admins: Iterable[AdminId]) -> bool:
    return AdminId(person.platform, person.user_id) in set(admins)
