"""The render hash (the resume key of shards) covers everything that changes shard contents."""

from __future__ import annotations

import hvg_bonemap.skeleton as skeleton

from hvg_data.config import RenderConfig


def test_changing_the_radius_rule_changes_the_render_hash(monkeypatch):
    config = RenderConfig(views=2, size=64)
    before = config.hash()
    thin = dict(skeleton.RADII_PRESETS[skeleton.DEFAULT_RADII])
    thin["left_knee"] += 0.01  # a bone of the default ("paper") set
    monkeypatch.setitem(skeleton.RADII_PRESETS, skeleton.DEFAULT_RADII, thin)
    assert RenderConfig(views=2, size=64).hash() != before


def test_the_bone_set_and_moving_the_dataset(tmp_path):
    base = RenderConfig(views=2, size=64, adapter={"root": str(tmp_path / "a")})
    moved = RenderConfig(views=2, size=64, adapter={"root": str(tmp_path / "b")})
    assert base.hash() == moved.hash()  # moving a dataset keeps its shards
    assert RenderConfig(views=2, size=64, bones="anatomical").hash() != base.hash()
