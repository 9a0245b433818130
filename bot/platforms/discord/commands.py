"""The `/icc` app-command tree, generated from the core's command registry.

Each area becomes a sub-command group (`/icc group link`), or a sub-command when it has only
its default form (`/icc help`, `/icc translate`); an area's default form where others exist is
the sub-command named by its `alias` (`/icc lang channel`, `/icc broadcast send`). Parameters
become typed options: a person is a user option, a number an integer option, a fixed set of
values a choice list, and a `complete=` source is autocompleted by `bot.completion`.

Invoking a command does not interpret the options: they are written back into the words a
person would type after `/icc` (values quoted, people as `<@id>`) and the core parses that text,
so the grammar has one source of truth on every platform. Descriptions are English, with the
French (and any other catalog's) wording attached as Discord localisations.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.commands import CommandRegistry, CommandSpec, Param
from bot.completion import Completer
from bot.i18n import Message, _, available_locales, normalize_language, render, resolve_locale

if TYPE_CHECKING:
    from bot.platforms.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

ROOT = "icc"
ROOT_DESCRIPTION = _("The Intercultural Cities bot: groups, cities, deadlines, practices, translation.")
TRANSLATE_MENU = _("Translate")
MAX_CHILDREN = 25
MAX_OPTIONS = 25
DESCRIPTION_LIMIT = 100
_OPTION_NAME = re.compile(r"^[-_a-z0-9]{1,32}$")
# Pairs the core's tokenizer accepts (bot/grammar.py), tried in order until one fits the value.
_QUOTES = (('"', '"'), ("'", "'"), ("«", "»"), ("“", "”"))


def clip(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def described(message: Message) -> app_commands.locale_str:
    """English text for Discord, with the message kept for the translator."""
    return app_commands.locale_str(clip(render(message, "en")) or "…", message=message)


def option_name(name: str) -> str:
    name = re.sub(r"[^-_a-z0-9]", "-", name.lower())[:32] or "value"
    assert _OPTION_NAME.match(name)
    return name


# ---- from options to the words after /icc ------------------------------------------------------


def quote(value: str) -> str:
    for opening, closing in _QUOTES:
        if closing not in value and opening not in value:
            return f"{opening}{value}{closing}"
    return '"' + value.replace('"', "”") + '"'


def invocation_text(words: Sequence[str], spec: CommandSpec, values: dict[str, str]) -> str:
    """The text a person would type after `/icc` for these option values."""
    parts = list(words)
    rest_value: str | None = None
    rest_param = next((param for param in spec.params if param.rest), None)
    for param in spec.params:
        value = values.get(param.name)
        if param.rest:
            rest_value = value or None
            continue
        if value is None or value == "":
            if rest_param is not None and param.positional and not param.choices and values.get(rest_param.name):
                # An empty optional positional before the free text, so the text is not taken for it.
                parts.append(f"{param.name}={quote('')}")
            continue
        parts.append(f"{param.name}={value if param.kind == 'person' else quote(value)}")
    if rest_value is not None:
        parts.append(quote(rest_value))
    return " ".join(parts)


def spec_words(registry: CommandRegistry, spec: CommandSpec) -> list[str]:
    """The words after `/icc` that name the command: `group link`, `lang channel`, `help`."""
    if spec.verb:
        return [spec.area, spec.verb]
    has_verbs = any(other.verb for other in registry.in_area(spec.area))
    return [spec.area, spec.alias] if has_verbs and spec.alias else [spec.area]


# ---- the tree ------------------------------------------------------------------------------------


Invoke = Callable[[discord.Interaction, CommandSpec, str, dict[str, Any]], Awaitable[None]]


class TreeBuilder:
    def __init__(self, adapter: DiscordAdapter, registry: CommandRegistry, invoke: Invoke) -> None:
        self.adapter = adapter
        self.registry = registry
        self.invoke = invoke

    def build(self) -> app_commands.Group:
        from bot.handlers.help import AREA_SUMMARIES

        root = app_commands.Group(name=ROOT, description=described(ROOT_DESCRIPTION),
                                  allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
                                  allowed_installs=app_commands.AppInstallationType(guild=True, user=False))
        for area in self.registry.areas():
            specs = self.registry.in_area(area)
            default = self.registry.find(area, None)
            verbs = [spec for spec in specs if spec.verb]
            if len(root.commands) >= MAX_CHILDREN:
                log.error("/icc has more than %d areas: /icc %s is left out on Discord", MAX_CHILDREN, area)
                continue
            if not verbs and default is not None:
                root.add_command(self.command(area, default))
                continue
            summary = AREA_SUMMARIES.get(area) or specs[0].summary
            group = app_commands.Group(name=option_name(area), description=described(summary))
            children = ([(default.alias or "run", default)] if default is not None else []) + \
                [(spec.verb or "", spec) for spec in verbs]
            for name, spec in children[:MAX_CHILDREN]:
                group.add_command(self.command(name, spec))
            for name, _spec in children[MAX_CHILDREN:]:
                log.error("/icc %s has more than %d commands: %s is left out on Discord", area, MAX_CHILDREN, name)
            root.add_command(group)
        return root

    def command(self, name: str, spec: CommandSpec) -> app_commands.Command[Any, ..., None]:
        params = list(spec.params[:MAX_OPTIONS])
        identifiers = {f"p{index}": param for index, param in enumerate(params)}
        invoke = self.invoke
        text_words = spec_words(self.registry, spec)

        async def callback(interaction: discord.Interaction, **given: Any) -> None:
            values: dict[str, Any] = {}
            for identifier, value in given.items():
                if value is not None:
                    values[identifiers[identifier].name] = value
            await invoke(interaction, spec, " ".join(text_words), values)

        signature = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                       annotation=discord.Interaction)]
        for identifier, param in identifiers.items():
            signature.append(inspect.Parameter(
                identifier, inspect.Parameter.KEYWORD_ONLY, annotation=self._annotation(param),
                default=inspect.Parameter.empty if param.required else None))
        callback.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
        app_commands.describe(**{i: described(p.help) for i, p in identifiers.items()})(callback)
        app_commands.rename(**{i: option_name(p.name) for i, p in identifiers.items()})(callback)
        choices = {i: [app_commands.Choice(name=c, value=c) for c in p.choices]
                   for i, p in identifiers.items() if p.choices and len(p.choices) <= MAX_OPTIONS}
        if choices:
            app_commands.choices(**choices)(callback)
        completer = self.adapter.bot.maybe_service(Completer) if self.adapter.bot is not None else None
        completions = {i: self.autocompleter(p) for i, p in identifiers.items()
                       if p.complete and p.kind != "person" and i not in choices
                       and completer is not None and completer.knows(p.complete)}
        if completions:
            app_commands.autocomplete(**completions)(callback)
        return app_commands.Command(name=option_name(name), description=described(spec.summary), callback=callback)

    @staticmethod
    def _annotation(param: Param) -> Any:
        if param.kind == "person":
            return discord.User
        if param.kind == "integer":
            return int
        return str

    def autocompleter(self, param: Param) -> Callable[[discord.Interaction, str],
                                                      Coroutine[Any, Any, list[app_commands.Choice[Any]]]]:
        adapter = self.adapter
        source = param.complete or ""
        integer = param.kind == "integer"

        async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[Any]]:
            bot = adapter.bot
            completer = bot.maybe_service(Completer) if bot is not None else None
            if completer is None:
                return []
            try:
                person = await adapter.inbound.person(interaction.user.id, interaction.guild_id)
                found = await completer.complete(source, str(current or ""), person=person,
                                                 locale=resolve_locale([str(interaction.locale)]))
            except Exception:
                log.exception("autocomplete for %s failed", source)
                return []
            choices: list[app_commands.Choice[Any]] = []
            for choice in found:
                if integer:
                    try:
                        choices.append(app_commands.Choice(name=choice.label, value=int(choice.value)))
                    except ValueError:
                        continue
                else:
                    choices.append(app_commands.Choice(name=choice.label, value=choice.value))
            return choices

        return complete


class CatalogTranslator(app_commands.Translator):
    """Discord localisations of descriptions (and the Translate menu's name) from our catalogs."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContext[Any, Any]) -> str | None:
        message = string.extras.get("message")
        if not isinstance(message, Message):
            return None
        language = normalize_language(locale.value)
        if language is None or language == "en" or language not in available_locales():
            return None
        text = render(message, language)
        if text == render(message, "en"):
            return None
        limit = 32 if context.location is app_commands.TranslationContextLocation.command_name else DESCRIPTION_LIMIT
        return clip(text, limit)
