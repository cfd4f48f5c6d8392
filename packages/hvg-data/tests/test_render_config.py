"""The render hash (the resume key of shards) covers everything that changes shard contents."""

from __future__ import annotations

import hvg_bonemap.skeleton as skeleton
import pytest
from hvg_core.errors import InputError

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


def test_render_config_is_a_versioned_config_whose_hash_did_not_move():
    """``RenderConfig`` uses hvg-core's config mechanism; shards rendered before keep their hash."""
    config = RenderConfig(views=2, size=64, background=(128, 128, 128), adapter={"count": 3})
    data = config.to_dict()
    assert data["version"] == RenderConfig.CONFIG_VERSION and data["background"] == [128] * 3
    assert RenderConfig.from_dict(data) == config
    assert RenderConfig.from_json(config.to_json()) == config  # the manifest's form
    assert "version" not in config.to_json()
    # Measured with the code before RenderConfig became a Config (commit f7a1e25).
    assert RenderConfig().hash() == "eea41b1e6eb5cb73"
    smaller = config.with_overrides(["size=32", "background=[0, 0, 0]"])
    assert (smaller.size, smaller.background) == (32, (0, 0, 0)) and config.size == 64


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"size": "large"}, "size"),
        ({"background": [1, 2]}, "background"),
        ({"colour": 1}, "colour"),
        ({"views": 0}, "views"),  # __post_init__ checks again after coercion
    ],
)
def test_bad_render_config_names_the_field(data, field):
    with pytest.raises(InputError) as caught:
        RenderConfig.from_json(data)
    assert caught.value.field == field
