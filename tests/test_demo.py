"""`hvg demo` at its smallest settings: every stage runs and the report holds what it promises."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_demo_smallest_end_to_end(tmp_path):
    script = shutil.which("hvg", path=os.path.dirname(sys.executable))
    out = tmp_path / "demo"
    result = subprocess.run(
        [script, "demo", "--smallest", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in range(1, 6):
        assert f"[{stage}/5]" in result.stderr
    document = json.loads((out / "metrics.json").read_text())
    for sampler in ("hvg", "human4dit"):
        values = document["metrics"][sampler]
        assert 0 < values["ssim"] <= 1 and values["psnr"] > 0 and 0 < values["l1"] < 1
    # Weighted metrics are either computed (files present) or explained (files missing).
    for name in ("lpips", "fid", "fvd", "fid-vid"):
        computed = document["metrics"]["hvg"][name] is not None
        assert computed or "hvg-eval never downloads weights" in document["not_computed"][name]
    assert document["training"]["steps"] == 3
    html = (out / "report.html").read_text()
    for role in ("ground_truth", "bone_maps", "hvg", "human4dit"):
        video = out / document["videos"][role]
        assert video.stat().st_size > 0 and f'src="{document["videos"][role]}"' in html
    assert "loss_curve.png" in html and (out / "train" / "loss_curve.png").is_file()
    import av

    with av.open(str(out / document["videos"]["hvg"])) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 4
