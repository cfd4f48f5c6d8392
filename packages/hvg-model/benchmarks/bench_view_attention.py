"""HVG's per-pixel view attention against joint view × spatial ("3-D", Human4DiT-style) attention.

Full size (``--benchmark-enable``): V = 6 views, 72×72 latent tokens (576² images), 320 channels,
5 heads (SVD-xt's first level), one frame. Both modules have identical weights; only the token
grouping differs. Time: pytest-benchmark on the view attention, plus a best-of-rounds timing of
both in the same run for the ratio. Peak memory: resident-set growth of one forward, each in its
own child process. With ``--benchmark-disable`` (the default run) the sizes shrink to a smoke test
and the memory probe is skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from hvg_model.view_attention import JointViewSpatialAttention, ViewAttention

PROBE = Path(__file__).with_name("_attention_memory.py")


def _best_time(function, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def _peak_memory(mode: str, views: int, side: int, channels: int, heads: int) -> int:
    result = subprocess.run(
        [sys.executable, str(PROBE), mode, str(views), str(side), str(channels), str(heads)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(json.loads(result.stdout.strip().splitlines()[-1])[mode])


def test_view_attention_against_joint_attention(benchmark, request):
    # The default run passes --benchmark-disable; --benchmark-enable on top selects full size.
    small = request.config.getoption("benchmark_disable") and not request.config.getoption(
        "benchmark_enable"
    )
    views, side, channels, heads = (6, 12, 64, 2) if small else (6, 72, 320, 5)
    torch.manual_seed(0)
    view = ViewAttention(channels, heads)
    torch.nn.init.normal_(view.to_out.weight, std=0.02)
    joint = JointViewSpatialAttention(channels, heads)
    joint.load_state_dict(view.state_dict())
    x = torch.randn(views, side * side, channels)

    with torch.no_grad():
        out = benchmark.pedantic(view, args=(x, views, 1), rounds=1 if small else 5, iterations=1)
        assert out.shape == x.shape
        rounds = 1 if small else 2
        view_time = _best_time(lambda: view(x, views, 1), rounds)
        joint_time = _best_time(lambda: joint(x, views, 1), rounds)
    # Child processes cost seconds of imports: measured only at full size.
    view_memory = 0 if small else _peak_memory("view", views, side, channels, heads)
    joint_memory = 0 if small else _peak_memory("joint", views, side, channels, heads)
    report = {
        "views": views,
        "tokens_per_view": side * side,
        "channels": channels,
        "heads": heads,
        "view_attention_s": view_time,
        "joint_attention_s": joint_time,
        "time_ratio_joint_over_view": joint_time / view_time,
        "view_attention_peak_bytes": view_memory,
        "joint_attention_peak_bytes": joint_memory,
        "memory_ratio_joint_over_view": joint_memory / max(view_memory, 1),
        "score_entries_ratio": (views * side * side) ** 2 / (side * side * views**2),
    }
    benchmark.extra_info.update(report)
    print(json.dumps(report, indent=1))
    if not small:
        # (V·HW)² against HW·V² score entries: at full size the joint attention must be slower.
        assert joint_time > view_time
