"""Typed settings: a TOML file, ``FANSLY_CONSOLE_*`` environment variables, named profiles.

Precedence, highest first: ``FANSLY_API_KEY`` / ``FANSLY_API_BASE_URL`` /
``FANSLY_WEBHOOK_SECRET`` (applied to the active profile and the listener), then
``FANSLY_CONSOLE_*`` variables (``__`` nests: ``FANSLY_CONSOLE_UI__THEME=light``), then the
TOML file, then defaults.

A profile is one API key on one gateway; an agency holds several. Every profile's accounts are
shown together in the console. A bad file raises :class:`ConfigError` naming the file, the
line, the key and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from console import paths

DEFAULT_BASE_URL = "https://v1.apifansly.com/api/fansly"


class ConfigError(Exception):
    """The configuration cannot be used; the message is meant for the user as it is."""


class Profile(BaseModel):
    """One API key on one gateway."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    requests_per_minute: int = Field(600, ge=1, le=100_000)
    timeout_seconds: float = Field(20.0, gt=0, le=600)
    #: Only these connected accounts (empty: all the key sees).
    accounts: list[str] = Field(default_factory=list)


class WebhookSettings(BaseModel):
    """The local listener that receives signed webhooks."""

    model_config = ConfigDict(extra="forbid")

    #: Several secrets are accepted at once so a secret can be rotated without downtime.
    secrets: list[SecretStr] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = Field(8801, ge=0, le=65535)
    path: str = "/webhooks/fansly"
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    #: Token a remote console needs to read the hub's ``/events`` websocket.
    hub_token: SecretStr | None = None
    #: Embed the listener in the console (the default) or not.
    embedded: bool = True

    @field_validator("secrets", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class UISettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    theme: str = "fansly-dark"
    #: Tips at or above this amount (US dollars) raise a toast and ring the bell.
    tip_alert_dollars: float = Field(20.0, ge=0)
    #: Minutes after which a fan's unanswered message is shown as "waiting too long".
    waiting_alert_minutes: int = Field(15, ge=1)
    #: Binding id → keys, e.g. ``{ reply = "r", like = "l,L" }``.
    keymap: dict[str, str] = Field(default_factory=dict)


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Messages fetched per chat during backfill.
    messages_per_chat: int = Field(30, ge=1, le=10_000)
    concurrency: int = Field(4, ge=1, le=32)


class _TomlSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FANSLY_CONSOLE_", env_nested_delimiter="__", extra="forbid"
    )

    #: The profile used by one-account commands (``accounts``, ``sync``) unless told otherwise.
    default_profile: str = "default"
    profiles: dict[str, Profile] = Field(default_factory=lambda: {"default": Profile()})
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    ui: UISettings = Field(default_factory=UISettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _TomlSource(settings_cls, _FILE_DATA.get("data", {}))
        return (init_settings, env_settings, toml)

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


# pydantic-settings builds sources inside the constructor; the parsed file is handed over here.
_FILE_DATA: dict[str, Any] = {}


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best effort: the line of the deepest key of ``loc`` that appears in the file."""
    lines = text.splitlines()
    for key in reversed([str(part) for part in loc if isinstance(part, str)]):
        name = re.escape(key)
        pattern = re.compile(rf"^\s*(\[+[^\]]*\b{name}\b[^\]]*\]+|\"?{name}\"?\s*=)")
        for number, line in enumerate(lines, start=1):
            if pattern.search(line):
                return number
    return None


def _describe(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    message = str(error.get("msg", "invalid value"))
    return message[0].lower() + message[1:] if message else "invalid value"


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
    _FILE_DATA["data"] = data
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error.get("loc", ()))
            key = ".".join(str(part) for part in loc) or "(top level)"
            line = _line_of(text, loc) if text else None
            where = f"{path}, line {line}" if line else str(path)
            # The input is never echoed: it may be a secret.
            problems.append(f"{where}: {key}: {_describe(dict(error))}")
        raise ConfigError("\n".join(problems)) from None
    finally:
        _FILE_DATA.clear()
    _apply_plain_env(settings)
    return settings


def _apply_plain_env(settings: Settings) -> None:
    """Honour the provider-style variables on the active profile and the listener."""
    key = os.environ.get("FANSLY_API_KEY")
    base_url = os.environ.get("FANSLY_API_BASE_URL")
    if key or base_url:
        profile = settings.profiles.setdefault(settings.default_profile, Profile())
        if key:
            profile.api_key = SecretStr(key)
        if base_url:
            profile.base_url = base_url
    secret = os.environ.get("FANSLY_WEBHOOK_SECRET")
    if secret:
        settings.webhooks.secrets = [SecretStr(secret), *settings.webhooks.secrets]
