"""The command registry: each handler module declares its commands here, and one binder turns
the words after `/icc` into a command and its arguments, for every platform.

A command is declared once, with typed parameters; the Discord adapter builds its app-command
tree from the same declarations, and `/icc help` prints their usage lines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.grammar import GrammarError, Token, tokenize
from bot.i18n import Message, _
from bot.permissions import Access, rule_for

if TYPE_CHECKING:
    from bot.context import CommandContext

Completion = Literal["group", "city", "topic", "language", "network", "person", "role", "deadline",
                     "practice", "broadcast"]


@dataclass(frozen=True)
class Param:
    name: str
    help: Message
    required: bool = False
    positional: bool = False
    """Given by position (`<name>`) rather than as `name=value` (an option may also be given by
    position when it is declared positional)."""
    rest: bool = False
    """Takes every remaining word, exactly as typed (message texts)."""
    choices: tuple[str, ...] = ()
    complete: Completion | None = None
    kind: Literal["string", "person", "integer"] = "string"


@dataclass(frozen=True)
class CommandSpec:
    area: str
    verb: str | None
    summary: Message
    usage: str
    """Syntax line as typed, e.g. `/icc group create <name> [kind=thematic|regional]`."""
    handler: Callable[[CommandContext], Awaitable[None]]
    params: tuple[Param, ...] = ()
    alias: str | None = None
    """Name of the default form where a verb is required (Discord sub-command): `send`, `channel`."""
    group_param: str | None = None
    """For group-lead commands, which parameter names the group; otherwise the channel's group."""
    city_param: str | None = None
    """For city-coordinator commands, which parameter names the city."""
    form: bool = False
    """With no arguments on a platform that has forms, the handler opens a form."""

    @property
    def access(self) -> Access:
        return rule_for(self.area, self.verb)

    @property
    def key(self) -> str:
        return f"{self.area} {self.verb}" if self.verb else self.area


@dataclass
class Args:
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def empty(self) -> bool:
        return not self.values


class UsageError(Exception):
    """Input that does not fit a command: answered with the reason and the command's usage."""

    def __init__(self, message: Message, spec: CommandSpec | None = None) -> None:
        super().__init__(message.msgid)
        self.message = message
        self.spec = spec


@dataclass(frozen=True)
class Invocation:
    spec: CommandSpec
    args: Args


class CommandRegistry:
    def __init__(self) -> None:
        self._specs: dict[tuple[str, str | None], CommandSpec] = {}

    def add(self, spec: CommandSpec) -> None:
        key = (spec.area, spec.verb)
        if key in self._specs:
            raise ValueError(f"command /icc {spec.key} declared twice")
        spec.access  # noqa: B018 - fails now, at start-up, when the command has no permission rule
        self._specs[key] = spec

    def command(self, area: str, verb: str | None, *, summary: Message, usage: str,
                params: tuple[Param, ...] = (), **options: Any
                ) -> Callable[[Callable[[CommandContext], Awaitable[None]]],
                              Callable[[CommandContext], Awaitable[None]]]:
        """Decorator form of `add`."""

        def register(handler: Callable[[CommandContext], Awaitable[None]]
                     ) -> Callable[[CommandContext], Awaitable[None]]:
            self.add(CommandSpec(area, verb, summary, usage, handler, params, **options))
            return handler

        return register

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: (s.area, s.verb or "")))

    def areas(self) -> list[str]:
        return sorted({area for area, _verb in self._specs})

    def in_area(self, area: str) -> list[CommandSpec]:
        return [spec for spec in self if spec.area == area]

    def find(self, area: str, verb: str | None) -> CommandSpec | None:
        return self._specs.get((area, verb))

    def resolve(self, text: str) -> Invocation:
        """Words after `/icc` → the command and its bound arguments. Raises UsageError."""
        try:
            tokens = tokenize(text)
        except GrammarError as error:
            raise UsageError(error.message) from None
        if not tokens:
            raise UsageError(_("Tell me what to do: `/icc help` lists the commands."))
        area = tokens[0].value.lower()
        if tokens[0].key is not None or area not in self.areas():
            raise UsageError(_("I don't know the command `{word}`.", word=tokens[0].value[:40]))
        rest = tokens[1:]
        spec = None
        if rest and rest[0].key is None and not rest[0].quoted:
            word = rest[0].value.lower()
            spec = self.find(area, word)
            if spec is None:
                default = self.find(area, None)
                if default is not None and default.alias == word:
                    spec = default
            if spec is not None:
                rest = rest[1:]
        if spec is None:
            spec = self.find(area, None)
        if spec is None:
            verbs = ", ".join(s.verb or "" for s in self.in_area(area))
            if rest:
                raise UsageError(_("`/icc {area}` has no `{verb}`. Try one of: {verbs}.",
                                   area=area, verb=rest[0].value[:40], verbs=verbs))
            raise UsageError(_("`/icc {area}` needs one of: {verbs}.", area=area, verbs=verbs))
        return Invocation(spec, bind(spec, rest, text))


def bind(spec: CommandSpec, tokens: list[Token], raw_text: str) -> Args:
    values: dict[str, Any] = {}
    by_name = {param.name: param for param in spec.params}
    positionals = [param for param in spec.params if param.positional]
    for index, token in enumerate(tokens):
        if token.key is not None:
            param = by_name.get(token.key)
            if param is None or param.rest:
                rest_param = next((p for p in positionals if p.rest and p.name not in values), None)
                if rest_param is not None and _positionals_done(positionals, values, rest_param):
                    values[rest_param.name] = raw_text[token.start:].strip()
                    break
                raise UsageError(_("`{option}` is not an option of this command.", option=token.key), spec)
            if param.name in values:
                raise UsageError(_("`{option}` is given twice.", option=token.key), spec)
            values[param.name] = _convert(spec, param, token.value)
            continue
        param = next((p for p in positionals if p.name not in values), None)
        if param is None:
            raise UsageError(_("I did not expect `{word}` here.", word=token.value[:40]), spec)
        if param.rest:
            values[param.name] = raw_text[token.start:].strip()
            if token.quoted and index == len(tokens) - 1:
                values[param.name] = token.value
            break
        values[param.name] = _convert(spec, param, token.value)
    for param in spec.params:
        if param.required and (param.name not in values or values[param.name] == ""):
            raise UsageError(_("`{name}` is missing.", name=param.name), spec)
    return Args(values)


def _positionals_done(positionals: list[Param], values: dict[str, Any], rest: Param) -> bool:
    return all(p.name in values or not p.required for p in positionals if p is not rest)


def _convert(spec: CommandSpec, param: Param, value: str) -> Any:
    if param.choices and value.lower() not in param.choices:
        raise UsageError(_("`{name}` must be one of: {choices}.", name=param.name,
                           choices=", ".join(param.choices)), spec)
    if param.choices:
        return value.lower()
    if param.kind == "integer":
        try:
            return int(value.lstrip("#"))
        except ValueError:
            raise UsageError(_("`{name}` must be a number, not `{value}`.", name=param.name,
                               value=value[:40]), spec) from None
    return value
