"""Fake Slack Web API for the real ``slack_sdk`` / ``slack_bolt`` clients.

Usage::

    async with FakeSlack(token="xoxb-test") as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
        app = AsyncApp(client=client, signing_secret="secret", process_before_response=True)
        ...
        assert [m["text"] for m in slack.messages("C0GROUP01")] == ["[FR] hello"]

How slack_sdk 3.48 sends requests (so the fake accepts all three shapes): ``chat.postMessage``,
``chat.update``, ``chat.postEphemeral`` and ``views.*`` are JSON bodies; ``auth.test``,
``chat.delete``, ``conversations.open`` and ``reactions.add`` are POSTs with the arguments
in the *query string*; ``users.info``, ``conversations.info``, ``chat.getPermalink``,
``team.info``, ``bots.info``, ``conversations.history`` and ``conversations.replies`` are
GETs with a query string. Booleans become "1"/"0". The token always arrives as
``Authorization: Bearer``. Every call is recorded with its merged parameters in ``Recorded.body``.

Leniency: any channel id is accepted for posting (``conversations.info`` invents a public
channel for an unknown C…/G… id; register names with ``add_channel``), but ``users.info``
knows only users added with ``add_user`` (others: ``user_not_found``). Slack's limits are
enforced: text over 40,000 chars → ``msg_too_long``, over 50 blocks or a block text over
3,000 chars → ``invalid_blocks``, and a message's author must be the caller to update it.

Socket Mode: ``enable_socket_mode("xapp-test")`` accepts that app-level token for
``apps.connections.open``, which hands out ``ws://…/socket-mode``; the fake greets each
connection with ``hello``, ``await send_envelope(payload)`` pushes an envelope to the connected
clients and ``await wait_ack(envelope_id)`` returns the client's acknowledgement.

slack_sdk's ``AsyncRateLimitErrorRetryHandler`` (not installed by default) sleeps
``int(Retry-After) + random()`` seconds, so tests should use ``Retry-After: 0``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes._server import (
    FakeServer,
    Fault,
    Recorded,
    json_bytes,
    json_response,
    raw_response,
    record_of,
)
from tests.fakes.pacing import ChannelPacing

# Parameters that slack_sdk JSON-encodes when it sends a form/query instead of a JSON body.
_JSON_PARAMS = {"blocks", "attachments", "view", "metadata", "files"}
_DEFAULT_SCOPES = "chat:write,chat:write.customize,commands,reactions:read,reactions:write,users:read,im:write"


class SlackError(Exception):
    """Raised by a method handler: answered as ``{"ok": false, "error": ...}`` with 200."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class SlackWorkspace:
    """One installation: a bot token and the identity ``auth.test`` reports for it."""

    token: str
    team_id: str = "T0ICC0001"
    team: str = "ICC Network"
    domain: str = "icc-network"
    user_id: str = "U0BOT0001"  # the bot user
    user: str = "iccbot"
    bot_id: str = "B0BOT0001"
    app_id: str = "A0ICC0001"
    enterprise_id: str | None = None
    scopes: str = _DEFAULT_SCOPES

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"


@dataclass
class SlackUser:
    id: str
    name: str
    real_name: str = ""
    display_name: str = ""
    team_id: str = "T0ICC0001"
    tz: str = "Europe/Paris"
    tz_label: str = "Central European Time"
    tz_offset: int = 3600
    locale: str = "en-US"
    is_bot: bool = False
    image_72: str = ""
    image_192: str = ""
    email: str | None = None

    def to_api(self, include_locale: bool) -> dict[str, Any]:
        """The ``users.info`` user object; ``locale`` only with ``include_locale``."""
        small = self.image_72 or f"https://avatars.slack-edge.com/{self.id}_72.png"
        large = self.image_192 or f"https://avatars.slack-edge.com/{self.id}_192.png"
        real_name = self.real_name or self.name
        profile: dict[str, Any] = {
            "real_name": real_name, "real_name_normalized": real_name, "team": self.team_id,
            "display_name": self.display_name, "display_name_normalized": self.display_name,
            **{f"image_{n}": small if n <= 72 else large for n in (24, 32, 48, 72, 192, 512)},
        }  # fmt: skip
        if self.email:
            profile["email"] = self.email
        user: dict[str, Any] = {
            "id": self.id, "team_id": self.team_id, "name": self.name, "deleted": False,
            "real_name": real_name, "tz": self.tz, "tz_label": self.tz_label, "tz_offset": self.tz_offset,
            "profile": profile, "is_admin": False, "is_owner": False, "is_bot": self.is_bot,
            "is_app_user": False, "updated": 1700000000,
        }  # fmt: skip
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class SlackChannel:
    id: str
    name: str
    team_id: str = "T0ICC0001"
    is_private: bool = False
    is_im: bool = False
    user: str | None = None  # the other party of a DM
    locale: str = "en-US"
    topic: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class FakeSlack(FakeServer):
    """Fake ``https://slack.com/api/`` plus response URLs. See the module docstring."""

    def __init__(self, token: str = "xoxb-test", **workspace: Any) -> None:
        super().__init__()
        self.workspaces: dict[str, SlackWorkspace] = {}
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, SlackChannel] = {}
        self.bots: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.responses: dict[str, list[Any]] = {}
        self._messages: dict[str, dict[str, dict[str, Any]]] = collections.defaultdict(dict)
        self._ts_counter = itertools.count(1)
        self._ids = itertools.count(1)
        self._dms: dict[frozenset[str], str] = {}
        self._rate_limit: int | None = None
        self._rate_retry_after = 1
        self.pacing: ChannelPacing | None = None
        self._posts: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.app_tokens: set[str] = set()
        self.uploads: dict[str, dict[str, Any]] = {}
        """Files uploaded the v2 way: id → {"name", "length", "data", "shared"}."""
        self.socket_acks: dict[str, dict[str, Any]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self.add_workspace(token, **workspace)

    # -- set-up ----------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """Pass as ``AsyncWebClient(base_url=...)``; ends with ``/api/`` like Slack's."""
        return f"{self.url}/api/"

    def add_workspace(self, token: str, **fields: Any) -> SlackWorkspace:
        workspace = SlackWorkspace(token=token, **fields)
        self.workspaces[token] = workspace
        self.add_bot(workspace.bot_id, workspace.user, workspace.app_id, workspace.user_id)
        return workspace

    def add_user(self, user_id: str, name: str, **fields: Any) -> SlackUser:
        user = SlackUser(id=user_id, name=name, **fields)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, **fields: Any) -> SlackChannel:
        channel = SlackChannel(id=channel_id, name=name, **fields)
        self.channels[channel_id] = channel
        return channel

    def add_bot(self, bot_id: str, name: str, app_id: str = "A0OTHER01", user_id: str = "U0OTHERB1") -> None:
        self.bots[bot_id] = {"name": name, "app_id": app_id, "user_id": user_id}

    def seed_message(self, channel: str, text: str, user: str, thread_ts: str | None = None) -> dict[str, Any]:
        """Put a message from a human in a channel (for reactions, permalinks, updates)."""
        msg: dict[str, Any] = {"type": "message", "ts": self._next_ts(), "user": user, "text": text}
        if thread_ts:
            msg["thread_ts"] = thread_ts
        self._store(channel, msg)
        return msg

    def set_rate_limit(self, posts_per_second: int | None, retry_after: int = 1) -> None:
        """Emulate Slack's ~1 msg/s per channel for chat.postMessage (None: off)."""
        self._rate_limit = posts_per_second
        self._rate_retry_after = retry_after

    def set_channel_pacing(self, pacing: ChannelPacing | None) -> None:
        """Limit chat.postMessage per channel (see tests/fakes/pacing.py; None: off). Slack's
        Retry-After is whole seconds."""
        self.pacing = pacing

    # -- Socket Mode -----------------------------------------------------------------
    def enable_socket_mode(self, app_token: str = "xapp-test") -> None:
        self.app_tokens.add(app_token)

    async def wait_connected(self, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not [ws for ws in self._sockets if not ws.closed]:
                await self._socket_changed()

    async def send_envelope(self, payload: dict[str, Any], *, kind: str = "events_api", retry_attempt: int = 0,
                            retry_reason: str = "") -> str:
        """Push one envelope (``events_api``, ``slash_commands``, ``interactive``) to the clients."""
        envelope_id = f"env-{next(self._ids):06d}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": retry_attempt,
                    "retry_reason": retry_reason}  # fmt: skip
        for ws in [ws for ws in self._sockets if not ws.closed]:
            await ws.send_json(envelope)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while envelope_id not in self.socket_acks:
                await self._socket_changed()
        return self.socket_acks[envelope_id]

    async def _socket_changed(self) -> None:
        await asyncio.sleep(0.005)

    async def _socket_mode(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": len(self._sockets),
                            "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                            "connection_info": {"app_id": next(iter(self.workspaces.values())).app_id}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                if data.get("envelope_id"):
                    self.socket_acks[data["envelope_id"]] = data
        return ws

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        await super().stop()

    # -- faults ----------------------------------------------------------------------
    def fail_next(
        self,
        method: str | None,
        status: int = 429,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (fnmatch; None: any) with a fault.

        ``body`` may be a dict (sent as JSON), str/bytes (sent raw, text/plain) or None
        (Slack's own body for the status: ``ratelimited`` for 429, a plain error otherwise).
        Use ``status=200, body={"ok": False, "error": "channel_not_found"}`` for API errors.
        """
        if headers is None:
            headers = {"Retry-After": "1"} if status == 429 else {}
        if body is None:
            body = {"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"}
        content_type: str | None = "application/json"
        if isinstance(body, dict):
            raw = json_bytes(body)
        else:
            raw = body.encode() if isinstance(body, str) else body
            content_type = "text/plain"
        self.add_fault(Fault(method, status, headers, raw, content_type, times))

    def error_next(self, method: str, error: str, times: int = 1) -> None:
        """Slack-style API error with HTTP 200: ``error_next("chat.postMessage", "channel_not_found")``."""
        self.fail_next(method, 200, {}, {"ok": False, "error": error}, times)

    # -- assertions ------------------------------------------------------------------
    def calls(self, method: str | None = None, token: str | None = None) -> list[Recorded]:
        """Recorded API calls (not response-URL posts), optionally of one method / token."""
        out = [r for r in self.requests if r.path.startswith("/api/")]
        if method is not None:
            out = [r for r in out if r.name == method]
        if token is not None:
            out = [r for r in out if r.headers.get("Authorization") == f"Bearer {token}"]
        return out

    def params(self, method: str) -> list[dict[str, Any]]:
        """Merged parameters of every call of ``method``, oldest first."""
        return [r.body for r in self.calls(method)]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """What is in ``channel`` now (after updates and deletes), replies included, by ts."""
        return [self._messages[channel][ts] for ts in sorted(self._messages[channel], key=float)]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        return self._messages[channel].get(ts)

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The replies of a thread (parent excluded), oldest first."""
        return [m for m in self.messages(channel) if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]

    def dm_channel(self, *users: str) -> str:
        """The id ``conversations.open`` gives (or would give) for these users."""
        key = frozenset(users)
        if key not in self._dms:
            self._dms[key] = f"D0DM{next(self._ids):05d}"
            self.channels[self._dms[key]] = SlackChannel(self._dms[key], "", is_im=True, user=sorted(users)[0])
        return self._dms[key]

    def new_response_url(self) -> str:
        """A response_url on the fake; what bolt's ``respond()`` posts there lands in ``responses``."""
        rid = f"R{next(self._ids):05d}"
        self.responses[rid] = []
        return f"{self.url}/response/{rid}"

    def responses_to(self, response_url: str) -> list[Any]:
        return self.responses.get(response_url.rsplit("/", 1)[-1], [])

    # -- server plumbing -------------------------------------------------------------
    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response_url)
        app.router.add_get("/socket-mode", self._socket_mode)
        app.router.add_post("/upload/{file_id}", self._upload)

    def _name(self, request: web.Request) -> str:
        if request.path.startswith("/api/"):
            return request.match_info.get("method", "")
        if request.path.startswith("/upload/"):
            return "upload"
        return "socket-mode" if request.path == "/socket-mode" else "response"

    def _keys(self, record: Recorded) -> list[str]:
        return [record.name]

    def _before(self, request: web.Request, record: Recorded) -> web.StreamResponse | None:
        if record.name in ("response", "socket-mode", "upload"):
            return None
        record.body = _merge_params(record.query, record.body)
        if record.name == "apps.connections.open":
            token = _token(record)
            if token in self.app_tokens:
                return json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket-mode"})
            error = "not_allowed_token_type" if token in self.workspaces else "invalid_auth"
            return json_response({"ok": False, "error": error})
        if self._handler(record.name) is None:
            return json_response({"ok": False, "error": "unknown_method", "req_method": record.name})
        token = _token(record)
        if not token:
            return json_response({"ok": False, "error": "not_authed"})
        if token not in self.workspaces:
            return json_response({"ok": False, "error": "invalid_auth"})
        return None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        record = record_of(request)
        workspace = self.workspaces[_token(record)]
        handler = self._handler(record.name)
        assert handler is not None
        headers = {"x-oauth-scopes": workspace.scopes, "x-accepted-oauth-scopes": ""}
        try:
            result = handler(workspace, record.body)
        except SlackError as exc:
            return json_response({"ok": False, "error": exc.error}, headers=headers)
        if isinstance(result, web.Response):
            return result
        return json_response({"ok": True, **result}, headers=headers)

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        record = record_of(request)
        rid = request.match_info["rid"]
        if rid not in self.responses:
            return raw_response(404, b"no_active_hooks", "text/plain")
        self.responses[rid].append(record.body)
        return raw_response(200, b"ok", "text/plain")

    def _handler(self, method: str) -> Any:
        return getattr(self, "_m_" + method.replace(".", "_"), None)

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + 100 * next(self._ts_counter)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _store(self, channel: str, msg: dict[str, Any]) -> None:
        self._messages[channel][msg["ts"]] = msg
        parent_ts = msg.get("thread_ts")
        if parent_ts and parent_ts != msg["ts"] and parent_ts in self._messages[channel]:
            parent = self._messages[channel][parent_ts]
            parent["thread_ts"] = parent_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = msg["ts"]

    def _find(self, channel: str, ts: str) -> dict[str, Any]:
        msg = self._messages[channel].get(ts)
        if msg is None:
            raise SlackError("message_not_found")
        return msg

    def _bot_message(self, ws: SlackWorkspace, p: dict[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {"type": "message", "ts": ts, "text": p.get("text", ""), "team": ws.team_id}
        msg.update({"bot_id": ws.bot_id, "app_id": ws.app_id})
        if p.get("username") or p.get("icon_url") or p.get("icon_emoji"):
            # chat:write.customize posts show up as bot_message with the given identity.
            msg.update({"subtype": "bot_message", "username": p.get("username") or ws.user})
            if p.get("icon_url"):
                msg["icons"] = {"image_48": p["icon_url"], "image_72": p["icon_url"]}
            elif p.get("icon_emoji"):
                msg["icons"] = {"emoji": p["icon_emoji"]}
        else:
            msg["user"] = ws.user_id
            msg["bot_profile"] = {
                "id": ws.bot_id,
                "app_id": ws.app_id,
                "name": ws.user,
                "team_id": ws.team_id,
            }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if p.get(key):
                msg[key] = p[key]
        return msg

    # -- API methods (each returns the fields after "ok": true) ------------------------
    def _m_auth_test(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": ws.url,
            "team": ws.team,
            "user": ws.user,
            "team_id": ws.team_id,
            "user_id": ws.user_id,
            "bot_id": ws.bot_id,
            "enterprise_id": ws.enterprise_id,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any] | web.Response:
        channel = p.get("channel") or ""
        if not channel:
            raise SlackError("channel_not_found")
        _check_content(p)
        if self._rate_limit is not None:
            window = self._posts[channel]
            now = time.monotonic()
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self._rate_limit:
                body = {"ok": False, "error": "ratelimited"}
                return json_response(body, 429, {"Retry-After": str(self._rate_retry_after)})
            window.append(now)
        if self.pacing is not None and (wait := self.pacing.check("slack", channel)) is not None:
            body = {"ok": False, "error": "ratelimited"}
            return json_response(body, 429, {"Retry-After": str(max(1, math.ceil(wait)))})
        msg = self._bot_message(ws, p, self._next_ts())
        self._store(channel, msg)
        return {"channel": channel, "ts": msg["ts"], "message": dict(msg)}

    def _m_chat_update(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(p.get("channel", ""), p.get("ts", ""))
        if msg.get("bot_id") != ws.bot_id:
            raise SlackError("cant_update_message")
        _check_content(p)
        for key in ("text", "blocks", "attachments"):
            if key in p:
                msg[key] = p[key]
        msg["edited"] = {"user": ws.user_id, "ts": self._next_ts()}
        return {"channel": p["channel"], "ts": msg["ts"], "text": msg.get("text", ""), "message": dict(msg)}

    def _m_chat_delete(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(p.get("channel", ""), p.get("ts", ""))
        if msg.get("bot_id") != ws.bot_id:
            raise SlackError("cant_delete_message")
        del self._messages[p["channel"]][msg["ts"]]
        return {"channel": p["channel"], "ts": msg["ts"]}

    def _m_chat_postEphemeral(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("channel"):
            raise SlackError("channel_not_found")
        if not p.get("user"):
            raise SlackError("user_not_in_channel")
        _check_content(p)
        ts = self._next_ts()
        self.ephemerals.append({**p, "message_ts": ts})
        return {"message_ts": ts}

    def _m_chat_getPermalink(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        channel = p.get("channel", "")
        msg = self._find(channel, p.get("message_ts", ""))
        link = f"https://{ws.domain}.slack.com/archives/{channel}/p{msg['ts'].replace('.', '')}"
        if msg.get("thread_ts") and msg["thread_ts"] != msg["ts"]:
            link += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _m_conversations_open(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(p.get("users", "")).split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        existing = frozenset(users) in self._dms
        channel_id = self.dm_channel(*users)
        channel: dict[str, Any] = {"id": channel_id}
        if _truthy(p.get("return_im")):
            channel.update({"is_im": True, "user": users[0], "created": 1700000000, "is_open": True})
        result: dict[str, Any] = {"channel": channel}
        if existing:
            result.update({"no_op": True, "already_open": True})
        return result

    def _m_conversations_info(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        channel_id = p.get("channel", "")
        channel = self.channels.get(channel_id)
        if channel is None:
            if channel_id[:1] not in ("C", "G"):
                raise SlackError("channel_not_found")
            channel = SlackChannel(channel_id, channel_id.lower(), team_id=ws.team_id)  # lenient default
        info: dict[str, Any] = {
            "id": channel.id, "created": 1700000000, "is_archived": False, "is_im": channel.is_im,
            "is_org_shared": False, "context_team_id": channel.team_id,
        }  # fmt: skip
        if channel.is_im:
            info.update({"user": channel.user, "is_user_deleted": False})
        else:
            info.update({
                "name": channel.name, "name_normalized": channel.name, "is_channel": not channel.is_private,
                "is_group": channel.is_private, "is_private": channel.is_private, "is_general": False,
                "is_member": True, "is_shared": False, "is_ext_shared": False,
                "topic": {"value": channel.topic, "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
            })  # fmt: skip
        if _truthy(p.get("include_locale")):
            info["locale"] = channel.locale
        info.update(channel.extra)
        return {"channel": info}

    def _m_conversations_history(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages (and thread broadcasts), newest first, within latest/oldest."""
        channel = p.get("channel", "")
        if not channel:
            raise SlackError("channel_not_found")
        inclusive = _truthy(p.get("inclusive"))
        latest = float(p.get("latest") or "inf")
        oldest = float(p.get("oldest") or 0)
        found = []
        for msg in reversed(self.messages(channel)):
            ts = float(msg["ts"])
            if msg.get("thread_ts") not in (None, msg["ts"]) and msg.get("subtype") != "thread_broadcast":
                continue
            if (ts < latest or (inclusive and ts == latest)) and (ts > oldest or (inclusive and ts == oldest)):
                found.append(dict(msg))
        limit = int(p.get("limit") or 100)
        return {"messages": found[:limit], "has_more": len(found) > limit, "pin_count": 0}

    def _m_conversations_replies(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        """The thread ``ts`` belongs to: its parent first, then the replies (``ts`` may be a reply)."""
        channel = p.get("channel", "")
        msg = self._find(channel, p.get("ts", ""))
        parent_ts = msg.get("thread_ts") or msg["ts"]
        parent = self._messages[channel].get(parent_ts)
        thread = ([dict(parent)] if parent else []) + [dict(m) for m in self.thread(channel, parent_ts)]
        return {"messages": thread, "has_more": False}

    def _m_users_info(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(p.get("user", ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_api(_truthy(p.get("include_locale")))}

    def _view(self, ws: SlackWorkspace, view: Any, previous: dict[str, Any] | None = None) -> dict[str, Any]:
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            raise SlackError("invalid_arguments")
        if len(view.get("blocks", [])) > 100:
            raise SlackError("invalid_arguments")
        view_id = previous["id"] if previous else f"V{next(self._ids):08d}"
        stored = {
            "id": view_id, "team_id": ws.team_id, "app_id": ws.app_id, "bot_id": ws.bot_id,
            "app_installed_team_id": ws.team_id, "blocks": [], "private_metadata": "", "callback_id": "",
            "external_id": "", "state": {"values": {}}, "hash": f"{int(time.time())}.{view_id}",
            "clear_on_close": False, "notify_on_close": False, "previous_view_id": None, "root_view_id": view_id,
            **view,
        }  # fmt: skip
        if previous:
            stored["previous_view_id"] = previous.get("previous_view_id")
            stored["root_view_id"] = previous.get("root_view_id", view_id)
        self.views[view_id] = stored
        return stored

    def _m_views_open(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("trigger_id"):
            raise SlackError("invalid_trigger_id")
        return {"view": self._view(ws, p.get("view"))}

    def _m_views_push(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("trigger_id"):
            raise SlackError("invalid_trigger_id")
        return {"view": self._view(ws, p.get("view"))}

    def _m_views_update(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        current = self.views.get(p.get("view_id", ""))
        if current is None and p.get("external_id"):
            current = next((v for v in self.views.values() if v.get("external_id") == p["external_id"]), None)
        if current is None:
            raise SlackError("not_found")
        if p.get("hash") and p["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._view(ws, p.get("view"), current)}

    def _m_views_publish(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("user_id"):
            raise SlackError("invalid_arguments")
        view = self._view(ws, p.get("view"))
        view["user_id"] = p["user_id"]
        return {"view": view}

    def _m_reactions_add(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._find(p.get("channel", ""), p.get("timestamp", ""))
        name = p.get("name", "")
        if not name:
            raise SlackError("invalid_name")
        reactions = msg.setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            reactions.append({"name": name, "users": [ws.user_id], "count": 1})
        elif ws.user_id in entry["users"]:
            raise SlackError("already_reacted")
        else:
            entry["users"].append(ws.user_id)
            entry["count"] += 1
        return {}

    # Files, the v2 way: get an upload URL, POST the bytes there, complete (and share) the upload.
    def _m_files_getUploadURLExternal(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("filename") or not str(p.get("length", "")).isdigit():
            raise SlackError("invalid_arguments")
        file_id = f"F0UP{next(self._ids):05d}"
        self.uploads[file_id] = {"name": p["filename"], "length": int(p["length"]), "data": None, "shared": None}
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return raw_response(404, b"not found", "text/plain")
        upload["data"] = record_of(request).raw
        return raw_response(200, f"OK - {len(upload['data'])}".encode(), "text/plain")

    def _m_files_completeUploadExternal(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        shared = []
        for entry in files:
            upload = self.uploads.get(entry.get("id", ""))
            if upload is None or upload["data"] is None or len(upload["data"]) != upload["length"]:
                raise SlackError("file_upload_incomplete")
            upload["shared"] = p.get("channel_id")
            shared.append({"id": entry["id"], "name": upload["name"], "title": entry.get("title") or upload["name"]})
        channel = p.get("channel_id")
        if channel:
            msg: dict[str, Any] = {"type": "message", "ts": self._next_ts(), "user": ws.user_id, "bot_id": ws.bot_id,
                                   "text": p.get("initial_comment") or "", "files": shared, "subtype": "file_share"}
            if p.get("thread_ts"):
                msg["thread_ts"] = p["thread_ts"]
            self._store(channel, msg)
        return {"files": shared}

    def _m_team_info(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        icon = f"https://avatars.slack-edge.com/{ws.team_id}_132.png"
        icons = {"image_34": icon, "image_68": icon, "image_132": icon, "image_default": False}
        team = {"id": ws.team_id, "name": ws.team, "domain": ws.domain, "email_domain": "", "icon": icons}
        return {"team": {**team, "enterprise_id": ws.enterprise_id}}

    def _m_bots_info(self, ws: SlackWorkspace, p: dict[str, Any]) -> dict[str, Any]:
        bot_id = p.get("bot") or ws.bot_id
        bot = self.bots.get(bot_id)
        if bot is None:
            raise SlackError("bot_not_found")
        icon = f"https://avatars.slack-edge.com/{bot_id}_72.png"
        icons = {"image_36": icon, "image_48": icon, "image_72": icon}
        info = {"id": bot_id, "deleted": False, "updated": 1700000000, "icons": icons}
        return {"bot": {**info, **bot}}


def _merge_params(query: dict[str, str], body: Any) -> dict[str, Any]:
    params: dict[str, Any] = dict(query)
    if isinstance(body, dict):
        params.update(body)
    for key in _JSON_PARAMS & params.keys():
        if isinstance(params[key], str) and params[key][:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


def _token(record: Recorded) -> str:
    auth = record.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip()
    return str(record.body.get("token") or "")


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _check_content(p: dict[str, Any]) -> None:
    """Slack's size limits, so a test sees an honest error when the bot exceeds them."""
    if not (p.get("text") or p.get("blocks") or p.get("attachments")):
        raise SlackError("no_text")
    if len(p.get("text") or "") > 40_000:
        raise SlackError("msg_too_long")
    blocks = p.get("blocks") or []
    if not isinstance(blocks, list) or len(blocks) > 50:
        raise SlackError("invalid_blocks")
    for block in blocks:
        text = block.get("text") if isinstance(block, dict) else None
        if isinstance(text, dict) and len(text.get("text", "")) > 3000:
            raise SlackError("invalid_blocks")
