import pytest

from bot.commands import CommandRegistry, Param, UsageError
from bot.i18n import _


async def nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    return None


@pytest.fixture
def registry() -> CommandRegistry:
    registry = CommandRegistry()
    registry.command("group", "create", summary=_("x"), usage="/icc group create <name> [kind=…]",
                     params=(Param("name", _("x"), positional=True, required=True),
                             Param("kind", _("x"), choices=("thematic", "regional"))))(nothing)
    registry.command("group", "list", summary=_("x"), usage="/icc group list")(nothing)
    registry.command("translate", None, summary=_("x"), usage="/icc translate <lang> <text>",
                     params=(Param("lang", _("x"), positional=True, required=True),
                             Param("text", _("x"), positional=True, required=True, rest=True)))(nothing)
    registry.command("broadcast", None, alias="send", summary=_("x"), usage="/icc broadcast [to=…] <text>",
                     params=(Param("to", _("x")), Param("text", _("x"), positional=True, required=True,
                                                        rest=True)))(nothing)
    registry.command("broadcast", "status", summary=_("x"), usage="/icc broadcast status <id>",
                     params=(Param("id", _("x"), positional=True, required=True, kind="integer"),))(nothing)
    return registry


def test_area_verb_and_arguments(registry: CommandRegistry) -> None:
    invocation = registry.resolve('group create "Anti rumours" kind=Regional')
    assert (invocation.spec.area, invocation.spec.verb) == ("group", "create")
    assert invocation.args.values == {"name": "Anti rumours", "kind": "regional"}


def test_rest_parameter_keeps_the_text_as_typed(registry: CommandRegistry) -> None:
    invocation = registry.resolve("translate uk Bonjour   à tous, a=b !")
    assert invocation.args.values == {"lang": "uk", "text": "Bonjour   à tous, a=b !"}


def test_default_form_with_options_then_text(registry: CommandRegistry) -> None:
    invocation = registry.resolve("broadcast to=all Meeting on Friday")
    assert invocation.spec.verb is None
    assert invocation.args.values == {"to": "all", "text": "Meeting on Friday"}
    assert registry.resolve("broadcast send hello").args["text"] == "hello"
    assert registry.resolve("broadcast status 12").args["id"] == 12


def test_verbs_take_precedence_over_the_default_form(registry: CommandRegistry) -> None:
    assert registry.resolve("broadcast status #3").spec.verb == "status"


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "Tell me what to do"),
    ("nonsense", "I don't know the command"),
    ("group frobnicate", "has no"),
    ("group", "needs one of"),
    ("group create", "is missing"),
    ("group create x kind=planetary", "must be one of"),
    ("group create x colour=red", "is not an option"),
    ("group create x kind=regional kind=thematic", "given twice"),
    ("group list extra", "did not expect"),
    ("broadcast status abc", "must be a number"),
    ('group create "unclosed', "quote is not closed"),
])
def test_malformed_input_is_a_usage_error(registry: CommandRegistry, text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        registry.resolve(text)
    assert fragment in caught.value.message.msgid


def test_a_command_without_permission_rule_cannot_be_registered() -> None:
    with pytest.raises(LookupError):
        CommandRegistry().command("secret", "thing", summary=_("x"), usage="x")(nothing)


def test_a_command_cannot_be_declared_twice(registry: CommandRegistry) -> None:
    with pytest.raises(ValueError):
        registry.command("group", "list", summary=_("x"), usage="x")(nothing)
