"""The demo's parts without running it: settings, overrides, VAE helpers, silhouette IoU, report."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys

import pytest
import torch
from hvg_core.errors import InputError

from hvg_model.demo import SMALLEST, DemoSettings, resolve_settings
from hvg_model.demo_eval import (
    FOREGROUND_THRESHOLD,
    bone_map_silhouette_iou,
    foreground,
    silhouette_iou,
)
from hvg_model.demo_report import METRIC_COLUMNS, missing_weights
from hvg_model.demo_train import ZeroOutput, stage_overrides
from hvg_model.training.config import load_config, validate
from hvg_model.training.vae import (
    build_vae,
    clips_of,
    flat_image_psnr,
    latent_scaling_factor,
    reconstruction_psnr,
)

GREY = torch.tensor([0.5, 0.5, 0.5])


def _frames_with_box(top: int, left: int, size: int = 4, side: int = 8) -> torch.Tensor:
    image = GREY.reshape(3, 1, 1).expand(3, side, side).clone()
    image[:, top : top + size, left : left + size] = torch.tensor([0.9, 0.1, 0.1]).reshape(3, 1, 1)
    return image[None]


def test_silhouette_iou_counts_overlap_of_foreground_pixels():
    box = _frames_with_box(0, 0)
    assert silhouette_iou(box, box, GREY) == 1.0
    assert silhouette_iou(box, _frames_with_box(4, 4), GREY) == 0.0
    # Shifted by two columns: 8 shared pixels of 24 covered.
    assert silhouette_iou(box, _frames_with_box(0, 2), GREY) == pytest.approx(8 / 24)
    empty = GREY.reshape(1, 3, 1, 1).expand(1, 3, 8, 8)
    assert silhouette_iou(empty, empty, GREY) == 1.0


def test_bone_map_silhouette_iou_compares_ellipsoid_pixels_with_the_frames_foreground():
    frames = torch.stack([_frames_with_box(0, 0), _frames_with_box(2, 2)])  # (V=2, T=1, 3, 8, 8)
    depth = torch.zeros(2, 1, 8, 8)
    depth[:, :, 0:4, 0:4] = 2.5  # the bones cover the first frame's box exactly
    sample = {
        "rgb": (frames.permute(0, 1, 3, 4, 2) * 255).round().to(torch.uint8).numpy(),
        "depth": depth.numpy().astype("float16"),
    }
    # View 0: identical (1); view 1: 4 shared pixels of 28 covered.
    assert bone_map_silhouette_iou(sample, GREY) == pytest.approx((1 + 4 / 28) / 2)


def test_foreground_is_distance_from_the_background_colour():
    near = GREY + FOREGROUND_THRESHOLD / 2
    far = GREY + torch.tensor([FOREGROUND_THRESHOLD * 1.5, 0, 0])
    images = torch.stack([near, far]).reshape(2, 3, 1, 1)
    assert foreground(images, GREY).flatten().tolist() == [False, True]


def test_clips_of_takes_every_window_of_every_view():
    videos = torch.arange(2 * 3 * 5).reshape(2, 3, 5)  # N V T
    clips = clips_of(videos, 4)
    assert clips.shape == (2 * 3 * 2, 4)
    assert [c.tolist() for c in clips[:3]] == [[0, 1, 2, 3], [1, 2, 3, 4], [5, 6, 7, 8]]
    with pytest.raises(ValueError, match="exceeds"):
        clips_of(videos, 6)


def test_vae_helpers_on_a_fresh_vae():
    vae = build_vae(seed=0)
    again = build_vae(seed=0)
    assert all(torch.equal(a, b) for a, b in zip(vae.parameters(), again.parameters(), strict=True))
    clips = torch.randint(0, 256, (2, 2, 3, 16, 16), dtype=torch.uint8)
    psnr = reconstruction_psnr(vae, clips)
    assert 0 < psnr < 20  # a random VAE does not reconstruct
    assert latent_scaling_factor(vae, clips) > 0


def test_flat_image_psnr_is_the_score_of_drawing_only_the_background():
    clips = torch.full((1, 1, 3, 4, 4), 128, dtype=torch.uint8)
    clips[..., 1:3, 1:3] = 128 + 51  # a quarter of the pixels off by 0.2
    assert flat_image_psnr(clips) == pytest.approx(10 * math.log10(1 / (0.2**2 / 4)), abs=1e-3)


def test_zero_output_predicts_zero_with_the_latent_shape():
    sample = torch.randn(6, 2, 8, 4, 4)
    out = ZeroOutput()(sample, torch.zeros(6))
    assert out.shape == (6, 2, 4, 4, 4) and not out.any()


@pytest.mark.parametrize("stage", [1, 2])
def test_stage_overrides_make_valid_configs(stage, tmp_path):
    settings = DemoSettings()
    config = load_config(
        "tiny" if stage == 1 else "tiny-stage2",
        stage_overrides(settings, stage, tmp_path / "data", tmp_path / "svd"),
    )
    validate(config)
    assert config.data.stage == stage and config.model.svd_dir == str(tmp_path / "svd")
    if stage == 2:
        assert config.data.views_frames == [[settings.view_window, settings.frame_window]]


def test_resolve_settings_presets_overrides_and_clamps():
    assert resolve_settings(True, False, {"seed": None}) == SMALLEST
    assert resolve_settings(False, False, {"steps": 3}).steps == 3
    clamped = resolve_settings(False, False, {"views": 2, "frames": 2})
    assert clamped.view_window == 1 and clamped.frame_window == 2
    assert clamped.view_overlap == 0 and clamped.frame_overlap == 1
    with pytest.raises(InputError, match="one of"):
        resolve_settings(True, True, {})
    with pytest.raises(InputError, match="multiple of 8"):
        resolve_settings(False, False, {"size": 36})
    assert resolve_settings(False, False, {"size": 40}).size == 40  # 40 = 5 · 2 · factor 4
    with pytest.raises(InputError, match="multiple of 16"):
        resolve_settings(False, False, {"size": 40, "vae_downsample": 8})


def test_missing_weights_table_rows_name_file_and_folder():
    notes = {"fvd": "FVD needs ... 'i3d_pretrained_400.pt' ... hvg-eval never downloads weights."}
    rows = missing_weights(notes)
    assert [(r["metric"], r["file"]) for r in rows] == [("FVD", "i3d_pretrained_400.pt")]
    assert rows[0]["where"]


def test_metric_columns_say_direction_and_unit():
    assert {key for key, *_ in METRIC_COLUMNS} >= {"iou", "psnr", "ssim", "l1"}
    assert all(arrow in {"↑", "↓"} for _, _, arrow, _ in METRIC_COLUMNS)


def test_demo_command_rejects_both_presets_with_exit_code_2(tmp_path):
    script = shutil.which("hvg", path=os.path.dirname(sys.executable))
    result = subprocess.run(
        [script, "demo", "--smallest", "--quality", "--out", "out"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "--smallest" in result.stderr and not (tmp_path / "out").exists()


def test_pipeline_takes_the_latent_size_from_the_vae_factor(tmp_path):
    """A VAE with three blocks (factor 4) makes H/4 latents: the output keeps the input size."""
    from hvg_model.configs import tiny_vae_config
    from hvg_model.pipeline import HVGPipeline
    from hvg_model.testing import build_tiny_svd_dir
    from hvg_model.training.vae import install_vae

    svd = build_tiny_svd_dir(tmp_path / "svd")
    config = {**tiny_vae_config(), "down_block_types": ("DownEncoderBlock2D",) * 3}
    build_vae({**config, "block_out_channels": (32, 32, 32)}).save_pretrained(tmp_path / "vae")
    install_vae(svd, tmp_path / "vae")
    pipeline = HVGPipeline.from_svd(svd)  # the guider's strides follow the VAE: (2, 2, 1, 1)
    assert pipeline.vae_scale_factor == 4
    assert pipeline.denoising_net.pose_modulator.downscale == 4
    side = 16  # 4×4 latents
    result = pipeline(
        torch.rand(1, 3, side, side),
        torch.rand(1, 2, 2, 4, side, side),
        torch.eye(3).expand(1, 2, 3, 3),
        num_steps=1,
        show_progress=False,
    )
    assert result.frames.shape == (1, 2, 2, 3, side, side)
    with pytest.raises(ValueError, match="multiples of the VAE factor 4"):
        pipeline(torch.rand(1, 3, 18, 18), num_views=2, num_frames=2, num_steps=1)


@pytest.mark.parametrize(
    ("hvg", "ablation", "expected"),
    [
        (0.72, 0.40, "follows the bone maps"),
        (0.45, 0.40, "uses the bone maps"),
        (0.45, 0.44, "does not yet clearly follow"),
    ],
)
def test_honest_paragraph_says_what_the_figures_show(tmp_path, hvg, ablation, expected):
    from hvg_model.demo_report import ReportData, honest_paragraph

    data = ReportData(
        settings={"size": 64},
        baseline="human4dit",
        videos={},
        reference_png=tmp_path / "reference.png",
        metrics={
            "hvg": {"iou": hvg},
            "pose_ablation": {"iou": ablation},
            "reference_copy": {"iou": 0.55},
        },
        notes={},
        learning={"vae_heldout_iou": 0.48, "vae_heldout_psnr": 18.3},
        timings={},
        loss_plot=tmp_path / "losses.png",
    )
    text = honest_paragraph(data)
    assert expected in text
    assert "reaches IoU 0.48" in text and f"IoU {hvg:.2f}" in text


def test_guider_strides_follow_the_vae_factor():
    from hvg_model.pose_modulator import guider_strides_for

    assert guider_strides_for(8) == (2, 2, 2, 1)  # SVD-xt: the paper's guider
    assert guider_strides_for(4) == (2, 2, 1, 1)
    assert guider_strides_for(1) == (1, 1, 1, 1)
    for bad in (6, 32, 0):
        with pytest.raises(InputError, match="power of two"):
            guider_strides_for(bad)


def test_trainer_builds_the_guider_for_a_factor_4_vae(tmp_path):
    """``hvg-model train --svd-dir`` with a three-block VAE (factor 4) gets a matching guider."""
    from hvg_model.configs import tiny_vae_config
    from hvg_model.testing import build_tiny_svd_dir
    from hvg_model.training.config import load_config
    from hvg_model.training.network import build_networks
    from hvg_model.training.vae import install_vae

    svd = build_tiny_svd_dir(tmp_path / "svd")
    config = {**tiny_vae_config(), "down_block_types": ("DownEncoderBlock2D",) * 3}
    build_vae({**config, "block_out_channels": (32, 32, 32)}).save_pretrained(tmp_path / "vae")
    install_vae(svd, tmp_path / "vae")
    net, _ = build_networks(load_config("tiny"), str(svd))
    assert net.pose_modulator.downscale == 4
    residual = net.pose_modulator(torch.rand(2, net.pose_modulator.in_channels, 32, 32))
    assert residual.shape[-2:] == (8, 8)


@pytest.mark.parametrize("downsample", [4, 8])
def test_demo_vae_config_latent_factor(downsample):
    from hvg_model.configs import demo_vae_config

    vae = build_vae(demo_vae_config(6, downsample), seed=0)
    with torch.no_grad():
        latents = vae.encode(torch.zeros(2, 3, 32, 32)).latent_dist.mode()
    assert latents.shape == (2, 6, 32 // downsample, 32 // downsample)


def test_demo_vae_config_rejects_a_factor_that_is_not_a_power_of_two():
    from hvg_model.configs import demo_vae_config

    for bad in (1, 6):
        with pytest.raises(InputError, match="power of two"):
            demo_vae_config(16, bad)


def test_demo_background_is_far_from_every_synthetic_colour():
    from hvg_data.synthetic_person import GARMENT_COLORS, HAIR_COLORS, SKIN_TONES

    from hvg_model.demo_train import DEMO_BACKGROUND

    background = torch.tensor(DEMO_BACKGROUND, dtype=torch.float32) / 255
    colours = torch.tensor([*GARMENT_COLORS, *HAIR_COLORS, *SKIN_TONES], dtype=torch.float32) / 255
    distance = (colours - background).abs().amax(dim=1)
    # Every palette colour lies at least twice the foreground threshold from the background.
    assert float(distance.min()) > 2 * FOREGROUND_THRESHOLD
