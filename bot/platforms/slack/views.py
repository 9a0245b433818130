"""Block Kit: messages with buttons and small print, modals for the core's forms, the App Home.

Everything here is pure (dicts in, dicts out) and respects Slack's limits: 3,000 characters per
section text, 75 per button label, 24 per modal title, 100 options per select, 50 blocks per
message, 100 per modal or Home tab.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.outbound import Button, Form, FormField
from bot.platforms.slack.markup import BLOCK_TEXT_LIMIT, mrkdwn_chunks, plain, to_mrkdwn

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
CONTEXT_ELEMENTS = 10
BUTTONS_PER_BLOCK = 25
OPTIONS_PER_SELECT = 100
_SUFFIX = "~"
"""Joins a core action id and a position when one message has several buttons with that id
(Slack wants action ids unique within a block)."""


def section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def context(texts: Sequence[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text} for text in texts[:CONTEXT_ELEMENTS]]}


def actions(buttons: Sequence[Button], block_prefix: str = "actions") -> list[dict[str, Any]]:
    """Buttons as actions blocks (25 a block), each action id unique in the message."""
    elements = []
    seen: dict[str, int] = {}
    for button in buttons:
        count = seen.get(button.action_id, 0)
        seen[button.action_id] = count + 1
        action_id = button.action_id if count == 0 else f"{button.action_id}{_SUFFIX}{count}"
        element: dict[str, Any] = {
            "type": "button", "action_id": action_id[:255], "value": button.value[:2000],
            "text": {"type": "plain_text", "text": plain(str(button.label), 75), "emoji": True},
        }
        if button.style:
            element["style"] = button.style
        elements.append(element)
    return [{"type": "actions", "block_id": f"{block_prefix}-{index // BUTTONS_PER_BLOCK}",
             "elements": elements[index:index + BUTTONS_PER_BLOCK]}
            for index in range(0, len(elements), BUTTONS_PER_BLOCK)]


def core_action_id(action_id: str) -> str:
    """The core's action id of a pressed button (without the position suffix `actions` added)."""
    base, separator, position = action_id.rpartition(_SUFFIX)
    return base if separator and position.isdigit() else action_id


@dataclass(frozen=True)
class MessageLayout:
    """One Slack message: the fallback `text` (notifications, search) and its blocks, if any."""

    text: str
    blocks: list[dict[str, Any]] | None


def message_layouts(text: str, *, footnote: str | None = None, original: str | None = None,
                    buttons: Sequence[Button] = (), text_limit: int = 40_000) -> tuple[list[MessageLayout], bool]:
    """Neutral text and its extras → the Slack messages that carry all of it, usually one.
    Returns the layouts and whether the original fitted (else the caller posts it in the thread).

    Plain text goes as `text` alone. With buttons, small print or an original, or when escaping
    pushed the text past Slack's 40,000 characters, the text goes in section blocks of at most
    3,000 characters; only in the rare case of more than 50 blocks does it take several messages.
    """
    whole = to_mrkdwn(text)
    original_chunks = mrkdwn_chunks(original, BLOCK_TEXT_LIMIT) if original else []
    original_fits = len(original_chunks) == 1 and len(original_chunks[0]) <= BLOCK_TEXT_LIMIT - 10
    if not (buttons or footnote or original) and len(whole) <= text_limit:
        return [MessageLayout(whole, None)], True
    extras: list[dict[str, Any]] = []
    if footnote:
        extras.append(context([plain(to_mrkdwn(footnote), BLOCK_TEXT_LIMIT)]))
    if original and original_fits:
        extras.append(context([f"» {original_chunks[0]}"]))
    extras += actions(buttons)
    sections = [section(chunk) for chunk in mrkdwn_chunks(text)] if text else []
    room = MESSAGE_BLOCKS - len(extras)
    groups = [sections[index:index + room] for index in range(0, len(sections), room)] or [[]]
    layouts = []
    for number, group in enumerate(groups):
        blocks = group + (extras if number == len(groups) - 1 else [])
        fallback = "\n".join(block["text"]["text"] for block in group) or to_mrkdwn(footnote or "") or "…"
        layouts.append(MessageLayout(_cap(fallback, text_limit), blocks))
    return layouts, original_fits or not original


def _cap(text: str, limit: int) -> str:
    # The fallback of a message whose blocks hold the full text: notifications need only a start.
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- modals -----------------------------------------------------------------------------------


def modal(form: Form, *, channel_id: str | None) -> dict[str, Any]:
    """A rendered core Form → a modal view. The form's context and the channel it was opened in
    travel in `private_metadata`, since a submission does not say where it came from."""
    metadata = json.dumps({"context": form.context, "channel": channel_id}, separators=(",", ":"))
    if len(metadata) > 3000:
        raise ValueError("form context too long for Slack's private_metadata (3,000 characters)")
    return {
        "type": "modal",
        "callback_id": form.form_id[:255],
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": plain(str(form.title), 24), "emoji": True},
        "submit": {"type": "plain_text", "text": plain(str(form.submit_label), 24), "emoji": True},
        "blocks": [input_block(field) for field in form.fields][:VIEW_BLOCKS],
    }


def input_block(field: FormField) -> dict[str, Any]:
    element: dict[str, Any] = {"action_id": field.name}
    if field.kind in ("text", "long_text"):
        element["type"] = "plain_text_input"
        element["multiline"] = field.kind == "long_text"
        if field.max_length:
            element["max_length"] = min(field.max_length, 3000)
        if isinstance(field.initial, str) and field.initial:
            element["initial_value"] = field.initial
    else:
        element["type"] = "static_select" if field.kind == "select" else "multi_static_select"
        options = [_option(value, str(label)) for value, label in field.options]
        if len(options) <= OPTIONS_PER_SELECT:
            element["options"] = options
        else:
            element["option_groups"] = [
                {"label": {"type": "plain_text", "text": plain(f"{group[0]['text']['text'][:30]} – "
                                                               f"{group[-1]['text']['text'][:30]}", 75)},
                 "options": group}
                for group in (options[i:i + OPTIONS_PER_SELECT] for i in range(0, len(options), OPTIONS_PER_SELECT))
            ][:OPTIONS_PER_SELECT]
        initial = [field.initial] if isinstance(field.initial, str) else list(field.initial or ())
        chosen = [option for option in options if option["value"] in initial]
        if chosen and field.kind == "select":
            element["initial_option"] = chosen[0]
        elif chosen:
            element["initial_options"] = chosen
    if field.placeholder:
        element["placeholder"] = {"type": "plain_text", "text": plain(str(field.placeholder), 150)}
    return {"type": "input", "block_id": field.name, "optional": not field.required,
            "label": {"type": "plain_text", "text": plain(str(field.label), 2000), "emoji": True},
            "element": element}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": plain(label, 75), "emoji": True}, "value": value[:150]}


def form_values(view: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """A submitted modal's state → {field name: text, or the chosen values of a multi-select}."""
    values: dict[str, str | list[str]] = {}
    for block_id, elements in ((view.get("state") or {}).get("values") or {}).items():
        for element in elements.values():
            kind = element.get("type")
            if kind == "multi_static_select":
                values[block_id] = [option["value"] for option in element.get("selected_options") or []]
            elif kind == "static_select":
                values[block_id] = ((element.get("selected_option") or {}).get("value")) or ""
            elif kind == "datepicker":
                values[block_id] = element.get("selected_date") or ""
            else:
                values[block_id] = (element.get("value") or "").strip()
    return values


def view_context(view: Mapping[str, Any]) -> tuple[str, str | None]:
    """(the form's context, the channel it was opened in) from `private_metadata`."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return str(view.get("private_metadata") or ""), None
    if not isinstance(metadata, dict):
        return "", None
    return str(metadata.get("context") or ""), metadata.get("channel") or None


def field_errors(errors: Mapping[str, object], view: Mapping[str, Any]) -> dict[str, str]:
    """FormResult.errors → `response_action: errors`: each message under its field's block.
    An error about something that is not a field of the modal goes under the first field, so
    the person still sees it."""
    inputs = [block["block_id"] for block in view.get("blocks") or []
              if block.get("type") == "input" and block.get("block_id")]
    out: dict[str, str] = {}
    for name, message in errors.items():
        block_id = name if name in inputs else (inputs[0] if inputs else name)
        text = plain(str(message), 2000)
        out[block_id] = f"{out[block_id]} {text}" if block_id in out else text
    return out


# ---- App Home ---------------------------------------------------------------------------------


def home_view(title: str, sections: Sequence[tuple[str, Sequence[str], Sequence[Button]]]) -> dict[str, Any]:
    """The Home tab: a header, then for each part a title, its lines (neutral markup) and buttons."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": plain(title, 150)}}]
    for index, (heading, lines, buttons) in enumerate(sections):
        part: list[dict[str, Any]] = [{"type": "divider"},
                                      section(f"*{to_mrkdwn(heading)}*")]
        body = "\n".join(lines)
        part += [section(chunk) for chunk in mrkdwn_chunks(body)] if body else []
        part += actions(buttons, block_prefix=f"home-{index}")
        if len(blocks) + len(part) > VIEW_BLOCKS:
            break
        blocks += part
    return {"type": "home", "blocks": blocks}
