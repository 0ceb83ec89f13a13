"""A throwaway PostgreSQL cluster from the system's binaries: for the tests and ``demo-team``.

``initdb`` refuses to run as root, and CI and these machines run as root: the cluster then runs
as an unprivileged user (:data:`CLUSTER_USER`, created when missing). Its data directory and
its unix socket live in a private temp dir of its own (not the caller's: a pytest tmp dir under
``/tmp/pytest-of-root`` is not reachable by another user). It listens on the socket only, never
on TCP, so two clusters on one machine never meet.

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
        self.root = Path(tempfile.mkdtemp(prefix="fcpg-"))
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
        kwargs: dict[str, object] = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        try:
            return subprocess.run(
                list(args),
                check=True,
                capture_output=True,
                cwd=self.root,
                env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
                **kwargs,  # type: ignore[call-overload]
            )
        except subprocess.CalledProcessError as exc:
            output = (exc.stderr or exc.stdout or b"").decode(errors="replace").strip()
            raise ClusterError(f"{Path(args[0]).name} failed: {output[-2000:]}") from None

    def start(self) -> Cluster:
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.root.chmod(0o700)
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
