from tests.harness import ConsoleHarness


async def test_help_lists_areas_and_details(console: ConsoleHarness) -> None:
    overview = await console.reply("@sam #x /icc help")
    assert "`/icc group`" in overview and "`/icc city`" in overview
    details = await console.reply("@sam #x /icc help group")
    assert "`/icc group create <name> [kind=thematic|regional] [topic=<topic>]`" in details
    assert "anti-rumours" in await console.reply("@sam #x /icc help topics")
    assert "There is no area `zzz`" in await console.reply("@sam #x /icc help zzz")


async def test_nonsense_gets_usage_never_a_traceback(console: ConsoleHarness) -> None:
    answer = await console.reply("@sam #x /icc nonsense")
    assert "I don't know the command `nonsense`." in answer and "`/icc group`" in answer
    for text in ["/icc", "/icc group", '/icc group create "unclosed', "/icc group frobnicate", "/icc city set x",
                 "/icc role grant", "/icc " + "x" * 5000]:
        answer = await console.reply(f"@sam #x {text}")
        assert answer.startswith("[#x → @sam] ") and "Traceback" not in answer, answer


async def test_help_in_french(console: ConsoleHarness) -> None:
    assert "Commandes, par domaine" in await console.reply("@marie #x /icc help")
