from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hvg_model.view_attention import (
    JointViewSpatialAttention,
    ViewAttention,
    fold_views,
    unfold_views,
    view_attention_reference,
)


def _live(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    torch.nn.init.normal_(module.to_out.weight, std=0.1)
    torch.nn.init.normal_(module.to_out.bias, std=0.1)
    return module


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    views=st.integers(1, 4),
    frames=st.integers(1, 3),
    pixels=st.integers(1, 5),
)
def test_fold_then_unfold_is_identity_and_groups_one_pixel(batch, views, frames, pixels):
    # Token value encodes (b, v, t, p) so that the grouping can be read back.
    b, v, t, p = torch.meshgrid(
        torch.arange(batch),
        torch.arange(views),
        torch.arange(frames),
        torch.arange(pixels),
        indexing="ij",
    )
    ids = torch.stack([b, v, t, p], dim=-1).reshape(batch * views * frames, pixels, 4).float()
    folded = fold_views(ids, views, frames)
    assert folded.shape == (batch * frames * pixels, views, 4)
    # Each sequence: one (b, t, p), views 0..V-1 in order.
    assert torch.equal(folded[:, :, 1], torch.arange(views).float().expand(folded.shape[0], views))
    for column in (0, 2, 3):
        assert torch.equal(folded[:, :, column], folded[:, :1, column].expand(-1, views))
    assert torch.equal(unfold_views(folded, frames, pixels), ids)


def test_zero_initialised_view_attention_is_identity():
    module = ViewAttention(32, 2)
    x = torch.randn(2 * 3 * 2, 16, 32)
    assert torch.equal(module(x, 3, 2), x)


def test_view_attention_matches_loop_reference():
    module = _live(ViewAttention(32, 4))
    x = torch.randn(2 * 3 * 2, 6, 32)
    with torch.no_grad():
        torch.testing.assert_close(module(x, 3, 2), view_attention_reference(module, x, 3, 2))


def test_view_attention_only_mixes_the_same_pixel_and_frame_across_views():
    torch.manual_seed(2)
    module = _live(ViewAttention(32, 2))
    views, frames, pixels = 3, 2, 5
    x = torch.randn(views * frames, pixels, 32)
    y = x.clone()
    y[0, 1] += torch.randn(32)  # view 0, frame 0, pixel 1 (non-constant: LayerNorm)
    with torch.no_grad():
        changed = (module(x, views, frames) - module(y, views, frames)).abs().amax(-1) > 0
    grid = changed.view(views, frames, pixels)
    assert grid[:, 0, 1].all()  # same pixel and frame, every view
    grid[:, 0, 1] = False
    assert not grid.any()


def test_joint_attention_equals_view_attention_when_there_is_one_pixel():
    view = _live(ViewAttention(32, 2))
    joint = JointViewSpatialAttention(32, 2)
    joint.load_state_dict(view.state_dict())
    x = torch.randn(4 * 2, 1, 32)
    with torch.no_grad():
        torch.testing.assert_close(joint(x, 4, 2), view(x, 4, 2))


def test_joint_attention_mixes_all_pixels_of_a_frame():
    torch.manual_seed(1)
    joint = _live(JointViewSpatialAttention(32, 2))
    x = torch.randn(3 * 2, 5, 32)
    y = x.clone()
    y[0, 1] += torch.randn(32)  # not a constant: LayerNorm would remove that
    with torch.no_grad():
        # Compare the attention residuals (the large residual input would hide tiny changes).
        changed = ((joint(x, 3, 2) - x) - (joint(y, 3, 2) - y)).abs().amax(-1) > 1e-4
    grid = changed.view(3, 2, 5)
    assert grid[:, 0].all() and not grid[:, 1].any()


def test_rejects_batch_not_divisible_by_views_and_frames():
    with pytest.raises(ValueError, match="num_views"):
        ViewAttention(32, 2)(torch.randn(5, 4, 32), 2, 2)
