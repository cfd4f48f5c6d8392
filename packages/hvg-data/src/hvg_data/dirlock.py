"""An exclusive lock on an output folder, so two runs never write into the same one.

The lock is an ``flock`` on ``<folder>/.hvg.lock``, which also records who holds it (pid, host,
command, start time) for the error message. The kernel drops an ``flock`` when its process dies,
so a lock left by a killed run (``kill -9``, crash, power loss of a local disk) is taken over
without any pid guessing. ``flock`` is advisory and per host on some network file systems; the
recorded host tells users where a holder runs.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from hvg_core.errors import InputError

LOCK_NAME = ".hvg.lock"


class FolderLock:
    """Hold ``<folder>/.hvg.lock`` exclusively (context manager).

    Args:
        folder: The output folder (created if missing).
        purpose: What the holder does, e.g. ``"hvg-data render"`` (shown to the next comer).

    Raises:
        InputError: On entry, when another live process holds the folder (its pid and host are
            named; exit code 2).
    """

    def __init__(self, folder: str | os.PathLike[str], purpose: str) -> None:
        self.folder = Path(folder)
        self.purpose = purpose
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.folder / LOCK_NAME

    def acquire(self) -> None:
        """Take the lock or raise :class:`InputError` naming the holder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read_holder(fd))
            os.close(fd)
            raise InputError(
                f"another run is writing into this folder ({holder}); wait for it to finish, "
                "or choose another output folder",
                path=self.folder,
                field="out",
            ) from None
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
        """Release the lock (the file stays; an unlocked file means a free folder)."""
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


def _describe(holder: dict[str, object]) -> str:
    if not holder:
        return "held by a process that has not recorded itself yet"
    parts = [f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"]
    if holder.get("purpose"):
        parts.append(str(holder["purpose"]))
    if holder.get("started"):
        parts.append(f"since {holder['started']}")
    return ", ".join(parts)
