"""Who is asking, where, in which language, with which rights: what a handler gets to work with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.i18n import Text, render
from bot.outbound import Button, Form, Responder
from bot.permissions import Access, PersonRoles, Scope, allows

if TYPE_CHECKING:
    from bot.commands import Args, CommandSpec
    from bot.core import Bot
    from bot.events import CommandInvoked
    from storage.models import Channel, Person


@dataclass
class Interaction:
    bot: Bot
    person: Person
    channel: Channel | None
    roles: PersonRoles
    locale: str
    responder: Responder | None = None
    can_open_form: bool = False

    @property
    def person_id(self) -> int:
        assert self.person.id is not None
        return self.person.id

    def t(self, text: Text) -> str:
        return render(text, self.locale)

    async def reply(self, text: Text, *, ephemeral: bool = True, buttons: Sequence[Button] = ()) -> None:
        if self.responder is None:
            return
        await self.responder.reply(render(text, self.locale), ephemeral=ephemeral,
                                   buttons=tuple(button.rendered(self.locale) for button in buttons))

    async def open_form(self, form: Form) -> None:
        assert self.responder is not None and self.can_open_form
        await self.responder.open_form(form.rendered(self.locale))

    def allows(self, access: Access, *, group_id: int | None = None, city_id: int | None = None,
               owner_person_id: int | None = None) -> bool:
        scope = Scope(group_id=group_id, city_id=city_id, owner_person_id=owner_person_id,
                      person_id=self.person.id)
        return allows(access, self.roles, scope)


@dataclass
class CommandContext(Interaction):
    spec: CommandSpec | None = None
    args: Args | None = None
    event: CommandInvoked | None = None

    def arg(self, name: str, default: object = None) -> object:
        assert self.args is not None
        return self.args.get(name, default)

    def text_arg(self, name: str, default: str = "") -> str:
        value = self.arg(name, default)
        return str(value) if value is not None else default
