"""``hvg-data render``: subjects -> shards, on Ray Data (default) or in-process.

Subjects are sorted, cut to ``limit``, and split into shards of ``shard_size`` in that order, so a
shard's content depends only on the dataset, the configuration and its index. Each shard is one
Ray Data row: a worker loads and renders its subjects and writes the shard atomically; the driver
records it in ``manifest.json`` (also atomically) as results stream in. Hence:

* **Resume**: a shard whose manifest entry has the same config hash and subject list, and whose
  file still has the recorded size and SHA-256, is skipped; so is a complete shard file that the
  manifest missed (killed between rename and manifest update), recognised by its own attributes.
  Everything else is (re)done. Files are deterministic, so an interrupted-then-resumed run
  equals an uninterrupted one byte for byte.
* **Failures**: a subject whose files are bad (``InputError``, or any error while rendering it)
  is recorded with the reason in the manifest and ``failures.jsonl`` and the shard goes on
  without it. Missing resources (``MissingResourceError``: e.g. no SMPL-X model files) stop the
  run, since they would fail every subject.
* **Exit codes** (command line): 0 all rendered, 3 finished but some subjects failed
  (:data:`PARTIAL_FAILURE_EXIT_CODE`), 1/2 as for every HVG command.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvg_core.errors import HVGError, InputError, MissingResourceError

from hvg_data.config import RenderConfig
from hvg_data.shards import (
    FAILURES_NAME,
    SHARD_PATTERN,
    Manifest,
    ShardRecord,
    atomic_write_bytes,
    record_from_file,
    remove_stale_temporaries,
    sha256_of,
    write_shard,
)

PARTIAL_FAILURE_EXIT_CODE = 3
EXECUTORS = ("ray", "local")


@dataclass(frozen=True)
class PipelineOptions:
    """Where and how the shards are computed (does not change their content).

    Attributes:
        executor: ``"ray"`` (Ray Data; local Ray started on demand) or ``"local"`` (this process,
            one shard at a time: debugging and tests).
        num_workers: Concurrent shard workers (Ray); default: the CPUs Ray sees.
        address: Address of an existing Ray cluster (``ray://...`` or ``auto``); default: start a
            local one.
        ray_init: Extra keyword arguments for ``ray.init`` of a local cluster (e.g.
            ``object_store_memory``).
        smplx_model_dir: SMPL-X model files for ``body_model="smplx"``.
        progress: Show progress bars.
    """

    executor: str = "ray"
    num_workers: int | None = None
    address: str | None = None
    ray_init: dict[str, Any] = field(default_factory=dict)
    smplx_model_dir: str | None = None
    progress: bool = True


@dataclass
class RenderSummary:
    """What a run did."""

    out: Path
    shards_total: int = 0
    shards_skipped: int = 0
    shards_written: int = 0
    samples: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0, or :data:`PARTIAL_FAILURE_EXIT_CODE` when some subjects failed."""
        return PARTIAL_FAILURE_EXIT_CODE if self.failures else 0


def make_adapter(dataset: str, root: str | None, options: dict[str, Any]) -> Any:
    """Instantiate a registered dataset adapter."""
    from hvg_core.registry import get_registry

    return get_registry().load("datasets", dataset)(root, **options)


def plan_shards(subjects: Sequence[str], shard_size: int) -> list[list[str]]:
    """Consecutive groups of ``shard_size`` subjects."""
    return [list(subjects[i : i + shard_size]) for i in range(0, len(subjects), shard_size)]


def render_shard_task(task: dict[str, Any]) -> dict[str, Any]:
    """Render and write one shard (runs in a worker). Input and output are JSON-able dicts.

    Task keys: ``dataset``, ``root``, ``adapter_options``, ``config`` (RenderConfig JSON),
    ``config_hash``, ``index``, ``subjects``, ``out``, ``smplx_model_dir``.
    """
    from hvg_data.render_sample import render_sample

    config_data = dict(task["config"])
    config_data["background"] = tuple(config_data["background"])
    config = RenderConfig(**config_data)
    adapter = make_adapter(task["dataset"], task["root"], task["adapter_options"])
    rendered, failures = [], []
    for subject in task["subjects"]:
        try:
            sample = adapter.load(subject)
            rendered.append(render_sample(sample, config, smplx_model_dir=task["smplx_model_dir"]))
        except MissingResourceError:
            raise
        except HVGError as error:
            failures.append(
                {
                    "subject": subject,
                    "file": getattr(error, "path", None) or "",
                    "reason": str(error),
                }
            )
        except Exception as error:  # a corrupt file can raise anything inside third-party parsers
            last = traceback.extract_tb(error.__traceback__)[-1]
            failures.append(
                {
                    "subject": subject,
                    "file": "",
                    "reason": f"{type(error).__name__}: {error} "
                    f"(at {Path(last.filename).name}:{last.lineno})",
                }
            )
    name = SHARD_PATTERN.format(index=task["index"])
    path = Path(task["out"]) / name
    digest = write_shard(
        path,
        rendered,
        config_hash=task["config_hash"],
        dataset=task["dataset"],
        shard_index=task["index"],
        compression=config.compression,
        planned_subjects=task["subjects"],
        failures=failures,
    )
    return {
        "file": name,
        "samples": len(rendered),
        "subjects": list(task["subjects"]),
        "sha256": digest,
        "bytes": path.stat().st_size,
        "config_hash": task["config_hash"],
        "failures": failures,
    }


def _shard_is_complete(
    out: Path, record: ShardRecord | None, subjects: list[str], config_hash: str
) -> bool:
    if record is None or record.config_hash != config_hash or record.subjects != subjects:
        return False
    path = out / record.file
    return (
        path.is_file() and path.stat().st_size == record.bytes and sha256_of(path) == record.sha256
    )


def _write_failures(out: Path, manifest: Manifest) -> list[dict[str, str]]:
    failures = [
        dict(failure, shard=name)
        for name in sorted(manifest.shards)
        for failure in manifest.shards[name].failures
    ]
    text = "".join(json.dumps(failure, sort_keys=True) + "\n" for failure in failures)
    atomic_write_bytes(out / FAILURES_NAME, text.encode())
    return failures


def run_render(
    dataset: str,
    root: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    config: RenderConfig,
    *,
    adapter_options: dict[str, Any] | None = None,
    limit: int | None = None,
    subjects: Sequence[str] | None = None,
    options: PipelineOptions | None = None,
    on_shard: Callable[[dict[str, Any]], None] | None = None,
) -> RenderSummary:
    """Render a dataset into resumable shards.

    Args:
        dataset: Registry name of the dataset.
        root: Dataset root (``None`` for generated datasets).
        out: Output folder (created).
        config: Render settings; ``config.adapter`` is filled from the adapter.
        adapter_options: Keyword options of the adapter.
        limit: Render only the first ``limit`` subjects (sorted).
        subjects: Render only these subject ids (in this order).
        options: Executor settings.
        on_shard: Called in the driver with each finished shard's record (progress hooks).

    Returns:
        A :class:`RenderSummary`; ``summary.exit_code`` is 3 when some subjects failed.
    """
    import dataclasses

    options = options or PipelineOptions()
    if options.executor not in EXECUTORS:
        raise InputError(
            f"unknown executor {options.executor!r}; use one of {EXECUTORS}", field="executor"
        )
    adapter_options = dict(adapter_options or {})
    root_str = None if root is None else str(root)
    adapter = make_adapter(dataset, root_str, adapter_options)
    config = dataclasses.replace(config, adapter=adapter.config())
    config_hash = config.hash()
    all_subjects = adapter.subjects()
    if subjects is not None:
        unknown = sorted(set(subjects) - set(all_subjects))
        if unknown:
            raise InputError(f"unknown subjects {unknown[:5]}", field="subjects")
        chosen = list(subjects)
    else:
        chosen = all_subjects
    if limit is not None:
        chosen = chosen[:limit]
    if not chosen:
        raise InputError(f"no subjects found for {dataset}", path=root_str)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    try:
        previous = Manifest.load(out_dir)
    except InputError:
        previous = None
    manifest = Manifest(dataset, config.to_json(), config_hash)
    plan = plan_shards(chosen, config.shard_size)
    summary = RenderSummary(out_dir, shards_total=len(plan))
    tasks = []
    for index, shard_subjects in enumerate(plan):
        name = SHARD_PATTERN.format(index=index)
        record = previous.shards.get(name) if previous is not None else None
        if record is None or previous is None or previous.dataset != dataset:
            record = record_from_file(out_dir / name) if (out_dir / name).is_file() else None
        if _shard_is_complete(out_dir, record, shard_subjects, config_hash):
            assert record is not None
            manifest.shards[name] = record
            summary.shards_skipped += 1
            continue
        tasks.append(
            {
                "dataset": dataset,
                "root": root_str,
                "adapter_options": adapter_options,
                "config": config.to_json(),
                "config_hash": config_hash,
                "index": index,
                "subjects": shard_subjects,
                "out": str(out_dir),
                "smplx_model_dir": options.smplx_model_dir,
            }
        )
    # Shards of an earlier, larger plan that this plan does not have are dropped.
    for stale in sorted(out_dir.glob("shard-*.h5")):
        if stale.name not in {SHARD_PATTERN.format(index=i) for i in range(len(plan))}:
            stale.unlink()
    manifest.save(out_dir)

    def record_result(result: dict[str, Any]) -> None:
        manifest.shards[result["file"]] = ShardRecord(
            result["file"],
            result["samples"],
            result["subjects"],
            result["sha256"],
            result["bytes"],
            result["config_hash"],
            result["failures"],
        )
        manifest.save(out_dir)
        summary.shards_written += 1
        if on_shard is not None:
            on_shard(result)

    if tasks:
        if options.executor == "local":
            from hvg_core.cli_utils import progress

            for task in progress(
                tasks, desc="shards", total=len(tasks), disable=None if options.progress else True
            ):
                record_result(render_shard_task(task))
        else:
            _run_on_ray(tasks, options, record_result)
    summary.samples = manifest.num_samples
    summary.failures = _write_failures(out_dir, manifest)
    return summary


def _run_on_ray(
    tasks: list[dict[str, Any]],
    options: PipelineOptions,
    record_result: Callable[[dict[str, Any]], None],
) -> None:
    import ray

    started_here = False
    if not ray.is_initialized():
        init: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        }
        if options.address is not None:
            init["address"] = options.address
        elif options.num_workers is not None:
            init["num_cpus"] = options.num_workers
        init.update(options.ray_init)
        ray.init(**init)
        started_here = True
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = options.progress
        workers = options.num_workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        rows = [{"task": json.dumps(task)} for task in tasks]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
        results = dataset.map(_ray_render_row, num_cpus=1, concurrency=workers)
        for row in results.iter_rows():
            record_result(json.loads(row["result"]))
    finally:
        if started_here:
            ray.shutdown()


def _ray_render_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"result": json.dumps(render_shard_task(json.loads(row["task"])))}
