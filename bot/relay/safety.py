"""What relayed text may never do at its destination: ping people.

Destination adapters escape their own markup (Slack `&<>`, Discord `AllowedMentions.none()`);
the core breaks mass and direct mentions first as well, so a new adapter's slip cannot ping a
whole channel. A zero-width joiner inside the mention keeps it readable and inert.
"""

from __future__ import annotations

import re

ZWJ = "\u200d"

# Slack's `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^S1>`, `<@U123>`; Discord's `<@123>`,
# `<@!123>` and role mentions `<@&456>`.
_ANGLE = re.compile(r"<(?=[!@])")
# `@everyone`, `@here` (Discord, Slack), `@channel` (Slack), in any case.
_MASS = re.compile(r"@(?=(?:everyone|here|channel)\b)", re.IGNORECASE)


def neutralise_mentions(text: str) -> str:
    """`text` with every mention that could notify someone made inert, everything else unchanged."""
    return _MASS.sub("@" + ZWJ, _ANGLE.sub("<" + ZWJ, text))
