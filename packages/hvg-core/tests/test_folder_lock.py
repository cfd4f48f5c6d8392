"""The output-folder lock: one holder at a time, the holder named, a dead holder's lock reused."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from hvg_core.errors import InputError
from hvg_core.folder_lock import FolderLock


def test_second_holder_in_process_is_refused_with_the_first_named(tmp_path):
    with FolderLock(tmp_path / "run", "first run"), pytest.raises(InputError) as refused:
        FolderLock(tmp_path / "run", "second run", field="--out").acquire()
    message = str(refused.value)
    assert "first run" in message and "pid" in message and "--out" in message
    # Released on exit: a third holder gets it.
    with FolderLock(tmp_path / "run", "third run") as lock:
        assert '"third run"' in lock.path.read_text()


def test_lock_of_a_killed_process_is_taken_over_with_a_warning(tmp_path, caplog):
    code = (
        "import os\n"
        "from hvg_core.folder_lock import FolderLock\n"
        f"FolderLock({str(tmp_path / 'run')!r}, 'killed run').acquire()\n"
        "os._exit(9)\n"  # dies holding the lock: no release, the record stays
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    assert "killed run" in (tmp_path / "run" / ".hvg.lock").read_text()
    with (
        caplog.at_level(logging.WARNING, logger="hvg_core.folder_lock"),
        FolderLock(tmp_path / "run", "next run"),
    ):
        pass
    assert "taking over the lock left by" in caplog.text and "killed run" in caplog.text
