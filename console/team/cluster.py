"""A throwaway PostgreSQL cluster from the system's binaries: for the tests and ``demo-team``.

``initdb`` refuses to run as root, and CI and these machines run as root: the cluster then runs
as an unprivileged user (:data:`CLUSTER_USER`, created when missing). Its data directory and
its unix socket live in a private temp dir of its own (not the caller's: a pytest tmp dir under
``/tmp/pytest-of-root`` is not reachable by another user). It listens on the socket only, never
on TCP, so two clusters on one machine never meet.

A cluster never outlives the process that started it, even one killed with SIGKILL (a test
run stopped by ``timeout``): its temp dir records its owner (pid and start time), a small
watcher process (:mod:`console.team.cluster_watch`, in a session of its own so a signal to the
owner's process group does not reach it) stops the cluster and removes the dir when the owner
is gone, and every new :class:`Cluster` (and ``python -m console.team.cluster_watch --sweep``,
run by ``make unit``) first stops any cluster whose owner is gone, should its watcher have been
killed too.

The binaries are Debian's (``postgresql-15``): ``/usr/lib/postgresql/15/bin``, or the folder
named by ``FANSLY_CONSOLE_PG_BIN``. When they are missing, :class:`ClusterError` says how to
install them (``.ci/run`` does it in CI).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

#: Debian's binaries for PostgreSQL 15 (DESIGN.md: the version these machines have).
DEFAULT_BIN = Path("/usr/lib/postgresql/15/bin")
#: The unprivileged user a cluster started by root runs as.
CLUSTER_USER = "fansly-pg"
#: The cluster's superuser role (trust authentication over the private socket).
SUPERUSER = "postgres"
INSTALL_HINT = (
    "PostgreSQL 15's server binaries are needed (initdb, pg_ctl): "
    "`apt-get install -y postgresql-15` (Debian), or set FANSLY_CONSOLE_PG_BIN to their folder"
)


#: The prefix of every cluster's temp dir (the sweep looks for these and nothing else).
ROOT_PREFIX = "fcpg-"
#: The file in a cluster's temp dir naming its owner: "PID STARTTIME".
OWNER_FILE = "owner"


class ClusterError(Exception):
    """The cluster could not be created or started; the message says why and what to do."""


def pg_bin() -> Path:
    folder = Path(os.environ.get("FANSLY_CONSOLE_PG_BIN") or DEFAULT_BIN)
    if not (folder / "initdb").is_file() or not (folder / "pg_ctl").is_file():
        raise ClusterError(f"no PostgreSQL binaries in {folder}. {INSTALL_HINT}")
    return folder


def _cluster_user() -> pwd.struct_passwd | None:
    """The user to run as: None when not root (the cluster runs as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(CLUSTER_USER)
    except KeyError:
        pass
    try:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                CLUSTER_USER,
            ],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or str(exc).encode()
        raise ClusterError(
            f"initdb refuses to run as root, and the user {CLUSTER_USER!r} could not be "
            f"created: {detail.decode(errors='replace').strip()}"
        ) from None
    return pwd.getpwnam(CLUSTER_USER)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc), None when it is gone: with
    the pid it names one process, not whichever process reuses the pid later."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19]  # field 22 of the whole line


def owner_alive(root: Path) -> bool:
    """Whether the process that started the cluster in ``root`` still runs. A dir without an
    owner file counts as alive: it is being created, or is not ours to judge."""
    try:
        pid_text, started = (root / OWNER_FILE).read_text().split()
    except (OSError, ValueError):
        return True
    return _start_time(int(pid_text)) == started


def _run_as(
    user: pwd.struct_passwd | None, cwd: Path, *args: str
) -> subprocess.CompletedProcess[bytes]:
    kwargs: dict[str, object] = {}
    if user is not None:
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    try:
        return subprocess.run(
            list(args),
            check=True,
            capture_output=True,
            cwd=cwd,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
            **kwargs,  # type: ignore[call-overload]
        )
    except subprocess.CalledProcessError as exc:
        output = (exc.stderr or exc.stdout or b"").decode(errors="replace").strip()
        raise ClusterError(f"{Path(args[0]).name} failed: {output[-2000:]}") from None


def _dir_user(root: Path) -> pwd.struct_passwd | None:
    """The user a cluster dir belongs to, None when it is ours (pg_ctl runs as its owner)."""
    try:
        uid = root.stat().st_uid
    except OSError:
        return None
    if uid == os.geteuid():
        return None
    try:
        return pwd.getpwuid(uid)
    except KeyError:
        return None


def remove_cluster(root: Path, bin_folder: Path) -> None:
    """Stop the cluster in ``root`` (immediate shutdown, as after a crash) and remove the dir."""
    data = root / "data"
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(ClusterError, OSError):
            _run_as(
                _dir_user(root),
                root,
                str(bin_folder / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "immediate",
                "-w",
                "stop",
            )
    shutil.rmtree(root, ignore_errors=True)


def sweep_orphans(bin_folder: Path | None = None, parent: Path | None = None) -> list[Path]:
    """Stop and remove every throwaway cluster whose owner is gone; returns their dirs."""
    folder = bin_folder or pg_bin()
    swept = []
    for root in sorted(Path(parent or tempfile.gettempdir()).glob(f"{ROOT_PREFIX}*")):
        if root.is_dir() and not owner_alive(root):
            remove_cluster(root, folder)
            swept.append(root)
    return swept


class Cluster:
    """One throwaway cluster: ``start()``, :attr:`url`, ``stop()`` (removes everything).

    ``fast`` turns off fsync and synchronous commit: the tests and the demo never need the data
    after a crash of PostgreSQL itself (a killed ``serve`` instance is a different matter, and
    commits stay visible at once either way). The bench keeps them on.
    """

    def __init__(
        self,
        *,
        fast: bool = True,
        max_connections: int = 200,
        synchronous_commit: bool = True,
    ) -> None:
        self.bin = pg_bin()
        self.fast = fast
        #: Off: a commit returns before its WAL is flushed (what SQLite's WAL mode with
        #: synchronous=NORMAL does for the solo cache): a crash of the machine, not of a
        #: process, may lose the last few hundred ms of commits. Ignored when ``fast``.
        self.synchronous_commit = synchronous_commit
        self.max_connections = max_connections
        self.user = _cluster_user()
        sweep_orphans(self.bin)
        self.root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX))
        pid = os.getpid()
        (self.root / OWNER_FILE).write_text(f"{pid} {_start_time(pid)}\n")
        self._watcher: subprocess.Popen[bytes] | None = None
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.port = 5432  # only names the socket file: nothing listens on TCP
        self._started = False

    @property
    def host(self) -> str:
        return str(self.socket_dir)

    def url(self, database: str = "postgres") -> str:
        """A libpq URL over the cluster's unix socket."""
        return (
            f"postgresql://{SUPERUSER}@/{database}?host={quote(self.host, safe='')}"
            f"&port={self.port}"
        )

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return _run_as(self.user, self.root, *args)

    def _watch(self) -> None:
        """Start the watcher that removes the cluster should this process die without stop()."""
        self._watcher = subprocess.Popen(
            [sys.executable, "-m", "console.team.cluster_watch", str(os.getpid()), str(self.root)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env={**os.environ, "FANSLY_CONSOLE_PG_BIN": str(self.bin)},
            start_new_session=True,
        )
        # It says "watching" once it holds a handle on this process: from then on it cannot
        # miss our death.
        assert self._watcher.stdout is not None
        if self._watcher.stdout.readline().strip() != b"watching":
            raise ClusterError("the cluster's watcher did not start")

    @property
    def watcher_pid(self) -> int | None:
        return self._watcher.pid if self._watcher is not None else None

    def start(self) -> Cluster:
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.root.chmod(0o700)
        self._watch()
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        options = [
            f"-k {self.socket_dir}",
            "-c listen_addresses=''",
            f"-p {self.port}",
            f"-c max_connections={self.max_connections}",
        ]
        if self.fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        elif not self.synchronous_commit:
            options += ["-c synchronous_commit=off"]
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            " ".join(options),
            "-w",
            "-t",
            "60",
            "start",
        )
        self._started = True
        return self

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.terminate()
            self._watcher.wait()
            if self._watcher.stdout is not None:
                self._watcher.stdout.close()
            self._watcher = None
        if self._started:
            with contextlib.suppress(ClusterError):
                self._run(
                    str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
                )
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
