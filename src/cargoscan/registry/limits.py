"""The request-body limit of the HTTP API, as plain ASGI middleware.

A body announced larger than the limit (``Content-Length``) is answered 413 before a byte of it is read; a
body without a length (chunked) is counted as it streams in, and the request fails with 413 as soon as the
count passes the limit. Either way the service never holds more than the limit of one request in memory.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TOO_LARGE = 413


def too_large_message(limit: int) -> str:
    return f"request body larger than {limit} bytes"


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 (see the module)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int):
        self.app, self.max_bytes = app, int(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0:
                await self._answer(send, 400, "invalid Content-Length header")
                return
            if size > self.max_bytes:
                await self._answer(send, TOO_LARGE, too_large_message(self.max_bytes))
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised while the endpoint reads its body: FastAPI passes HTTPException through.
                    raise HTTPException(TOO_LARGE, too_large_message(self.max_bytes))
            return message

        await self.app(scope, counted, send)

    @staticmethod
    async def _answer(send: Send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
