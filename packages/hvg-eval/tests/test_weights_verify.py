"""``hvg-eval weights verify`` hashes every time, and checks digest-less files by their values."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hvg_eval.networks.lpips_vgg import LPIPSHeads
from hvg_eval.weights import registry
from hvg_eval.weights.registry import WEIGHT_FILES, degenerate_reason, verify_file


def _verify(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hvg_eval", "weights", "verify", *args],
        cwd=cwd,
        env={**os.environ, "XDG_CACHE_HOME": str(cwd / "xdg"), "TORCH_HOME": str(cwd / "torch")},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.integration
def test_a_same_size_swap_with_the_mtime_restored_is_caught(tmp_path: Path) -> None:
    lpips = pytest.importorskip("lpips")
    path = tmp_path / "w" / "vgg.pth"
    path.parent.mkdir()
    shutil.copy(Path(lpips.__file__).parent / "weights" / "v0.1" / "vgg.pth", path)
    first = _verify(tmp_path, "w/vgg.pth")
    assert first.returncode == 0 and first.stdout.startswith("OK"), first.stderr
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    # --fast trusts the path/size/mtime cache: documented as blind to exactly this swap.
    assert _verify(tmp_path, "--fast", "w/vgg.pth").returncode == 0
    swapped = _verify(tmp_path, "w/vgg.pth")
    assert swapped.returncode == 1 and swapped.stdout.startswith("MISMATCH"), swapped.stdout
    # The full check refreshed the cache, so --fast now sees the swap too.
    assert _verify(tmp_path, "--fast", "w/vgg.pth").returncode == 1


@pytest.mark.slow
@pytest.mark.integration
def test_an_all_zero_resnet_with_no_published_digest_fails_verify(tmp_path: Path) -> None:
    from hvg_eval.networks.resnet3d import ResNet3D50

    state = {key: torch.zeros_like(value) for key, value in ResNet3D50().state_dict().items()}
    torch.save(state, tmp_path / "resnet-50-kinetics.pth")
    result = _verify(tmp_path, "resnet-50-kinetics.pth")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "degenerate" in result.stdout and "conv1.weight" in result.stdout


@pytest.fixture
def digestless_heads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The LPIPS heads entry as if it had no published digest (small manifest, fast)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    entry = WEIGHT_FILES["lpips-lin-vgg"]
    monkeypatch.setitem(
        WEIGHT_FILES,
        "lpips-lin-vgg",
        registry.WeightFile(
            **{**entry.__dict__, "digest": "", "digest_kind": "none", "size": None}
        ),
    )
    return tmp_path / entry.filename


def test_digestless_file_with_real_looking_values_passes(digestless_heads: Path) -> None:
    torch.manual_seed(0)
    heads = LPIPSHeads()
    for parameter in heads.parameters():
        torch.nn.init.uniform_(parameter, 0.0, 1.0)
    torch.save(heads.state_dict(), digestless_heads)
    result = verify_file("lpips-lin-vgg", digestless_heads)
    assert result.ok and "manifest" in result.checked


@pytest.mark.parametrize("fill", [0.0, 0.25])
def test_digestless_constant_file_fails(digestless_heads: Path, fill: float) -> None:
    state = {k: torch.full_like(v, fill) for k, v in LPIPSHeads().state_dict().items()}
    torch.save(state, digestless_heads)
    result = verify_file("lpips-lin-vgg", digestless_heads)
    assert not result.ok and "degenerate" in result.checked


def test_digestless_file_with_wrong_keys_fails(digestless_heads: Path) -> None:
    torch.save({"lin0.model.1.weight": torch.rand(1, 32, 1, 1)}, digestless_heads)
    result = verify_file("lpips-lin-vgg", digestless_heads)
    assert not result.ok and "manifest" in result.checked


def test_digestless_garbage_bytes_fail(digestless_heads: Path) -> None:
    digestless_heads.write_bytes(b"\x00" * 4096)
    result = verify_file("lpips-lin-vgg", digestless_heads)
    assert not result.ok and "checkpoint" in result.checked


def test_degenerate_reason_names_the_tensor() -> None:
    good = {"conv.weight": torch.rand(4, 3, 3, 3), "bn.bias": torch.zeros(4)}
    assert degenerate_reason(good) is None
    assert "conv.weight" in degenerate_reason({**good, "conv.weight": torch.ones(4, 3, 3, 3)})
    assert "NaN" in degenerate_reason({**good, "bn.bias": torch.tensor([0.0, float("nan")])})
    assert "every value" in degenerate_reason({"a": torch.zeros(3), "b": torch.zeros(5)})
