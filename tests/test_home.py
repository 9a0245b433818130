"""The home page (Slack's App Home) as the core gathers it, seen on the console with `!home`."""

from __future__ import annotations

from typing import Any

from bot.context import Interaction
from bot.home import HomePage, HomeSection
from bot.i18n import _
from bot.outbound import Button


async def test_a_coordinator_sees_their_city_and_its_groups_in_their_language(console: Any) -> None:
    page = await console.reply("@marie !home")
    assert page.startswith("[@marie home] ICC bot : votre accueil")
    assert "**Lyon** (France)" in page and "fuseau horaire : Europe/Paris" in page
    assert "**Anti-rumours** (`anti-rumours`, thématique) : 5 canaux reliés" in page


async def test_someone_without_a_city_is_told_how_to_register(sqlite_console: Any) -> None:
    page = await sqlite_console.reply("@alice !home")
    assert "You are not registered as a city coordinator yet." in page
    assert "/icc city register <city>" in page and "You are on the ICC team." in page


async def test_areas_add_their_part_and_a_failing_part_costs_nothing_else(sqlite_console: Any) -> None:
    async def deadlines(ix: Interaction) -> list[HomeSection]:
        return [HomeSection(_("Upcoming deadlines"), ("Annual survey: due 2027-02-01",),
                            (Button("Done", "deadline.done", "1"),))]

    async def broken(ix: Interaction) -> list[HomeSection]:
        raise RuntimeError("boom")

    page_parts = sqlite_console.bot.service(HomePage)
    page_parts.add(broken)
    page_parts.add(deadlines)
    page = await sqlite_console.reply("@tom !home")
    assert "Manchester" in page and "— Upcoming deadlines —\nAnnual survey: due 2027-02-01\n[1: Done]" in page
