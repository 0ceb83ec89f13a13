"""Saved replies ("scripts") a chatter inserts into the composer, then edits before sending.

Plain code (no Textual): loading the TOML files, filling the placeholders, saving a new one.

Files (in the config dir, so an agency can hand the same global file to every chatter):

- ``scripts.toml``: every account's scripts;
- ``scripts/<account id>.toml``: one account's own (listed first).

Each holds ``[[script]]`` tables: ``name`` and ``text`` (required), and for a script that sells,
``media`` (vault ids) and ``price`` (US dollars, 1-500; none: the media go free). When neither
file exists the shipped example set (:data:`EXAMPLE_SCRIPTS`) is offered.

Placeholders in ``text``: ``{name}``, ``{username}``, ``{tier}``, ``{spend}``,
``{last_purchase}``, ``{account}`` (``{{`` and ``}}`` are braces). An unknown placeholder is
shown in the picker, and left out of the inserted text: never sent as braces.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PLACEHOLDERS = ("name", "username", "tier", "spend", "last_purchase", "account")
#: A file's scripts beyond this are not read (a picker of 1,000 stays quick; see the bench).
MAX_SCRIPTS = 5_000
MAX_TEXT = 5_000
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}\n]{0,40})\}")

EXAMPLE_SCRIPTS = """\
# fansly-console scripts: [[script]] tables with a name and a text; placeholders
# {name} {username} {tier} {spend} {last_purchase} {account}; optional media (vault ids)
# and price (US dollars, 1-500) for a script that sells.

[[script]]
name = "Welcome"
text = "Hey {name}! So happy you're here 💕 What made you subscribe?"

[[script]]
name = "Good morning"
text = "Good morning {name} ☀️ what are you up to today?"

[[script]]
name = "Thanks for the tip"
text = "Thank you so much {name}, you're the best 🥰"

[[script]]
name = "VIP thank you"
text = "{name}, you've been amazing ({spend} of love 🙈). Something special is coming your way"

[[script]]
name = "Loved your last unlock"
text = "Did you enjoy {last_purchase}? 😇 I just shot a new set you'd love"

[[script]]
name = "Renewal nudge"
text = "Hey {name}, your {tier} sub renews soon. Stay with me? 🥺"

[[script]]
name = "Busy, back soon"
text = "Give me a little bit {name}, I'll be right back with you 💬"
"""


class ScriptsError(ValueError):
    """A scripts file cannot be used; the message names the file (and the line or script)."""


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    text: str
    media: tuple[str, ...] = ()
    price_dollars: float | None = None
    #: Where it comes from: ``"account"``, ``"global"`` or ``"example"``.
    scope: str = "global"


@dataclass(frozen=True, slots=True)
class Filled:
    """A script's text with the fan's values in, and what could not be filled."""

    text: str
    #: Placeholders that do not exist (left out of ``text``).
    unknown: tuple[str, ...] = ()
    #: Known placeholders with no value for this fan (left empty in ``text``).
    missing: tuple[str, ...] = ()
    #: ``(start, end)`` in ``text`` of every filled value (the picker shows them).
    spans: tuple[tuple[int, int], ...] = ()


def global_file(config_dir: Path) -> Path:
    return config_dir / "scripts.toml"


def account_file(config_dir: Path, account_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", account_id)[:120] or "account"
    return config_dir / "scripts" / f"{safe}.toml"


def parse_scripts(text: str, where: str, scope: str) -> list[Script]:
    """The scripts of one file's text; ``ScriptsError`` naming ``where`` if it is wrong."""
    from console.api.models import ppv_price_problem

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScriptsError(f"{where}: {exc}") from None
    unknown = set(data) - {"script"}
    if unknown:
        raise ScriptsError(f"{where}: unknown key {sorted(unknown)[0]!r} (only [[script]])")
    tables = data.get("script", [])
    if not isinstance(tables, list):
        raise ScriptsError(f"{where}: 'script' must be [[script]] tables")
    scripts: list[Script] = []
    for n, table in enumerate(tables[:MAX_SCRIPTS], start=1):
        label = f"{where}, script {n}"
        if not isinstance(table, dict):
            raise ScriptsError(f"{label}: not a table")
        if isinstance(table.get("name"), str):
            label += f" ({table['name'][:40]!r})"
        extra = set(table) - {"name", "text", "media", "price"}
        if extra:
            raise ScriptsError(f"{label}: unknown key {sorted(extra)[0]!r}")
        name, body = table.get("name"), table.get("text")
        if not isinstance(name, str) or not name.strip():
            raise ScriptsError(f"{label}: 'name' must be a non-empty string")
        if not isinstance(body, str) or not body.strip():
            raise ScriptsError(f"{label}: 'text' must be a non-empty string")
        if len(body) > MAX_TEXT:
            raise ScriptsError(f"{label}: 'text' is longer than {MAX_TEXT} characters")
        media = table.get("media", [])
        if not isinstance(media, list) or not all(isinstance(m, str) and m for m in media):
            raise ScriptsError(f"{label}: 'media' must be a list of vault ids")
        price = table.get("price")
        if price is not None:
            if isinstance(price, bool) or not isinstance(price, int | float):
                raise ScriptsError(f"{label}: 'price' must be a number of dollars")
            problem = ppv_price_problem(float(price))
            if problem:
                raise ScriptsError(f"{label}: {problem}")
            if not media:
                raise ScriptsError(f"{label}: a price needs 'media'")
        scripts.append(
            Script(
                name.strip(),
                body,
                tuple(media),
                float(price) if price is not None else None,
                scope,
            )
        )
    return scripts


def load_scripts(config_dir: Path, account_id: str) -> list[Script]:
    """The account's scripts then the global ones; the example set when neither file exists.
    ``ScriptsError`` for a file that cannot be used."""
    own, shared = account_file(config_dir, account_id), global_file(config_dir)
    scripts: list[Script] = []
    found = False
    for path, scope in ((own, "account"), (shared, "global")):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise ScriptsError(f"{path}: cannot be read ({exc})") from None
        found = True
        scripts.extend(parse_scripts(text, str(path), scope))
    if not found:
        return parse_scripts(EXAMPLE_SCRIPTS, "the example scripts", "example")
    return scripts


def fill(text: str, values: Mapping[str, str]) -> Filled:
    """``text`` with ``values`` in for its placeholders (see the module)."""
    out: list[str] = []
    unknown: list[str] = []
    missing: list[str] = []
    spans: list[tuple[int, int]] = []
    at = 0
    length = 0
    for match in _FIELD.finditer(text):
        out.append(text[at : match.start()])
        length += match.start() - at
        at = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            out.append(token[0])
            length += 1
            continue
        name = (match.group(1) or "").strip()
        if name not in PLACEHOLDERS:
            unknown.append(token)
            continue
        value = values.get(name, "")
        if not value:
            missing.append(name)
        out.append(value)
        spans.append((length, length + len(value)))
        length += len(value)
    out.append(text[at:])
    return Filled("".join(out), tuple(dict.fromkeys(unknown)), tuple(dict.fromkeys(missing)),
                  tuple(spans))  # fmt: skip


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes), except that TOML refuses
    # the raw control characters JSON also escapes: json.dumps escapes them all.
    return json.dumps(value, ensure_ascii=False)


def save_script(path: Path, script: Script) -> None:
    """Append ``script`` to the file at ``path`` (created with its folder if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["", "[[script]]", f"name = {_toml_string(script.name)}"]
    lines.append(f"text = {_toml_string(script.text)}")
    if script.media:
        lines.append("media = [" + ", ".join(_toml_string(m) for m in script.media) + "]")
    if script.price_dollars is not None:
        lines.append(f"price = {script.price_dollars:g}")
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
