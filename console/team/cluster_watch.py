"""The watcher of one throwaway cluster: stops it and removes its dir when its owner dies.

``python -m console.team.cluster_watch OWNER_PID ROOT`` is started by :class:`Cluster` in a
session of its own (a SIGKILL sent to the owner's process group, as ``timeout`` sends, does not
reach it). It waits on a pidfd of the owner, so it wakes the moment the owner is gone, however
it died, without polling. A normal ``Cluster.stop()`` terminates the watcher first and stops
the cluster itself.

``python -m console.team.cluster_watch --sweep`` stops every cluster whose owner is gone (the
watcher itself killed too), as each new :class:`Cluster` does before it starts.
"""

from __future__ import annotations

import os
import select
import sys
from pathlib import Path

from console.team.cluster import (
    OWNER_FILE,
    ClusterError,
    owner_alive,
    pg_bin,
    remove_cluster,
    sweep_orphans,
)


def watch(owner: int, root: Path) -> None:
    bin_folder = pg_bin()
    try:
        handle = os.pidfd_open(owner)
    except ProcessLookupError:
        handle = None  # already gone
    # The pid may have been reused between the owner's death and pidfd_open: the owner file's
    # start time tells (read after opening the handle, so no reuse can slip in between).
    if handle is not None and (root / OWNER_FILE).exists() and not owner_alive(root):
        os.close(handle)
        handle = None
    print("watching", flush=True)
    if handle is not None:
        select.select([handle], [], [])
        os.close(handle)
    remove_cluster(root, bin_folder)


def main(argv: list[str]) -> int:
    if argv == ["--sweep"]:
        try:
            swept = sweep_orphans()
        except ClusterError:
            return 0  # no binaries, so no cluster of ours can be running
        for root in swept:
            print(f"stopped the orphaned PostgreSQL cluster in {root}")
        return 0
    if len(argv) != 2:
        print("usage: python -m console.team.cluster_watch OWNER_PID ROOT | --sweep")
        return 2
    watch(int(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
