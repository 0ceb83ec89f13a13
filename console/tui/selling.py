"""Selling from the composer (issue 15): the keys, and what they open over the open chat.

The chats view keeps only the bindings and one-line actions; what they do lives here, so the
view can move (issue 13.3 moves it onto a ``ChatsScreen``) without this moving with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding, BindingType

from console.tui.composer import Composer

if TYPE_CHECKING:
    from textual.app import App

    from console.config import GuardSettings
    from console.guard import Guard
    from console.tui.composer import ReplyTarget
    from console.tui.source import ConsoleSource
    from console.tui.vault_picker import MediaChoice

SELLING_BINDINGS: list[BindingType] = [
    Binding(
        "ctrl+g",
        "vault",
        "Vault",
        priority=True,
        id="vault",
        tooltip="Attach media from the vault to the message (free, or a PPV with a price)",
    ),
    Binding(
        "ctrl+t",
        "scripts",
        "Scripts",
        priority=True,
        id="scripts",
        tooltip="Insert a saved script into the message (placeholders filled for this fan)",
    ),
]


def guard_for(settings: GuardSettings | None, target: ReplyTarget | None) -> Guard | None:
    """The compiled guard of the target's account."""
    if settings is None or target is None:
        return None
    return settings.for_account(target.account_id)


def open_vault(app: App[object], source: ConsoleSource) -> None:
    """The vault picker over the composer's chat; its choice is attached to the composer."""
    from console.tui.vault_picker import VaultPicker

    composer = app.query_one(Composer)
    target = composer.target
    if target is None:
        app.notify("Open a chat first.", severity="warning", markup=False)
        return

    def chosen(choice: MediaChoice | None) -> None:
        if choice is not None and composer.target == target:
            composer.attach(choice)
        composer.focus()

    picker = VaultPicker(source, target.account_id, target.chat_id, target.fan_name, composer.media)
    app.push_screen(picker, chosen)


def open_scripts(app: App[object], source: ConsoleSource, account_name: str) -> None:
    """The script picker over the composer's chat; the script's text goes in at the cursor
    (and its media are attached), for the chatter to edit and send."""
    from console import paths
    from console.tui.script_picker import ScriptChoice, ScriptPicker

    composer = app.query_one(Composer)
    target = composer.target
    if target is None:
        app.notify("Open a chat first.", severity="warning", markup=False)
        return

    def chosen(choice: ScriptChoice | None) -> None:
        if choice is not None and composer.target == target:
            composer.insert(choice.text)
            if choice.media is not None:
                composer.attach(choice.media)
        composer.focus()

    picker = ScriptPicker(
        source, target.account_id, target.chat_id, account_name, composer.text, paths.config_dir()
    )
    app.push_screen(picker, chosen)
