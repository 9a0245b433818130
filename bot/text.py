"""Text helpers shared by every destination: splitting to a platform's limit without losing a
character, and the plain-text escapes the core applies before adapters add their own."""

from __future__ import annotations

import re

_BREAKS = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into parts of at most `limit` characters, preferring paragraph, line,
    sentence and word boundaries and keeping ``` code fences balanced. Joining the parts gives
    back the text exactly, apart from a code fence closed and reopened at a cut inside it."""
    if limit < 16:
        raise ValueError("limit too small to split sensibly")
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    reopen = ""
    while rest:
        budget = limit - len(reopen)
        if len(rest) <= budget:
            parts.append(reopen + rest)
            break
        cut = _best_cut(rest, budget - 4)  # room to close a code fence
        chunk = rest[:cut]
        rest = rest[cut:]
        piece = reopen + chunk
        if piece.count("```") % 2 == 1:
            fence = re.search(r"```(\w*)[^`]*$", piece)
            language = fence.group(1) if fence else ""
            piece = piece.rstrip("\n") + "\n```"
            reopen = f"```{language}\n"
        else:
            reopen = ""
        parts.append(piece)
    return parts


def _best_cut(text: str, budget: int) -> int:
    window = text[:budget]
    for separator in _BREAKS:
        position = window.rfind(separator)
        # Do not accept a cut that leaves a tiny first part; fall through to a finer separator.
        if position >= budget // 3:
            return position + len(separator)
    return budget
