"""The console's own keys. Every binding has an id (users remap keys by id, settings.ui.keymap)
and a tooltip (the help screen and the command palette show it)."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from console.tui import terminal_keys

# alt+1…9 below must arrive as alt+1…9 from tmux and Linux terminals (ESC then the digit).
terminal_keys.install()


#: The tools that open over the chats (console.tui.chats_screen).
TOOL_BINDINGS: list[BindingType] = [
    Binding(
        "ctrl+f",
        "find",
        "Search",
        priority=True,
        id="search",
        tooltip="Search every account's message history (works offline)",
    ),
    Binding(
        "slash",
        "find",
        "Search",
        show=False,
        id="search_slash",
        tooltip="Search every account's message history (works offline)",
    ),
    Binding(
        "a",
        "automations",
        "Automations",
        id="automations",
        tooltip="The account's automated messages: welcome, renewals, tip thanks",
    ),
    Binding(
        "N",
        "edit_note",
        "Note",
        id="note",
        tooltip="Edit the team's private note on the fan (ctrl+s or esc saves)",
    ),
    Binding(
        "L",
        "edit_lists",
        "Lists",
        show=False,
        id="lists",
        tooltip="Put the fan on lists, or take them off",
    ),
]


def _account_bindings() -> list[BindingType]:
    return [
        Binding(
            f"alt+{n}",
            f"account({n - 1})",
            f"Account {n}",
            show=False,
            priority=True,
            id=f"account_{n}",
            tooltip=f"Show account tab {n}",
        )
        for n in range(1, 10)
    ]


#: The chats screen's keys: they act on the open account and chat, so only while it is shown.
CHATS_BINDINGS: list[BindingType] = [
    Binding("r", "reply", "Reply", id="reply", tooltip="Write a reply in the open chat"),
    Binding(
        "R",
        "reply_to",
        "Reply to",
        id="reply_to",
        tooltip="Reply to the selected message (quoted)",
    ),
    Binding("l", "like", "Like", id="like", tooltip="Like or unlike the selected message"),
    Binding("p", "pin", "Pin", id="pin", tooltip="Pin or unpin the selected message"),
    Binding(
        "U",
        "unsend",
        "Unsend",
        show=False,
        id="unsend",
        tooltip="Unsend your selected message (asks first)",
    ),
    Binding("m", "mute", "Mute", id="mute", tooltip="Mute or unmute the fan"),
    Binding(
        "n",
        "next_unread",
        "Next unread",
        id="next_unread",
        tooltip="Open the next chat with unread messages, in any account",
    ),
    Binding(
        "w",
        "queue",
        "Queue",
        id="queue",
        tooltip="Who to answer next: every chat waiting for an answer, across every account",
    ),
    Binding(
        "z",
        "remind",
        "Remind me",
        show=False,
        id="remind",
        tooltip="Remind me about this chat in N minutes (it leaves the queue until then)",
    ),
    Binding(
        "F",
        "follow_up",
        "Follow up",
        show=False,
        id="follow_up",
        tooltip="Follow up in N minutes unless they reply (sent while a console runs)",
    ),
    Binding(
        "C",
        "cancel_follow_ups",
        "Cancel follow-up",
        show=False,
        id="cancel_follow_ups",
        tooltip="Cancel the open chat's follow-ups",
    ),
    Binding(
        "g",
        "switch_account",
        "Accounts",
        show=False,
        id="switch_account",
        tooltip="Go to any account: type a few letters of its name, Enter",
    ),
    Binding(
        "e",
        "retry",
        "Retry",
        show=False,
        id="retry",
        tooltip="Send the selected failed message again",
    ),
    Binding(
        "s",
        "search",
        "Names",
        show=False,
        id="names",
        tooltip="Filter the chat list by fan name (as you type)",
    ),
    *TOOL_BINDINGS,
    Binding(
        "f",
        "cycle_filter",
        "Filter",
        id="filter",
        tooltip="Cycle the chat filter: all, unread, unanswered, VIP, subscribers",
    ),
    Binding(
        "i",
        "toggle_profile",
        "Profile",
        id="profile",
        tooltip="Show or hide the fan profile pane",
    ),
    Binding(
        "ctrl+pagedown",
        "account_step(1)",
        "Next account",
        show=False,
        priority=True,
        id="next_account",
        tooltip="Show the next account tab",
    ),
    Binding(
        "ctrl+pageup",
        "account_step(-1)",
        "Previous account",
        show=False,
        priority=True,
        id="previous_account",
        tooltip="Show the previous account tab",
    ),
    *_account_bindings(),
]

#: The app's keys, on every screen (they come after the chats' in the help and the footer).
APP_BINDINGS: list[BindingType] = [
    Binding("f1,question_mark", "help", "Help", id="help", tooltip="Show every key"),
    Binding("q", "quit", "Quit", id="quit", tooltip="Quit the console"),
]
