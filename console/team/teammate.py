"""A simulated teammate for ``make demo-team``: a chatter working some chats through the team
server, as a person at another console would (presence, typing, replies, PPVs, notes, reads).

It goes through the same API a console does, so everything it does reaches the real console
the way a real teammate's work would: presence and typing in the chat list and thread, the
double-reply guard when the console answers a chat it just answered, shared notes, and the
PPVs credited to it in ``team stats``.
"""

from __future__ import annotations

import asyncio
import logging
import random

from console.team.client import TeamClient, TeamRefused

log = logging.getLogger("console.team.teammate")

REPLIES = (
    "hey you 💕 how's your day going?",
    "aww thank you! that made me smile",
    "I have something special for you later 😘",
    "haha you're sweet. what are you up to?",
)
NOTES = (
    "likes cats; ask about her new kitten",
    "buys PPVs on weekends, not weekdays",
    "prefers short replies, hates emojis",
)


async def work(
    client: TeamClient,
    account: str,
    *,
    pace: float = 6.0,
    chats: int = 3,
    rng: random.Random | None = None,
) -> None:
    """Work ``chats`` of ``account``'s newest chats until cancelled, one step every ``pace``
    seconds or so."""
    rng = rng or random.Random(11)
    while True:
        try:
            listed = await client.chats(account)
            if not listed:
                await asyncio.sleep(pace)
                continue
            chat = rng.choice(listed[:chats])
            chat_id = str(chat["chat_id"])
            await client.presence(chat_id)
            await asyncio.sleep(pace * 0.3)
            await client.presence(chat_id, typing=True)
            await asyncio.sleep(pace * 0.4)
            roll = rng.random()
            if roll < 0.2:
                media = f"77{rng.randrange(10**15, 10**16)}"
                await client.send(chat_id, "a little something, just for you 🔒", media_ids=[media])
            elif roll < 0.8:
                result = await client.send(chat_id, rng.choice(REPLIES))
                if not result.queued:
                    names = ", ".join(str(o["name"]) for o in result.others)
                    log.info("teammate: asked first (%s in the chat); leaving it to them", names)
            elif chat.get("fan_id"):
                await client.add_note(account, str(chat["fan_id"]), rng.choice(NOTES))
            await client.presence(chat_id, typing=False)
            await asyncio.sleep(pace * 0.3)
        except asyncio.CancelledError:
            raise
        except (TeamRefused, OSError) as exc:
            log.info("teammate: %s", exc)
            await asyncio.sleep(pace)
