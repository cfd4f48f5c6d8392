"""End to end on the tiny configuration: conditioning → hvg-sampler → VAE decoding → MP4 + PNGs."""

from __future__ import annotations

import av
import pytest
import torch

from hvg_model.pipeline import HVGDenoiser, HVGPipeline
from hvg_model.testing import build_tiny_hvg_dir
from hvg_model.video_io import view_grid, write_video_outputs

V, T, SIZE = 3, 2, 32  # 4×4 latents: the temporal VAE decoder dominates the cost


@pytest.fixture(scope="module")
def tiny_hvg_dir(tmp_path_factory):
    return build_tiny_hvg_dir(tmp_path_factory.mktemp("hvg"))


@pytest.fixture(scope="module")
def pipeline(tiny_hvg_dir):
    return HVGPipeline.from_pretrained(tiny_hvg_dir)


def _inputs(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    reference = torch.rand(1, 3, SIZE, SIZE, generator=generator)
    pose = torch.rand(1, V, T, 4, SIZE, SIZE, generator=generator)
    angles = torch.linspace(0, 2 * torch.pi, V + 1)[:V]
    rotations = torch.zeros(1, V, 3, 3)
    rotations[0, :, 0, 0] = rotations[0, :, 2, 2] = angles.cos()
    rotations[0, :, 0, 2], rotations[0, :, 2, 0] = angles.sin(), -angles.sin()
    rotations[0, :, 1, 1] = 1.0
    return reference, pose, rotations


def test_pipeline_generates_frames_with_windows_and_guidance(pipeline):
    reference, pose, rotations = _inputs()
    options = {"frame_window": 2, "frame_overlap": 1, "view_window": 2, "view_overlap": 1}
    out = pipeline(reference, pose, rotations, num_steps=1, sampler_options=options, seed=3)
    assert out.frames.shape == (1, V, T, 3, SIZE, SIZE)
    assert out.latents.shape == (1, V, T, 4, SIZE // 8, SIZE // 8)
    assert out.frames.min() >= 0.0 and out.frames.max() <= 1.0
    assert torch.isfinite(out.latents).all() and out.num_denoiser_calls > 0


def test_pipeline_is_deterministic_and_follows_the_pose(pipeline):
    reference, pose, rotations = _inputs()
    kwargs = {"num_steps": 1, "max_guidance_scale": 1.0, "seed": 5, "sampler": "view"}
    first = pipeline(reference, pose, rotations, **kwargs)
    again = pipeline(reference, pose, rotations, **kwargs)
    torch.testing.assert_close(again.latents, first.latents)
    other_pose = pipeline(reference, pose.flip(-1), rotations, **kwargs)
    assert not torch.allclose(other_pose.latents, first.latents)


def _window_conditioning(cond, uncond, pose, frames=T):
    from hvg_sampler.conditioning import WindowConditioning, WindowGroup
    from hvg_sampler.windows import Window

    window = Window(frames=tuple(range(frames)), views=tuple(range(V)), pass_name="grid")
    shared = {k: torch.cat([cond.shared[k], uncond.shared[k]]) for k in cond.shared}
    return WindowConditioning(
        groups=(WindowGroup(window, "cond"), WindowGroup(window, "uncond")),
        frames=torch.arange(frames).expand(2, frames),
        views=torch.arange(V).expand(2, V),
        per_frame={},
        per_view={"cameras": cond.per_view["cameras"].repeat(2, 1, 1, 1)},
        per_image={"pose_maps": pose[:, :, :frames].repeat(2, 1, 1, 1, 1, 1)},
        shared=shared,
        timestep=torch.tensor(0.3),
        step_index=0,
        batch_size=1,
    )


def _net_rows(net, latents, shared, pose, cameras, row, *, reference, indicator=None):
    frames = latents.shape[2]
    image = shared["image_latents"][row : row + 1, None, None].expand(
        1, V, frames, 4, SIZE // 8, SIZE // 8
    )
    with torch.no_grad():
        return net(
            torch.cat([latents[row : row + 1], image], dim=3).flatten(0, 1),
            torch.tensor(0.3),
            shared["clip_embedding"][row : row + 1],
            shared["added_time_ids"][row : row + 1],
            pose_maps=pose[:, :, :frames].flatten(0, 1),
            cameras=cameras[0],
            num_views=V,
            reference_features=reference,
            image_only_indicator=indicator,
        ).sample.unflatten(0, (1, V))


def _bank(shared, row, scale=1.0):
    prefix = "reference::"
    return {
        k[len(prefix) :]: v[row : row + 1] * scale
        for k, v in shared.items()
        if k.startswith(prefix)
    }


@pytest.mark.parametrize("mode", ["reference_image", "all"])
def test_uncond_branch_is_a_condition_training_dropped_to(pipeline, mode):
    # Training zeroes CLIP + concatenated latent (drop_reference_image) and, independently,
    # multiplies the ReferenceNet bank by 0 (drop_reference_net) but still reads it. The uncond
    # rows must be exactly those computations: "reference_image" keeps the bank, "all" reads a
    # zero bank.
    reference, pose, rotations = _inputs()
    cond, uncond = pipeline.conditioning(reference, pose, rotations, uncond=mode)
    assert uncond.shared["clip_embedding"].abs().sum() == 0
    assert uncond.shared["image_latents"].abs().sum() == 0
    conditioning = _window_conditioning(cond, uncond, pose)
    latents = torch.randn(2, V, T, 4, SIZE // 8, SIZE // 8)
    out = HVGDenoiser(pipeline.denoising_net)(latents, torch.tensor(3.0), conditioning)
    net, shared, cameras = pipeline.denoising_net, conditioning.shared, cond.per_view["cameras"]
    keep = 1.0 if mode == "reference_image" else 0.0
    bank = _bank(shared, 0, keep)  # training: features * reference_keep
    expected = _net_rows(net, latents, shared, pose, cameras, 1, reference=bank)
    torch.testing.assert_close(out[1:], expected)
    # Skipping the reference read (the old uncond) is not what training computed.
    skipped = _net_rows(net, latents, shared, pose, cameras, 1, reference=None)
    assert not torch.allclose(out[1:], skipped)
    expected_cond = _net_rows(net, latents, shared, pose, cameras, 0, reference=_bank(shared, 0))
    torch.testing.assert_close(out[:1], expected_cond)
    with pytest.raises(ValueError, match="uncond must be one of"):
        pipeline.conditioning(reference, pose, rotations, uncond="pose")


def test_single_frame_windows_run_like_stage_one(pipeline):
    # Stage 1 trains T = 1 with image_only_indicator = 1 (temporal mixing off); a one-frame
    # window at inference must do the same.
    reference, pose, rotations = _inputs()
    cond, uncond = pipeline.conditioning(reference, pose[:, :, :1], rotations)
    conditioning = _window_conditioning(cond, uncond, pose, frames=1)
    latents = torch.randn(2, V, 1, 4, SIZE // 8, SIZE // 8)
    out = HVGDenoiser(pipeline.denoising_net)(latents, torch.tensor(3.0), conditioning)
    net, shared, cameras = pipeline.denoising_net, conditioning.shared, cond.per_view["cameras"]
    bank = _bank(shared, 0)
    image_only = _net_rows(
        net, latents, shared, pose, cameras, 0, reference=bank, indicator=torch.ones(V, 1)
    )
    torch.testing.assert_close(out[:1], image_only)
    mixing = _net_rows(
        net, latents, shared, pose, cameras, 0, reference=bank, indicator=torch.zeros(V, 1)
    )
    assert not torch.allclose(out[:1], mixing)


def _box(mask):
    rows, cols = mask.any(-1).nonzero(), mask.any(-2).nonzero()
    return (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)


def test_temporal_alignment_moves_and_scales_the_reference(pipeline):
    from hvg_model.conditioning import reference_foreground_mask
    from hvg_model.pipeline import align_reference_to_pose

    # A user photo 48×40 on a white background, the person (a red block) off-centre and small.
    photo = torch.ones(1, 3, 48, 40)
    photo[:, :, 4:20, 26:34] = torch.tensor([0.8, 0.1, 0.1])[:, None, None]
    # The first pose frame of view 0 shows the body at rows 8..24, columns 12..20 (32×32 maps).
    pose = torch.zeros(1, V, T, 4, SIZE, SIZE)
    pose[:, 0, 0, :, 8:24, 12:20] = 0.6
    aligned = align_reference_to_pose(photo, pose)
    assert aligned.shape == (1, 3, SIZE, SIZE)
    box = _box(reference_foreground_mask(aligned)[0])
    # Bilinear resampling blurs the edges by at most one pixel.
    for got, want in zip(box, (12, 8, 20, 24), strict=True):
        assert abs(got - want) <= 1, (box, (12, 8, 20, 24))
    # Outside the photo the background colour fills in, not black.
    assert aligned[0, :, 0, 0].min() > 0.95
    # The unaligned centre crop would leave the person where the photo had it.
    assert abs(_box(reference_foreground_mask(photo)[0])[0] - 12) > 4
    # The pipeline takes the photo at its own size and aligns it.
    out = pipeline(photo, pose, None, num_steps=1, max_guidance_scale=1.0, align_reference=True)
    assert out.frames.shape == (1, V, T, 3, SIZE, SIZE)
    with pytest.raises(ValueError, match="no person found"):
        align_reference_to_pose(torch.ones(1, 3, 16, 16), pose)


def test_budget_comes_from_the_recorded_training_layout(tiny_hvg_dir, tmp_path, monkeypatch):
    import json
    import shutil

    from hvg_model.pipeline import TRAINING_LAYOUT_FILE

    copy = tmp_path / "model"
    shutil.copytree(tiny_hvg_dir, copy)
    layout = {"version": 1, "stage": 2, "views_frames": [[2, 2], [1, 4]], "image_size": SIZE}
    (copy / TRAINING_LAYOUT_FILE).write_text(json.dumps(layout))
    pipe = HVGPipeline.from_pretrained(copy)
    budget = pipe.window_budget()
    assert (budget.max_images, budget.max_frames) == (4, 4)
    shapes = []
    original = HVGDenoiser.__call__

    def recording(self, latents, sigma, conditioning):
        shapes.append(tuple(latents.shape))
        return original(self, latents, sigma, conditioning)

    monkeypatch.setattr(HVGDenoiser, "__call__", recording)
    reference, _, rotations = _inputs()
    pose4 = torch.rand(1, V, 4, 4, SIZE, SIZE)
    pipe(reference, pose4, rotations, num_steps=1, max_guidance_scale=1.0)
    assert shapes and all(s[1] * s[2] <= 4 and s[2] <= 4 for s in shapes), shapes
    # Saved again, the record travels with the model.
    pipe.save_pretrained(tmp_path / "again")
    from hvg_model.training_layout import TrainingLayout

    written = json.loads((tmp_path / "again" / TRAINING_LAYOUT_FILE).read_text())
    assert written == {**TrainingLayout().to_dict(), **layout}  # unrecorded fields: null
    (copy / TRAINING_LAYOUT_FILE).write_text('{"stage": 2, "views_frames": [[0, 2]]}')
    from hvg_core.errors import InputError

    with pytest.raises(InputError, match="views_frames"):
        HVGPipeline.from_pretrained(copy)


@pytest.mark.slow
def test_paper_sampling_settings_on_the_tiny_model_stay_within_budget(pipeline, monkeypatch):
    # Table 2's sampling: T = 72, V = 8, temporal windows 24/8, view windows 6/2, with CFG.
    shapes = []
    original = HVGDenoiser.__call__

    def recording(self, latents, sigma, conditioning):
        shapes.append(tuple(latents.shape))
        return original(self, latents, sigma, conditioning)

    monkeypatch.setattr(HVGDenoiser, "__call__", recording)
    size = SIZE
    reference = torch.rand(1, 3, size, size)
    pose = torch.rand(1, 8, 72, 4, size, size)
    options = {"frame_window": 24, "frame_overlap": 8, "view_window": 6, "view_overlap": 2}
    out = pipeline(
        reference, pose, None, num_steps=1, sampler_options=options, decode_chunk_size=24
    )
    assert out.frames.shape == (1, 8, 72, 3, size, size)
    assert len(shapes) == out.num_denoiser_calls > 0
    for shape in shapes:
        assert shape[0] == 2  # cond + uncond rows of one window
        assert shape[1] * shape[2] <= 72 and shape[2] <= 24, shape


def test_outputs_are_a_playable_mp4_and_pngs(tmp_path):
    frames = torch.rand(1, 3, 4, 3, 16, 24)
    written = write_video_outputs(frames, tmp_path, fps=5)
    video = tmp_path / "video_b0.mp4"
    assert video in written
    with av.open(str(video)) as container:
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(decoded) == 4
    assert decoded[0].shape == (2 * 16, 2 * 24, 3)  # 3 views tiled 2 × 2
    assert len(list((tmp_path / "frames" / "b0").glob("*.png"))) == 3 * 4
    grid = view_grid(frames[0])
    assert grid.shape == (4, 32, 48, 3) and grid[:, 16:, 24:].eq(0).all()


def test_pipeline_input_errors(pipeline):
    reference, pose, rotations = _inputs()
    with pytest.raises(ValueError, match="pose_maps must have shape"):
        pipeline(reference, pose[..., :16, :16], rotations, num_steps=1)
    with pytest.raises(ValueError, match="rotations have"):
        pipeline(reference, pose, rotations[:, :2], num_steps=1)


def test_missing_checkpoint_directory(tmp_path):
    from hvg_core.errors import MissingResourceError

    with pytest.raises(MissingResourceError, match="denoising_net"):
        HVGPipeline.from_pretrained(tmp_path)


@pytest.mark.gpu
def test_pipeline_runs_on_cuda_in_half_precision(tiny_hvg_dir):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    pipe = HVGPipeline.from_pretrained(tiny_hvg_dir).to("cuda", torch.float16)
    reference, pose, rotations = _inputs()
    out = pipe(reference, pose, rotations, num_steps=2)
    assert out.frames.shape == (1, V, T, 3, SIZE, SIZE) and torch.isfinite(out.frames).all()


def test_training_layout_of_the_builtin_recipes():
    from hvg_model.pipeline import training_layout_from_config
    from hvg_model.training.config import load_config

    stage2 = training_layout_from_config(load_config("stage2"))
    assert stage2["stage"] == 2 and [3, 24] in stage2["views_frames"]
    assert stage2["drop_reference_image"] == stage2["drop_reference_net"] == 0.1
    stage1 = training_layout_from_config(load_config("stage1"))
    assert stage1["views_frames"] == [[48, 1]]
    budget_of = HVGPipeline.window_budget
    holder = type("Holder", (), {"training_layout": stage2})()
    assert (budget_of(holder).max_images, budget_of(holder).max_frames) == (72, 24)
    assert budget_of(holder).source == "model training layout"
    holder.training_layout = stage1  # never trained on video: the paper's budget
    assert budget_of(holder).source == "paper"
