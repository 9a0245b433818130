"""Fake Discord REST API (``/api/v10``) for the real discord.py 2.7 HTTP client.

discord.py builds every URL from ``discord.http.Route.BASE`` (webhooks and interaction
callbacks too), so pointing it at the fake is one monkeypatch::

    async with FakeDiscord() as fake, fake.routed():   # patches Route.BASE, restores it
        client = discord.Client(intents=discord.Intents.default())
        await client.login("test-token")  # GET /users/@me + GET /oauth2/applications/@me
        ...
        await client.close()

What discord.py needs from the answers, learnt from its source:
- JSON only if ``Content-Type`` is exactly ``application/json``; otherwise the body is a str.
- A 429 is retried after ``body["retry_after"]`` seconds only if the response has a ``Via``
  header (without it discord.py assumes a Cloudflare ban and raises); the X-RateLimit-*
  headers of a 429 are not used for the wait. ``fail_next`` sends all of them.
- 500/502/504 are retried after sleeping 1, 3, 5... s (webhooks: any 5xx); 503 raises
  ``DiscordServerError`` at once on the bot route: prefer 503 in fast tests.
- Webhooks: ``Webhook.from_url("https://discord.com/api/webhooks/<id>/<token>", session=...)``
  works too, as only the id and token are taken from the URL; the request uses Route.BASE.
- Interaction callbacks are sent with ``?with_response=1`` and must answer
  ``{"interaction": {"id", "type", ...}, "resource": {...}}``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from discord.http import Route

from tests.fakes import discord_gateway as gw
from tests.fakes._server import FakeServer, Fault, Recorded, json_bytes, json_response, raw_response, record_of
from tests.fakes.pacing import ChannelPacing

_PREFIX = "/api/v10"
_EPHEMERAL = 64
_LOADING = 128  # message flag of a deferred "is thinking..." response


def _error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


def _rate_limited(retry_after: float) -> web.Response:
    body = {"message": "You are being rate limited.", "retry_after": round(retry_after, 3), "global": False}
    return json_response(body, 429, {"Via": "1.1 google", "Retry-After": str(max(1, round(retry_after))),
                                     "X-RateLimit-Scope": "user"})


def _form_error(field: str, message: str) -> web.Response:
    return _error(400, 50035, "Invalid Form Body", {field: {"_errors": [{"code": "BASE_TYPE", "message": message}]}})


class FakeDiscord(FakeServer):
    """Fake Discord REST API. State is keyed by snowflake *strings*."""

    def __init__(
        self,
        token: str = "test-token",
        *,
        application_id: str = gw.APP_ID,
        bot_name: str = "ICC Bot",
        owner_id: str = "1000000000000000001",
    ) -> None:
        super().__init__()
        self.token = token
        self.application_id = application_id
        self.bot_user = gw.user(application_id, bot_name.lower().replace(" ", "-"), bot=True, global_name=bot_name)
        self.owner = gw.user(owner_id, "icc-team")
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None: global) → commands
        self.callbacks: list[dict[str, Any]] = []  # interaction callbacks: {interaction_id, token, type, data}
        self.interactions: dict[str, dict[str, Any]] = {}
        self.originals: dict[str, dict[str, Any]] = {}  # interaction token → @original message
        self.followups: dict[str, list[dict[str, Any]]] = {}
        self.pings: dict[str, dict[str, Any]] = {}  # message id → who it would notify
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}
        self._deleted_channels: set[str] = set()
        self._nonces: dict[tuple[str, str], str] = {}  # (channel, nonce) → message id, for enforce_nonce
        self._tokens = itertools.count(1)
        self.pacing: ChannelPacing | None = None

    # -- set-up ----------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        return f"{self.url}{_PREFIX}"

    @contextlib.contextmanager
    def routed(self) -> Iterator[FakeDiscord]:
        """Point discord.py's ``Route.BASE`` at this fake for the block, then restore it."""
        old = Route.BASE
        Route.BASE = self.api_base
        try:
            yield self
        finally:
            Route.BASE = old

    def add_guild(self, guild: dict[str, Any]) -> None:
        """Know the channels, threads and members of a ``discord_gateway.guild_create`` payload."""
        for channel in [*guild.get("channels", []), *guild.get("threads", [])]:
            self.channels[channel["id"]] = {**channel, "guild_id": guild["id"]}
        for m in guild.get("members", []):
            self.users[m["user"]["id"]] = m["user"]

    def remove_channel(self, channel_id: str) -> None:
        """From now on the channel answers 404 Unknown Channel (10003)."""
        self._deleted_channels.add(channel_id)

    def seed_message(self, channel_id: str, content: str, author: dict[str, Any]) -> dict[str, Any]:
        """A message by someone else (e.g. the one a gateway MESSAGE_CREATE announced)."""
        msg = gw.message(channel_id, content, author=author)
        self._messages.setdefault(channel_id, {})[msg["id"]] = msg
        return msg

    def set_channel_pacing(self, pacing: ChannelPacing | None) -> None:
        """Limit posts per channel, the bot's and its webhooks' (see tests/fakes/pacing.py; None: off):
        a post too soon is answered 429 with `retry_after` (body, seconds, fractional) and the headers
        Discord sends."""
        self.pacing = pacing

    def register_interaction(self, payload: dict[str, Any]) -> None:
        """Remember an injected interaction (``discord_gateway.inject(..., fake=...)`` does it)."""
        self.interactions[payload["id"]] = payload

    # -- faults ----------------------------------------------------------------------
    def fail_next(
        self,
        route: str | None,
        status: int = 429,
        json: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        retry_after: float = 0.2,
        is_global: bool = False,
    ) -> None:
        """Fault the next ``times`` requests matching ``route``, an fnmatch pattern on
        ``"POST /channels/{channel_id}/messages"`` (discord.py's Route key) or on the concrete
        ``"POST /channels/123/messages"``; None matches every request."""
        if json is None:
            if status == 429:
                json = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
            else:
                json = {"message": f"{status}: Server Error", "code": 0}
        if headers is None:
            headers = {"Via": "1.1 google"}
            if status == 429:
                headers.update(
                    {
                        "Retry-After": str(max(1, round(retry_after))),
                        "X-RateLimit-Limit": "5",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                        "X-RateLimit-Bucket": "fake-bucket",
                        "X-RateLimit-Scope": "global" if is_global else "user",
                    }
                )
                if is_global:
                    headers["X-RateLimit-Global"] = "true"
        self.add_fault(Fault(route, status, headers, json_bytes(json), "application/json", times))

    # -- assertions ------------------------------------------------------------------
    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """What is in the channel now (after edits and deletes), oldest first."""
        return sorted(self._messages.get(str(channel_id), {}).values(), key=lambda m: int(m["id"]))

    def message(self, channel_id: str, message_id: str) -> dict[str, Any] | None:
        return self._messages.get(str(channel_id), {}).get(str(message_id))

    def webhook_posts(self) -> list[Recorded]:
        """Recorded webhook executions (relays and interaction follow-ups)."""
        return self.recorded("POST /webhooks/{webhook_id}/{webhook_token}")

    def callback(self, interaction_id: str | int) -> dict[str, Any] | None:
        """The (first) callback body for an interaction: ``{"type": 4, "data": {...}}``."""
        return next((c for c in self.callbacks if c["interaction_id"] == str(interaction_id)), None)

    # -- server plumbing -------------------------------------------------------------
    def _routes(self, app: web.Application) -> None:
        r = app.router
        p = _PREFIX
        r.add_get(p + "/users/@me", self._get_me)
        r.add_get(p + "/oauth2/applications/@me", self._get_application)
        r.add_get(p + "/gateway", self._get_gateway)
        r.add_get(p + "/gateway/bot", self._get_gateway)
        r.add_post(p + "/users/@me/channels", self._create_dm)
        r.add_get(p + "/channels/{channel_id}", self._get_channel)
        r.add_post(p + "/channels/{channel_id}/messages", self._create_message)
        r.add_get(p + "/channels/{channel_id}/messages/{message_id}", self._get_message)
        r.add_patch(p + "/channels/{channel_id}/messages/{message_id}", self._edit_message)
        r.add_delete(p + "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        r.add_put(p + "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._add_reaction)
        r.add_post(p + "/channels/{channel_id}/messages/{message_id}/threads", self._create_thread)
        r.add_post(p + "/channels/{channel_id}/threads", self._create_thread)
        r.add_get(p + "/channels/{channel_id}/webhooks", self._list_webhooks)
        r.add_post(p + "/channels/{channel_id}/webhooks", self._create_webhook)
        r.add_post(p + "/webhooks/{webhook_id}/{webhook_token}", self._execute_webhook)
        msg_path = p + "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
        r.add_get(msg_path, self._webhook_message)
        r.add_patch(msg_path, self._webhook_message)
        r.add_delete(msg_path, self._webhook_message)
        r.add_post(p + "/interactions/{interaction_id}/{interaction_token}/callback", self._callback)
        r.add_route("*", p + "/applications/{application_id}/commands", self._commands)
        r.add_route("*", p + "/applications/{application_id}/guilds/{guild_id}/commands", self._commands)

    def _name(self, request: web.Request) -> str:
        return super()._name(request).replace(_PREFIX, "", 1)

    def _keys(self, record: Recorded) -> list[str]:
        return [record.name, f"{record.method} {record.path.removeprefix(_PREFIX)}"]

    def _before(self, request: web.Request, record: Recorded) -> web.StreamResponse | None:
        if isinstance(record.body, dict) and "payload_json" in record.body:
            # Multipart (messages with files): the JSON part plus "_files" with the uploads.
            payload = record.body.pop("payload_json")
            record.body = {**(json.loads(payload) if isinstance(payload, str) else payload), "_files": record.body}
        path = record.path.removeprefix(_PREFIX)
        if path.startswith(("/webhooks/", "/interactions/")):
            return None  # authorised by the token in the path
        if record.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        channel_id = request.match_info.get("channel_id")
        if channel_id in self._deleted_channels:
            return _error(404, 10003, "Unknown Channel")
        return None

    # -- identity --------------------------------------------------------------------
    async def _get_me(self, request: web.Request) -> web.Response:
        me = {**self.bot_user, "verified": True, "flags": 0, "mfa_enabled": False, "locale": "en-US"}
        return json_response(me)

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "id": self.application_id,
                "name": self.bot_user["global_name"],
                "icon": None,
                "description": "Intercultural Cities relay bot (fake)",
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": self.owner,
                "team": None,
                "verify_key": "0" * 64,
                "flags": (1 << 15) | (1 << 19),  # GUILD_MEMBERS_LIMITED, MESSAGE_CONTENT_LIMITED intents
                "bot": self.bot_user,
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": 1,
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = {"url": "wss://gateway.discord.gg"}
        if request.path.endswith("/bot"):
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            body.update({"shards": 1, "session_start_limit": limit})
        return json_response(body)

    # -- channels and messages ----------------------------------------------------------
    async def _create_dm(self, request: web.Request) -> web.Response:
        recipient = str(record_of(request).body.get("recipient_id", ""))
        usr = self.users.get(recipient) or gw.user(recipient, f"user{recipient[-4:]}")
        channel_id = next((c for c, ch in self.channels.items() if ch.get("recipient_id") == recipient), None)
        if channel_id is None:
            channel_id = gw.snowflake()
            self.channels[channel_id] = {"id": channel_id, "type": 1, "recipient_id": recipient}
        return json_response({"id": channel_id, "type": 1, "last_message_id": None, "recipients": [usr], "flags": 0})

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(request.match_info["channel_id"])
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        return json_response({k: v for k, v in channel.items() if k != "recipient_id"})

    def _check_message(self, body: dict[str, Any]) -> web.Response | None:
        content = body.get("content") or ""
        if len(content) > 2000:
            return _form_error("content", "Must be 2000 or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10 or any(len(e.get("description") or "") > 4096 for e in embeds):
            return _form_error("embeds", "Embed size exceeds maximum size of 6000")
        if not (content or embeds or body.get("_files") or body.get("components") or body.get("sticker_ids")):
            return _error(400, 50006, "Cannot send an empty message")
        return None

    def _new_message(self, channel_id: str, body: dict[str, Any], author: dict[str, Any], **kw: Any) -> dict[str, Any]:
        files = [v for v in (body.get("_files") or {}).values() if isinstance(v, dict) and "filename" in v]
        msg = gw.message(
            channel_id,
            body.get("content") or "",
            author=author,
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            attachments=[gw.attachment(f["filename"], size=f["size"]) for f in files],
            flags=int(body.get("flags") or 0),
            **kw,
        )
        ref = body.get("message_reference")
        if ref:
            msg["type"] = 19
            msg["message_reference"] = ref
        pings = _pings(msg["content"], body.get("allowed_mentions"))
        msg["mention_everyone"] = pings["everyone"]
        self.pings[msg["id"]] = pings
        return msg

    def _store(self, msg: dict[str, Any]) -> None:
        self._messages.setdefault(msg["channel_id"], {})[msg["id"]] = msg

    async def _create_message(self, request: web.Request) -> web.Response:
        body = record_of(request).body or {}
        bad = self._check_message(body)
        if bad is not None:
            return bad
        channel_id = request.match_info["channel_id"]
        if self.pacing is not None and (wait := self.pacing.check("discord", channel_id)) is not None:
            return _rate_limited(wait)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Like Discord: the same nonce again (a retried send) answers with the message it made.
            earlier = self._nonces.get((channel_id, str(nonce)))
            if earlier is not None and self.message(channel_id, earlier) is not None:
                return json_response(self.message(channel_id, earlier))
        msg = self._new_message(channel_id, body, self.bot_user)
        if nonce is not None:
            msg["nonce"] = str(nonce)
            self._nonces[(channel_id, str(nonce))] = msg["id"]
        self._store(msg)
        return json_response(msg)

    def _find(self, request: web.Request) -> dict[str, Any] | None:
        return self.message(request.match_info["channel_id"], request.match_info["message_id"])

    async def _get_message(self, request: web.Request) -> web.Response:
        msg = self._find(request)
        return json_response(msg) if msg else _error(404, 10008, "Unknown Message")

    async def _edit_message(self, request: web.Request) -> web.Response:
        msg = self._find(request)
        if msg is None:
            return _error(404, 10008, "Unknown Message")
        if msg["author"]["id"] != self.bot_user["id"]:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        return self._apply_edit(msg, record_of(request).body or {})

    def _apply_edit(self, msg: dict[str, Any], body: dict[str, Any]) -> web.Response:
        bad = self._check_message({**msg, **body})
        if bad is not None:
            return bad
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                msg[key] = body[key]
        msg["flags"] = int(msg.get("flags") or 0) & ~_LOADING  # an edit completes a deferred response
        msg["edited_timestamp"] = gw.iso_now()
        if "content" in body:
            self.pings[msg["id"]] = _pings(msg["content"], body.get("allowed_mentions"))
        return json_response(msg)

    async def _delete_message(self, request: web.Request) -> web.Response:
        msg = self._find(request)
        if msg is None:
            return _error(404, 10008, "Unknown Message")
        del self._messages[msg["channel_id"]][msg["id"]]
        return raw_response(204, content_type=None)

    async def _add_reaction(self, request: web.Request) -> web.Response:
        msg = self._find(request)
        if msg is None:
            return _error(404, 10008, "Unknown Message")
        emoji = request.match_info["emoji"]
        reactions = msg.setdefault("reactions", [])
        if not any(r["emoji"]["name"] == emoji for r in reactions):
            reactions.append({"emoji": {"id": None, "name": emoji}, "count": 1, "me": True})
        return raw_response(204, content_type=None)

    async def _create_thread(self, request: web.Request) -> web.Response:
        body = record_of(request).body or {}
        parent_id = request.match_info["channel_id"]
        parent = self.channels.get(parent_id, {})
        # A thread started from a message shares the message's id.
        thread_id = request.match_info.get("message_id") or gw.snowflake()
        thread = gw.thread_channel(
            thread_id, body.get("name", "thread"), parent_id, parent.get("guild_id", "0"), type=body.get("type", 11)
        )
        thread["thread_metadata"]["auto_archive_duration"] = body.get("auto_archive_duration") or 1440
        self.channels[thread_id] = thread
        return json_response(thread, 201)

    # -- webhooks ----------------------------------------------------------------------
    async def _list_webhooks(self, request: web.Request) -> web.Response:
        channel_id = request.match_info["channel_id"]
        return json_response([w for w in self.webhooks.values() if w["channel_id"] == channel_id])

    async def _create_webhook(self, request: web.Request) -> web.Response:
        body = record_of(request).body or {}
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 80 or any(bad in name.lower() for bad in ("clyde", "discord")):
            return _form_error("name", "Username cannot contain clyde/discord and must be 1-80 long")
        channel_id = request.match_info["channel_id"]
        webhook_id = gw.snowflake()
        token = f"whtoken-{next(self._tokens)}-{webhook_id}"
        webhook = {
            "id": webhook_id,
            "type": 1,
            "guild_id": self.channels.get(channel_id, {}).get("guild_id"),
            "channel_id": channel_id,
            "application_id": self.application_id,
            "name": name,
            "avatar": None,
            "token": token,
            "user": self.bot_user,
            "url": f"https://discord.com/api/webhooks/{webhook_id}/{token}",
        }
        self.webhooks[webhook_id] = webhook
        return json_response(webhook)

    async def _execute_webhook(self, request: web.Request) -> web.Response:
        webhook_id, token = request.match_info["webhook_id"], request.match_info["webhook_token"]
        record = record_of(request)
        body = record.body or {}
        if webhook_id == self.application_id:
            return self._followup(token, body, record.query.get("wait") in ("1", "true"))
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            return _error(404, 10015, "Unknown Webhook")
        if webhook["token"] != token:
            return _error(401, 50027, "Invalid Webhook Token")
        username = body.get("username")
        if username is not None and (not 1 <= len(username) <= 80 or "clyde" in username.lower()):
            return _form_error("username", "Username cannot contain clyde and must be 1-80 long")
        bad = self._check_message(body)
        if bad is not None:
            return bad
        channel_id = record.query.get("thread_id") or webhook["channel_id"]
        if self.pacing is not None and (wait := self.pacing.check("discord", channel_id)) is not None:
            return _rate_limited(wait)
        author = gw.webhook_author(webhook_id, username or webhook["name"], body.get("avatar_url"))
        msg = self._new_message(channel_id, body, author, webhook_id=webhook_id, application_id=self.application_id)
        self._store(msg)
        if record.query.get("wait") in ("1", "true"):
            return json_response(msg)
        return raw_response(204, content_type=None)

    def _followup(self, token: str, body: dict[str, Any], wait: bool) -> web.Response:
        bad = self._check_message(body)
        if bad is not None:
            return bad
        original = self.originals.get(token)
        if original is not None and int(original["flags"]) & _LOADING:
            # After a defer, Discord turns the first follow-up into the "thinking" message.
            original["flags"] = int(original["flags"]) & ~_LOADING
            self._apply_edit(original, body)
            self.followups.setdefault(token, []).append(original)
            return json_response(original) if wait else raw_response(204, content_type=None)
        interaction = next((i for i in self.interactions.values() if i["token"] == token), None)
        channel_id = interaction["channel_id"] if interaction else "0"
        msg = self._new_message(channel_id, body, self.bot_user, application_id=self.application_id)
        msg["webhook_id"] = self.application_id
        self.followups.setdefault(token, []).append(msg)
        if not int(msg["flags"]) & _EPHEMERAL and interaction:
            self._store(msg)
        return json_response(msg) if wait else raw_response(204, content_type=None)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        webhook_id, token = request.match_info["webhook_id"], request.match_info["webhook_token"]
        message_id = request.match_info["message_id"]
        if message_id == "@original":
            msg = self.originals.get(token)
        else:
            candidates = [*self.followups.get(token, [])]
            candidates += [
                m for ms in self._messages.values() for m in ms.values() if m.get("webhook_id") == webhook_id
            ]
            msg = next((m for m in candidates if m["id"] == message_id), None)
        if msg is None:
            return _error(404, 10008, "Unknown Message")
        if request.method == "GET":
            return json_response(msg)
        if request.method == "DELETE":
            self._messages.get(msg["channel_id"], {}).pop(msg["id"], None)
            return raw_response(204, content_type=None)
        return self._apply_edit(msg, record_of(request).body or {})

    # -- interactions --------------------------------------------------------------------
    async def _callback(self, request: web.Request) -> web.Response:
        interaction_id, token = request.match_info["interaction_id"], request.match_info["interaction_token"]
        body = record_of(request).body or {}
        if any(c["interaction_id"] == interaction_id for c in self.callbacks):
            return _error(400, 40060, "Interaction has already been acknowledged.")
        cb_type = int(body.get("type", 0))
        data = body.get("data") or {}
        self.callbacks.append({"interaction_id": interaction_id, "token": token, "type": cb_type, "data": data})
        known = self.interactions.get(interaction_id)
        # Without a registered interaction, guess its type from the answer (only the id is parsed).
        itype = known["type"] if known else (4 if cb_type == 8 else 3 if cb_type in (6, 7) else 2)
        info: dict[str, Any] = {"id": interaction_id, "type": itype}
        answer: dict[str, Any] = {"interaction": info}
        channel_id = known["channel_id"] if known else "0"
        if cb_type in (4, 5):
            msg = self._new_message(channel_id, data, self.bot_user, application_id=self.application_id)
            msg["interaction_metadata"] = {"id": interaction_id, "type": itype, "user": self.bot_user}
            if cb_type == 5:
                msg["flags"] = int(msg["flags"]) | _LOADING
            self.originals[token] = msg
            ephemeral = bool(int(data.get("flags") or 0) & _EPHEMERAL)
            if known and not ephemeral:
                self._store(msg)
            info.update(
                {
                    "response_message_id": msg["id"],
                    "response_message_loading": cb_type == 5,
                    "response_message_ephemeral": ephemeral,
                }
            )
            if cb_type == 4:
                answer["resource"] = {"type": 4, "message": msg}
        elif cb_type == 7 and known and known.get("message"):
            target = self.message(known["message"]["channel_id"], known["message"]["id"]) or known["message"]
            for key in ("content", "embeds", "components"):
                if key in data:
                    target[key] = data[key]
            answer["resource"] = {"type": 7, "message": target}
        return json_response(answer)

    async def _commands(self, request: web.Request) -> web.Response:
        guild_id = request.match_info.get("guild_id")
        if request.method == "GET":
            return json_response(self.commands.get(guild_id, []))
        body = record_of(request).body
        if request.method != "PUT" or not isinstance(body, list):
            return _error(405, 0, "405: Method Not Allowed")
        old = {c["name"]: c for c in self.commands.get(guild_id, [])}
        synced = []
        for cmd in body:
            prev = old.get(cmd["name"])
            synced.append(
                {
                    "type": 1,
                    "description": "",
                    "default_member_permissions": None,
                    "nsfw": False,
                    **cmd,
                    "id": prev["id"] if prev else gw.snowflake(),
                    "application_id": self.application_id,
                    "version": gw.snowflake(),
                    **({"guild_id": guild_id} if guild_id else {}),
                }
            )
        self.commands[guild_id] = synced
        return json_response(synced)


_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")


def _pings(content: str, allowed: dict[str, Any] | None) -> dict[str, Any]:
    """Who Discord would notify for ``content`` under ``allowed_mentions`` (absent: everyone parsed)."""
    parse = ["everyone", "users", "roles"] if allowed is None else list(allowed.get("parse", []))
    allowed = allowed or {}
    users = [u for u in _USER.findall(content) if "users" in parse or u in map(str, allowed.get("users", []))]
    roles = [r for r in _ROLE.findall(content) if "roles" in parse or r in map(str, allowed.get("roles", []))]
    everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
    return {"everyone": everyone, "users": users, "roles": roles}
