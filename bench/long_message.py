"""Opening a chat whose newest message is 1 MB (inside the webhook cap), against opening a
normal chat, in the same app and the same run (issue 11.9).

    .venv/bin/python bench/long_message.py [--rounds 7] [--json]

Each round opens the normal chat, then the long one, then the long one with folding turned
off (``FOLD_CHARS`` raised past the message: what the console did before), each from another
chat so the thread is rebuilt. The figure is the app's own time: the process's CPU time from
the request to open the chat to the end of the first frame that shows its messages (the app
waits for nothing else here: an in-memory source, a headless screen of 120x36), median of the
rounds; beside it, to the app settled (no worker running, two more frames: every frame and
layout the opening asked for, and all the chatter's next key would wait behind). Goal: every
chat opens in under 50 ms of the app's own time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests"))  # the in-memory world is a test fake

GOAL_MS = 50.0
MESSAGE_BYTES = 1_000_000


class _Frames:
    """Notes the CPU time at the end of the first frame that renders a message of a chat:
    its lines are rendered during the screen's compositor refresh, which writes the frame
    before it returns (as bench/tui.py times the first paint)."""

    def __init__(self) -> None:
        from textual.screen import Screen

        from console.tui.thread import MessageView

        self.chat_id: str | None = None
        self.rendered = False
        self.shown_at: float | None = None
        render_line, refresh = MessageView.render_line, Screen._compositor_refresh

        def render_line_noted(view: Any, y: int) -> Any:
            if view.parent is not None and view.parent.chat_id == self.chat_id:
                self.rendered = True
            return render_line(view, y)

        def refresh_noted(screen: Any) -> None:
            refresh(screen)
            if self.rendered and self.shown_at is None:
                self.shown_at = time.process_time()

        MessageView.render_line = render_line_noted  # type: ignore[method-assign,assignment]
        Screen._compositor_refresh = refresh_noted  # type: ignore[method-assign,assignment]

    def expect(self, chat_id: str) -> None:
        self.chat_id, self.rendered, self.shown_at = chat_id, False, None


async def _open(app: Any, frames: _Frames, account: str, chat_id: str) -> tuple[float, float]:
    """CPU milliseconds from asking for ``chat_id`` to the end of the first frame that shows
    its messages, and to the app settled (every part of the open page mounted and painted)."""
    frames.expect(chat_id)
    started = time.process_time()
    app.chats_screen.jump_to(account, chat_id)
    await app.settled()
    settled = time.process_time()
    shown = frames.shown_at if frames.shown_at is not None else settled
    return (shown - started) * 1000, (settled - started) * 1000


async def run(rounds: int) -> dict[str, Any]:
    from support.fakes_tui import MemorySource

    from console.tui import message_view as thread_module
    from console.tui.app import make_app

    source = MemorySource(accounts=1, chats_per_account=20, messages_per_chat=30)
    account = source.accounts()[0].account_id
    chats = await source.chats(account, "all", "", 0, 3)
    normal, long, elsewhere = (c.chat_id for c in chats)
    text = ("all work and no play makes a long message " * 30_000)[:MESSAGE_BYTES]
    source.receive(account, long, text)
    app = make_app(source, clock=lambda: source.now)
    app.open_delay = 0
    names = ("normal", "long_folded", "long_unfolded")
    figures: dict[str, list[float]] = {name: [] for name in names}
    settled: dict[str, list[float]] = {name: [] for name in names}
    frames = _Frames()
    folded_at = getattr(thread_module, "FOLD_CHARS", 0)  # 0: code from before folding
    async with app.run_test(size=(120, 36)):
        await app.settled()
        for round_ in range(rounds + 1):  # round 0 warms up (imports, styles): not counted
            for name, chat_id, fold in (
                ("normal", normal, folded_at),
                ("long_folded", long, folded_at),
                ("long_unfolded", long, 10 * MESSAGE_BYTES),
            ):
                thread_module.FOLD_CHARS = fold
                await _open(app, frames, account, elsewhere)
                took, done = await _open(app, frames, account, chat_id)
                if round_:
                    figures[name].append(took)
                    settled[name].append(done)
            thread_module.FOLD_CHARS = folded_at
    medians = {name: statistics.median(values) for name, values in figures.items()}
    settled_medians = {name: statistics.median(values) for name, values in settled.items()}
    return {
        "rounds": rounds,
        "message_bytes": MESSAGE_BYTES,
        "ms": medians,
        "all_ms": figures,
        "settled_ms": settled_medians,
        "all_settled_ms": settled,
        "long_folded_over_normal": medians["long_folded"] / medians["normal"],
        "long_unfolded_over_normal": medians["long_unfolded"] / medians["normal"],
        "goal_ms": GOAL_MS,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.rounds))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    ms, done = result["ms"], result["settled_ms"]
    print(
        f"open a chat, app's own CPU time to the frame that shows it (and to the app settled),"
        f" median of {args.rounds} rounds (120x36):"
    )
    print(f"  normal chat (baseline)              {ms['normal']:8.1f} ms  ({done['normal']:.1f})")
    print(
        f"  1 MB message, folded (now)          {ms['long_folded']:8.1f} ms"
        f"  ({done['long_folded']:.1f})  ({result['long_folded_over_normal']:.2f}x baseline)"
    )
    print(
        f"  1 MB message, unfolded (before)     {ms['long_unfolded']:8.1f} ms"
        f"  ({done['long_unfolded']:.1f})  ({result['long_unfolded_over_normal']:.2f}x baseline)"
    )
    worst = max(ms["normal"], ms["long_folded"], done["normal"], done["long_folded"])
    print(f"goal: every chat under {GOAL_MS:.0f} ms: {'met' if worst < GOAL_MS else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
