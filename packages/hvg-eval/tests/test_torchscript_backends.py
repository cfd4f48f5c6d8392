"""The TorchScript backends (clean-fid Inception, StyleGAN-V I3D) with stand-in files.

The stand-ins are scripted modules with the reference files' call signatures, saved under the
reference names; their digests cannot match, so they load with ``allow_unverified_weights``.
"""

import pytest
import torch
from hvg_core.errors import MissingResourceError
from torch import nn

from hvg_eval.metrics.fid import FID
from hvg_eval.metrics.fvd import FVD
from hvg_eval.testing import random_videos


class _Layers(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))
        return torch.cat([pooled, pooled.pow(2)], 1).repeat(1, 342)[:, :2048].view(-1, 2048, 1, 1)


class _InceptionTS(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = _Layers()

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        return self.layers(x)


class _I3DTS(nn.Module):
    def forward(
        self,
        x: torch.Tensor,
        rescale: bool = False,
        resize: bool = False,
        return_features: bool = False,
    ) -> torch.Tensor:
        if rescale:
            x = x / 127.5 - 1
        pooled = x.mean(dim=(2, 3, 4))
        return torch.cat([pooled, x.amax(dim=(2, 3, 4))], 1).repeat(1, 67)[:, :400]


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("HVG_EVAL_WEIGHTS", raising=False)
    directory = tmp_path / "w"
    directory.mkdir()
    torch.jit.script(_InceptionTS()).save(str(directory / "inception-2015-12-05.pt"))
    torch.jit.script(_I3DTS()).save(str(directory / "i3d_torchscript.pt"))
    return directory


def test_clean_fid_uses_the_torchscript_layers_on_minus_128_over_128(weights_dir):
    with pytest.raises(MissingResourceError, match="f58cb9b6"):
        FID("clean", weights_dir=weights_dir)
    metric = FID("clean", weights_dir=weights_dir, allow_unverified_weights=True)
    real, fake = random_videos(0, (3, 1, 1, 20, 20))
    metric.update(real, fake)
    features = metric.features(torch.full((1, 1, 3, 20, 20), 128, dtype=torch.uint8))
    assert features.shape == (1, 2048) and abs(features).max() < 1e-6  # 128 -> 0 after (x-128)/128
    assert (
        metric.records[0].filename == "inception-2015-12-05.pt" and not metric.records[0].verified
    )


def test_stylegan_v_fvd_calls_the_torchscript_with_rescale_and_resize(weights_dir):
    metric = FVD("stylegan-v", weights_dir=weights_dir, allow_unverified_weights=True)
    real, fake = random_videos(1, (3, 1, 16, 12, 12))
    metric.update(real, fake)
    assert metric.conventions()["samples"] == {"real": 3, "fake": 3}
    features = metric.features(torch.full((1, 16, 3, 12, 12), 255, dtype=torch.uint8))
    assert features[0, 0] == pytest.approx(1.0)  # rescale=True maps 255 to 1
    assert metric.records[0].filename == "i3d_torchscript.pt"
