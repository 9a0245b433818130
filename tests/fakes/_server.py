"""Shared plumbing for the loopback fakes: lifecycle, recording, latency and faults.

Each fake (Slack, Discord, DeepL) is an aiohttp application on ``127.0.0.1`` with an
ephemeral port. The middleware here records every request before any fault or latency is
applied, so a test can always see what the real client library actually sent, including
requests the fake refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fnmatch
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The record of the request being handled; a ContextVar works on every aiohttp version
# (request storage keys changed in 3.14) and each request runs in its own task.
_RECORD: contextvars.ContextVar[Recorded] = contextvars.ContextVar("fake_record")


@dataclass
class Recorded:
    """One request as the fake received it."""

    name: str  # Slack API method, Discord route key ("POST /channels/{channel_id}/messages"), DeepL path
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON / form dict, text for anything else, None when empty
    raw: bytes
    time: float  # time.monotonic() when it arrived
    status: int = 0  # status the fake answered (0 while in flight or if the client gave up)

    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


@dataclass
class Fault:
    """A canned answer for the next ``times`` requests that match ``target``."""

    target: str | None  # fnmatch pattern on the fake's request keys; None matches everything
    status: int | None  # None: answer normally (used by hang_next: delay, then the real answer)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str | None = "application/json"
    times: int = 1
    delay: float = 0.0


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def raw_response(
    status: int = 200,
    body: bytes = b"",
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> web.Response:
    # Build responses by hand: web.json_response() appends "; charset=utf-8", which
    # discord.py's json_or_text() does not accept as JSON.
    all_headers = dict(headers or {})
    if content_type is not None:
        all_headers.setdefault("Content-Type", content_type)
    return web.Response(status=status, body=body, headers=all_headers)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return raw_response(status, json_bytes(data), "application/json", headers)


def parse_body(raw: bytes, content_type: str) -> Any:
    """Parse JSON or urlencoded bodies; anything else stays text (or None when empty)."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if content_type.startswith("multipart/form-data"):
        return _multipart(raw, content_type)
    if content_type.startswith("application/x-www-form-urlencoded") or not content_type:
        return _form_to_dict(parse_qsl(text, keep_blank_values=True))
    return text


def _multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    # Files become {"filename", "content_type", "size", "data"}; JSON parts are parsed
    # (discord.py sends message JSON as a "payload_json" part next to the files).
    parsed = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    out: dict[str, Any] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(data, bytes):
            continue
        if part.get_filename():
            ctype = part.get_content_type()
            out[name] = {"filename": part.get_filename(), "content_type": ctype, "size": len(data), "data": data}
        else:
            out[name] = parse_body(data, part.get_content_type())
    return out


def _form_to_dict(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    # Repeated keys (DeepL's form-encoded text=a&text=b) become lists.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            existing = out[key]
            out[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[key] = value
    return out


class FakeServer:
    """Base class: subclasses add routes in ``_routes`` and say how requests are named."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.errors: list[Exception] = []  # exceptions raised by the fake's own handlers
        self._faults: list[Fault] = []
        self._latency: dict[str | None, float] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closing = asyncio.Event()
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -----------------------------------------------------------------
    async def start(self, port: int = 0) -> Self:
        """Listen on loopback: an ephemeral port (tests), or `port` (a standalone demo server)."""
        app = web.Application(middlewares=[self._middleware], client_max_size=16 * 1024 * 1024)
        self._routes(app)
        # A short shutdown timeout so a hanging (injected) handler never holds up stop().
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._port = self._runner.addresses[0][1]
        self._closing = asyncio.Event()
        return self

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.errors:
            raise AssertionError(f"{type(self).__name__} handlers crashed: {self.errors!r}")

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def serve_in_thread(self) -> Iterator[Self]:
        """Run the fake on its own event loop in a thread, for synchronous callers.

        The DeepL client is blocking; a sync test or benchmark can use it directly with
        ``with FakeDeepL().serve_in_thread() as fake: ...``.
        """
        started = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"{type(self).__name__}-loop", daemon=True)
        self._thread.start()
        started.wait(10)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(10)
            self._thread = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self._port}"

    # -- test controls -------------------------------------------------------------
    def set_latency(self, target: str | None, seconds: float) -> None:
        """Delay answers to requests matching ``target`` (None: every request)."""
        if seconds <= 0:
            self._latency.pop(target, None)
        else:
            self._latency[target] = seconds

    def add_fault(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._latency.clear()

    def clear_requests(self) -> None:
        self.requests.clear()

    def recorded(self, pattern: str | None = None) -> list[Recorded]:
        """Recorded requests whose keys match the fnmatch ``pattern`` (all when None)."""
        return [r for r in self.requests if pattern is None or self._matches(pattern, r)]

    # -- for subclasses ------------------------------------------------------------
    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _name(self, request: web.Request) -> str:
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        return f"{request.method} {canonical}"

    def _keys(self, record: Recorded) -> list[str]:
        """Strings a fault/latency target is matched against."""
        return [record.name, f"{record.method} {record.path}"]

    def _before(self, request: web.Request, record: Recorded) -> web.StreamResponse | None:
        """Hook run after recording and before faults (auth checks and the like)."""
        return None

    def _fault_response(self, fault: Fault, record: Recorded) -> web.StreamResponse:
        assert fault.status is not None
        return raw_response(fault.status, fault.body, fault.content_type, fault.headers)

    async def _sleep(self, seconds: float) -> None:
        # Sleeps end early when the fake stops, so stop() never waits on injected delays.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # -- internals -----------------------------------------------------------------
    def _matches(self, pattern: str, record: Recorded) -> bool:
        return any(fnmatch.fnmatchcase(key, pattern) for key in self._keys(record))

    def _take_fault(self, record: Recorded) -> Fault | None:
        for fault in self._faults:
            if fault.target is None or self._matches(fault.target, record):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _latency_for(self, record: Recorded) -> float:
        for target, seconds in self._latency.items():
            if target is not None and self._matches(target, record):
                return seconds
        return self._latency.get(None, 0.0)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        record = Recorded(
            name=self._name(request),
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            body=parse_body(raw, request.headers.get("Content-Type", "")),
            raw=raw,
            time=time.monotonic(),
        )
        self.requests.append(record)
        _RECORD.set(record)
        try:
            response = await self._answer(request, handler, record)
        except web.HTTPException as exc:
            record.status = exc.status
            raise
        except Exception as exc:
            # A bug in the fake must not look like a service outage (5xx makes the clients
            # retry for seconds): answer 418 at once and fail the test when the fake stops.
            self.errors.append(exc)
            response = json_response({"message": f"fake server crashed: {exc!r}"}, 418)
        record.status = response.status
        return response

    async def _answer(self, request: web.Request, handler: Handler, record: Recorded) -> web.StreamResponse:
        response = self._before(request, record)
        if response is not None:
            return response
        latency = self._latency_for(record)
        fault = self._take_fault(record)
        if fault is not None and fault.delay:
            latency += fault.delay
        if latency:
            await self._sleep(latency)
        if fault is not None and fault.status is not None:
            return self._fault_response(fault, record)
        return await handler(request)


def record_of(request: web.Request) -> Recorded:
    """The ``Recorded`` entry of the request a handler is answering."""
    return _RECORD.get()
