"""`/icc role …`: the ICC team grants and revokes roles; anyone can see who holds them."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import Param, UsageError
from bot.context import CommandContext
from bot.core import Bot
from bot.i18n import Message, _, join_lines
from bot.lookups import city_named, group_named, person_named
from bot.people import is_configured_admin
from bot.permissions import Role
from storage.models import Group, Person
from storage.queries import registry

ROLES = tuple(role.value for role in Role)


def setup(bot: Bot) -> None:
    params = (Param("person", _("the person, as a mention"), positional=True, required=True, kind="person",
                    complete="person"),
              Param("role", _("icc-team, group-lead or coordinator"), positional=True, required=True,
                    choices=ROLES, complete="role"),
              Param("group", _("the group (for group-lead)"), complete="group"),
              Param("city", _("the city (for coordinator)"), complete="city"))
    bot.commands.command("role", "grant", summary=_("Give someone a role."),
                         usage="/icc role grant <person> icc-team|group-lead|coordinator "
                               "[group=<group>] [city=<city>]", params=params)(grant)
    bot.commands.command("role", "revoke", summary=_("Take a role away."),
                         usage="/icc role revoke <person> icc-team|group-lead|coordinator [group=<group>]",
                         params=params)(revoke)
    bot.commands.command("role", "list", summary=_("Show who holds which role."),
                         usage="/icc role list")(list_roles)


def role_label(role: str) -> Message:
    return {Role.ICC_TEAM: _("ICC team"), Role.GROUP_LEAD: _("group lead"),
            Role.COORDINATOR: _("coordinator")}[Role(role)]


async def grant(ctx: CommandContext) -> None:
    role = ctx.text_arg("role")
    async with ctx.bot.db.session() as session:
        person = await person_named(session, ctx, ctx.text_arg("person"))
        assert person.id is not None
        if role == Role.COORDINATOR:
            if not ctx.arg("city"):
                raise UsageError(_("Name the city: `city=<city>`."), ctx.spec)
            city = await city_named(session, ctx.text_arg("city"))
            target = await session.get(Person, person.id)
            assert target is not None
            changed = target.city_id != city.id
            target.city_id = city.id
            session.add(target)
            scope_text: Message | str = city.name
        else:
            group = await _group_for(session, ctx, role)
            changed = await registry.grant_role(session, person.id, role, group_id=group.id if group else None,
                                                granted_by_id=ctx.person_id, now=ctx.bot.clock.now())
            scope_text = group.slug if group else _("the whole network")
    answer = (_("{person} is now {role} ({scope}).", person=person.display_name, role=role_label(role),
                scope=scope_text) if changed else
              _("{person} already was {role} ({scope}).", person=person.display_name, role=role_label(role),
                scope=scope_text))
    await ctx.reply(answer)


async def revoke(ctx: CommandContext) -> None:
    role = ctx.text_arg("role")
    async with ctx.bot.db.session() as session:
        person = await person_named(session, ctx, ctx.text_arg("person"))
        assert person.id is not None
        if role == Role.ICC_TEAM and is_configured_admin(person, ctx.bot.settings.admins):
            raise UsageError(_("{person} is in the ICC team through the ICC_ADMINS setting; remove them there.",
                               person=person.display_name))
        if role == Role.COORDINATOR:
            target = await session.get(Person, person.id)
            assert target is not None
            changed = target.city_id is not None
            target.city_id = None
            session.add(target)
        else:
            group = await _group_for(session, ctx, role)
            changed = await registry.revoke_role(session, person.id, role, group_id=group.id if group else None)
    answer = (_("{person} is no longer {role}.", person=person.display_name, role=role_label(role)) if changed
              else _("{person} was not {role}.", person=person.display_name, role=role_label(role)))
    await ctx.reply(answer)


async def _group_for(session: AsyncSession, ctx: CommandContext, role: str) -> Group | None:
    if role == Role.GROUP_LEAD:
        if not ctx.arg("group"):
            raise UsageError(_("Name the group: `group=<group>`."), ctx.spec)
        return await group_named(session, ctx.text_arg("group"))
    if ctx.arg("group"):
        raise UsageError(_("`group=` only goes with group-lead."), ctx.spec)
    return None


async def list_roles(ctx: CommandContext) -> None:
    async with ctx.bot.db.session() as session:
        grants = await registry.all_grants(session)
        people = await registry.people_by_ids(session, [g.person_id for g in grants])
        groups = {summary.group.id: summary.group for summary in await registry.list_groups(session)}
    admins = sorted(ctx.bot.settings.admins, key=lambda a: (a.platform, a.user))
    team = sorted({people[g.person_id].display_name for g in grants if g.role == Role.ICC_TEAM}
                  | {f"{a.platform}:{a.user}" for a in admins})
    leads: dict[str, list[str]] = {}
    for g in grants:
        if g.role == Role.GROUP_LEAD and g.group_id in groups:
            leads.setdefault(groups[g.group_id].slug, []).append(people[g.person_id].display_name)
    lines: list[Message | str] = [_("ICC team: {names}", names=", ".join(team) or "—")]
    if leads:
        lines.append(_("Group leads:"))
        lines += [f"• {slug}: {', '.join(sorted(names))}" for slug, names in sorted(leads.items())]
    else:
        lines.append(_("Group leads: none yet"))
    lines.append(_("Coordinators are the people who registered a city: see `/icc city show <city>`."))
    await ctx.reply(join_lines(lines))
