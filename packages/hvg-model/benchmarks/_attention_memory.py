"""Peak-memory probe run in a child process (CPU has no peak-allocation counter in torch).

Usage: ``python _attention_memory.py view|joint V SIDE CHANNELS HEADS``; prints JSON with the
peak resident-memory increase (bytes) of one forward over the memory held before it (weights and
input). One process per measurement; Linux only (``/proc/self/status`` VmHWM after a reset).
"""

from __future__ import annotations

import json
import sys

import torch

from hvg_model.view_attention import JointViewSpatialAttention, ViewAttention


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    # Writing 5 to clear_refs resets the peak resident set size (VmHWM) to the current RSS
    # (Linux >= 4.0); otherwise the import of torch would dominate the peak.
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def main() -> None:
    mode = sys.argv[1]
    views, side, channels, heads = (int(a) for a in sys.argv[2:6])
    torch.manual_seed(0)
    module = (ViewAttention if mode == "view" else JointViewSpatialAttention)(channels, heads)
    x = torch.randn(views, side * side, channels)
    with torch.no_grad():
        module(x[:1, :4], 1, 1)  # load kernels before the baseline
        _reset_peak()
        base = _status_bytes("VmRSS")
        module(x, views, 1)
        peak = _status_bytes("VmHWM")
    print(json.dumps({mode: peak - base}))


if __name__ == "__main__":
    main()
