"""An exclusive lock on an output folder, so two runs never write into the same one.

Used by every command that writes a run folder (``hvg-data render --out``, ``hvg-model train
--out``). The lock is an ``flock`` on a file inside the folder, which also records who holds it
(pid, host, purpose, command, start time) for the next comer's error message. The kernel drops an
``flock`` when its process dies, so a lock left by a killed run (``kill -9``, a crash) is taken
over without any pid guessing, with a warning naming the dead holder. ``flock`` is advisory and
per host on some network file systems; the recorded host tells users where a holder runs.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from hvg_core.errors import InputError

DEFAULT_LOCK_NAME = ".hvg.lock"

logger = logging.getLogger(__name__)


class FolderLock:
    """Hold ``<folder>/<lock_name>`` exclusively (context manager).

    Args:
        folder: The output folder (created if missing).
        purpose: What the holder does, e.g. ``"hvg-data render"`` (shown to the next comer).
        lock_name: The lock file's name inside ``folder``.
        field: The option that named the folder, for the error message (e.g. ``"--out"``).

    Raises:
        InputError: On entry, when another live process holds the folder (its pid, host and
            purpose are named; exit code 2).
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        purpose: str,
        *,
        lock_name: str = DEFAULT_LOCK_NAME,
        field: str = "--out",
    ) -> None:
        self.folder = Path(folder)
        self.purpose = purpose
        self.lock_name = lock_name
        self.field = field
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.folder / self.lock_name

    def acquire(self) -> None:
        """Take the lock or raise :class:`InputError` naming the holder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = describe_holder(_read_holder(fd))
            os.close(fd)
            raise InputError(
                f"another run is writing into this folder ({holder}); wait for it to finish, "
                "or choose another output folder",
                path=self.folder,
                field=self.field,
            ) from None
        previous = _read_holder(fd)
        if previous:
            logger.warning(
                "%s: taking over the lock left by %s, which is no longer running",
                self.folder,
                describe_holder(previous),
            )
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "purpose": self.purpose,
            "command": " ".join(sys.argv)[:500],
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Release the lock (the file stays; an empty unlocked file means a free folder)."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, object]:
    text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def describe_holder(holder: dict[str, object]) -> str:
    """One phrase naming a lock's holder: ``"pid 12 on host a, hvg-data render, since …"``."""
    if not holder:
        return "held by a process that has not recorded itself yet"
    parts = [f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"]
    if holder.get("purpose"):
        parts.append(str(holder["purpose"]))
    if holder.get("started"):
        parts.append(f"since {holder['started']}")
    return ", ".join(parts)
