"""Training configuration: nested dataclasses, built-in recipes, files and ``key=value`` overrides.

A config is a :class:`TrainConfig` made of one section per concern. It comes from a built-in
name (``tiny``, ``tiny-stage2``, ``stage1``, ``stage2``) or a TOML/YAML file (which may start
from a built-in with ``base = "stage1"``), and ``section.field=value`` overrides from the command
line win over both (:mod:`hvg_core.config`: every key checked, values coerced to the field's
type, ``model.variant`` checked against the registered pose signals). :func:`validate` rejects
a config that cannot run (a global batch that does not divide over workers and accumulation
steps, frames × views that do not match the images per sample, an image size the VAE and UNet
cannot take) with an :class:`~hvg_core.errors.InputError` naming the field.

Batch semantics: ``schedule.global_batch_size`` counts samples (subjects) per optimiser step
across all workers and accumulation micro-steps. Each sample holds ``views × frames`` images.
Which sample, which σ and which noise a global batch row gets depends only on the seed, the step
and the row, never on the number of workers: that is what makes a 2-worker run reproduce a
1-worker run and a resumed run reproduce an uninterrupted one.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hvg_core.config import Config, registered
from hvg_core.errors import InputError

#: Version written into saved configs (key ``version``); bump when a field changes meaning.
CONFIG_VERSION = 1
#: Pose signals the trainer can build from hvg-data shards: the bone-map signals are decoded from
#: the stored maps, ``skeleton2d`` is drawn from the stored joints and cameras, ``body_normal``
#: from the SMPL-X mesh rebuilt from the stored parameters (needs ``data.smplx_model``)
#: (``hvg_bonemap.pose_codec``, ``hvg_data.training.MultiViewDataset(pose_spec=...)``).
TRAINABLE_VARIANTS = ("bonemap", "depth", "normal", "skeleton2d", "body_normal")


@dataclass
class ModelConfig:
    """Which network to train and which parts of it.

    Attributes:
        svd_dir: Local diffusers-format SVD-xt directory (``unet/``, ``vae/``,
            ``image_encoder/``, ``feature_extractor/``, ``scheduler/``). ``None`` is only
            allowed with ``tiny=True``.
        vae_dir: A diffusers ``AutoencoderKLTemporalDecoder`` directory (``config.json`` +
            ``diffusion_pytorch_model.safetensors``, e.g. the VAE ``hvg demo`` trains,
            ``out/demo/vae/``) used as the frozen VAE instead of ``svd_dir/vae`` (which then
            need not exist); ``hvg-model train --vae``. Its ``latent_channels`` C must match the
            UNet of ``svd_dir`` (2·C in, C out) and its downscale factor sets the pose
            guider's strides. An exported pipeline's ``vae/`` is this VAE.
        tiny: Build tiny random SVD components in the run directory (CPU tests and demos).
        architecture: ``"hvg"`` (HVGDenoisingNet with pose, views, cameras and ReferenceNet)
            or ``"svd"`` (plain SVD UNet with views folded into the batch, an ablation).
        variant: Pose-signal variant of HVGDenoisingNet (the paper's Table 3 ablations).
        init_from: Run or checkpoint directory whose weights initialise the network (stage 2
            starts from stage 1). Optimiser state is not taken from it.
        trainable: ``fnmatch`` patterns over parameter names that train; everything else is
            frozen. The VAE and the CLIP image encoder are always frozen.
        frozen: Patterns removed from ``trainable`` again.
        reference_net: Train a ReferenceNet beside the DenoisingNet (``architecture = "hvg"``).
        gradient_checkpointing: Recompute activations in the backward pass.
    """

    svd_dir: str | None = None
    vae_dir: str | None = None
    tiny: bool = False
    architecture: str = "hvg"
    variant: str = registered("pose_signals", "bonemap")
    init_from: str | None = None
    trainable: list[str] = field(default_factory=lambda: ["*"])
    frozen: list[str] = field(default_factory=list)
    reference_net: bool = True
    gradient_checkpointing: bool = False


@dataclass
class DataConfig:
    """Where samples come from and their shape.

    Attributes:
        dataset: ``"synthetic"`` (hvg-data's generated people, rendered into the run directory
            when ``path`` is empty), ``"shards"`` (``path`` required) or ``"procedural"``
            (simple ellipsoid people drawn in memory: instant, for tests and smoke runs).
        path: Directory of ``hvg-data`` shards (with ``manifest.json``).
        stage: 1 = multi-view images (``frames`` must be 1), 2 = multi-view multi-frame windows.
        image_size: Square image side in pixels (the paper: 576).
        views: Views per sample (stage 1; the paper: 48).
        frames: Frames per sample (1 in stage 1).
        views_frames: Stage 2 only: the ``[views, frames]`` layouts a step may use, all with the
            same ``views × frames`` (the paper: 72 images per batch). Chosen per step from the
            seed, identically on every worker.
        synthetic_subjects: Subjects generated for ``"synthetic"`` (without ``path``) and
            ``"procedural"``.
        loader_workers: Background processes reading samples (0 = in the training process).
        smplx_model: Folder of the SMPL-X model files (``SMPLX_NEUTRAL.npz``, ...), needed by
            pose signals drawn from the body mesh (``model.variant = "body_normal"``): the mesh
            of each sample is rebuilt from the shards' SMPL-X parameters. The shards must be
            rendered with ``--body-model smplx``; ``"synthetic"`` without ``path`` is then
            rendered with it.
    """

    dataset: str = "synthetic"
    path: str | None = None
    stage: int = 1
    image_size: int = 576
    views: int = 48
    frames: int = 1
    views_frames: list[list[int]] = field(default_factory=list)
    synthetic_subjects: int = 4
    loader_workers: int = 0
    smplx_model: str | None = None


@dataclass
class ObjectiveConfig:
    """SVD's EDM objective and classifier-free-guidance dropout.

    Attributes:
        p_mean: Mean of ln σ (log-normal σ sampling; SVD_Xtend's 0.7).
        p_std: Standard deviation of ln σ (SVD_Xtend's 1.6).
        sigma_bins: Edges of the σ bins the log reports loss for.
        cond_aug_mean: Mean of ln of the conditioning-image noise augmentation.
        cond_aug_std: Its standard deviation (SVD_Xtend: LogNormal(−3, 0.5)).
        fps: Frames per second fed to SVD's ``added_time_ids`` (as ``fps − 1``).
        motion_bucket_id: SVD's motion bucket conditioning.
        drop_reference_image: Probability of zeroing the CLIP embedding and the concatenated
            reference latent together (SVD's negative conditioning).
        drop_reference_net: Probability of zeroing the ReferenceNet features.
        drop_pose: Probability of zeroing the pose maps.
    """

    p_mean: float = 0.7
    p_std: float = 1.6
    sigma_bins: list[float] = field(default_factory=lambda: [0.1, 0.5, 1.0, 2.0, 5.0, 20.0])
    cond_aug_mean: float = -3.0
    cond_aug_std: float = 0.5
    fps: int = 7
    motion_bucket_id: int = 127
    drop_reference_image: float = 0.1
    drop_reference_net: float = 0.1
    drop_pose: float = 0.05


@dataclass
class OptimConfig:
    """Optimiser, schedule, precision and EMA.

    Attributes:
        lr: Peak learning rate.
        betas: AdamW betas.
        weight_decay: AdamW weight decay.
        eps: AdamW epsilon.
        use_8bit: ``"auto"`` (8-bit AdamW when bitsandbytes is installed and on CUDA),
            ``"yes"`` (required), ``"no"``.
        warmup_steps: Linear warm-up from 0 to ``lr``.
        schedule: ``"constant"``, ``"cosine"`` or ``"linear"`` decay after warm-up.
        min_lr_ratio: Final learning rate of the decaying schedules, relative to ``lr``.
        grad_clip: Maximum global gradient norm (0 disables).
        grad_accumulation: Micro-steps per optimiser step.
        precision: ``"auto"`` (bf16 autocast on CUDA, fp32 on CPU), ``"bf16"`` or ``"fp32"``.
        ema_decay: EMA decay of the trainable weights (0 disables).
    """

    lr: float = 1e-5
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 1e-2
    eps: float = 1e-8
    use_8bit: str = "auto"
    warmup_steps: int = 500
    schedule: str = "constant"
    min_lr_ratio: float = 0.0
    grad_clip: float = 1.0
    grad_accumulation: int = 1
    precision: str = "auto"
    ema_decay: float = 0.9999


@dataclass
class ScheduleConfig:
    """How long to train and how often to write things.

    Attributes:
        max_steps: Optimiser steps in total (a resumed run counts from 0).
        global_batch_size: Samples per optimiser step over all workers and micro-steps.
        seed: Seed of the data order and of every random draw.
        checkpoint_every: Steps between checkpoints (a final one is always written).
        keep_checkpoints: Newest checkpoints kept (older ones are deleted).
        sample_every: Steps between sample videos (0 disables).
        tensorboard: Also write TensorBoard events (needs the ``tensorboard`` extra).
        num_threads: CPU threads of torch (0 leaves torch's default).
    """

    max_steps: int = 60_000
    global_batch_size: int = 64
    seed: int = 0
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    sample_every: int = 0
    tensorboard: bool = False
    num_threads: int = 0


@dataclass
class DistributedConfig:
    """Scale-out through Ray Train.

    Attributes:
        num_workers: Training processes; 1 runs in this process without Ray.
        use_gpu: One GPU per worker.
        address: Address of an existing Ray cluster (``None``: start a local one).
        strategy: ``"ddp"`` or ``"fsdp"`` (shards parameters, gradients and optimiser state).
        cpus_per_worker: CPUs Ray reserves per worker.
        gpu_memory_gib: Memory per GPU used by the "does it fit" check (0 = ask the device).
    """

    num_workers: int = 1
    use_gpu: bool = False
    address: str | None = None
    strategy: str = "ddp"
    cpus_per_worker: int = 1
    gpu_memory_gib: float = 0.0


@dataclass
class TrainConfig(Config):
    """The whole training recipe (see the module docstring).

    ``to_dict`` / ``from_dict`` / ``with_overrides`` come from :class:`hvg_core.config.Config`;
    configs saved before the ``version`` key (``config_version``) still load.
    """

    CONFIG_VERSION: ClassVar[int] = CONFIG_VERSION
    LEGACY_VERSION_KEYS: ClassVar[tuple[str, ...]] = ("config_version",)

    name: str = "custom"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)


# --------------------------------------------------------------------------- built-in recipes


def _tiny() -> TrainConfig:
    # 64² images → 8² latents with the tiny VAE (factor 8, as SVD's); 2 subjects × 2 views per step.
    # lr 1e-3 and no warm-up because a random tiny network must move within a CPU test budget.
    return TrainConfig(
        name="tiny",
        model=ModelConfig(tiny=True),
        data=DataConfig(
            dataset="synthetic", stage=1, image_size=64, views=2, frames=1, synthetic_subjects=4
        ),
        objective=ObjectiveConfig(),
        optim=OptimConfig(lr=1e-3, warmup_steps=0, ema_decay=0.99, weight_decay=0.0),
        schedule=ScheduleConfig(
            max_steps=40,
            global_batch_size=2,
            checkpoint_every=10,
            keep_checkpoints=2,
            num_threads=1,
        ),
    )


def _tiny_stage2() -> TrainConfig:
    config = _tiny()
    config.name = "tiny-stage2"
    config.data.stage = 2
    config.data.views = 2
    config.data.frames = 2
    config.data.views_frames = [[2, 2], [1, 4], [4, 1]]
    config.schedule.global_batch_size = 1
    return config


def _stage1() -> TrainConfig:
    # Paper §4: 60k steps, batch 2 × 48 views per GPU on 32 H100s, 576². We read "batch size 2"
    # as per GPU, so the global batch is 64 subjects (3072 images).
    return TrainConfig(
        name="stage1",
        model=ModelConfig(gradient_checkpointing=True),
        data=DataConfig(dataset="shards", stage=1, image_size=576, views=48, frames=1),
        # No EMA: the paper does not mention one, and the trainer's EMA is not sharded (FSDP).
        optim=OptimConfig(lr=1e-5, warmup_steps=500, precision="auto", ema_decay=0.0),
        schedule=ScheduleConfig(max_steps=60_000, global_batch_size=64, checkpoint_every=1000),
        distributed=DistributedConfig(num_workers=32, use_gpu=True, strategy="fsdp"),
    )


def _stage2() -> TrainConfig:
    # Paper §4: initialised from stage 1, 50k steps, batch 1 per GPU of 72 images "accommodating
    # varying numbers of frames and views"; the layouts below are our choice (all 72 images).
    config = _stage1()
    config.name = "stage2"
    config.data.stage = 2
    config.data.views, config.data.frames = 8, 9
    config.data.views_frames = [[8, 9], [6, 12], [4, 18], [12, 6], [3, 24]]
    config.schedule.max_steps = 50_000
    config.schedule.global_batch_size = 32
    return config


BUILTIN_CONFIGS = {
    "tiny": _tiny,
    "tiny-stage2": _tiny_stage2,
    "stage1": _stage1,
    "stage2": _stage2,
}


def load_config(name_or_file: str, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Load a built-in recipe or a TOML/YAML/JSON file, then apply ``section.field=value`` overrides.

    A file may name a built-in as ``base`` and only list what differs.

    Raises:
        InputError: Unknown name, missing or malformed file, unknown field, bad value.
    """
    if name_or_file in BUILTIN_CONFIGS:
        config = BUILTIN_CONFIGS[name_or_file]()
    else:
        path = Path(name_or_file)
        if not path.is_file():
            raise InputError(
                f"no built-in config of that name and no such file; built-ins: "
                f"{', '.join(BUILTIN_CONFIGS)}",
                field="--config",
                path=path,
            )
        data = _read_file(path)
        base = data.pop("base", None)
        if base is not None:
            if base not in BUILTIN_CONFIGS:
                raise InputError(
                    f"unknown base {base!r}; built-ins: {', '.join(BUILTIN_CONFIGS)}",
                    path=path,
                    field="base",
                )
            config = BUILTIN_CONFIGS[base]().merged(data, source=str(path))
        else:
            config = TrainConfig.from_dict(data, source=str(path))
    return apply_overrides(config, overrides)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"config files must be UTF-8 text; byte {error.start} is not ({error.reason})",
            path=path,
            field="--config",
        ) from error
    except OSError as error:
        raise InputError(f"cannot read config: {error}", path=path, field="--config") from error
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif path.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text) or {}
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            raise InputError("config files must end in .toml, .yaml, .yml or .json", path=path)
    except InputError:
        raise
    except Exception as error:  # tomllib/yaml/json syntax errors
        raise InputError(f"cannot parse config: {error}", path=path) from error
    if not isinstance(data, dict):
        raise InputError("the top level must be a table/mapping", path=path)
    return data


def apply_overrides(config: TrainConfig, overrides: list[str] | tuple[str, ...]) -> TrainConfig:
    """Return a copy of ``config`` with ``section.field=value`` strings applied.

    Values are parsed as JSON where possible (``[1, 2]``, ``true``, ``3e-4``), else kept as text,
    then coerced to the field's type (:meth:`hvg_core.config.Config.with_overrides`).

    Raises:
        InputError: A malformed override, an unknown field or a bad value, naming the field.
    """
    return config.with_overrides(overrides, source="--set")


def _check_smplx_model(config: TrainConfig) -> None:
    """A variant drawn from the body mesh needs ``data.smplx_model`` (a folder that exists)."""
    from hvg_bonemap.pose_codec import draws_mesh

    from hvg_model.pose_input import pose_spec_for, signal_class

    variant = config.model.variant
    if not draws_mesh(pose_spec_for(variant), signal_class(variant)):
        return
    from hvg_data.training import SMPLX_MODEL_HELP

    where = config.data.smplx_model
    if where is None:
        raise InputError(f"model.variant={variant}: {SMPLX_MODEL_HELP}", field="data.smplx_model")
    if not Path(where).exists():
        raise InputError(
            f"no SMPL-X model folder or file here; {SMPLX_MODEL_HELP}",
            path=where,
            field="data.smplx_model",
        )


def validate(config: TrainConfig) -> None:
    """Reject a config that cannot run, naming the field (no I/O, no torch).

    Raises:
        InputError: The first problem found.
    """
    data, sched, optim, dist = config.data, config.schedule, config.optim, config.distributed

    def fail(message: str, field_name: str) -> None:
        raise InputError(message, field=field_name)

    if config.model.svd_dir is None and not config.model.tiny:
        fail(
            "set model.svd_dir to a local diffusers-format SVD-xt directory "
            "(or model.tiny=true for a random tiny network)",
            "model.svd_dir",
        )
    if config.model.vae_dir is not None and not config.model.vae_dir.strip():
        fail(
            "must be a diffusers AutoencoderKLTemporalDecoder directory (config.json + "
            "diffusion_pytorch_model.safetensors), not an empty path; leave it unset to use "
            "model.svd_dir's vae/",
            "model.vae_dir",
        )
    if config.model.architecture not in {"hvg", "svd"}:
        fail("must be 'hvg' or 'svd'", "model.architecture")
    variant = config.model.variant
    from hvg_core.registry import get_registry

    signals = get_registry().names("pose_signals")  # built-ins and plug-ins
    if variant not in signals:
        fail(
            f"unknown pose signal {variant!r}; registered: {', '.join(sorted(signals))}",
            "model.variant",
        )
    from hvg_model.pose_input import pose_spec_for

    if data.dataset == "procedural" and not pose_spec_for(variant).from_bone_maps:
        fail(
            f"the procedural source draws bone maps only (no joints); train {variant} on shards "
            "(data.dataset=synthetic or --data DIR)",
            "model.variant",
        )
    _check_smplx_model(config)
    if data.stage not in (1, 2):
        fail("must be 1 (multi-view) or 2 (multi-view multi-frame)", "data.stage")
    if data.stage == 1 and data.frames != 1:
        fail("stage 1 trains multi-view images: frames must be 1", "data.frames")
    if data.views < 1 or data.frames < 1:
        fail("views and frames must be at least 1", "data.views")
    layouts = data.views_frames or [[data.views, data.frames]]
    images = layouts[0][0] * layouts[0][1]
    for layout in layouts:
        if len(layout) != 2 or min(layout) < 1:
            fail(f"each layout is [views, frames] with both ≥ 1, got {layout}", "data.views_frames")
        if layout[0] * layout[1] != images:
            fail(
                f"every layout must hold the same number of images ({images}); "
                f"{layout} holds {layout[0] * layout[1]}",
                "data.views_frames",
            )
    if data.stage == 1 and any(layout[1] != 1 for layout in layouts):
        fail("stage 1 layouts must have 1 frame", "data.views_frames")
    if data.image_size % 8 != 0 or data.image_size < 8:
        # The network-specific multiple is checked against the SVD directory when a run starts.
        fail(
            f"must be a positive multiple of 8 (SVD's VAE factor), got {data.image_size}",
            "data.image_size",
        )
    if data.dataset not in {"synthetic", "shards", "procedural"}:
        fail("must be 'synthetic', 'shards' or 'procedural'", "data.dataset")
    if data.dataset == "shards" and not data.path:
        fail("dataset 'shards' needs data.path (or --data DIR)", "data.path")
    if sched.max_steps < 1:
        fail("must be at least 1", "schedule.max_steps")
    if sched.checkpoint_every < 1:
        fail("must be at least 1", "schedule.checkpoint_every")
    if sched.keep_checkpoints < 1:
        fail("must be at least 1", "schedule.keep_checkpoints")
    if optim.grad_accumulation < 1:
        fail("must be at least 1", "optim.grad_accumulation")
    if dist.num_workers < 1:
        fail("must be at least 1", "distributed.num_workers")
    shards = dist.num_workers * optim.grad_accumulation
    if sched.global_batch_size % shards != 0:
        fail(
            f"global batch {sched.global_batch_size} does not divide into "
            f"{dist.num_workers} workers × {optim.grad_accumulation} accumulation steps",
            "schedule.global_batch_size",
        )
    if dist.strategy not in {"ddp", "fsdp"}:
        fail("must be 'ddp' or 'fsdp'", "distributed.strategy")
    if dist.strategy == "fsdp" and dist.num_workers > 1 and not dist.use_gpu:
        fail("FSDP needs GPUs (--use-gpu); use strategy 'ddp' on CPUs", "distributed.strategy")
    if optim.precision not in {"auto", "bf16", "fp32"}:
        fail("must be 'auto', 'bf16' or 'fp32'", "optim.precision")
    if optim.precision == "bf16" and not dist.use_gpu:
        fail("bf16 autocast is for GPUs; CPU training runs in fp32", "optim.precision")
    if optim.schedule not in {"constant", "cosine", "linear"}:
        fail("must be 'constant', 'cosine' or 'linear'", "optim.schedule")
    if optim.use_8bit not in {"auto", "yes", "no"}:
        fail("must be 'auto', 'yes' or 'no'", "optim.use_8bit")
    if not 0.0 <= optim.ema_decay < 1.0:
        fail("must be in [0, 1)", "optim.ema_decay")
    if optim.ema_decay > 0 and dist.strategy == "fsdp" and dist.num_workers > 1:
        # Each FSDP rank holds a shard of every parameter; a sharded EMA is not implemented.
        fail(
            "EMA is not supported with FSDP yet: set optim.ema_decay=0 or strategy ddp",
            "optim.ema_decay",
        )
    objective = config.objective
    for name in ("drop_reference_image", "drop_reference_net", "drop_pose"):
        if not 0.0 <= getattr(objective, name) <= 1.0:
            fail("a probability must be in [0, 1]", f"objective.{name}")
    if objective.p_std <= 0:
        fail("must be positive", "objective.p_std")
    if list(objective.sigma_bins) != sorted(objective.sigma_bins):
        fail("bin edges must increase", "objective.sigma_bins")


def images_per_sample(config: TrainConfig) -> int:
    """Number of ``views × frames`` images each sample holds."""
    layouts = config.data.views_frames or [[config.data.views, config.data.frames]]
    return layouts[0][0] * layouts[0][1]


def per_worker_batch(config: TrainConfig) -> int:
    """Samples one worker processes per micro-step."""
    return config.schedule.global_batch_size // (
        config.distributed.num_workers * config.optim.grad_accumulation
    )


__all__ = [
    "BUILTIN_CONFIGS",
    "CONFIG_VERSION",
    "TRAINABLE_VARIANTS",
    "DataConfig",
    "DistributedConfig",
    "ModelConfig",
    "ObjectiveConfig",
    "OptimConfig",
    "ScheduleConfig",
    "TrainConfig",
    "apply_overrides",
    "images_per_sample",
    "load_config",
    "per_worker_batch",
    "validate",
]
