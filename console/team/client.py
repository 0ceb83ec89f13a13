"""The console's side of team mode: the team server's API and its live stream.

:class:`TeamClient` speaks the routes of :mod:`console.team.routes` with the chatter's token
(``Authorization: Bearer``; never logged, never in a repr). :func:`parse_stream` reads the
stream's texts: a webhook :class:`~console.events.Event`, or a :class:`TeamNotice` (a note, a
read mark, presence, a send by a teammate), which has a ``"team"`` key.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from console.events import Event
from console.webhooks.remote import OnEvent, OnState, RemoteEvents


class TeamAuthError(Exception):
    """The server refused the token (unknown or revoked)."""


class TeamRefused(Exception):
    """The server refused the request (not one of the chatter's accounts, or a bad request)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class TeamNotSent(Exception):
    """The team outbox did not send it: ``state`` failed or unknown (the gateway's reason), or
    still sending when the wait ran out."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state = state
        self.reason = reason


@dataclass(frozen=True)
class TeamNotice:
    """A team event from the stream: ``type`` like ``note.added``, ``presence``."""

    seq: int | None
    type: str
    account_id: str
    chat_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


def parse_stream(text: str | bytes) -> Event | TeamNotice:
    if (text if isinstance(text, str) else text.decode()).startswith('{"team":'):
        body = json.loads(text)
        return TeamNotice(
            seq=body.get("seq"),
            type=str(body.get("team")),
            account_id=str(body.get("account_id")),
            chat_id=body.get("chat_id"),
            data=body,
        )
    return Event.model_validate_json(text)


@dataclass(frozen=True)
class SendResult:
    """``queued`` once on the server; else ``others`` are who the guard names (ask the
    chatter, then send again with ``confirm=True``). With ``wait``, ``message`` is what the
    gateway answered once the team outbox sent it."""

    client_id: str
    queued: bool
    others: list[dict[str, Any]] = field(default_factory=list)
    message: dict[str, Any] | None = None


class TeamClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 20.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
        )

    def __repr__(self) -> str:
        return f"TeamClient({self.base_url!r})"  # never the token

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> TeamClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = await self._http.request(method, path, **kwargs)
        if answer.status_code == 401:
            raise TeamAuthError("the team server refused the token")
        body = answer.json()
        if answer.status_code == 409 and body.get("ask"):
            return body
        if answer.status_code in (422, 504) and "state" in body:
            raise TeamNotSent(body["state"], str(body.get("error", ""))[:500])
        if answer.status_code >= 400:
            raise TeamRefused(answer.status_code, str(body.get("error", ""))[:200])
        return body

    async def me(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/team/me")
        return result

    async def chats(self, account: str) -> list[dict[str, Any]]:
        return list((await self._call("GET", f"/team/accounts/{account}/chats"))["chats"])

    async def messages(
        self, chat_id: str, *, before: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit}
        if before:
            params["before"] = before
        body = await self._call("GET", f"/team/chats/{chat_id}/messages", params=params)
        return list(body["messages"])

    async def search(self, account: str, query: str) -> list[dict[str, Any]]:
        body = await self._call("GET", f"/team/accounts/{account}/search", params={"q": query})
        return list(body["messages"])

    async def send(
        self,
        chat_id: str,
        content: str,
        *,
        media_ids: Sequence[str] = (),
        client_id: str | None = None,
        confirm: bool = False,
        wait: bool = False,
        in_reply_to: str | None = None,
    ) -> SendResult:
        client_id = client_id or uuid.uuid4().hex
        body = await self._call(
            "POST",
            f"/team/chats/{chat_id}/send",
            json={
                "content": content,
                "media_ids": list(media_ids),
                "client_id": client_id,
                "confirm": confirm,
                "wait": wait,
                "in_reply_to": in_reply_to,
            },
        )
        if body.get("ask"):
            return SendResult(client_id, False, list(body.get("others", [])))
        return SendResult(client_id, True, message=body.get("message"))

    async def outbox(self, chat_id: str) -> list[dict[str, Any]]:
        return list((await self._call("GET", f"/team/chats/{chat_id}/outbox"))["items"])

    async def action(
        self,
        chat_id: str,
        kind: str,
        payload: dict[str, Any],
        *,
        client_id: str | None = None,
        wait: bool = False,
    ) -> str:
        body = await self._call(
            "POST",
            f"/team/chats/{chat_id}/actions",
            json={"kind": kind, "payload": payload, "client_id": client_id, "wait": wait},
        )
        return str(body["client_id"])

    async def notes(self, account: str, fan_id: str) -> list[dict[str, Any]]:
        body = await self._call("GET", f"/team/accounts/{account}/fans/{fan_id}/notes")
        return list(body["notes"])

    async def add_note(self, account: str, fan_id: str, text: str) -> None:
        await self._call(
            "POST", f"/team/accounts/{account}/fans/{fan_id}/notes", json={"text": text}
        )

    async def mark_read(self, chat_id: str, up_to: str) -> None:
        await self._call("POST", f"/team/chats/{chat_id}/read", json={"up_to": up_to})

    async def presence(self, chat_id: str | None, *, typing: bool = False) -> None:
        await self._call("POST", "/team/presence", json={"chat_id": chat_id, "typing": typing})

    async def chat_presence(self, chat_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/team/chats/{chat_id}/presence")
        return result

    async def stats(self, since: str | None = None) -> list[dict[str, Any]]:
        params = {"since": since} if since else {}
        return list((await self._call("GET", "/team/stats", params=params))["chatters"])

    async def usage(self) -> dict[str, Any]:
        """The team's Credits table (``usage --team``), bounded: the server is trusted to
        count, not to send a table of any size or shape."""
        return bounded_usage(await self._call("GET", "/team/usage"))

    def events(
        self,
        on_event: OnEvent,
        *,
        after: int | None = None,
        on_state: OnState | None = None,
        min_backoff: float = 0.25,
    ) -> RemoteEvents:
        """The live stream (webhook events and team notices of the chatter's accounts)."""
        ws = self.base_url.replace("http", "ws", 1) + "/events"
        return RemoteEvents(
            ws,
            on_event,
            token=self._token,
            after=after,
            on_state=on_state,
            min_backoff=min_backoff,
            parse=parse_stream,
        )


#: Most rows (account × feature) a team usage report may hold: 500 accounts × every feature.
MAX_USAGE_ROWS = 5000


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return 0
    return value if abs(value) < 1e15 else 0


def bounded_usage(body: Any) -> dict[str, Any]:
    """A usage report as the server sent it, with every field checked and bounded."""
    if not isinstance(body, dict):
        raise TeamRefused(502, "the team server's usage report is not a JSON object")

    def text(value: Any, limit: int = 200) -> str:
        return value[:limit] if isinstance(value, str) else ""

    def whole(value: Any) -> int | None:
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    rows: list[Any] = body["rows"] if isinstance(body.get("rows"), list) else []
    accounts: list[Any] = body["accounts"] if isinstance(body.get("accounts"), list) else []
    report: dict[str, Any] = {
        "month": text(body.get("month"), 7),
        "today": text(body.get("today"), 10),
        "budget": whole(body.get("budget")),
        "reserve": whole(body.get("reserve")),
        "used_today": _number(body.get("used_today")),
        "used_this_month": _number(body.get("used_this_month")),
        "rows_this_month": _number(body.get("rows_this_month", body.get("used_this_month"))),
        "accounts": [
            {"account_id": text(a.get("account_id")), "name": text(a.get("name"), 64)}
            for a in accounts[:MAX_USAGE_ROWS]
            if isinstance(a, dict)
        ],
        "rows": [
            {
                "account_id": text(r.get("account_id")),
                "feature": text(r.get("feature"), 40),
                "today": _number(r.get("today")),
                "month": _number(r.get("month")),
                "requests_today": int(_number(r.get("requests_today"))),
                "requests_month": int(_number(r.get("requests_month"))),
            }
            for r in rows[:MAX_USAGE_ROWS]
            if isinstance(r, dict)
        ],
    }
    return report
