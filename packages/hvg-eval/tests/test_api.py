"""hvg_eval's public API: lazy top-level names, list_metrics, compute_metric."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from hvg_core.errors import InputError

import hvg_eval
from hvg_eval.metrics.psnr import PSNR
from hvg_eval.testing import random_videos, write_frame_folders


def test_import_is_light_and_every_public_name_resolves():
    code = (
        "import sys, hvg_eval; "
        "assert 'torch' not in sys.modules, 'import hvg_eval imported torch'; "
        "assert 'hvg_eval.networks.i3d' not in sys.modules; print(len(hvg_eval.__all__))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in hvg_eval.__all__:
        assert getattr(hvg_eval, name) is not None, name
    assert {"compute_metric", "list_metrics", "evaluate", "FID"} <= set(dir(hvg_eval))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hvg_eval.nope  # noqa: B018


def test_list_metrics_describes_the_seven_metrics():
    rows = {row["name"]: row for row in hvg_eval.list_metrics()}
    assert {"fid", "fvd", "fid-vid", "lpips", "ssim", "psnr", "l1"} <= set(rows)
    assert rows["psnr"]["higher_is_better"] is True and rows["psnr"]["requires_weights"] == []
    assert rows["fvd"]["requires_weights"] == ["i3d-pt"]
    assert all(row["description"] for row in rows.values())


def test_compute_metric_on_tensors_and_on_folders_agree(tmp_path):
    real, fake = random_videos(3, (2, 1, 3, 16, 16), noise=0.1)
    reference = PSNR()
    reference.update(real, fake)
    from_tensors = hvg_eval.compute_metric("psnr", real, fake)
    assert from_tensors == pytest.approx(reference.compute(), rel=1e-9)
    as_uint8 = (real[:, 0].permute(0, 1, 3, 4, 2) * 255).round().to(torch.uint8).numpy()
    write_frame_folders(tmp_path / "real", as_uint8)
    write_frame_folders(
        tmp_path / "fake", (fake[:, 0].permute(0, 1, 3, 4, 2) * 255).round().to(torch.uint8).numpy()
    )
    from_files = hvg_eval.compute_metric("psnr", tmp_path / "real", tmp_path / "fake")
    assert from_files == pytest.approx(from_tensors, rel=1e-6)


def test_compute_metric_rejects_unknown_names_and_options():
    real, fake = random_videos(0, (1, 1, 2, 8, 8))
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        hvg_eval.compute_metric("nope", real, fake)
    with pytest.raises(InputError, match="takes no option 'colour'"):
        hvg_eval.compute_metric("psnr", real, fake, colour=True)
