"""Helpers for the team-mode tests: a fresh database per test on the session's cluster.

The cluster itself is the ``pg_cluster`` session fixture (tests/conftest.py): one throwaway
PostgreSQL 15 per test process, started the way ``make demo-team`` starts it
(:mod:`console.team.cluster`). Each test gets a database of its own, so tests never see each
other's rows, and dropping it is the cleanup.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from console.team.cluster import Cluster

_names = itertools.count(1)


@asynccontextmanager
async def fresh_database(cluster: Cluster) -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    name = f"t{os.getpid()}_{next(_names)}"
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield cluster.url(name)
    finally:
        admin = await asyncpg.connect(cluster.url())
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
