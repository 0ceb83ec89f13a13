"""A throwaway PostgreSQL cluster never outlives its owner, even one killed with SIGKILL (a
test run stopped by ``timeout``): its watcher stops it at once, and should the watcher be killed
too, the next cluster's start sweeps it."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from console.team.cluster import sweep_orphans

# The child starts a cluster, names its dir, its watcher and its postmaster, then waits.
CHILD = """
import sys
from console.team.cluster import Cluster
cluster = Cluster().start()
postmaster = (cluster.data / "postmaster.pid").read_text().split()[0]
print(cluster.root, cluster.watcher_pid, postmaster, flush=True)
sys.stdin.read()
"""


@contextmanager
def cluster_in_a_child() -> Iterator[tuple[subprocess.Popen[str], Path, int, int]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as under `timeout`
    )
    try:
        assert child.stdout is not None
        root, watcher, postmaster = child.stdout.readline().split()
        yield child, Path(root), int(watcher), int(postmaster)
    finally:
        child.kill()
        child.wait()
        sweep_orphans()


def wait_for_exit(pid: int, timeout: float = 30.0) -> bool:
    """Wait (on a pidfd: woken by the exit itself) until the process ``pid`` is gone."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([handle], [], [], timeout)
        return bool(ready)
    finally:
        os.close(handle)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"


def test_a_cluster_dies_with_its_owner_killed_by_sigkill() -> None:
    with cluster_in_a_child() as (child, root, watcher, postmaster):
        assert alive(postmaster) and root.is_dir()
        os.killpg(child.pid, signal.SIGKILL)  # the child's whole group: what `timeout` does
        child.wait()
        assert wait_for_exit(watcher), "the watcher did not finish"
        assert not alive(postmaster)
        assert not root.exists()


def test_the_next_cluster_sweeps_one_whose_owner_and_watcher_were_killed() -> None:
    with cluster_in_a_child() as (child, root, watcher, postmaster):
        os.kill(watcher, signal.SIGKILL)
        assert wait_for_exit(watcher)
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert alive(postmaster)  # nobody left to stop it: the leak this guards against
        assert root in sweep_orphans()  # what every Cluster() does first
        assert wait_for_exit(postmaster)
        assert not root.exists()
