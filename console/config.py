"""Typed settings: a TOML file, ``FANSLY_CONSOLE_*`` environment variables, named profiles.

Precedence, highest first: ``FANSLY_API_KEY`` / ``FANSLY_API_BASE_URL`` /
``FANSLY_WEBHOOK_SECRET`` (applied to the active profile and the listener), then
``FANSLY_CONSOLE_*`` variables (``__`` nests: ``FANSLY_CONSOLE_UI__THEME=light``; a list or a
table can be given whole as JSON: ``FANSLY_CONSOLE_WEBHOOKS__SECRETS='["a", "b"]'``), then the
TOML file, then defaults. ``FANSLY_CONSOLE_HOME`` and ``FANSLY_CONSOLE_CONFIG`` are read by
:mod:`console.paths`; other ``FANSLY_CONSOLE_*`` names that are no setting are ignored, while an
unknown key inside a section (``FANSLY_CONSOLE_UI__COLOUR``) is refused like one in the file.

A profile is one API key on one gateway; an agency holds several. Every profile's accounts are
shown together in the console. A bad file raises :class:`ConfigError` naming the file, the
line, the key and what was expected; the value itself is never echoed (it may be a secret).

Why plain dataclasses and no pydantic-settings: the schema is six small sections, and this
module is read before the console's first paint. pydantic-settings (with pydantic, its core,
dotenv and friends) cost ~100 ms of imports there, more than a minimal Textual app takes to
start, for features we do not use (dotenv, secrets dirs, cloud sources, CLI parsing). The
loader below is tomllib plus a field table per section: types and bounds checked, strings from
the environment converted, unknown keys refused, secrets wrapped in :class:`Secret`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from console import paths

if TYPE_CHECKING:
    from console.guard import Guard

DEFAULT_BASE_URL = "https://v1.apifansly.com/api/fansly"
ENV_PREFIX = "FANSLY_CONSOLE_"


class ConfigError(Exception):
    """The configuration cannot be used; the message is meant for the user as it is."""


class Secret:
    """A string that is never shown: ``str()`` and ``repr()`` are masked; the value is read
    with :meth:`get_secret_value` where it is used (an HTTP header, a signature check)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __repr__(self) -> str:
        return f"Secret('{self}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


Loc = tuple[str | int, ...]


class InvalidSettings(ConfigError):
    """Values that do not fit the schema: ``problems`` are (location, what was expected)."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{_dotted(loc)}: {what}" for loc, what in problems))

    def under(self, *prefix: str | int) -> list[tuple[Loc, str]]:
        return [((*prefix, *loc), what) for loc, what in self.problems]


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _invalid(what: str) -> InvalidSettings:
    return InvalidSettings([((), what)])


# -- field checks: each takes the raw value (TOML, an environment string, or a Python value)
# and returns the typed one, or raises InvalidSettings. Environment values are strings, so
# numbers and booleans are also read from strings.

Check = Callable[[Any], Any]


def _bounded(value: float, ge: float | None, gt: float | None, le: float | None) -> None:
    if ge is not None and value < ge:
        raise _invalid(f"input should be greater than or equal to {ge}")
    if gt is not None and value <= gt:
        raise _invalid(f"input should be greater than {gt}")
    if le is not None and value > le:
        raise _invalid(f"input should be less than or equal to {le}")


def _int(*, ge: int | None = None, le: int | None = None) -> Check:
    def check(value: Any) -> int:
        number: int
        if isinstance(value, bool):
            raise _invalid("input should be a valid integer")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                raise _invalid(
                    "input should be a valid integer, unable to parse string as an integer"
                ) from None
        else:
            raise _invalid("input should be a valid integer")
        _bounded(number, ge, None, le)
        return number

    return check


def _float(*, ge: float | None = None, gt: float | None = None, le: float | None = None) -> Check:
    def check(value: Any) -> float:
        number: float
        if isinstance(value, bool):
            raise _invalid("input should be a valid number")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise _invalid(
                    "input should be a valid number, unable to parse string as a number"
                ) from None
        else:
            raise _invalid("input should be a valid number")
        if number != number or number in (float("inf"), float("-inf")):
            raise _invalid("input should be a finite number")
        _bounded(number, ge, gt, le)
        return number

    return check


_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _invalid("input should be a valid boolean")


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid("input should be a valid string")
    return value


def _secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    raise _invalid("input should be a valid string")


def _profile_name(value: Any) -> str:
    """A profile's name is part of its cache's file name (see ``paths.check_profile_name``)."""
    try:
        return paths.check_profile_name(_str(value))
    except ValueError as exc:
        raise _invalid(str(exc)) from None


def _timezone(value: Any) -> str:
    """An IANA zone name (``Europe/Paris``), or empty / ``local`` for the machine's zone."""
    name = _str(value).strip()
    if name.lower() in ("", "local"):
        return ""
    from zoneinfo import ZoneInfo  # only when a zone is set

    try:
        ZoneInfo(name)
    # Not found is a KeyError; a path ("../x") a ValueError; an unreadable file an OSError.
    except (KeyError, ValueError, OSError):
        raise _invalid("input should be an IANA time zone name like 'Europe/Paris'") from None
    return name


def _optional(check: Check) -> Check:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)

    return optional


def _decoded(value: Any, what: str) -> Any:
    """A list or a table given whole in one environment variable is JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _invalid(f"input should be a valid {what} (in the environment: JSON)") from None
    return value


def _list_of(item: Check) -> Check:
    def check(value: Any) -> list[Any]:
        value = _decoded(value, "list")
        if not isinstance(value, list | tuple):
            raise _invalid("input should be a valid list")
        problems: list[tuple[Loc, str]] = []
        checked = []
        for index, element in enumerate(value):
            try:
                checked.append(item(element))
            except InvalidSettings as exc:
                problems.extend(exc.under(index))
        if problems:
            raise InvalidSettings(problems)
        return checked

    return check


def _table_of(item: Check, key_check: Check | None = None) -> Check:
    def check(value: Any) -> dict[str, Any]:
        value = _decoded(value, "table")
        if not isinstance(value, Mapping):
            raise _invalid("input should be a table")
        problems: list[tuple[Loc, str]] = []
        checked = {}
        for key, element in value.items():
            try:
                if key_check is not None:
                    key_check(key)
                checked[str(key)] = item(element)
            except InvalidSettings as exc:
                problems.extend(exc.under(str(key)))
        if problems:
            raise InvalidSettings(problems)
        return checked

    return check


def _secrets(value: Any) -> list[Secret]:
    """One secret or several (a list; from the environment, a JSON list)."""
    if isinstance(value, str) and not value.lstrip().startswith("["):
        return [Secret(value)]
    result: list[Secret] = _list_of(_secret)(value)
    return result


class _Section:
    """A dataclass whose ``__post_init__`` checks and converts every field through
    ``CHECKS``; built from a table by :meth:`from_table`, which refuses unknown keys."""

    CHECKS: ClassVar[dict[str, Check]] = {}

    def __post_init__(self) -> None:
        problems: list[tuple[Loc, str]] = []
        for name, check in self.CHECKS.items():
            try:
                setattr(self, name, check(getattr(self, name)))
            except InvalidSettings as exc:
                problems.extend(exc.under(name))
        if problems:
            raise InvalidSettings(problems)

    @classmethod
    def from_table(cls, value: Any) -> Any:
        if isinstance(value, cls):
            return value
        value = _decoded(value, "table")
        if not isinstance(value, Mapping):
            raise _invalid("input should be a table")
        unknown: list[tuple[Loc, str]] = [
            ((str(key),), "unknown key") for key in value if key not in cls.CHECKS
        ]
        known = {key: item for key, item in value.items() if key in cls.CHECKS}
        try:
            built = cls(**known)
        except InvalidSettings as exc:
            raise InvalidSettings(exc.problems + unknown) from None
        if unknown:
            raise InvalidSettings(unknown)
        return built


@dataclass
class Profile(_Section):
    """One API key on one gateway."""

    api_key: Secret | None = None
    base_url: str = DEFAULT_BASE_URL
    requests_per_minute: int = 600
    timeout_seconds: float = 20.0
    #: Only these connected accounts (empty: all the key sees).
    accounts: list[str] = field(default_factory=list)

    CHECKS: ClassVar[dict[str, Check]] = {
        "api_key": _optional(_secret),
        "base_url": _str,
        "requests_per_minute": _int(ge=1, le=100_000),
        "timeout_seconds": _float(gt=0, le=600),
        "accounts": _list_of(_str),
    }


@dataclass
class WebhookSettings(_Section):
    """The local listener that receives signed webhooks."""

    #: Several secrets are accepted at once so a secret can be rotated without downtime.
    secrets: list[Secret] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8801
    path: str = "/webhooks/fansly"
    max_body_bytes: int = 1024 * 1024
    #: Token a remote console needs to read the hub's ``/events`` websocket.
    hub_token: Secret | None = None
    #: Embed the listener in the console (the default) or not.
    embedded: bool = True
    #: Days a received event stays in the cache's event log: its idempotency key (a retry
    #: of it is a no-op) and what a hub's consoles resume from. Longer than any provider's
    #: retry horizon; why 30 is in console/store/_retention.py.
    event_retention_days: int = 30

    CHECKS: ClassVar[dict[str, Check]] = {
        "secrets": _secrets,
        "host": _str,
        "port": _int(ge=0, le=65535),
        "path": _str,
        "max_body_bytes": _int(ge=1024),
        "hub_token": _optional(_secret),
        "embedded": _bool,
        "event_retention_days": _int(ge=1, le=36500),
    }


@dataclass
class UISettings(_Section):
    theme: str = "fansly-dark"
    #: Tips at or above this amount (US dollars) raise a toast and ring the bell.
    tip_alert_dollars: float = 20.0
    #: Minutes after which a fan's unanswered message is shown as "waiting too long".
    waiting_alert_minutes: int = 15
    #: Binding id → keys, e.g. ``{ reply = "r", like = "l,L" }``.
    keymap: dict[str, str] = field(default_factory=dict)
    #: The zone every time is shown in (IANA name); empty: the machine's zone.
    timezone: str = ""

    CHECKS: ClassVar[dict[str, Check]] = {
        "theme": _str,
        "timezone": _timezone,
        "tip_alert_dollars": _float(ge=0),
        "waiting_alert_minutes": _int(ge=1),
        "keymap": _table_of(_str),
    }


@dataclass
class SyncSettings(_Section):
    #: Messages fetched per chat during backfill.
    messages_per_chat: int = 30
    concurrency: int = 4

    CHECKS: ClassVar[dict[str, Check]] = {
        "messages_per_chat": _int(ge=1, le=10_000),
        "concurrency": _int(ge=1, le=32),
    }


@dataclass
class BudgetSettings(_Section):
    """What the console may spend with the gateway, in credits (console/api/credits.py)."""

    #: The month's budget (across every profile); none: no cap, only the gateway's 402.
    monthly_credits: int | None = None
    #: Kept for the chatter: background work (sync, profile refreshes) stops at the budget
    #: minus this; replies go on until the budget itself. None: a tenth of the budget.
    reserve_credits: int | None = None
    #: A fan's profile and spend are fetched again on open only when older than this.
    profile_fresh_minutes: int = 60

    CHECKS: ClassVar[dict[str, Check]] = {
        "monthly_credits": _optional(_int(ge=1, le=1_000_000_000)),
        "reserve_credits": _optional(_int(ge=0, le=1_000_000_000)),
        "profile_fresh_minutes": _int(ge=0, le=525_600),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if (
            self.monthly_credits is not None
            and self.reserve_credits is not None
            and self.reserve_credits >= self.monthly_credits
        ):
            raise InvalidSettings(
                [(("reserve_credits",), "input should be less than monthly_credits")]
            )

    @property
    def reserve(self) -> int:
        """The reserve in force (a tenth of the budget unless set)."""
        if self.reserve_credits is not None:
            return self.reserve_credits
        return (self.monthly_credits or 0) // 10


def _pattern(value: Any) -> str:
    from console.guard import check_pattern

    try:
        return check_pattern(_str(value))
    except ValueError as exc:
        raise _invalid(str(exc)) from None


@dataclass
class GuardRules(_Section):
    """One account's extra guard rules (``[guard.accounts.<account id>]``)."""

    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    #: Overrides the global ``no_links`` for this account when set.
    no_links: bool | None = None

    CHECKS: ClassVar[dict[str, Check]] = {
        "words": _list_of(_str),
        "phrases": _list_of(_str),
        "patterns": _list_of(_pattern),
        "no_links": _optional(_bool),
    }


@dataclass
class GuardSettings(_Section):
    """What the composer refuses to send (console/guard.py): for every account, plus each
    account's own rules."""

    words: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    no_links: bool = False
    accounts: dict[str, GuardRules] = field(default_factory=dict)
    #: Compiled rules per account (built on first use).
    _compiled: dict[str, Guard] = field(default_factory=dict, init=False, repr=False, compare=False)

    CHECKS: ClassVar[dict[str, Check]] = {
        "words": _list_of(_str),
        "phrases": _list_of(_str),
        "patterns": _list_of(_pattern),
        "no_links": _bool,
        "accounts": _table_of(GuardRules.from_table),
    }

    def for_account(self, account_id: str) -> Guard:
        """The account's rules: the global ones and its own, compiled once."""
        if account_id in self._compiled:
            return self._compiled[account_id]
        from console.guard import Guard

        own = self.accounts.get(account_id) or GuardRules()
        guard = self._compiled[account_id] = Guard.of(
            [*self.words, *own.words],
            [*self.phrases, *own.phrases],
            [*self.patterns, *own.patterns],
            self.no_links if own.no_links is None else own.no_links,
        )
        return guard


@dataclass
class TeamSettings(_Section):
    """Team mode: the server's database (``serve``) and a console's team server (``--team``)."""

    #: The team database (``serve``); may hold a password, so it is a secret.
    database_url: Secret | None = None
    #: A send into a chat another chatter sent into within this many seconds asks first.
    guard_seconds: int = 120
    #: The team server a console talks to (``fansly-console --team`` without a URL).
    url: str = ""
    #: The chatter's token (prefer ``token_file``: a file only its owner reads).
    token: Secret | None = None
    token_file: str = ""

    CHECKS: ClassVar[dict[str, Check]] = {
        "database_url": _optional(_secret),
        "guard_seconds": _int(ge=0, le=86_400),
        "url": _str,
        "token": _optional(_secret),
        "token_file": _str,
    }


def _choice(*allowed: str) -> Check:
    def check(value: Any) -> str:
        text = _str(value).strip().lower()
        if text not in allowed:
            raise _invalid(f"input should be one of: {', '.join(allowed)}")
        return text

    return check


def _ascending_tiers(value: Any) -> list[float]:
    tiers: list[float] = _list_of(_float(ge=0))(value)
    if len(tiers) != 3 or tiers != sorted(tiers):
        raise _invalid("input should be three amounts in dollars, ascending ($, $$, $$$)")
    return tiers


@dataclass
class QueueSettings(_Section):
    """The queue across accounts and its badges (issue 16)."""

    #: Open the console on the queue instead of the first account's chat list.
    default_view: bool = False
    #: The queue's order at start: waiting (longest first), spend or newest.
    sort: str = "waiting"
    #: Lifetime spend in dollars from which a fan is $, $$, $$$.
    spend_tiers: list[float] = field(default_factory=lambda: [50.0, 250.0, 1000.0])
    new_subscriber_days: float = 7.0
    expiring_days: float = 3.0
    recent_purchase_hours: float = 24.0

    CHECKS: ClassVar[dict[str, Check]] = {
        "default_view": _bool,
        "sort": _choice("waiting", "spend", "newest"),
        "spend_tiers": _ascending_tiers,
        "new_subscriber_days": _float(ge=0, le=3650),
        "expiring_days": _float(ge=0, le=3650),
        "recent_purchase_hours": _float(ge=0, le=87600),
    }


@dataclass
class AccountSettings(_Section):
    """Which accounts a chatter's console shows, and how they are grouped (issue 16). Accounts
    are named by their username, their name or their id."""

    #: Accounts left out of this console (their tabs, the queue, the switcher, alerts).
    hidden: list[str] = field(default_factory=list)
    #: Group name → accounts; tabs are ordered group by group, the switcher shows the group.
    groups: dict[str, list[str]] = field(default_factory=dict)

    CHECKS: ClassVar[dict[str, Check]] = {
        "hidden": _list_of(_str),
        "groups": _table_of(_list_of(_str)),
    }


NOTIFY_CHANNELS = ("bell", "desktop", "hook")
_channels = _list_of(_choice(*NOTIFY_CHANNELS))


@dataclass
class NotifySettings(_Section):
    """Alerts beyond the console's toasts (issue 16): per trigger, the channels it uses
    (``bell``: the terminal bell; ``desktop``: a system notice through the terminal, OSC 9 and
    OSC 777; ``hook``: the ``hook`` command, given the event as JSON on stdin). Every trigger
    is off by default."""

    #: A fan in the queue whose spend tier is at least ``whale_tier`` writes.
    whale: list[str] = field(default_factory=list)
    whale_tier: int = 3
    #: A tip of at least ``tip_dollars``.
    tip: list[str] = field(default_factory=list)
    tip_dollars: float = 50.0
    #: A VIP fan writes.
    vip: list[str] = field(default_factory=list)
    #: A chat waits longer than ``waiting_minutes`` (said once per wait).
    waiting: list[str] = field(default_factory=list)
    waiting_minutes: int = 30
    #: A reminder or a follow-up is due.
    follow_up: list[str] = field(default_factory=list)
    #: A command (split like a shell would, not run through one) given each alert as JSON.
    hook: str = ""
    hook_timeout_seconds: float = 5.0

    CHECKS: ClassVar[dict[str, Check]] = {
        "whale": _channels,
        "whale_tier": _int(ge=1, le=3),
        "tip": _channels,
        "tip_dollars": _float(ge=0),
        "vip": _channels,
        "waiting": _channels,
        "waiting_minutes": _int(ge=1, le=100_000),
        "follow_up": _channels,
        "hook": _str,
        "hook_timeout_seconds": _float(gt=0, le=600),
    }


def _default_profiles() -> dict[str, Profile]:
    return {"default": Profile()}


@dataclass
class Settings(_Section):
    """The whole configuration. ``Settings()`` is the defaults alone; :func:`load_settings`
    reads the file and the environment."""

    #: The profile used by one-account commands (``accounts``, ``sync``) unless told otherwise.
    default_profile: str = "default"
    profiles: dict[str, Profile] = field(default_factory=_default_profiles)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    ui: UISettings = field(default_factory=UISettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    guard: GuardSettings = field(default_factory=GuardSettings)
    team: TeamSettings = field(default_factory=TeamSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    accounts: AccountSettings = field(default_factory=AccountSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)

    CHECKS: ClassVar[dict[str, Check]] = {
        "default_profile": _profile_name,
        "profiles": _table_of(Profile.from_table, _profile_name),
        "webhooks": WebhookSettings.from_table,
        "ui": UISettings.from_table,
        "sync": SyncSettings.from_table,
        "budget": BudgetSettings.from_table,
        "guard": GuardSettings.from_table,
        "team": TeamSettings.from_table,
        "queue": QueueSettings.from_table,
        "accounts": AccountSettings.from_table,
        "notify": NotifySettings.from_table,
    }

    def profile(self, name: str | None = None) -> Profile:
        name = name or self.default_profile
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(f"no profile named {name!r} (configured: {known})") from None

    def configured_profiles(self) -> dict[str, Profile]:
        """Profiles that have an API key, i.e. that can reach a gateway."""
        return {name: p for name, p in self.profiles.items() if p.api_key is not None}


def _env_tables(environ: Mapping[str, str]) -> dict[str, Any]:
    """``FANSLY_CONSOLE_A__B=v`` as ``{"a": {"b": "v"}}`` (names are case-insensitive), for the
    top-level names that are settings; ``FANSLY_CONSOLE_HOME`` and the like are not."""
    tables: dict[str, Any] = {}
    top = Settings.CHECKS.keys()
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        if keys[0] not in top or not all(keys):
            continue
        value: Any = environ[name]
        if value.lstrip().startswith("{"):
            # A table given whole (JSON): deeper names merge into it. Not JSON: left as it is,
            # for the section's check to report where it belongs.
            try:
                value = json.loads(value)
            except ValueError:
                pass
        target = tables
        for key in keys[:-1]:
            inner = target.get(key)
            if not isinstance(inner, dict):
                inner = target[key] = {}
            target = inner
        if isinstance(value, dict) and isinstance(target.get(keys[-1]), dict):
            value = _merged(value, target[keys[-1]])
        target[keys[-1]] = value
    return tables


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, tables merged key by key (lists and values replaced)."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def _line_of(text: str, loc: Loc) -> int | None:
    """Best effort: the line of the deepest key of ``loc`` that appears in the file."""
    lines = text.splitlines()
    for key in reversed([part for part in loc if isinstance(part, str)]):
        name = re.escape(key)
        word = rf"(?<![\w-]){name}(?![\w-])"  # not inside a longer name ("second-key")
        pattern = re.compile(rf"^\s*(\[+[^\]]*{word}[^\]]*\]+|\"?{name}\"?\s*=)")
        for number, line in enumerate(lines, start=1):
            if pattern.search(line):
                return number
    return None


def _env_name(loc: Loc, environ: Mapping[str, str]) -> str | None:
    """The environment variable that set ``loc`` (or a table holding it), if one did."""
    names = {name.upper(): name for name in environ if name.upper().startswith(ENV_PREFIX)}
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + "__".join(str(part) for part in loc[:depth]).upper()
        if name in names:
            return names[name]
    return None


def _problems(path: Path, text: str, problems: list[tuple[Loc, str]]) -> Iterator[str]:
    for loc, what in problems:
        key = _dotted(loc)
        variable = _env_name(loc, os.environ)
        line = _line_of(text, loc) if text and variable is None else None
        where = f"{path}, line {line}" if line else str(path)
        if variable is not None:
            where = f"environment variable {variable}"
        yield f"{where}: {key}: {what}"


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file (if any) and the environment into :class:`Settings`."""
    path = path or paths.config_file()
    text = ""
    data: dict[str, Any] = {}
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    elif "FANSLY_CONSOLE_CONFIG" in os.environ:
        raise ConfigError(f"{path}: no such file (named by FANSLY_CONSOLE_CONFIG)")
    try:
        settings: Settings = Settings.from_table(_merged(data, _env_tables(os.environ)))
    except InvalidSettings as exc:
        raise ConfigError("\n".join(_problems(path, text, exc.problems))) from None
    _apply_plain_env(settings)
    return settings


def _apply_plain_env(settings: Settings) -> None:
    """Honour the provider-style variables on the active profile and the listener."""
    key = os.environ.get("FANSLY_API_KEY")
    base_url = os.environ.get("FANSLY_API_BASE_URL")
    if key or base_url:
        profile = settings.profiles.setdefault(settings.default_profile, Profile())
        if key:
            profile.api_key = Secret(key)
        if base_url:
            profile.base_url = base_url
    secret = os.environ.get("FANSLY_WEBHOOK_SECRET")
    if secret:
        settings.webhooks.secrets = [Secret(secret), *settings.webhooks.secrets]
