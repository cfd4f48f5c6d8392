"""The analytic renderer's two per-pixel kernels (compiled CPU loop, torch ops) agree."""

import pytest
import torch

from hvg_bonemap import (
    AnalyticRenderer,
    BoneMap,
    Cameras,
    Ellipsoids,
    ellipsoids_from_joints,
    joints_from_smplx_params,
    orbit_cameras,
    render,
)
from hvg_bonemap.motions import walk


def walking_scene(frames: int, views: int, size: int):
    joints = joints_from_smplx_params(walk(frames))
    ell = ellipsoids_from_joints(joints)  # (T, 54)
    cams = orbit_cameras(
        views, elevation_deg=10.0, distance=3.0, fov_deg=40.0, width=size, height=size,
        target=joints[0, 0],
    )  # fmt: skip
    batch = Ellipsoids(ell.centers[None], ell.rotations[None], ell.radii[None])  # (1, T)
    return batch, cams[:, None]  # (V, 1)


def assert_kernels_agree(a, b, covered_fraction: float = 1e-4) -> None:
    """Same maps, except boundary pixels where float32 rounding decides differently."""
    both = a.mask & b.mask
    differing = (a.mask != b.mask).sum() + (a.index != b.index)[both].sum()
    assert differing <= covered_fraction * both.sum(), int(differing)
    assert (a.depth - b.depth)[both].abs().max() < 1e-5
    assert (a.normal - b.normal).movedim(-3, 0)[:, both].abs().max() < 1e-4
    for out in (a, b):  # background everywhere else, in every map
        assert (out.depth[~out.mask] == 0).all() and (out.index[~out.mask] == -1).all()
        assert (out.normal.movedim(-3, 0)[:, ~out.mask] == 0).all()


def test_compiled_and_torch_kernels_agree_on_a_walking_body():
    ell, cams = walking_scene(frames=6, views=8, size=192)  # 48 items in one call
    compiled = AnalyticRenderer(kernel="compiled")(ell, cams)
    assert compiled.mask.float().mean() > 0.05  # the body fills the frame
    assert_kernels_agree(compiled, AnalyticRenderer(kernel="torch")(ell, cams))
    assert torch.equal(compiled.index, render(ell, cams).index)  # auto = compiled on CPU


def test_items_without_spans_between_items_with_spans_are_background():
    # Views 1 and 3 look away from the body: their items have no spans at all, and the compiled
    # kernel walks the items of a chunk in one loop, so it must clear them all the same.
    ell, cams = walking_scene(frames=2, views=4, size=48)
    # Half a turn about the camera's own y axis (R' = F R, t' = F t keeps the centre).
    flip = torch.ones(4, 1, 3, 1)
    flip[1::2, :, 0::2] = -1.0
    cams = Cameras(cams.K, flip * cams.R, flip[..., 0] * cams.t, cams.width, cams.height)
    for kernel in ("compiled", "torch"):
        # Dirty memory first: a full render, then the one with empty items (maps are torch.empty).
        AnalyticRenderer(kernel=kernel)(*walking_scene(frames=2, views=4, size=48))
        out = AnalyticRenderer(kernel=kernel, max_buffer_pixels=3 * 48 * 48)(ell, cams)
        assert out.mask[0::2].any(-1).any(-1).all() and not out.mask[1::2].any()
    assert_kernels_agree(
        AnalyticRenderer(kernel="compiled")(ell, cams), AnalyticRenderer(kernel="torch")(ell, cams)
    )


def test_unknown_kernel_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="auto, compiled, torch; got 'numba'"):
        AnalyticRenderer(kernel="numba")


@pytest.mark.gpu
def test_cuda_uses_the_torch_kernel_and_matches_the_cpu():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    ell, cams = walking_scene(frames=2, views=4, size=96)
    cpu = render(ell, cams)
    on_cuda = Ellipsoids(*(x.cuda() for x in (ell.centers, ell.rotations, ell.radii)))
    cuda_cams = cams.to("cuda")
    out = render(on_cuda, cuda_cams)
    assert out.depth.device.type == "cuda"
    assert_kernels_agree(
        cpu,
        BoneMap(out.depth.cpu(), out.normal.cpu(), out.mask.cpu(), out.index.cpu()),
        covered_fraction=1e-3,
    )
    with pytest.raises(ValueError, match="runs on CPU only"):
        AnalyticRenderer(kernel="compiled")(on_cuda, cuda_cams)


def test_kernels_compile_uncached_with_a_warning_where_no_cache_can_be_written(monkeypatch):
    import hvg_bonemap.renderers._numba as helper

    numba_njit = helper.njit

    def njit(*, cache=False, **options):
        if cache:  # what numba raises when no cache directory is writable
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return numba_njit(**options)

    monkeypatch.setattr(helper, "njit", njit)
    with pytest.warns(RuntimeWarning, match="NUMBA_CACHE_DIR"):
        add_one = helper.cpu_kernel()(lambda x: x + 1)
    assert add_one(1) == 2

    def broken(*, cache=False, **options):
        raise RuntimeError("something else")

    monkeypatch.setattr(helper, "njit", broken)
    with pytest.raises(RuntimeError, match="something else"):
        helper.cpu_kernel()(lambda x: x + 1)
