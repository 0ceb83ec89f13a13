"""Settings: TOML file, FANSLY_CONSOLE_* nesting, FANSLY_API_KEY, profiles, clear errors."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from console import paths
from console.api.client import client_from_settings
from console.config import ConfigError, Profile, Secret, load_settings

GOOD = """\
default_profile = "agency"

[profiles.agency]
api_key = "sk_agency_secret"
base_url = "http://127.0.0.1:9/api/fansly"
requests_per_minute = 1000

[profiles.solo]
base_url = "http://127.0.0.1:9/api/fansly"

[ui]
theme = "fansly-light"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("FANSLY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FANSLY_CONSOLE_HOME", str(tmp_path / "home"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FANSLY_")}
    return subprocess.run(
        [sys.executable, "-m", "console", *argv],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_toml_file_profiles_and_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.ui.theme == "fansly-light"
    agency = settings.profile()
    assert agency.requests_per_minute == 1000
    assert agency.api_key is not None and agency.api_key.get_secret_value() == "sk_agency_secret"
    assert settings.profile("solo").api_key is None
    assert list(settings.configured_profiles()) == ["agency"]
    assert settings.sync.concurrency == 4  # untouched sections keep their defaults
    assert "sk_agency_secret" not in repr(settings)
    assert "sk_agency_secret" not in str(dataclasses.asdict(settings))


def test_unknown_profile_names_the_configured_ones(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"'nope'.*agency, solo"):
        settings.profile("nope")


def test_env_nesting_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANSLY_CONSOLE_UI__THEME", "high-contrast")
    monkeypatch.setenv("FANSLY_CONSOLE_SYNC__CONCURRENCY", "8")
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.ui.theme == "high-contrast"
    assert settings.sync.concurrency == 8


def test_fansly_api_key_and_base_url_apply_to_the_active_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FANSLY_API_KEY", "from-env")
    monkeypatch.setenv("FANSLY_API_BASE_URL", "http://127.0.0.1:7/api/fansly")
    settings = load_settings(write(tmp_path, GOOD))
    profile = settings.profile()
    assert profile.api_key is not None and profile.api_key.get_secret_value() == "from-env"
    assert profile.base_url == "http://127.0.0.1:7/api/fansly"
    client = client_from_settings(settings)
    assert client.base_url == "http://127.0.0.1:7/api/fansly"
    assert "from-env" not in repr(client)


def test_no_file_and_no_key_is_a_two_line_config_error(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml")
    with pytest.raises(ConfigError) as caught:
        client_from_settings(settings, None)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert "no API key" in lines[0] and "'default'" in lines[0]
    assert "FANSLY_API_KEY" in lines[1]


def test_bad_value_names_file_line_key_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.default]\napi_key = "sk_x"\nrequests_per_minute = "lots"\n')
    result = run_cli("accounts", env={"FANSLY_CONSOLE_CONFIG": str(path)})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{path}, line 3" in result.stderr
    assert "profiles.default.requests_per_minute" in result.stderr
    assert "valid integer" in result.stderr
    assert "sk_x" not in result.stderr + result.stdout


def test_unknown_key_and_broken_toml_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "[ui]\ntheme = 'x'\ncolour = 'red'\n")
    result = run_cli("accounts", env={"FANSLY_CONSOLE_CONFIG": str(path)})
    assert result.returncode == 2
    assert "line 3" in result.stderr and "ui.colour: unknown key" in result.stderr
    path.write_text("[ui\ntheme=", encoding="utf-8")
    result = run_cli("accounts", env={"FANSLY_CONSOLE_CONFIG": str(path)})
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr and "Traceback" not in result.stderr


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    result = run_cli("accounts", env={"FANSLY_CONSOLE_CONFIG": str(tmp_path / "gone.toml")})
    assert result.returncode == 2
    assert "gone.toml: no such file" in result.stderr


def test_secret_files_are_private(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "secret.toml"
    paths.write_private(target, 'api_key = "x"\n')
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o644)
    paths.write_private(target, 'api_key = "y"\n')  # rewriting narrows it again
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text(encoding="utf-8") == 'api_key = "y"\n'


def test_paths_follow_fansly_console_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert paths.config_file() == home / "config.toml"
    assert paths.data_dir() == home / "data"
    assert paths.themes_dir() == home / "themes"


def test_env_lists_tables_booleans_and_the_webhook_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FANSLY_CONSOLE_WEBHOOKS__SECRETS", '["one", "two"]')
    monkeypatch.setenv("FANSLY_CONSOLE_WEBHOOKS__EMBEDDED", "no")
    monkeypatch.setenv("FANSLY_CONSOLE_PROFILES__AGENCY__ACCOUNTS", '["acc_1"]')
    monkeypatch.setenv("FANSLY_CONSOLE_UI__KEYMAP", '{"like": "L"}')
    monkeypatch.setenv("FANSLY_WEBHOOK_SECRET", "newest")
    settings = load_settings(write(tmp_path, GOOD))
    hook = settings.webhooks
    assert [s.get_secret_value() for s in hook.secrets] == ["newest", "one", "two"]
    assert hook.embedded is False
    agency = settings.profile()
    assert agency.accounts == ["acc_1"]
    assert agency.requests_per_minute == 1000  # the file's other keys of that profile stay
    assert settings.ui.keymap == {"like": "L"} and settings.ui.theme == "fansly-light"


def test_one_secret_as_a_string_and_secrets_never_shown(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[webhooks]\nsecrets = "whsec_only"\n'))
    (secret,) = settings.webhooks.secrets
    assert secret.get_secret_value() == "whsec_only"
    assert "whsec_only" not in f"{secret} {secret!r} {settings} {settings!r}"


def test_bounds_and_nested_unknown_keys_from_file_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        "[profiles.a]\ntimeout_seconds = 0\naccounts = 'acc_1'\n\n[webhooks]\nport = 70000\n\n"
        "[sync]\nconcurrency = 33\n",
    )
    monkeypatch.setenv("FANSLY_CONSOLE_UI__COLOUR", "red")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    text = str(caught.value)
    assert f"{path}, line 2: profiles.a.timeout_seconds: input should be greater than 0" in text
    assert f"{path}, line 3: profiles.a.accounts: input should be a valid list" in text
    assert f"{path}, line 6: webhooks.port: input should be less than or equal to 65535" in text
    assert "sync.concurrency: input should be less than or equal to 32" in text
    assert "environment variable FANSLY_CONSOLE_UI__COLOUR: ui.colour: unknown key" in text


def test_event_retention_days_default_file_env_and_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(write(tmp_path, "")).webhooks.event_retention_days == 30
    path = write(tmp_path, "[webhooks]\nevent_retention_days = 90\n")
    assert load_settings(path).webhooks.event_retention_days == 90
    monkeypatch.setenv("FANSLY_CONSOLE_WEBHOOKS__EVENT_RETENTION_DAYS", "7")
    assert load_settings(path).webhooks.event_retention_days == 7
    monkeypatch.setenv("FANSLY_CONSOLE_WEBHOOKS__EVENT_RETENTION_DAYS", "0")
    with pytest.raises(ConfigError, match=r"webhooks\.event_retention_days: input should be"):
        load_settings(path)


def test_other_fansly_console_variables_are_not_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, GOOD)
    monkeypatch.setenv("FANSLY_CONSOLE_CONFIG", str(path))  # read by paths, not a setting
    assert load_settings().ui.theme == "fansly-light"


def test_sections_built_in_code_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="requests_per_minute: input should be greater"):
        Profile(requests_per_minute=0)
    profile = Profile(api_key="sk_code")  # type: ignore[arg-type]
    assert isinstance(profile.api_key, Secret) and "sk_code" not in repr(profile)


def test_budget_section_defaults_file_env_and_bad_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = load_settings(write(tmp_path, "")).budget
    assert (budget.monthly_credits, budget.reserve, budget.profile_fresh_minutes) == (None, 0, 60)
    path = write(tmp_path, "[budget]\nmonthly_credits = 20000\n")
    assert load_settings(path).budget.reserve == 2000  # a tenth unless set
    monkeypatch.setenv("FANSLY_CONSOLE_BUDGET__RESERVE_CREDITS", "500")
    assert load_settings(path).budget.reserve == 500
    monkeypatch.delenv("FANSLY_CONSOLE_BUDGET__RESERVE_CREDITS")
    bad = write(
        tmp_path,
        "[budget]\nmonthly_credits = 0\nprofile_fresh_minutes = 'soon'\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(bad)
    text = str(caught.value)
    assert f"{bad}, line 2: budget.monthly_credits: input should be greater than or equal" in text
    assert f"{bad}, line 3: budget.profile_fresh_minutes: input should be a valid integer" in text
    over = write(tmp_path, "[budget]\nmonthly_credits = 100\nreserve_credits = 100\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(over)
    assert f"{over}, line 3: budget.reserve_credits: input should be less than monthly" in str(
        caught.value
    )


def test_team_section_is_validated_and_its_database_url_never_printed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[team]\ndatabase_url = "postgresql://u:hunter2@db/x"\nguard_seconds = -5\n',
    )
    result = run_cli("team", "list", env={"FANSLY_CONSOLE_CONFIG": str(path)})
    assert result.returncode == 2
    assert f"{path}, line 3" in result.stderr and "team.guard_seconds" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    settings = load_settings(write(tmp_path, '[team]\nurl = "https://t"\ntoken_file = "~/t"\n'))
    assert settings.team.url == "https://t" and settings.team.guard_seconds == 120


def test_queue_accounts_and_notify_sections(tmp_path: Path) -> None:
    """Issue 16's sections: defaults (every alert off), values from the file, bad ones named
    with the file and the line."""
    defaults = load_settings(write(tmp_path, ""))
    assert defaults.queue.spend_tiers == [50, 250, 1000] and not defaults.queue.default_view
    assert defaults.notify.whale == [] and defaults.notify.hook == ""
    assert defaults.accounts.hidden == [] and defaults.accounts.groups == {}
    settings = load_settings(
        write(
            tmp_path,
            '[queue]\ndefault_view = true\nsort = "spend"\nspend_tiers = [10, 100, 500]\n'
            '[accounts]\nhidden = ["miamoves"]\ngroups = { "Team A" = ["lunarivers"] }\n'
            '[notify]\nwhale = ["bell", "desktop"]\nhook = "notify-send-json"\n',
        )
    )
    assert settings.queue.default_view and settings.queue.sort == "spend"
    assert settings.accounts.groups == {"Team A": ["lunarivers"]}
    assert settings.notify.whale == ["bell", "desktop"]
    for text, where in [
        ("[queue]\n\nspend_tiers = [100, 10, 500]\n", "line 3: queue.spend_tiers"),
        ('[notify]\nwhale = ["siren"]\n', "line 2: notify.whale.0: input should be one of"),
        ('[queue]\nsort = "random"\n', "line 2: queue.sort"),
    ]:
        with pytest.raises(ConfigError, match=where):
            load_settings(write(tmp_path, text))
