"""Every contract route over real HTTP: happy path, state change, paging, 400/401/404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from console.api.models import AutomatedMessage
from console.sandbox.server import SandboxServer
from console.sandbox.world import ACTIVE, EXPIRED


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, headers=sandbox.headers, timeout=10) as client:
        yield client


@pytest.fixture
def acc(sandbox: SandboxServer) -> str:
    return sandbox.world.first_account().account_id


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The Fansly payload of a nested (§3.2) answer, after checking the envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert body["timestamp"].endswith("Z")
    assert body["data"]["status_code"] == status
    assert body["data"]["data"]["success"] is True
    return body["data"]["data"]["response"]


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status
    assert body["data"] is None
    return str(body["message"])


def test_accounts_and_me(api: httpx.Client, sandbox: SandboxServer) -> None:
    accounts = api.get("/accounts").json()["data"]["accounts"]
    creator = sandbox.world.first_account()
    assert accounts[0] == {
        "accountId": creator.account_id,
        "name": creator.label,
        "country": creator.country,
        "status": "active",
        "fanslyAccountId": creator.native_id,
        "username": creator.username,
    }
    assert accounts[0]["accountId"].startswith("fansly_acc_")
    me = ok(api.get(f"/{creator.account_id}/me"))
    assert me["account"]["id"] == creator.native_id
    assert len(me["account"]["id"]) == 18
    assert me["account"]["createdAt"] > 10**12  # milliseconds


def test_accounts_by_ids(api: httpx.Client, sandbox: SandboxServer) -> None:
    creator = sandbox.world.first_account()
    fan_id = next(iter(creator.fans))
    found = ok(api.get("/accounts/by-ids", params={"ids": f"{fan_id},999999999999999999"}))
    assert [p["id"] for p in found] == [fan_id]
    assert error(api.get("/accounts/by-ids"), 400) == "ids is required"


def test_chats_page_to_the_end_newest_first(
    api: httpx.Client, acc: str, sandbox: SandboxServer
) -> None:
    seen: list[str] = []
    last_ids: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        response = api.get(f"/{acc}/chats", params=params)
        payload = ok(response)
        rows = payload["data"]
        pages += 1
        accounts = {a["id"] for a in payload["aggregationData"]["accounts"]}
        groups = {g["id"] for g in payload["aggregationData"]["groups"]}
        for row in rows:
            assert row["partnerAccountId"] in accounts
            assert row["groupId"] in groups
        seen += [r["groupId"] for r in rows]
        last_ids += [int(r["lastMessageId"]) for r in rows]
        cursor = response.json()["data"].get("nextCursor")
        if not cursor:
            break
    assert pages == 6
    assert len(seen) == len(set(seen)) == 40
    assert last_ids == sorted(last_ids, reverse=True)
    assert seen == [c.id for c in sandbox.world.first_account().chat_order()]


def test_chats_filters_sort_search(api: httpx.Client, acc: str, sandbox: SandboxServer) -> None:
    creator = sandbox.world.first_account()
    oldest = ok(api.get(f"/{acc}/chats", params={"sort": "oldest", "limit": 100}))["data"]
    assert [r["groupId"] for r in oldest] == [c.id for c in reversed(creator.chat_order())]
    unread = ok(api.get(f"/{acc}/chats", params={"sort": "unread", "limit": 100}))["data"]
    counts = [r["unreadCount"] > 0 for r in unread]
    assert counts == sorted(counts, reverse=True) and any(counts) and not all(counts)
    subs = ok(api.get(f"/{acc}/chats", params={"filter": "subscribers", "limit": 100}))["data"]
    assert subs and all(r["subscriptionTierId"] for r in subs)
    followers = ok(api.get(f"/{acc}/chats", params={"filter": "followers", "limit": 100}))["data"]
    assert len(subs) + len(followers) == 40
    vips = ok(api.get(f"/{acc}/chats", params={"filter": "vips", "limit": 100}))["data"]
    vip_ids = creator.list_members[creator.list_id("VIP")]
    assert {r["partnerAccountId"] for r in vips} == vip_ids
    tier = subs[0]["subscriptionTierId"]
    tiered = ok(api.get(f"/{acc}/chats", params={"subscriptionTierId": tier, "limit": 100}))
    assert tiered["data"] and all(r["subscriptionTierId"] == tier for r in tiered["data"])
    fan = creator.fans[subs[0]["partnerAccountId"]]
    found = ok(api.get(f"/{acc}/chats", params={"search": fan["username"].upper()}))["data"]
    assert subs[0]["groupId"] in [r["groupId"] for r in found]
    assert "filter must be one of" in error(api.get(f"/{acc}/chats", params={"filter": "x"}), 400)
    assert "sort must be one of" in error(api.get(f"/{acc}/chats", params={"sort": "x"}), 400)


def test_unread_chats_and_get_chat(api: httpx.Client, acc: str, sandbox: SandboxServer) -> None:
    rows = ok(api.get(f"/{acc}/chats/unread", params={"limit": 100}))["data"]
    assert rows and all(r["unreadCount"] > 0 and r["lastUnreadMessageId"] for r in rows)
    group = ok(api.get(f"/{acc}/chats/{rows[0]['groupId']}"))
    assert group["id"] == rows[0]["groupId"]
    assert group["lastMessage"]["id"] == rows[0]["lastMessageId"]
    assert error(api.get(f"/{acc}/chats/123456789012345678"), 404) == "Chat not found"


def test_messages_page_to_the_end(api: httpx.Client, acc: str, sandbox: SandboxServer) -> None:
    chat = max(sandbox.world.first_account().chats.values(), key=lambda c: len(c.messages))
    ids: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 50}  # clamped to 10
        if cursor:
            params["cursor"] = cursor
        page = ok(api.get(f"/{acc}/chats/{chat.id}/messages", params=params))
        assert len(page["messages"]) <= 10
        ids += [int(m["id"]) for m in page["messages"]]
        cursor = page["cursor"]
        if cursor is None:
            break
        assert cursor == page["messages"][-1]["id"]
    assert ids == sorted(chat.message_ids, reverse=True)
    first = ok(api.get(f"/{acc}/chats/{chat.id}/messages", params={"limit": 0}))
    assert len(first["messages"]) == 1
    message = first["messages"][0]
    assert isinstance(message["createdAt"], int) and message["createdAt"] < 10**10  # seconds
    assert {"id", "groupId", "senderId", "inReplyTo", "attachments", "likes", "pinned"} <= set(
        message
    )


def test_send_message_is_listed_and_validated(
    api: httpx.Client, acc: str, sandbox: SandboxServer
) -> None:
    creator = sandbox.world.first_account()
    chat = creator.chat_order()[1]
    parent = chat.messages[-1]["id"]
    sent = ok(
        api.post(
            f"/{acc}/chats/{chat.id}/messages",
            json={"content": "hi there 👋", "inReplyTo": parent},
        ),
        201,
    )
    assert sent["content"] == "hi there 👋"
    assert sent["inReplyTo"] == parent
    assert sent["senderId"] == creator.native_id
    newest = ok(api.get(f"/{acc}/chats/{chat.id}/messages", params={"limit": 1}))["messages"][0]
    assert newest["id"] == sent["id"]
    row = ok(api.get(f"/{acc}/chats", params={"limit": 1}))["data"][0]
    assert row["groupId"] == chat.id and row["unreadCount"] == 0
    ppv = ok(
        api.post(
            f"/{acc}/chats/{chat.id}/messages",
            json={
                "content": "unlock",
                "mediaIds": [{"mediaId": next(iter(creator.vault))}],
                "access_type": ["ppv"],
                "price": 25,
            },
        ),
        201,
    )
    media_id = ppv["attachments"][0]["contentId"]
    assert media_id == next(iter(creator.vault))  # the attachment names the vault item
    assert creator.offers[(chat.fan_id, media_id)] == 25_000
    url = f"/{acc}/chats/{chat.id}/messages"
    assert error(api.post(url, json={"content": "   "}), 400) == "content is required"
    assert error(api.post(url, json={}), 400) == "content is required"
    assert "price requires access_type ppv" in error(
        api.post(url, json={"content": "x", "price": 5}), 400
    )
    assert "access_type" in error(api.post(url, json={"content": "x", "access_type": "y"}), 400)
    assert "price must be between" in error(
        api.post(url, json={"content": "x", "mediaIds": ["m"], "access_type": "ppv", "price": 900}),
        400,
    )
    assert error(api.post(url, content=b"{nope"), 400) == "Invalid JSON body"
    other = creator.chat_order()[5].messages[0]["id"]
    assert "inReplyTo" in error(api.post(url, json={"content": "x", "inReplyTo": other}), 400)
    assert error(api.post(f"/{acc}/chats/1/messages", json={"content": "x"}), 404)


def test_like_unlike_pin_unpin(api: httpx.Client, acc: str, sandbox: SandboxServer) -> None:
    creator = sandbox.world.first_account()
    chat = creator.chat_order()[3]
    message = chat.messages[-1]
    liked = ok(api.post(f"/{acc}/messages/like", json={"messageId": message["id"], "type": 5}))
    assert liked == {"messageId": message["id"], "type": 5, "userId": creator.native_id}
    listed = ok(api.get(f"/{acc}/chats/{chat.id}/messages", params={"limit": 1}))["messages"][0]
    assert {"userId": creator.native_id, "type": 5} in listed["likes"]
    ok(api.post(f"/{acc}/messages/unlike", json={"messageId": message["id"], "type": 5}))
    assert all(like["userId"] != creator.native_id for like in message["likes"])
    assert "type must be" in error(
        api.post(f"/{acc}/messages/like", json={"messageId": message["id"], "type": 9}), 400
    )
    assert error(api.post(f"/{acc}/messages/like", json={"messageId": "1", "type": 1}), 404)
    body = {"messageId": message["id"], "chatId": chat.id}
    assert ok(api.post(f"/{acc}/messages/pin", json=body)) == {
        "messageId": message["id"],
        "pinned": True,
    }
    listed = ok(api.get(f"/{acc}/chats/{chat.id}/messages", params={"limit": 1}))["messages"][0]
    assert listed["pinned"] is True
    assert ok(api.post(f"/{acc}/messages/unpin", json=body))["pinned"] is False
    assert message["pinned"] is False
    wrong_chat = {"messageId": message["id"], "chatId": creator.chat_order()[4].id}
    assert error(api.post(f"/{acc}/messages/pin", json=wrong_chat), 404) == "Message not found"


def test_mute_typing_readreceipts(api: httpx.Client, acc: str, sandbox: SandboxServer) -> None:
    creator = sandbox.world.first_account()
    chat = creator.chat_order()[0]
    assert ok(api.post(f"/{acc}/chats/mute", json={"targetUserId": chat.fan_id})) is True
    row = ok(api.get(f"/{acc}/chats", params={"limit": 1}))["data"][0]
    assert row["muted"] is True
    assert ok(api.post(f"/{acc}/chats/unmute", json={"targetUserId": chat.fan_id})) is True
    assert chat.fan_id not in creator.muted
    assert error(api.post(f"/{acc}/chats/mute", json={}), 400) == "targetUserId is required"
    assert error(api.post(f"/{acc}/chats/mute", json={"targetUserId": "1"}), 404)
    for _ in range(3):
        assert ok(api.post(f"/{acc}/chats/typing", json={"chatId": chat.id})) is True
    assert sandbox.gateway.usage.requests["typing"] == 3
    assert error(api.post(f"/{acc}/chats/typing", json={"chatId": "1"}), 404)
    url = f"/{acc}/chats/{chat.id}/readreceipts"
    assert ok(api.post(url, json={"action": "disable"})) is True
    assert chat.read_receipts is False
    assert "action must be" in error(api.post(url, json={"action": "maybe"}), 400)


def test_subscribers_page_and_status(api: httpx.Client, acc: str, sandbox: SandboxServer) -> None:
    creator = sandbox.world.first_account()
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"status": "3,4", "limit": 4}
        if cursor:
            params["cursor"] = cursor
        response = api.get(f"/{acc}/subscribers", params=params)
        payload = ok(response)
        seen += [s["id"] for s in payload["subscriptions"]]
        cursor = response.json()["data"].get("nextCursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == len(creator.subscriptions)
    stats = payload["stats"]
    assert stats["total"] == stats["totalActive"] + stats["totalExpired"] == len(seen)
    for spelling, status in (
        ("3", ACTIVE),
        ("active", ACTIVE),
        ("4", EXPIRED),
        ("expired", EXPIRED),
    ):
        subs = ok(api.get(f"/{acc}/subscribers", params={"status": spelling, "limit": 100}))
        assert subs["subscriptions"] and {s["status"] for s in subs["subscriptions"]} == {status}
    sub = subs["subscriptions"][0]
    assert sub["price"] in (5000, 14990, 29990) and sub["renewDate"] > 10**12
    assert "status must be" in error(api.get(f"/{acc}/subscribers", params={"status": "7"}), 400)


def test_earnings_tips(api: httpx.Client, acc: str, sandbox: SandboxServer) -> None:
    creator = sandbox.world.first_account()
    fan_id = max(creator.transactions, key=lambda f: len(creator.transactions[f]))
    earnings = ok(api.get(f"/{acc}/earnings/fans/{fan_id}"))
    total = sum(tx["totalGross"] for tx in creator.transactions[fan_id])
    assert earnings["totalGross"] == total > 0
    assert sum(p["totalGross"] for p in earnings["datapoints"]) == total
    stats = ok(api.get(f"/{acc}/earnings/fans/{fan_id}/stats"))
    assert {tx["type"] for tx in stats} <= {1100, 2110, 3100}
    assert len(stats) == len(creator.transactions[fan_id])
    newest = max(tx["createdAt"] for tx in stats)
    assert ok(api.get(f"/{acc}/earnings/fans/{fan_id}/stats", params={"after": newest})) == []
    tipper = next(iter(creator.tips))
    tips = ok(api.get(f"/{acc}/chats/{tipper}/tips"))
    assert tips["totalTips"] == sum(t["amount"] for t in tips["tips"]) > 0
    assert error(api.get(f"/{acc}/earnings/fans/1"), 404) == "User not found"


def test_lists(api: httpx.Client, acc: str, sandbox: SandboxServer) -> None:
    creator = sandbox.world.first_account()
    lists = ok(api.get(f"/{acc}/lists"))
    assert {row["label"] for row in lists} >= {"VIP", "Big spenders", "Needs follow-up"}
    follow_up = next(row for row in lists if row["label"] == "Needs follow-up")
    fan_id = next(f for f in creator.fans if f not in creator.list_members[follow_up["id"]])
    body = {"userId": fan_id, "listId": follow_up["id"]}
    assert ok(api.post(f"/{acc}/lists/users", json=body)) is True
    mine = ok(api.get(f"/{acc}/lists", params={"userId": fan_id}))
    assert follow_up["id"] in [row["id"] for row in mine]
    after = next(row for row in ok(api.get(f"/{acc}/lists")) if row["id"] == follow_up["id"])
    assert after["itemCount"] == follow_up["itemCount"] + 1
    assert ok(api.request("DELETE", f"/{acc}/lists/users", json=body)) is True
    assert fan_id not in creator.list_members[follow_up["id"]]
    assert error(api.post(f"/{acc}/lists/users", json={"userId": fan_id, "listId": "1"}), 404)
    assert error(api.post(f"/{acc}/lists/users", json={"listId": "1"}), 400) == "userId is required"


def test_automated_messages_create_list_delete(api: httpx.Client, acc: str) -> None:
    before = ok(api.get(f"/{acc}/automated-messages"))
    assert before and all("messageTemplate" in rule for rule in before)
    created = ok(
        api.post(
            f"/{acc}/automated-messages",
            json={
                "triggerType": "new_tip",
                "content": "thank you!",
                "tipAmount": 10,
                "keywords": "coffee, tea",
                "delay": 30,
            },
        ),
        201,
    )
    assert created["keywords"] == ["coffee", "tea"] and created["delay"] == 30
    assert created["createdAt"] > 10**12
    listed = ok(api.get(f"/{acc}/automated-messages"))
    assert created["id"] in [rule["id"] for rule in listed]
    assert ok(api.request("DELETE", f"/{acc}/automated-messages/{created['id']}")) is True
    assert created["id"] not in [r["id"] for r in ok(api.get(f"/{acc}/automated-messages"))]
    assert error(api.request("DELETE", f"/{acc}/automated-messages/{created['id']}"), 404)


AUTOMATION_BODIES: list[dict[str, Any]] = [
    {"triggerType": "new_subscriber", "content": "hi"},
    {"triggerType": "new_subscriber", "content": ""},
    {"triggerType": "new_subscriber", "content": "x" * 5001},
    {"triggerType": "subscriber_renew", "content": "hi"},
    {"triggerType": "subscriber_renew", "content": "hi", "subscriptionStreak": 0},
    {"triggerType": "subscriber_renew", "content": "hi", "subscriptionStreak": 3},
    {"triggerType": "new_subscriber", "content": "hi", "subscriptionStreak": 3},
    {"triggerType": "new_tip", "content": "hi", "tipAmount": 0.5},
    {"triggerType": "new_tip", "content": "hi", "tipAmount": 500},
    {"triggerType": "new_follower", "content": "hi", "tipAmount": 5},
    {"triggerType": "new_follower", "content": "hi", "keywords": ["a"]},
    {"triggerType": "new_tip", "content": "hi", "keywords": ["a", "b"]},
    {"triggerType": "new_follower", "content": "hi", "delay": -1},
    {"triggerType": "new_follower", "content": "hi", "cooldown": 7 * 24 * 3600 + 1},
    {"triggerType": "disabled", "content": "hi", "cooldown": 7 * 24 * 3600},
    {"triggerType": "new_tip", "content": "hi", "subscriptionTierId": "TIER"},
    {"triggerType": "new_subscriber", "content": "hi", "subscriptionTierId": "TIER"},
]


def _model_accepts(body: dict[str, Any]) -> bool:
    try:
        AutomatedMessage.model_validate(
            {
                "trigger_type": body["triggerType"],
                "content": body["content"],
                "delay_seconds": body.get("delay", 0),
                "cooldown_seconds": body.get("cooldown", 0),
                "subscription_streak": body.get("subscriptionStreak"),
                "tip_amount_dollars": body.get("tipAmount"),
                "keywords": body.get("keywords"),
                "subscription_tier_id": body.get("subscriptionTierId"),
            }
        )
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("body", AUTOMATION_BODIES)
def test_automation_rules_match_the_model(
    api: httpx.Client, acc: str, sandbox: SandboxServer, body: dict[str, Any]
) -> None:
    tier = next(iter(sandbox.world.first_account().tiers))
    body = {k: (tier if v == "TIER" else v) for k, v in body.items()}
    response = api.post(f"/{acc}/automated-messages", json=body)
    assert response.status_code == (201 if _model_accepts(body) else 400), response.text
    if response.status_code == 400:
        message = response.json()["message"]
        fields = ("triggerType", "content", "delay", "cooldown", "subscriptionStreak")
        fields += ("tipAmount", "keywords", "subscriptionTierId")
        named = [k for k in fields if k in message]
        assert named, message  # the 400 names the field


def test_automation_enum_and_unknown_tier(api: httpx.Client, acc: str) -> None:
    url = f"/{acc}/automated-messages"
    assert "triggerType must be one of" in error(
        api.post(url, json={"triggerType": "online_now", "content": "x"}), 400
    )
    assert error(api.post(url, json={"content": "x"}), 400) == "triggerType is required"
    assert "subscriptionTierId" in error(
        api.post(
            url, json={"triggerType": "new_subscriber", "content": "x", "subscriptionTierId": "1"}
        ),
        400,
    )


def test_unauthorised_and_unknown(sandbox: SandboxServer, acc: str) -> None:
    for headers in ({}, {"x-api-key": "wrong"}):
        response = httpx.get(f"{sandbox.base_url}/accounts", headers=headers)
        error(response, 401)
        assert "X-RateLimit-Limit" in response.headers
        assert sandbox.api_key not in response.text
    api = httpx.Client(base_url=sandbox.base_url, headers=sandbox.headers)
    assert error(api.get("/fansly_acc_nope/chats"), 404) == "Account not found"
    assert error(api.get(f"/{acc}/no/such/route"), 404) == "Route not found"
    assert sandbox.api_key not in repr(sandbox) and sandbox.webhook_secret not in repr(
        sandbox.simulator
    )
