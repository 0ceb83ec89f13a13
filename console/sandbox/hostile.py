"""Text a fan controls that must never be interpreted: markup, escapes, bidi, zero-width.

The world puts these, deterministically and in every size, into fan display names, usernames
and messages (see :data:`HOSTILE_NAME_CHATS` and friends) so every screen and every test meets
them. Positions are chat indexes in an account's newest-first chat order.
"""

from __future__ import annotations

LONG_WORD = "Supercalifragilistic" * 12  # 240 characters with no break opportunity

HOSTILE_STRINGS: tuple[str, ...] = (
    "[/]",
    "[0]",
    "[@click=app.quit]x[/]",
    "[bold unclosed",
    "[red]red?",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
    "\u202eevil",
    "a\u200bb\u200d",
    LONG_WORD,
)

#: In the FIRST account of every world, the fan of chat index ``i`` (newest-first order) gets
#: ``HOSTILE_STRINGS[n]`` as display name, for the n-th entry. Chat 2 = "the 3rd chat".
HOSTILE_NAME_CHATS: tuple[int, ...] = (2, 6, 10, 14, 18, 22, 26, 30, 34, 38)

#: Fans of these chat indexes (first account) get a hostile *username*.
HOSTILE_USERNAME_CHATS: dict[int, str] = {3: "[/]", 5: "[@click=app.quit]x[/]", 7: "a\u200bb\u200d"}

#: Every hostile string is also the text of one fan message in these chats (first account),
#: among the newest messages, and the latest message of chat 2 is hostile. Not chat 0: that is
#: the first thread a demo user opens, and it should read like a real inbox.
HOSTILE_MESSAGE_CHATS: tuple[int, ...] = (2, 11)
