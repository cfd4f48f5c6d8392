"""Training configs: built-ins, files, overrides and the "does not fit" checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hvg_core.errors import InputError

from hvg_model.training.config import (
    BUILTIN_CONFIGS,
    TrainConfig,
    images_per_sample,
    load_config,
    per_worker_batch,
    validate,
)


@pytest.mark.parametrize("name", sorted(BUILTIN_CONFIGS))
def test_builtins_validate_and_round_trip(name: str) -> None:
    config = load_config(name, ["model.svd_dir=/somewhere"] if not name.startswith("tiny") else [])
    if config.data.dataset == "shards":
        config.data.path = "/shards"
    validate(config)
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_paper_settings() -> None:
    stage1, stage2 = load_config("stage1"), load_config("stage2")
    # Paper §4: stage 1 60k steps, 2 × 48 views per batch; stage 2 50k steps, 72 images.
    assert (stage1.schedule.max_steps, stage1.data.views, stage1.data.frames) == (60_000, 48, 1)
    assert per_worker_batch(stage1) == 2 and stage1.distributed.num_workers == 32
    assert stage2.schedule.max_steps == 50_000 and images_per_sample(stage2) == 72
    assert all(v * t == 72 for v, t in stage2.data.views_frames)
    assert per_worker_batch(stage2) == 1 and stage1.data.image_size == stage2.data.image_size == 576


def test_file_with_base_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('base = "tiny"\n[optim]\nlr = 3e-4\n[data]\nviews = 4\n', encoding="utf-8")
    config = load_config(str(path), ["schedule.max_steps=7", "objective.sigma_bins=[1, 2]"])
    assert (config.optim.lr, config.data.views, config.schedule.max_steps) == (3e-4, 4, 7)
    assert config.objective.sigma_bins == [1, 2] and config.model.tiny
    yaml_path = tmp_path / "mine.yaml"
    yaml_path.write_text("base: tiny\nschedule:\n  seed: 3\n", encoding="utf-8")
    assert load_config(str(yaml_path)).schedule.seed == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            ["schedule.global_batch_size=3", "distributed.num_workers=2"],
            "schedule.global_batch_size",
        ),
        (["data.frames=2"], "data.frames"),
        (["data.image_size=60"], "data.image_size"),  # not a multiple of 8
        (["data.stage=2", "data.views_frames=[[2, 2], [3, 1]]"], "data.views_frames"),
        (["optim.precision=bf16"], "optim.precision"),
        (["objective.drop_pose=1.5"], "objective.drop_pose"),
        (["model.tiny=false"], "model.svd_dir"),
        (["data.dataset=shards"], "data.path"),
        (["distributed.num_workers=2", "distributed.strategy=fsdp"], "distributed.strategy"),
        (
            ["distributed.num_workers=2", "distributed.strategy=fsdp", "distributed.use_gpu=true"],
            "optim.ema_decay",
        ),
    ],
)
def test_configs_that_do_not_fit_name_the_field(overrides: list[str], field: str) -> None:
    with pytest.raises(InputError) as error:
        validate(load_config("tiny", overrides))
    assert error.value.field == field


def test_bad_names_and_values(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="built-ins: tiny"):
        load_config("no-such-config")
    with pytest.raises(InputError, match="unknown config field") as error:
        load_config("tiny", ["optim.learning_rate=1"])
    assert error.value.field == "optim.learning_rate"
    with pytest.raises(InputError, match="expected an integer"):
        load_config("tiny", ["schedule.max_steps=2.5"])
    with pytest.raises(InputError, match=r"section\.field=value"):
        load_config("tiny", ["max_steps"])
    broken = tmp_path / "broken.toml"
    broken.write_text("[optim\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot parse"):
        load_config(str(broken))


def test_saved_configs_are_versioned_and_older_files_still_load(tmp_path: Path) -> None:
    """One mechanism (hvg_core.config): a ``version`` key, the old ``config_version`` read too."""
    import json

    config = load_config("tiny", ["data.views=4"])
    saved = config.to_dict()
    assert saved["version"] == 1 and "config_version" not in saved
    old = {**{k: v for k, v in saved.items() if k != "version"}, "config_version": 1}
    path = tmp_path / "run-config.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    assert load_config(str(path)) == config
    path.write_text(json.dumps({**saved, "version": 2}), encoding="utf-8")
    with pytest.raises(InputError, match="newer") as error:
        load_config(str(path))
    assert (error.value.field, error.value.path) == ("version", str(path))


def test_variant_must_be_a_registered_pose_signal(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a registered pose signal") as error:
        load_config("tiny", ["model.variant=bonemapp"])
    assert (error.value.field, error.value.path) == ("model.variant", "--set")
    path = tmp_path / "mine.toml"
    path.write_text('base = "tiny"\n[model]\nvariant = "heatmap"\n', encoding="utf-8")
    with pytest.raises(InputError, match="registered: ") as error:
        load_config(str(path))
    assert (error.value.field, error.value.path) == ("model.variant", str(path))


def test_override_values_take_the_field_type() -> None:
    config = load_config(
        "tiny",
        ["model.trainable=unet.*,pose_*", "optim.betas=[0.8, 0.99]", "schedule.tensorboard=yes",
         "optim.lr=1", "model.svd_dir=123"],
    )  # fmt: skip
    assert config.model.trainable == ["unet.*", "pose_*"] and config.optim.betas == [0.8, 0.99]
    assert config.schedule.tensorboard is True
    assert isinstance(config.optim.lr, float) and config.model.svd_dir == "123"
    with pytest.raises(InputError, match="expected true/false") as error:
        load_config("tiny", ["schedule.tensorboard=sometimes"])
    assert error.value.field == "schedule.tensorboard"
