"""The ingest worker: verified deliveries parsed, normalised and committed in a process of its own.

Why a process: the listener's event loop (HTTP, signatures, answers) and the cache's writer
(SQLite and the Python around each statement) took turns on one interpreter lock, so a
``listen`` process used one core however many the machine had (bench/README.md, "webhooks").
With the worker, the loop only reads the body, checks the signature and passes the bytes on;
parsing, normalising and the write transaction run beside it, on another core.

The guarantees do not change: a delivery is answered only once the worker has committed its
event (or refused it with a 400), so a 200 still means "recorded and applied". If the worker
dies, the deliveries in flight are answered 503 (the gateway retries; an event that was
committed after all is then a duplicate, with no second effect) and the next delivery starts a
new worker. The worker exits when the listener closes its end of the socket, after committing
and answering what it was given; so it also ends when the listener is killed.

Wire format, both ways over one socketpair: a 4-byte little-endian length, then a
:mod:`marshal` payload (plain tuples of bytes, str, int; both ends are the same interpreter).
Listener → worker: ``(id, body, headers, want_event)``. Worker → listener: ``(id, outcome tuple)``
(the event's JSON in it only if wanted), or
``(0, pid)`` once its cache is open.

Run by the listener as ``python -m console.webhooks.worker CACHE FD [EVENT_RETENTION_DAYS]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import marshal
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.credit_rule import webhook_usage
from console.webhooks.intake import STORE_FAILED, Outcome, applied, not_stored, parse_delivery

if TYPE_CHECKING:
    from console.events import Event
    from console.store import AppliedEvent
    from console.store.ingest import EventWriter

log = logging.getLogger("console.webhooks")

#: Seconds a new worker may take to open the cache (migrations included) and say so.
START_TIMEOUT = 60.0
#: Seconds the worker may take, once told to stop, to finish what it was given.
STOP_TIMEOUT = 30.0
#: After a failed start, deliveries are answered 503 for this long before the next attempt (a
#: worker that cannot open the cache must not be respawned for every delivery of a burst).
RESTART_PAUSE = 1.0

_LENGTH = struct.Struct("<I")
_READY = 0
#: The folder this package was imported from.
_ROOT = os.path.realpath(Path(__file__).resolve().parents[2])
#: Events per commit in the worker: small enough that the listener answers the first ones
#: while the next commit runs, large enough that a commit's fixed cost is shared.
COMMIT_EVERY = 16
#: Bytes the worker reads at once: a few hundred deliveries.
_READ_SIZE = 1 << 20


def frame(value: Any) -> bytes:
    """One frame: the length, then the marshalled value."""
    payload = marshal.dumps(value)
    return _LENGTH.pack(len(payload)) + payload


def split_frames(buffer: bytearray) -> tuple[list[Any], int]:
    """The whole frames at the start of ``buffer``, and how many bytes they took."""
    frames: list[Any] = []
    offset = 0
    end = len(buffer)
    with memoryview(buffer) as view:
        while end - offset >= 4:
            (size,) = _LENGTH.unpack_from(view, offset)
            if end - offset - 4 < size:
                break
            frames.append(marshal.loads(view[offset + 4 : offset + 4 + size]))
            offset += 4 + size
    return frames, offset


class WorkerError(RuntimeError):
    """The worker could not start, or went away with deliveries in flight."""


class _Channel(asyncio.Protocol):
    """Length-prefixed marshal frames over a stream; writes coalesced per loop turn."""

    def __init__(self, on_frame: Callable[[Any], None], on_lost: Callable[[], None]) -> None:
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._buffer = bytearray()
        self._out: list[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        frames, used = split_frames(self._buffer)
        del self._buffer[:used]
        for value in frames:
            self._on_frame(value)

    def send(self, value: Any) -> None:
        """Queue one frame; the frames of one loop turn go out in one write."""
        if self.transport is None or self.transport.is_closing():
            return  # the other end is gone: its callers were answered 503 already
        if not self._out:
            asyncio.get_running_loop().call_soon(self.flush)
        self._out.append(frame(value))

    def flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self._out))
        self._out.clear()

    def close_writing(self) -> None:
        """Send what is queued, then the end of the stream (the worker still answers it)."""
        self.flush()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_lost()


def _spawn(cache: Path, fd: int, event_retention_days: float | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if not _installed():
        # A source checkout run from its folder (tests, benches): the worker imports this
        # package from the same place.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, env.get("PYTHONPATH")]))
    retention = [] if event_retention_days is None else [repr(float(event_retention_days))]
    return subprocess.Popen(
        [sys.executable, "-m", "console.webhooks.worker", str(cache), str(fd), *retention],
        pass_fds=(fd,),
        stdin=subprocess.DEVNULL,
        env=env,
    )


def _installed() -> bool:
    """Whether this package lies in a site-packages folder (then the worker finds it there;
    putting that folder on PYTHONPATH would move it ahead of the standard library)."""
    import site

    folders = [*site.getsitepackages(), site.getusersitepackages()]
    return any(os.path.realpath(folder) == _ROOT for folder in folders)


class IngestWorker:
    """The listener's side: starts the worker process and turns deliveries into outcomes.

    ``worker = await IngestWorker.open(cache)``; ``create_listener_app(intake=worker.intake)``;
    ``await worker.close()``.
    """

    def __init__(self, cache: Path | str, *, event_retention_days: float | None = None) -> None:
        self.cache = Path(cache)
        #: Days logged events are kept (None: the store's default); the worker prunes.
        self.event_retention_days = event_retention_days
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: _Channel | None = None
        self._ready: asyncio.Future[int] | None = None
        self._lost: asyncio.Future[None] | None = None
        self._pending: dict[int, asyncio.Future[Outcome]] = {}
        self._next_id = _READY
        self._starting: asyncio.Task[None] | None = None
        self._failed_at = float("-inf")
        self._closed = False
        #: Workers started so far (1 unless one died and was replaced).
        self.starts = 0

    @classmethod
    async def open(
        cls, cache: Path | str, *, event_retention_days: float | None = None
    ) -> IngestWorker:
        worker = cls(cache, event_retention_days=event_retention_days)
        await worker.start()
        return worker

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def in_flight(self) -> int:
        """Deliveries handed to the worker and not answered yet."""
        return len(self._pending)

    @property
    def returncode(self) -> int | None:
        """The current worker's exit code, None while it runs (or before it started)."""
        return None if self._process is None else self._process.poll()

    async def wait(self) -> int | None:
        """Wait for the current worker process to exit; its exit code."""
        process = self._process
        return None if process is None else await asyncio.to_thread(process.wait)

    async def start(self) -> None:
        """Start a worker and wait until its cache is open (raises :class:`WorkerError`)."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        try:
            self._process = await asyncio.to_thread(
                _spawn, self.cache, theirs.fileno(), self.event_retention_days
            )
        finally:
            theirs.close()
        self.starts += 1
        self._ready = loop.create_future()
        self._lost = loop.create_future()
        _, self._channel = await loop.create_unix_connection(
            lambda: _Channel(self._on_frame, self._on_lost), sock=ours
        )
        try:
            async with asyncio.timeout(START_TIMEOUT):
                await self._ready
        except (TimeoutError, WorkerError) as exc:
            await self._stop_process(kill=True)
            code = None if self._process is None else self._process.returncode
            raise WorkerError(
                f"the ingest worker did not start (exit code {code}); its error is above"
            ) from exc

    def _on_frame(self, frame: tuple[int, Any]) -> None:
        request, values = frame
        if request == _READY:
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(values)
            return
        future = self._pending.pop(request, None)
        if future is not None and not future.done():  # else its caller gave up
            future.set_result(Outcome.from_tuple(values))

    def _on_lost(self) -> None:
        self._channel = None
        gone = WorkerError("the ingest worker went away")
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(gone)
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(gone)
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)
        if not self._closed and self._ready is not None and self._ready.done():
            log.warning(
                "ingest worker (pid %s) went away; the next delivery starts another", self.pid
            )

    async def intake(
        self, body: bytes, headers: Mapping[str, str], want_event: bool = False
    ) -> Outcome:
        """The :data:`~console.webhooks.intake.Intake` of the listener."""
        if self._channel is None:
            loop = asyncio.get_running_loop()
            if self._closed or loop.time() - self._failed_at < RESTART_PAUSE:
                return Outcome(503, reason=STORE_FAILED)
            try:
                await self._restart()
            except WorkerError as exc:
                log.error("ingest worker: cannot restart: %s", exc)
                self._failed_at = loop.time()
                return Outcome(503, reason=STORE_FAILED)
        channel = self._channel
        if channel is None:
            return Outcome(503, reason=STORE_FAILED)
        self._next_id += 1
        request = self._next_id
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending[request] = future
        channel.send((request, body, dict(headers), want_event))
        try:
            return await future
        except WorkerError:
            return Outcome(503, reason=STORE_FAILED)

    async def _restart(self) -> None:
        # One restart for every delivery that finds the worker gone.
        if self._starting is None:
            self._starting = asyncio.create_task(self._replace())
        starting = self._starting
        try:
            await asyncio.shield(starting)
        finally:
            if self._starting is starting and starting.done():
                self._starting = None

    async def _replace(self) -> None:
        await self._stop_process(kill=False)
        await self.start()

    async def close(self) -> None:
        """Let the worker finish what it was given, then wait for it to exit."""
        if self._closed:
            return
        self._closed = True
        if self._channel is not None:
            self._channel.close_writing()
        await self._stop_process(kill=False)

    async def _stop_process(self, *, kill: bool) -> None:
        process = self._process
        if process is None:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        try:
            await asyncio.to_thread(process.wait, STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("ingest worker (pid %s) did not stop in time: killed", process.pid)
            process.kill()
            await asyncio.to_thread(process.wait)
        if self._lost is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self._lost
        if self._channel is not None and self._channel.transport is not None:
            self._channel.transport.close()


# --- the worker process ----------------------------------------------------------------------
#
# Synchronous on purpose: one thread owns the connection, so no lock is handed back and forth
# between a loop and a writer thread. Frames that arrive while a batch commits wait in the
# socket and make the next batch (group commit without a queue).


def _answers(
    writer: EventWriter, frames: list[tuple[int, bytes, dict[str, str], bool]]
) -> Iterator[bytes]:
    """One read's worth of deliveries, ``COMMIT_EVERY`` at a time: parse and normalise them,
    commit them, and yield their framed answers (the listener starts answering those while
    the next ones are parsed and committed)."""
    for start in range(0, len(frames), COMMIT_EVERY):
        batch = frames[start : start + COMMIT_EVERY]
        try:
            yield _batch_answers(writer, batch)
        except Exception:
            # A bug, not an input (parse_delivery refuses every bad body with a 400): answer
            # this batch 503 and keep serving, so one delivery cannot end the worker and the
            # listener's waiters always get an answer.
            log.exception("ingest worker: a batch failed; answered 503")
            failed = Outcome(503, reason=STORE_FAILED).as_tuple()
            yield b"".join(frame((request, failed)) for request, *_ in batch)


def _batch_answers(
    writer: EventWriter, batch: list[tuple[int, bytes, dict[str, str], bool]]
) -> bytes:
    """The framed answers of one commit's worth of deliveries."""
    answers: list[bytes] = []
    requests: list[tuple[int, bool]] = []
    events: list[Event] = []
    for request, body, headers, want_event in batch:
        parsed = parse_delivery(body, headers)
        if isinstance(parsed, Outcome):
            answers.append(frame((request, parsed.as_tuple())))
        else:
            requests.append((request, want_event))
            events.append(parsed)
    results: list[AppliedEvent | BaseException | None] = []
    if events:
        # Every delivery the gateway made and we could read is billed, a duplicate too: the
        # embedded listener's meter counts the same (Workspace.apply_event).
        usage = webhook_usage([event.account_id or "" for event in events], time.time())
        try:
            results = list(writer.apply(events, usage))
        except Exception as exc:  # the transaction failed: none of the batch is stored
            results = [exc] * len(events)
    for (request, want_event), event, result in zip(requests, events, results, strict=True):
        if isinstance(result, BaseException):
            outcome = not_stored(event, result)
        else:
            outcome = applied(event, None if result is None else result.seq)
        answers.append(frame((request, outcome.as_tuple(with_event=want_event))))
    return b"".join(answers)


def serve(cache: Path, sock: socket.socket, event_retention_days: float | None = None) -> None:
    """Answer the listener's frames on ``sock`` until it closes its end."""
    from console.store.ingest import EventWriter

    writer = (
        EventWriter(cache)
        if event_retention_days is None
        else EventWriter(cache, event_retention_days=event_retention_days)
    )
    # The first delivery must not pay for the imports behind parsing (~0.1 s).
    parse_delivery(b"{}", {})
    try:
        sock.sendall(frame((_READY, os.getpid())))
        buffer = bytearray()
        while True:
            ready, _, _ = select.select([sock], [], [], writer.idle_wait())
            if not ready:  # nothing to apply: index what waits, or prune and truncate
                writer.idle()
                continue
            data = sock.recv(_READ_SIZE)
            if not data:
                return  # the listener closed its end (or died): everything read is answered
            buffer += data
            frames, used = split_frames(buffer)
            del buffer[:used]
            if frames:
                try:
                    for answers in _answers(writer, frames):
                        sock.sendall(answers)
                except BrokenPipeError:
                    return  # the listener died: what was committed is kept, and a retry of
                    # it is a duplicate
                if writer.catching_up:
                    writer.index_chunk()
                elif writer.maintenance_overdue():  # never quiet for long: maintain anyway
                    writer.maintain()
    finally:
        writer.close()


def main(argv: list[str]) -> int:
    # Ctrl-C in a terminal reaches the whole process group: the listener decides when the
    # worker stops (by closing the socket), so an interrupt never cuts a commit short here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Its errors (an event that could not be stored) go to the listener's stderr, escaped as
    # everything `listen` prints.
    from console.output import TerminalFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(TerminalFormatter("%(asctime)s ingest worker: %(message)s", "%H:%M:%S"))
    logging.basicConfig(handlers=[handler])
    if len(argv) not in (3, 4):
        print(
            "usage: python -m console.webhooks.worker CACHE FD [EVENT_RETENTION_DAYS]",
            file=sys.stderr,
        )
        return 2
    with socket.socket(fileno=int(argv[2])) as sock:
        sock.setblocking(True)
        serve(Path(argv[1]), sock, float(argv[3]) if len(argv) == 4 else None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
