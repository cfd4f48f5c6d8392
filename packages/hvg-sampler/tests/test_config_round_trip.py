"""A sampler rebuilt from its saved config samples exactly what the original samples (issue 16).

Configs are compared by behaviour, not by value: every registered sampler and noise init is
built with non-default options, its config goes through JSON (as a file would), and the rebuilt
sampler must produce ``torch.equal`` latents from the same seed with a tiny seeded network.
"""

from __future__ import annotations

import json

import pytest
import torch
from hvg_core.errors import InputError
from hvg_core.registry import get_registry

from hvg_sampler import Conditioning, build_sampler, sampler_from_config

SHAPE = (1, 5, 9, 2, 3, 3)  # (B, V, T, C, h, w)
OPTIONS = dict(
    frame_window=4,
    frame_overlap=2,
    view_window=3,
    view_overlap=1,
    num_steps=3,
    axis_blend=0.3,
    normalisation="joint",
    min_guidance_scale=1.5,
    max_guidance_scale=2.5,
    max_images_per_call=40,
    max_images_per_window=12,
    max_frames_per_window=6,
)


class TinyNet(torch.nn.Module):
    """A seeded 3-D convolution over (frames, h, w) plus a window-wide mean: window-sensitive.

    Its output depends on which frames and views share a window, on σ and on the conditioning,
    so any option lost by the config changes the samples.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.conv = torch.nn.Conv3d(channels, channels, 3, padding=1)
        with torch.no_grad():
            for parameter in self.conv.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.2)

    @torch.no_grad()
    def forward(self, latents, sigma, conditioning):
        """``(N, v, t, C, h, w)`` in, same shape out."""
        n, v, t, c, h, w = latents.shape
        folded = latents.reshape(n * v, t, c, h, w).transpose(1, 2)
        local = self.conv(folded).transpose(1, 2).reshape(latents.shape)
        window_mean = latents.mean(dim=(1, 2), keepdim=True)
        shift = conditioning.shared["shift"].reshape(n, 1, 1, 1, 1, 1)  # (N,) per window row
        return local + 0.3 * window_mean + 0.01 * torch.log(sigma) + shift


def registered(kind: str) -> list[str]:
    return get_registry().names(kind)


def _sample(sampler, seed: int = 11) -> torch.Tensor:
    net = TinyNet(SHAPE[3])
    cond = Conditioning(shared={"shift": torch.full((SHAPE[0],), 0.1)})
    uncond = Conditioning(shared={"shift": torch.full((SHAPE[0],), -0.1)})
    out = sampler.sample(net, SHAPE, conditioning=cond, uncond_conditioning=uncond, seed=seed)
    return out.latents


@pytest.mark.parametrize("noise_init", registered("noise_inits"))
@pytest.mark.parametrize("name", registered("samplers"))
def test_rebuilt_sampler_samples_identically(name, noise_init):
    sampler = build_sampler(name, noise_init=noise_init, **OPTIONS)
    config = json.loads(json.dumps(sampler.to_config()))
    assert config["not_serialised"] == []
    rebuilt = sampler_from_config(config)
    assert type(rebuilt) is type(sampler)
    original = _sample(sampler)
    assert torch.equal(_sample(rebuilt), original)
    # The comparison can fail: the same sampler with one option changed samples differently.
    changed = sampler_from_config({**config, "frame_window": 5, "view_window": 2})
    assert not torch.equal(_sample(changed), original)


def test_tile_repeat_noise_survives_the_round_trip():
    """Periodic noise comes back periodic (it once came back as independent noise)."""
    sampler = build_sampler("hvg", noise_init="tile-repeat", **OPTIONS)
    rebuilt = sampler_from_config(json.loads(json.dumps(sampler.to_config())))
    drawn = rebuilt.initial_noise(SHAPE, seed=3)
    assert torch.equal(drawn[:, :, 0], drawn[:, :, 4])  # period = frame_window = 4
    assert torch.equal(drawn, sampler.initial_noise(SHAPE, seed=3))


def test_sampler_specific_options_survive_the_round_trip():
    """MimicMotion's anchors are part of its config (they were lost before)."""
    sampler = build_sampler("mimicmotion", anchors=[0, 5], **{**OPTIONS, "frame_overlap": 1})
    config = json.loads(json.dumps(sampler.to_config()))
    assert config["anchors"] == [0, 5]
    rebuilt = sampler_from_config(config)
    assert rebuilt.frame_planner.anchors == (0, 5)
    assert torch.equal(_sample(rebuilt), _sample(sampler))


def test_objects_are_used_but_listed_as_not_serialised():
    from hvg_sampler.noise.tile_repeat import TileRepeatNoise

    sampler = build_sampler(
        "hvg",
        axis_blend=lambda sigma: 0.5,
        noise_init=TileRepeatNoise(period=2),
        **{k: v for k, v in OPTIONS.items() if k != "axis_blend"},
    )
    assert sampler.to_config()["not_serialised"] == ["axis_blend", "noise_init"]
    assert sampler.noise_init.period == 2 and sampler.blend_at(1.0) == 0.5


def test_version_1_configs_still_load_and_newer_ones_are_refused():
    old = {
        "sampler": "hvg",
        "config_version": 1,
        "frame_window": 8,
        "frame_planner": "sliding",
        "fusion_weight": "cosine",
        "not_serialised": [],
    }
    sampler = sampler_from_config(old)
    assert sampler.frame_window == 8 and sampler.options.fusion_weight == "cosine"
    with pytest.raises(InputError, match="newer") as caught:
        sampler_from_config({"sampler": "hvg", "version": 99})
    assert caught.value.field == "version"
    with pytest.raises(InputError, match="'sampler'"):
        sampler_from_config({})


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"frame_windw": 3}, "frame_windw"),
        ({"frame_window": "wide"}, "frame_window"),
        ({"noise_init": "nope"}, "noise_init"),
        ({"scheduler": "ddim"}, "scheduler"),
        ({"fusion_weight": "nope"}, "fusion_weight"),
        ({"view_planner": "nope"}, "view_planner"),
        ({"normalisation": "mean"}, "normalisation"),
    ],
)
def test_bad_options_are_input_errors_naming_the_field(options, field):
    with pytest.raises(InputError) as caught:
        build_sampler("hvg", **options)
    assert caught.value.field == field and caught.value.exit_code == 2
