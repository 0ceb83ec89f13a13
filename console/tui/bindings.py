"""The console's own keys, as one table: a new key is one entry (and its ``action_`` method on
the target).

Harlequin's ``HARLEQUIN_ACTIONS`` is the model (name → target, action, description); here each
entry also carries its default keys and a tooltip, because the name is the binding's id: users
remap keys by id (settings.ui.keymap, Textual's keymap), and the help screen and the command
palette show the tooltip. The widgets' own keys (list, thread, composer, the screens opened
over the chats) stay in their classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

from console.tui import terminal_keys

# alt+1…9 below must arrive as alt+1…9 from tmux and Linux terminals (ESC then the digit).
terminal_keys.install()

#: Where a key acts: the app (on every screen) or the chats screen (only while it is shown).
Target = Literal["app", "chats"]


@dataclass(frozen=True, slots=True)
class Action:
    """One of the console's keys (its id is its name in :data:`ACTIONS`)."""

    target: Target
    keys: str  # Textual's key names, comma-separated
    action: str  # the ``action_`` method of the target, with its arguments
    description: str  # the footer's word
    tooltip: str  # the help screen's and the palette's line
    show: bool = True  # in the footer
    priority: bool = False  # before the focused widget's own keys

    def binding(self, name: str) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.description,
            show=self.show,
            priority=self.priority,
            id=name,
            tooltip=self.tooltip,
        )


_SEARCH_TIP = "Search every account's message history (works offline)"

#: Every key of the console, in the order the footer and the help screen show them.
ACTIONS: dict[str, Action] = {
    "reply": Action("chats", "r", "reply", "Reply", "Write a reply in the open chat"),
    "reply_to": Action(
        "chats", "R", "reply_to", "Reply to", "Reply to the selected message (quoted)"
    ),
    "like": Action("chats", "l", "like", "Like", "Like or unlike the selected message"),
    "pin": Action("chats", "p", "pin", "Pin", "Pin or unpin the selected message"),
    "unsend": Action(
        "chats",
        "U",
        "unsend",
        "Unsend",
        "Unsend your selected message (asks first)",
        show=False,
    ),
    "mute": Action("chats", "m", "mute", "Mute", "Mute or unmute the fan"),
    "next_unread": Action(
        "chats",
        "n",
        "next_unread",
        "Next unread",
        "Open the next chat with unread messages, in any account",
    ),
    "queue": Action(
        "chats",
        "w",
        "queue",
        "Queue",
        "Who to answer next: every chat waiting for an answer, across every account",
    ),
    "remind": Action(
        "chats",
        "z",
        "remind",
        "Remind me",
        "Remind me about this chat in N minutes (it leaves the queue until then)",
        show=False,
    ),
    "follow_up": Action(
        "chats",
        "F",
        "follow_up",
        "Follow up",
        "Follow up in N minutes unless they reply (sent while a console runs)",
        show=False,
    ),
    "cancel_follow_ups": Action(
        "chats",
        "C",
        "cancel_follow_ups",
        "Cancel follow-up",
        "Cancel the open chat's follow-ups",
        show=False,
    ),
    "switch_account": Action(
        "chats",
        "g",
        "switch_account",
        "Accounts",
        "Go to any account: type a few letters of its name, Enter",
        show=False,
    ),
    "retry": Action(
        "chats", "e", "retry", "Retry", "Send the selected failed message again", show=False
    ),
    "names": Action(
        "chats",
        "s",
        "search",
        "Names",
        "Filter the chat list by fan name (as you type)",
        show=False,
    ),
    # The tools that open over the chats (console.tui.chats_screen).
    "search": Action("chats", "ctrl+f", "find", "Search", _SEARCH_TIP, priority=True),
    "search_slash": Action("chats", "slash", "find", "Search", _SEARCH_TIP, show=False),
    "automations": Action(
        "chats",
        "a",
        "automations",
        "Automations",
        "The account's automated messages: welcome, renewals, tip thanks",
    ),
    "note": Action(
        "chats",
        "N",
        "edit_note",
        "Note",
        "Edit the team's private note on the fan (ctrl+s or esc saves)",
    ),
    "team_stats": Action(
        "chats",
        "T",
        "team_stats",
        "Team stats",
        "Team mode: replies, response time, PPVs and revenue per chatter (shift, day, week)",
        show=False,
    ),
    "lists": Action(
        "chats", "L", "edit_lists", "Lists", "Put the fan on lists, or take them off", show=False
    ),
    # Selling from the composer (issue 15; console/tui/selling.py does what they open).
    "vault": Action(
        "chats",
        "ctrl+g",
        "vault",
        "Vault",
        "Attach media from the vault to the message (free, or a PPV with a price)",
        priority=True,
    ),
    "scripts": Action(
        "chats",
        "ctrl+t",
        "scripts",
        "Scripts",
        "Insert a saved script into the message (placeholders filled for this fan)",
        priority=True,
    ),
    # F is a letter: in the composer it is typed. Working from the queue, the chat answered
    # leaves as the reply goes out, so the follow-up is set from the composer, before Enter.
    "follow_up_writing": Action(
        "chats",
        "ctrl+o",
        "follow_up",
        "Follow up",
        "Follow up in N minutes unless they reply, from the composer too (what you are "
        "writing stays)",
        priority=True,
    ),
    "filter": Action(
        "chats",
        "f",
        "cycle_filter",
        "Filter",
        "Cycle the chat filter: all, unread, unanswered, VIP, subscribers",
    ),
    "profile": Action(
        "chats", "i", "toggle_profile", "Profile", "Show or hide the fan profile pane"
    ),
    "next_account": Action(
        "chats",
        "ctrl+pagedown",
        "account_step(1)",
        "Next account",
        "Show the next account tab",
        show=False,
        priority=True,
    ),
    "previous_account": Action(
        "chats",
        "ctrl+pageup",
        "account_step(-1)",
        "Previous account",
        "Show the previous account tab",
        show=False,
        priority=True,
    ),
    **{
        f"account_{n}": Action(
            "chats",
            f"alt+{n}",
            f"account({n - 1})",
            f"Account {n}",
            f"Show account tab {n}",
            show=False,
            priority=True,
        )
        for n in range(1, 10)
    },
    # On every screen (after the chats' keys in the help and the footer).
    "help": Action("app", "f1,question_mark", "help", "Help", "Show every key"),
    "quit": Action("app", "q", "quit", "Quit", "Quit the console"),
}


def bindings_for(target: Target) -> list[BindingType]:
    """The Textual bindings of ``target``'s keys, in the table's order."""
    return [a.binding(name) for name, a in ACTIONS.items() if a.target == target]


#: The chats screen's keys: they act on the open account and chat, so only while it is shown.
CHATS_BINDINGS = bindings_for("chats")
#: The app's keys, on every screen.
APP_BINDINGS = bindings_for("app")
