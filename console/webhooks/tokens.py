"""The hub token: from the config (``webhooks.hub_token``) or a private file in the data dir.

The token is never printed or logged. ``listen`` says *where* it is; a console on the same
machine reads that file itself (``--events ws://…`` without ``?token=``); a console elsewhere is
given the token by the operator.
"""

from __future__ import annotations

from pathlib import Path

from console import paths
from console.config import WebhookSettings
from console.problems import Problem
from console.webhooks.hub import new_token

TOKEN_FILE = "hub-token"


def hub_token_path() -> Path:
    return paths.data_dir() / TOKEN_FILE


def hub_token(settings: WebhookSettings, *, create: bool = True) -> tuple[str | None, str]:
    """The hub token and where it comes from (a description safe to print).

    Without a configured token, the one in the data dir's ``hub-token`` file is used, created
    (mode 0600) on first use when ``create`` is true.
    """
    if settings.hub_token is not None and settings.hub_token.get_secret_value():
        return settings.hub_token.get_secret_value(), "the config file (webhooks.hub_token)"
    path = hub_token_path()
    if path.exists():
        paths.tighten(path)  # a file from an older version, or copied in: the owner's alone
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token, str(path)
    if not create:
        return None, str(path)
    token = new_token()
    try:
        paths.write_private(path, token + "\n")
    except OSError as exc:
        raise Problem(
            f"cannot keep the hub token in {path} ({exc.strerror}): make that folder "
            "writable, or set hub_token under [webhooks] in the config"
        ) from exc
    return token, str(path)
