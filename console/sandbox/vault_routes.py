"""The vault routes (docs/gateway-contract.md rows 24-25, shapes ASSUMED): albums, and an
album's media in pages of ``limit`` (1-100, default 50) with an offset cursor."""

from __future__ import annotations

from typing import Any

from console.sandbox.app import ApiError, Call, Gateway, nested, route

PAGE_DEFAULT, PAGE_MAX = 50, 100


@route("GET", "/{acc}/vault/albums", "vault_albums")
async def vault_albums(gw: Gateway, call: Call) -> Any:
    return nested(list(call.account.vault_albums.values()))


@route("GET", "/{acc}/vault/albums/{album}/media", "vault_media")
async def vault_media(gw: Gateway, call: Call) -> Any:
    creator = call.account
    album = call.param("album")
    ids = creator.album_media.get(album)
    if ids is None:
        raise ApiError(404, "album not found")
    raw_limit = call.query("limit")
    try:
        limit = PAGE_DEFAULT if raw_limit is None else max(1, min(PAGE_MAX, int(raw_limit)))
        start = int(call.query("cursor") or 0)
    except ValueError:
        raise ApiError(400, "cursor and limit must be numbers") from None
    if start < 0:
        raise ApiError(400, "cursor is invalid")
    page = ids[start : start + limit]
    more = start + limit < len(ids)
    return nested(
        {"media": [creator.vault[mid] for mid in page]},
        next_cursor=str(start + limit) if more else None,
    )
