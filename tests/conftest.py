"""Shared fixtures: a real sandbox over a real socket, and an isolated console home.

- ``sandbox``: a small-world sandbox served from a thread (works in sync and async tests).
- ``sandbox_async``: the same, served inside the test's own event loop.
- ``console_home``: a tmp dir set as ``FANSLY_CONSOLE_HOME`` with ``FANSLY_*`` cleared.
- ``pg_cluster``: a throwaway PostgreSQL 15 cluster for the session (team mode); ``team_db``:
  the URL of a fresh database on it for one test.
- Every test runs with ``FANSLY_CONSOLE_HOME`` pointing at a tmp dir, so nothing reads or
  writes the developer's real config or cache.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.sandbox.server import SandboxServer
from console.sandbox.world import World, build_world
from console.team.cluster import Cluster


def _clear_fansly_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FANSLY_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the developer's real config, data or API key."""
    _clear_fansly_env(monkeypatch)
    monkeypatch.setenv("FANSLY_CONSOLE_HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def console_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty console home (config, data, themes) for this test."""
    _clear_fansly_env(monkeypatch)
    home = tmp_path / "console-home"
    home.mkdir()
    monkeypatch.setenv("FANSLY_CONSOLE_HOME", str(home))
    return home


def fresh_world(seed: int = 7, size: str = "small") -> World:
    """A new world (the routes mutate it, so tests never share one)."""
    return build_world(seed, size)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A small-world sandbox on a real socket, served from a background thread."""
    server = SandboxServer(seed=7, size="small", requests_per_minute=100_000).start_thread()
    try:
        yield server
    finally:
        server.stop_thread()


@pytest.fixture
async def sandbox_async() -> AsyncIterator[SandboxServer]:
    """A small-world sandbox served inside the test's own event loop."""
    async with SandboxServer(seed=7, size="small", requests_per_minute=100_000) as server:
        yield server


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster per test process. Never skipped: without the binaries
    the tests fail saying how to install them (.ci/run installs them)."""
    with Cluster() as cluster:
        yield cluster


@pytest.fixture
async def team_db(pg_cluster: Cluster) -> AsyncIterator[str]:
    """The URL of a fresh, empty database on the session's cluster."""
    from support.team import fresh_database

    async with fresh_database(pg_cluster) as url:
        yield url


@pytest.fixture
def snap_compare(snap_compare: Any, request: pytest.FixtureRequest) -> Callable[..., bool]:
    """pytest-textual-snapshot's, printing which rows differ when a shot does not match: CI
    shows the test's output, not the HTML report it leaves on its machine."""
    from pytest_textual_snapshot import node_to_report_path
    from support.snapshot_diff import explain

    def compare(*args: Any, **kwargs: Any) -> bool:
        matched: bool = snap_compare(*args, **kwargs)
        if not matched:
            report = pickle.loads(node_to_report_path(request.node).read_bytes())
            print("snapshot differs:\n" + explain(str(report[1]), str(report[2])))
        return matched

    return compare
