"""Selling from the composer, end to end on the demo: the real sandbox over HTTP, the real cache,
the embedded listener receiving the signed ``sale.completed``; keys pressed as a chatter would."""

from __future__ import annotations

from typing import Any

from support.tui import until

from console.tui.composer import Composer
from console.tui.pick_list import PickList
from console.tui.thread import Thread
from console.tui.vault_picker import VaultPicker


def _picker(app: Any) -> VaultPicker:
    screen = app.screen
    assert isinstance(screen, VaultPicker)
    return screen


async def test_a_ppv_from_the_picker_reaches_the_gateway_and_turns_bought(demo: Any) -> None:
    app, pilot, running, sandbox = demo
    account, chat_id = app.chats_screen.account_id, app.chats_screen.chat_id
    creator = sandbox.world.accounts[account]
    chat = creator.chats[chat_id]
    before = {a["contentId"] for m in chat.messages for a in m["attachments"]}

    await pilot.press("r", *"new set just for you")
    await pilot.press("ctrl+g")
    await until(app, pilot, lambda: isinstance(app.screen, VaultPicker) and app.screen.loaded)
    picker = _picker(app)
    await until(app, pilot, lambda: len(picker.items) == len(creator.vault))
    await pilot.press(*"photo")
    await app.settled()
    picks = picker.query_one(PickList)
    # Two photos this fan has not been sent: the marks say which ones were.
    unseen = [i for i in picks.shown if picker.items[i].media_id not in picker.marks.sent][:2]
    assert len(unseen) == 2
    while picks.current != unseen[0]:
        await pilot.press("down")
    await pilot.press("tab")
    while picks.current != unseen[1]:
        await pilot.press("down")
    await pilot.press("tab", "enter")
    await pilot.press(*"0.5")
    await app.settled()
    assert "between $1 and $500" in str(picker.query_one("#vault-price-problem").render())
    await pilot.press("enter")  # refused: the picker stays
    assert app.screen is picker
    await pilot.press("backspace", "backspace", "backspace", "1", "5", "enter")
    await until(app, pilot, lambda: not isinstance(app.screen, VaultPicker))
    composer = app.chats_screen.query_one(Composer)
    chosen = [picker.items[i].media_id for i in unseen]
    assert composer.media is not None and list(composer.media.media_ids) == chosen
    assert "PPV $15.00" in composer._border_title.plain  # type: ignore[union-attr]
    assert not set(chosen) & before

    await pilot.press("enter")
    await app.settled()
    await running.workspace.drain_outbox()
    sent = chat.messages[-1]
    assert sent["content"] == "new set just for you"
    assert [a["contentId"] for a in sent["attachments"]] == chosen
    assert all(creator.offers[(chat.fan_id, m)] == 15_000 for m in chosen)
    thread = app.chats_screen.query_one(Thread)
    await until(app, pilot, lambda: thread.view_of(sent["id"]) is not None)
    view = thread.view_of(sent["id"])
    assert view is not None
    shown = str(view.render())
    assert "💰 PPV $15.00" in shown and "not bought yet" in shown
    assert f"'{creator.vault[chosen[0]]['title']}'" in shown
    assert composer.media is None and "PPV" not in composer._border_title.plain  # type: ignore[union-attr]

    # The simulated fan buys it: a signed sale.completed through the embedded listener.
    assert sandbox.simulator.buy(creator, chat) is not None
    await until(app, pilot, lambda: "✔ bought" in str(thread.view_of(sent["id"]).render()))  # type: ignore[union-attr]

    # The fan profile lists the purchase.
    body = app.chats_screen.query_one("#profile-body")
    title = creator.vault[chosen[0]]["title"]
    await until(app, pilot, lambda: f"$15.00 📷 photo · '{title}'" in str(body.render()))

    # The picker now says so for this fan, and "sent" for what was sent before.
    await pilot.press("ctrl+g")
    await until(app, pilot, lambda: isinstance(app.screen, VaultPicker) and app.screen.loaded)
    picker = _picker(app)
    assert set(chosen) <= set(picker.marks.bought)
    lines = [
        "".join(s.text for s in picker._line(item, False, 100))
        for item in picker.items
        if item.media_id in chosen
    ]
    assert all("$ bought" in line for line in lines)
    earlier = next(
        (i for i in picker.items if i.media_id in before and i.media_id not in picker.marks.bought),
        None,
    )
    if earlier is not None:
        assert "✓ sent" in "".join(s.text for s in picker._line(earlier, False, 100))
    await pilot.press("escape")
    await until(app, pilot, lambda: not isinstance(app.screen, VaultPicker))


def test_hostile_media_titles_are_plain_text_in_the_thread() -> None:
    """A vault title is the creator's text from the network: markup, escapes and bidi
    characters in it are shown as text (or stripped), never interpreted."""
    from console.api.models import Attachment
    from console.tui.source import MessageState
    from console.tui.thread import media_lines

    hostile = "[@click=app.quit]x[/] [b]set \x1b[31m\u202e"
    lines = media_lines(
        [Attachment(content_id="1", kind="photo", title=hostile, price_millis=5000)],
        MessageState.SENT,
    )
    shown = "\n".join(line.plain for line in lines)
    assert "[@click=app.quit]x[/] [b]set" in shown
    assert "\x1b" not in shown and "\u202e" not in shown
    assert "💰 PPV $5.00 · sent, not bought yet" in shown
    assert not any(
        span.style and "click" in str(span.style) for line in lines for span in line.spans
    )
