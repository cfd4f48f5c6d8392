"""One trainer per run directory: an exclusive lock on ``RUN/.hvg-train.lock``.

The lock is an ``fcntl.flock`` on the file, held for as long as the training process lives: the
kernel drops it when the process ends in any way (kill -9 included), so a lock left by a dead
process is free for the next trainer, which takes it over and says so. The file's text names the
holder (pid, host, start time) for the error the second trainer prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hvg_core.errors import InputError

LOCK_FILE = ".hvg-train.lock"

logger = logging.getLogger(__name__)


def _holder(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "an unknown process"
    started = holder.get("started")
    since = (
        time.strftime(" since %Y-%m-%d %H:%M:%S UTC", time.gmtime(started))
        if isinstance(started, int | float)
        else ""
    )
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}{since}"


@contextlib.contextmanager
def run_directory_lock(run_dir: str | Path) -> Iterator[Path]:
    """Hold the run directory's lock for the ``with`` block (creates the directory).

    Raises:
        InputError: Another live trainer holds the lock; the message names its pid and host.
    """
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (closed in the finally below)
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _describe(_holder(handle.read()))
            raise InputError(
                f"this run directory is in use by another trainer ({holder}); wait for it to "
                "finish or choose another --out",
                path=folder,
                field="--out",
            ) from None
        handle.seek(0)
        previous = _holder(handle.read())
        if previous:
            logger.warning(
                "%s: taking over the lock left by %s, which is no longer running",
                folder,
                _describe(previous),
            )
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})
        )
        handle.flush()
        try:
            yield path
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
