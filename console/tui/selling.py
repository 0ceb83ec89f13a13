"""Selling from the composer (issue 15): what ``ctrl+g`` and ``ctrl+t`` open over the open
chat (the keys are in console.tui.bindings; the chats screen keeps one-line actions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.tui.composer import Composer

if TYPE_CHECKING:
    from textual.screen import Screen

    from console.config import GuardSettings
    from console.guard import Guard
    from console.tui.composer import ReplyTarget
    from console.tui.source import ConsoleSource
    from console.tui.vault_picker import MediaChoice


def guard_for(settings: GuardSettings | None, target: ReplyTarget | None) -> Guard | None:
    """The compiled guard of the target's account."""
    if settings is None or target is None:
        return None
    return settings.for_account(target.account_id)


def _composer_and_target(screen: Screen[Any]) -> tuple[Composer, ReplyTarget | None]:
    """The composer and the chat it writes to; with no chat open, says so (target None)."""
    composer = screen.query_one(Composer)
    if composer.target is None:
        screen.app.notify("Open a chat first.", severity="warning", markup=False)
    return composer, composer.target


def open_vault(screen: Screen[Any], source: ConsoleSource) -> None:
    """The vault picker over the composer's chat; its choice is attached to the composer."""
    from console.tui.vault_picker import VaultPicker

    app = screen.app
    composer, target = _composer_and_target(screen)
    if target is None:
        return

    def chosen(choice: MediaChoice | None) -> None:
        if choice is not None and composer.target == target:
            composer.attach(choice)
        composer.focus()

    picker = VaultPicker(source, target.account_id, target.chat_id, target.fan_name, composer.media)
    app.push_screen(picker, chosen)


def open_scripts(screen: Screen[Any], source: ConsoleSource, account_name: str) -> None:
    """The script picker over the composer's chat; the script's text goes in at the cursor
    (and its media are attached), for the chatter to edit and send."""
    from console import paths
    from console.tui.script_picker import ScriptChoice, ScriptPicker

    app = screen.app
    composer, target = _composer_and_target(screen)
    if target is None:
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
