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


def test_denoiser_runs_uncond_rows_without_reference(pipeline):
    from hvg_sampler.conditioning import WindowConditioning, WindowGroup
    from hvg_sampler.windows import Window

    reference, pose, rotations = _inputs()
    cond, uncond = pipeline.conditioning(reference, pose, rotations)
    window = Window(frames=tuple(range(T)), views=tuple(range(V)), pass_name="grid")
    shared = {k: torch.cat([cond.shared[k], uncond.shared[k]]) for k in cond.shared}
    conditioning = WindowConditioning(
        groups=(WindowGroup(window, "cond"), WindowGroup(window, "uncond")),
        frames=torch.arange(T).expand(2, T),
        views=torch.arange(V).expand(2, V),
        per_frame={},
        per_view={"cameras": cond.per_view["cameras"].repeat(2, 1, 1, 1)},
        per_image={"pose_maps": pose.repeat(2, 1, 1, 1, 1, 1)},
        shared=shared,
        timestep=torch.tensor(0.3),
        step_index=0,
        batch_size=1,
    )
    latents = torch.randn(2, V, T, 4, SIZE // 8, SIZE // 8)
    out = HVGDenoiser(pipeline.denoising_net)(latents, torch.tensor(3.0), conditioning)
    net = pipeline.denoising_net
    image = shared["image_latents"][1:, None, None].expand(1, V, T, 4, SIZE // 8, SIZE // 8)
    with torch.no_grad():
        expected_uncond = net(
            torch.cat([latents[1:], image], dim=3).flatten(0, 1),
            torch.tensor(0.3),
            shared["clip_embedding"][1:],
            shared["added_time_ids"][1:],
            pose_maps=pose.flatten(0, 2).unflatten(0, (V, T)),
            cameras=cond.per_view["cameras"][0],
            num_views=V,
        ).sample
    torch.testing.assert_close(out[1:], expected_uncond.unflatten(0, (1, V)))


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
