"""Which :class:`~hvg_model.training.data.SampleSource` a config trains on."""

from __future__ import annotations

from pathlib import Path

from hvg_core.errors import MissingResourceError

from hvg_model.training.config import TrainConfig
from hvg_model.training.data import ProceduralSource, SampleSource


def check_shard_dir(path: str | Path) -> Path:
    """Check that ``path`` holds intact ``hvg-data`` shards, before any training work.

    Every shard the manifest lists must be a file of the folder with the manifest's size and
    SHA-256 (:func:`hvg_data.training.verify_shard`; the digests are cached for the process, so
    the dataset built later does not hash the files again).

    Raises:
        MissingResourceError: Naming the directory and how to make shards.
        InputError: A manifest entry outside the folder, or a shard that is missing, truncated
            or changed (naming the file and field).
    """
    root = Path(path)
    how = (
        "Render shards with `hvg-data render --dataset NAME --root SCANS --out DIR` (or "
        "`hvg-data render --dataset synthetic --out DIR` for generated people) and pass DIR as "
        "--data."
    )
    if not root.is_dir():
        raise MissingResourceError(f"no shard directory here. {how}", path=root, field="data.path")
    if not (root / "manifest.json").is_file():
        raise MissingResourceError(
            f"not an hvg-data shard directory: manifest.json is missing. {how}",
            path=root,
            field="data.path",
        )
    from hvg_data.shards import Manifest
    from hvg_data.training import verify_shard

    for record in Manifest.load(root).shards.values():
        verify_shard(root, record)
    return root


def build_source(config: TrainConfig, run_dir: str | Path) -> SampleSource:
    """The sample source of ``config.data``.

    ``dataset = "procedural"`` draws :class:`ProceduralSource` subjects in memory; any other
    dataset reads the shards under ``data.path`` through ``hvg_data`` (for ``"synthetic"``,
    :func:`render_synthetic_shards` has put them there).
    """
    from hvg_model.training.shard_source import run_pose_spec

    data = config.data
    if data.dataset == "procedural":
        return ProceduralSource(
            num_subjects=data.synthetic_subjects,
            image_size=data.image_size,
            seed=config.schedule.seed,
            pose_spec=run_pose_spec(config),
        )
    if not data.path:
        raise MissingResourceError(
            f"dataset {data.dataset!r} needs data.path (--data DIR); the trainer renders "
            "synthetic shards itself only when the run is prepared (hvg_model.training.run)",
            field="data.path",
        )
    from hvg_model.training.shard_source import ShardSource

    layouts = data.views_frames or [[data.views, data.frames]]
    root = check_shard_dir(data.path)
    return ShardSource(
        root,
        image_size=data.image_size,
        layouts=layouts,
        pose_spec=run_pose_spec(config),
        smplx_model=data.smplx_model,
    )


def render_synthetic_shards(config: TrainConfig, out: str | Path) -> Path:
    """Render ``data.synthetic_subjects`` hvg-data ``synthetic`` people into shards (resumable).

    Enough views (at least 8) and frames for every layout of the config are rendered at
    ``data.image_size``, in this process (no Ray). A re-run with the same settings skips the
    finished shards. With ``data.smplx_model`` set, joints and bone maps are made by the real
    SMPL-X body (``body_model="smplx"``), which ``body_normal`` training needs; otherwise by the
    built-in one.
    """
    from hvg_data.config import RenderConfig
    from hvg_data.pipeline import PipelineOptions, run_render

    data = config.data
    layouts = data.views_frames or [[data.views, data.frames]]
    views = max(8, *(int(v) for v, _ in layouts))
    frames = max(int(t) for _, t in layouts)
    run_render(
        "synthetic",
        None,
        out,
        RenderConfig(
            views=views,
            size=data.image_size,
            frames=frames,
            shard_size=data.synthetic_subjects,
            body_model="builtin" if data.smplx_model is None else "smplx",
        ),
        adapter_options={
            "count": data.synthetic_subjects,
            "frames": frames,
            "seed": config.schedule.seed,
        },
        options=PipelineOptions(executor="local", progress=False, smplx_model_dir=data.smplx_model),
    )
    return Path(out)
