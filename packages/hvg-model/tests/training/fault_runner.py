"""Run ``hvg-model`` with a SIGKILL injected at a chosen point (test-only crash hook).

Usage: ``python fault_runner.py KIND:STEP hvg-model-args...`` where KIND is ``after-step`` (kill
right after step STEP is logged) or ``mid-checkpoint`` (kill after checkpoint STEP's files are
written, before it is renamed into place). The production code has no fault switch: this script
wraps its functions before running the command line.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any


def _install(kind: str, step: int) -> None:
    from hvg_model.training import checkpoint, metrics_log

    if kind == "after-step":
        write = metrics_log.MetricsWriter.write

        def write_then_kill(self: Any, record: dict[str, Any]) -> None:
            write(self, record)
            if record["step"] == step:
                os.kill(os.getpid(), signal.SIGKILL)

        metrics_log.MetricsWriter.write = write_then_kill
    elif kind == "mid-checkpoint":
        publish = checkpoint._publish

        def kill_before_publish(temporary: Path, final: Path) -> None:
            if final.name == checkpoint.checkpoint_name(step):
                os.kill(os.getpid(), signal.SIGKILL)
            publish(temporary, final)

        checkpoint._publish = kill_before_publish
    else:
        raise SystemExit(f"unknown fault kind {kind!r}")


if __name__ == "__main__":
    fault_kind, fault_step = sys.argv[1].split(":")
    _install(fault_kind, int(fault_step))
    from hvg_model.cli import main

    sys.argv = ["hvg-model", *sys.argv[2:]]
    main()
