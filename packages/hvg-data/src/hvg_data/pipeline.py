"""``hvg-data render``: subjects -> shards, in this process or on Ray.

Subjects are sorted, cut to ``limit``, and split into shards of ``shard_size`` in that order, so a
shard's content depends only on the dataset, the configuration and its index. Hence:

* **Checked up front** (exit 2, the field named, before any rendering): executor and worker
  count, ``limit``, the adapter's option names and value types, and the memory one subject needs
  at ``size`` x ``views`` x ``frames`` against the memory available to the workers.
* **One run per folder**: the output folder is locked (:class:`~hvg_core.folder_lock.FolderLock`); a
  second run into it exits 2 naming the holder's pid and host. Locks of dead runs are taken over.
* **Nothing lost**: shards that an existing ``manifest.json`` lists as complete but that this run
  would replace (another subject list, dataset or configuration, or beyond a smaller ``--limit``)
  are only deleted with ``prune=True`` (``--prune``); otherwise the run stops with exit 2.
* **Resume**: a shard whose manifest entry has the same config hash and subject list, no failed
  subject, and whose file still has the recorded size and SHA-256, is skipped. Everything else is
  (re)rendered: a corrupt file, a file the manifest does not list, and a shard with failed subjects
  (failures are retried on every run; ``retry_failed=True`` reruns exactly the manifest's plan,
  whatever ``limit``/``subjects`` say). The manifest entry of a shard is written *before* the file
  takes its final name, so a final-named file is never adopted without a matching entry. Files
  are deterministic: an interrupted-then-resumed run equals an uninterrupted one byte for byte.
* **Failures**: a subject whose files are bad (``InputError``, or any error while rendering it)
  is recorded with the reason in the manifest and ``failures.jsonl``; the shard goes on without
  it. On Ray a worker that dies (segfault, out of memory) is retried :data:`TASK_MAX_RETRIES`
  times, then recorded as that subject's failure. Missing resources (``MissingResourceError``:
  e.g. no SMPL-X model files) stop the run, since they would fail every subject.
* **Executors**: ``local`` renders in this process; ``ray`` renders and writes the shards in
  Ray workers (:mod:`hvg_data.ray_executor`: one task per shard when there are enough shards,
  else one per subject plus one assembling the shard; at most ``num_workers`` at a time), the
  driver only recording them in the manifest (the same bytes as ``local``); ``auto``
  (default) picks Ray only when the estimated rendering time saved by the extra workers exceeds
  Ray's fixed start-up cost (:func:`choose_executor`).
* **Exit codes** (command line): 0 all rendered, 3 some subjects failed
  (:data:`PARTIAL_FAILURE_EXIT_CODE`), 1 every subject failed or a runtime error, 2 bad input.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hvg_core.errors import InputError
from hvg_core.folder_lock import FolderLock

from hvg_data.config import RenderConfig
from hvg_data.render_job import (  # noqa: F401 (re-exported: pipeline's public names)
    EXECUTORS,
    MEMORY_HEADROOM,
    PARTIAL_FAILURE_EXIT_CODE,
    RENDER_BYTES_PER_VIEW_PIXEL,
    STORED_BYTES_PER_PIXEL,
    TASK_MAX_RETRIES,
    PipelineOptions,
    RenderJob,
    RenderSummary,
    ShardWriter,
    available_memory_bytes,
    default_workers,
    render_one,
    subject_peak_bytes,
)
from hvg_data.shards import (
    FAILURES_NAME,
    PARTS_DIR,
    SHARD_PATTERN,
    Manifest,
    RenderedSample,
    ShardRecord,
    atomic_write_bytes,
    remove_stale_temporaries,
    sha256_of,
    shard_path,
)

#: Fixed cost of a local Ray runtime: import, ``ray.init`` of 2 CPUs, first tasks (which import
#: hvg_data), shutdown. Measured on the shared 2-core machine (``benchmarks/bench_executor.py``
#: and a bare start/stop): 32-46 s with load average 9-11, i.e. both cores shared by several
#: jobs; the rendering costs below were measured under similar load, so the ratio holds.
RAY_STARTUP_S = 30.0
#: Serial rendering cost of a scan subject: fixed part (mesh, bone maps, shard I/O) plus a part
#: per rendered pixel (views x frames x size²); measured on synthetic subjects (0.1 s at 32² x 2
#: views, 2.5 s at 576² x 8 views, 5.9 s at 1024² x 4 views; 2 cores, load average ~5).
RENDER_S_PER_SUBJECT = 0.1
RENDER_S_PER_MEGAPIXEL = 1.0

_log = logging.getLogger(__name__)


def adapter_class(dataset: str) -> Any:
    """The registered adapter class of ``dataset``."""
    from hvg_core.registry import get_registry

    return get_registry().load("datasets", dataset)


def make_adapter(dataset: str, root: str | None, options: dict[str, Any]) -> Any:
    """Instantiate a registered dataset adapter, its options checked first.

    Raises:
        InputError: Unknown option names, option values of the wrong type, or a value the
            adapter rejects.
    """
    klass = adapter_class(dataset)
    check_adapter_options(klass, options)
    try:
        return klass(root, **options)
    except InputError:
        raise
    except (TypeError, ValueError) as error:
        raise InputError(f"bad adapter option for {dataset}: {error}", field="option") from error


def adapter_options_of(klass: Any) -> dict[str, inspect.Parameter]:
    """The named keyword options an adapter class accepts (its and its bases' ``__init__``)."""
    options: dict[str, inspect.Parameter] = {}
    for base in klass.__mro__:
        init = base.__dict__.get("__init__")
        if init is None or base is object:
            continue
        for parameter in inspect.signature(init).parameters.values():
            if parameter.name in ("self", "root") or parameter.kind in (
                inspect.Parameter.VAR_KEYWORD,
                inspect.Parameter.VAR_POSITIONAL,
            ):
                continue
            options.setdefault(parameter.name, parameter)
    return options


_TYPE_NAMES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "None": (type(None),),
}


def check_adapter_options(klass: Any, options: dict[str, Any]) -> None:
    """Reject option names the adapter does not know and values of the wrong type.

    Raises:
        InputError: Naming the option (``field``) and the valid names or the expected type.
    """
    known = adapter_options_of(klass)
    name = getattr(klass, "name", "") or klass.__name__
    for key, value in options.items():
        if key not in known:
            valid = ", ".join(sorted(known)) or "none"
            raise InputError(
                f"unknown option {key!r} for the {name} dataset; valid options: {valid}",
                field=key,
            )
        allowed = _allowed_types(known[key])
        if allowed is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in allowed
        if wrong_bool or not isinstance(value, allowed):
            expected = " or ".join(sorted({t.__name__ for t in allowed}))
            raise InputError(
                f"expected {expected} for option {key!r} of the {name} dataset, got {value!r}",
                field=key,
            )


def _allowed_types(parameter: inspect.Parameter) -> tuple[type, ...] | None:
    annotation = parameter.annotation
    if isinstance(annotation, str):
        parts = [part.strip() for part in annotation.split("|")]
        if parts and all(part in _TYPE_NAMES for part in parts):
            return tuple(t for part in parts for t in _TYPE_NAMES[part])
        return None
    if annotation is inspect.Parameter.empty and parameter.default is not None:
        default = parameter.default
        if isinstance(default, bool):
            return (bool,)
        if isinstance(default, (int, float, str)):
            return _TYPE_NAMES[type(default).__name__]
    return None


def plan_shards(subjects: Sequence[str], shard_size: int) -> list[list[str]]:
    """Consecutive groups of ``shard_size`` subjects."""
    return [list(subjects[i : i + shard_size]) for i in range(0, len(subjects), shard_size)]


def check_memory(config: RenderConfig, frames: int, workers: int, held: int = 1) -> None:
    """Refuse, before any work, a render whose subjects cannot fit in memory.

    Args:
        config: Render settings.
        frames: Frames per subject.
        workers: Subjects rendered at the same time.
        held: Rendered subjects kept in memory until their shard is written (the in-process
            executor keeps a shard's samples; Ray workers keep whole shards only where memory
            allows, see :meth:`hvg_data.ray_executor._Scheduler.whole_shards`).

    Raises:
        InputError: ``field='size'``, with the estimate and what to lower.
    """
    stored = config.views * config.size * config.size * STORED_BYTES_PER_PIXEL * frames
    need = workers * subject_peak_bytes(config, frames) + max(0, held - 1) * stored
    have = available_memory_bytes()
    if need > MEMORY_HEADROOM * have:
        gib = 1024**3
        raise InputError(
            f"{config.size}x{config.size} px x {config.views} views x {frames} frame(s) needs "
            f"~{need / gib:.1f} GiB for {workers} worker(s), but only {have / gib:.1f} GiB is "
            "available; lower --size, --views, --frames, --shard-size or --num-workers",
            field="size",
        )


def frames_hint(adapter: Any, config: RenderConfig) -> int:
    """Frames per subject as far as known before loading (``config.frames`` caps it)."""
    frames = getattr(adapter, "frames", None)
    frames = frames if isinstance(frames, int) and frames > 0 else 1
    return min(frames, config.frames) if config.frames is not None else frames


def estimated_render_seconds(subjects: int, config: RenderConfig, frames: int) -> float:
    """Serial rendering time of ``subjects`` subjects on one core (see the constants)."""
    megapixels = config.views * frames * config.size * config.size / 1e6
    return subjects * (RENDER_S_PER_SUBJECT + megapixels * RENDER_S_PER_MEGAPIXEL)


def choose_executor(
    options: PipelineOptions, subjects: int, config: RenderConfig, frames: int
) -> str:
    """``"local"`` or ``"ray"`` for ``options.executor == "auto"`` (else the explicit choice).

    Ray runs when a cluster address is given, or when the time that the extra workers save,
    ``T * (1 - 1 / workers)`` for a serial estimate ``T``, exceeds :data:`RAY_STARTUP_S`. With
    one worker, or a handful of small subjects (the demo's 8 subjects at 64²), it renders in
    this process.
    """
    if options.executor != "auto":
        return options.executor
    if options.address:
        return "ray"
    workers = min(options.num_workers or default_workers(), subjects)
    if workers <= 1:
        return "local"
    saved = estimated_render_seconds(subjects, config, frames) * (1 - 1 / workers)
    return "ray" if saved > RAY_STARTUP_S else "local"


def _resolve(path: str | os.PathLike[str] | None) -> str | None:
    return None if path is None else str(Path(path).expanduser().resolve())


# ----------------------------------------------------------------------------- worker side


# ----------------------------------------------------------------------------- driver side


@dataclass
class _Plan:
    """Which shards to render, which to keep, which are in the way."""

    shards: list[list[str]]
    keep: dict[str, ShardRecord]
    render: list[int]
    conflicts: list[str]
    stale: list[Path]


def _file_matches(out: Path, record: ShardRecord) -> bool:
    try:
        path = shard_path(out, record)
    except InputError:
        return False  # an entry naming a file outside the folder is never adopted
    return (
        path.is_file() and path.stat().st_size == record.bytes and sha256_of(path) == record.sha256
    )


def _make_plan(
    out: Path,
    previous: Manifest | None,
    dataset: str,
    shards: list[list[str]],
    config_hash: str,
) -> _Plan:
    names = [SHARD_PATTERN.format(index=index) for index in range(len(shards))]
    plan = _Plan(shards, {}, [], [], [])
    records = previous.shards if previous is not None else {}
    same_dataset = previous is not None and previous.dataset == dataset
    for index, (name, subjects) in enumerate(zip(names, shards, strict=True)):
        record = records.get(name)
        if record is None or not _file_matches(out, record):
            plan.render.append(index)  # nothing valid there: missing, corrupt or unlisted
            continue
        same = same_dataset and record.config_hash == config_hash and record.subjects == subjects
        if same and not record.failures:
            plan.keep[name] = record
            continue
        if not same:
            plan.conflicts.append(
                f"{name} ({record.samples} sample(s) of {previous.dataset if previous else '?'}, "
                f"config {record.config_hash})"
            )
        plan.render.append(index)
    for path in sorted(out.glob("shard-*.h5")):
        if path.name not in names:
            listed = "listed" if path.name in records else "not listed"
            plan.conflicts.append(f"{path.name} (beyond this run's plan, {listed} in the manifest)")
            plan.stale.append(path)
    return plan


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
    prune: bool = False,
    retry_failed: bool = False,
    on_shard: Callable[[dict[str, Any]], None] | None = None,
) -> RenderSummary:
    """Render a dataset into resumable shards.

    Args:
        dataset: Registry name of the dataset.
        root: Dataset root (``None`` for generated datasets); relative paths are resolved
            against the current directory here, before any worker sees them.
        out: Output folder (created, locked while the run lasts).
        config: Render settings; ``config.adapter`` is filled from the adapter.
        adapter_options: Keyword options of the adapter (names and types checked).
        limit: Render only the first ``limit`` subjects (sorted), >= 1.
        subjects: Render only these subject ids (in this order).
        options: Executor settings.
        prune: Delete complete shards of an earlier run that this run's plan replaces or drops.
        retry_failed: Rerun the plan recorded in ``manifest.json`` (its shards' subjects), which
            re-renders exactly the shards with failed subjects; needs an existing manifest.
        on_shard: Called in the driver with each finished shard's record (progress hooks).

    Returns:
        A :class:`RenderSummary`; ``summary.exit_code`` is 3 when some subjects failed, 1 when
        all did.

    Raises:
        InputError: Bad arguments or options, not enough memory, the folder is locked, or the
            run would delete complete shards without ``prune``.
    """
    options = options or PipelineOptions()
    if limit is not None and (isinstance(limit, bool) or limit < 1):
        raise InputError(f"must be >= 1, got {limit}", field="limit")
    root_str = _resolve(root)
    out_dir = Path(_resolve(out) or ".")
    smplx_model_dir = _resolve(options.smplx_model_dir)
    adapter_options = dict(adapter_options or {})
    adapter = make_adapter(dataset, root_str, adapter_options)
    config = dataclasses.replace(config, adapter=adapter.config())
    config_hash = config.hash()
    all_subjects = adapter.subjects()
    if subjects is not None:
        unknown = sorted(set(subjects) - set(all_subjects))
        if unknown:
            raise InputError(f"unknown subjects {unknown[:5]}", field="subject")
        chosen = list(subjects)
    else:
        chosen = all_subjects
    if limit is not None:
        chosen = chosen[:limit]
    if not chosen:
        raise InputError(f"no subjects found for {dataset}", path=root_str)
    frames = frames_hint(adapter, config)
    executor = choose_executor(options, len(chosen), config, frames)
    workers = 1 if executor == "local" else (options.num_workers or default_workers())
    held = min(config.shard_size, len(chosen)) if executor == "local" else 1
    check_memory(config, frames, min(workers, len(chosen)), held)

    with FolderLock(out_dir, f"hvg-data render {dataset}"):
        remove_stale_temporaries(out_dir)
        shutil.rmtree(out_dir / PARTS_DIR, ignore_errors=True)
        try:
            previous: Manifest | None = Manifest.load(out_dir)
        except InputError:
            previous = None
        if retry_failed:
            shards = _recorded_plan(out_dir, previous, dataset, config_hash)
        else:
            shards = plan_shards(chosen, config.shard_size)
        plan = _make_plan(out_dir, previous, dataset, shards, config_hash)
        if plan.conflicts and not prune:
            listed = "; ".join(plan.conflicts[:3])
            more = f" and {len(plan.conflicts) - 3} more" if len(plan.conflicts) > 3 else ""
            raise InputError(
                f"this run would replace or delete {len(plan.conflicts)} shard(s) of an earlier "
                f"run: {listed}{more}. Pass --prune to replace them, or choose another output "
                "folder",
                path=out_dir,
                field="out",
            )
        for stale in plan.stale:
            stale.unlink()
        manifest = Manifest(dataset, config.to_json(), config_hash, dict(plan.keep))
        manifest.save(out_dir)
        summary = RenderSummary(
            out_dir,
            shards_total=len(shards),
            shards_skipped=len(plan.keep),
            executor=executor if plan.render else "none",
        )
        if plan.render:
            writer = ShardWriter(out_dir, dataset, config, config_hash, manifest, summary, on_shard)
            job = RenderJob(
                dataset=dataset,
                frames=frames,
                adapter=adapter,
                root=root_str,
                adapter_options=adapter_options,
                config=config,
                smplx_model_dir=smplx_model_dir,
                shards={index: shards[index] for index in plan.render},
            )
            if executor == "local":
                _run_local(job, options, writer)
            else:
                _run_on_ray(job, options, writer, out_dir / PARTS_DIR)
        summary.samples = manifest.num_samples
        summary.failures = _write_failures(out_dir, manifest)
        return summary


def _recorded_plan(
    out: Path, previous: Manifest | None, dataset: str, config_hash: str
) -> list[list[str]]:
    if previous is None:
        raise InputError(
            "--retry-failed needs the manifest.json of an earlier run here", path=out, field="out"
        )
    if previous.dataset != dataset or previous.config_hash != config_hash:
        raise InputError(
            f"--retry-failed reruns the recorded run ({previous.dataset}, config "
            f"{previous.config_hash}) but these settings give {dataset}, config {config_hash}: "
            "use the same dataset, options and render settings",
            path=out / "manifest.json",
            field="config_hash",
        )
    names = sorted(previous.shards)
    expected = [SHARD_PATTERN.format(index=index) for index in range(len(names))]
    if names != expected:
        raise InputError(
            "the manifest does not list consecutive shards", path=out / "manifest.json"
        )
    return [list(previous.shards[name].subjects) for name in names]


def _progress(
    items: Iterator[Any] | Sequence[Any], options: PipelineOptions, total: int, desc: str
) -> Iterator[Any]:
    from hvg_core.cli_utils import progress

    yield from progress(
        items, desc=desc, total=total, unit="subject", disable=None if options.progress else True
    )


def _run_local(job: RenderJob, options: PipelineOptions, writer: ShardWriter) -> None:
    todo = [(index, subject) for index, group in job.shards.items() for subject in group]
    rendered: dict[int, list[RenderedSample]] = {index: [] for index in job.shards}
    failed: dict[int, list[dict[str, str]]] = {index: [] for index in job.shards}
    remaining = {index: len(group) for index, group in job.shards.items()}
    for index, subject in _progress(iter(todo), options, len(todo), f"render {job.dataset}"):
        sample, failure = render_one(job.adapter, subject, job.config, job.smplx_model_dir)
        if sample is not None:
            rendered[index].append(sample)
        else:
            assert failure is not None
            failed[index].append(failure)
        remaining[index] -= 1
        if remaining[index] == 0:
            writer.write(index, job.shards[index], rendered.pop(index), failed.pop(index))


def _run_on_ray(job: RenderJob, options: PipelineOptions, writer: ShardWriter, parts: Path) -> None:
    """Render on Ray (:mod:`hvg_data.ray_executor`); ``parts`` holds the workers' files meanwhile."""
    from hvg_data.ray_executor import run_on_ray

    parts.mkdir()
    try:
        run_on_ray(job, options, writer, parts)
    finally:
        shutil.rmtree(parts, ignore_errors=True)


def _write_failures(out: Path, manifest: Manifest) -> list[dict[str, str]]:
    failures = [
        dict(failure, shard=name)
        for name in sorted(manifest.shards)
        for failure in manifest.shards[name].failures
    ]
    text = "".join(json.dumps(failure, sort_keys=True) + "\n" for failure in failures)
    atomic_write_bytes(out / FAILURES_NAME, text.encode())
    return failures
