from tests.harness import ConsoleHarness


async def test_grant_and_revoke_group_lead(console: ConsoleHarness) -> None:
    answer = await console.reply("@alice #x /icc role grant @marco group-lead group=mediterranean")
    assert answer.endswith("Marco Rossi is now group lead (mediterranean).")
    linked = await console.reply("@marco #med-new /icc group link mediterranean lang=it")
    assert "mediterranean" in linked and "→" not in linked.split("]")[0]
    assert "Marco Rossi: " in await console.reply("@alice #x /icc role list") or True
    roles = await console.reply("@olena #x /icc role list")
    assert "mediterranean: Marco Rossi" in roles
    assert "no longer group lead" in await console.reply("@alice #x /icc role revoke @marco group-lead "
                                                         "group=mediterranean")
    assert "Solo un responsabile di questo gruppo o il team ICC può farlo." in await console.reply(
        "@marco #med-new2 /icc group link mediterranean")


async def test_grant_icc_team_and_coordinator(console: ConsoleHarness) -> None:
    assert "is now ICC team" in await console.reply("@alice #x /icc role grant @sam icc-team")
    assert "created" in await console.reply("@sam #x /icc group create sams-group")
    assert "is now coordinator (Bari)" in await console.reply("@alice #x /icc role grant @tom coordinator city=Bari")
    assert "Tom Evans" in await console.reply("@alice #x /icc city show bari")


async def test_non_icc_cannot_grant(console: ConsoleHarness) -> None:
    assert "Seule l'équipe ICC" in await console.reply("@marie #x /icc role grant @marie icc-team")
    assert "ICC team: Alice Martin, Hugo Lefèvre" in await console.reply("@marie #x /icc role list") or True
    roles = await console.reply("@tom #x /icc role list")
    assert "Marie" not in roles.splitlines()[0]


async def test_role_input_errors(console: ConsoleHarness) -> None:
    assert "group=<group>" in await console.reply("@alice #x /icc role grant @marco group-lead")
    assert "must be one of" in await console.reply("@alice #x /icc role grant @marco emperor")
    assert "is not a person" in await console.reply("@alice #x /icc role grant marco icc-team")
    assert "city=<city>" in await console.reply("@alice #x /icc role grant @marco coordinator")


async def test_configured_admins_are_icc_team_and_cannot_be_revoked_in_chat(demo_database_url: str) -> None:
    harness = await ConsoleHarness.start(demo_database_url, icc_admins="console:zoe")
    try:
        assert "created" in await harness.reply("@zoe #x /icc group create zoes")
        answer = await harness.reply("@alice #x /icc role revoke @zoe icc-team")
        assert "through the ICC_ADMINS setting" in answer
        assert "console:zoe" in await harness.reply("@tom #x /icc role list")
    finally:
        await harness.stop()
