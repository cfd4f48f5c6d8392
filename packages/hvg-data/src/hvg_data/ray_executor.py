"""The ``ray`` executor of ``hvg-data render``: Ray workers render *and write* the shards.

The driver only schedules tasks and keeps the manifest; every shard byte is produced in a worker,
so two workers keep two cores busy. (Issue 14 measured 0.97x from 1 to 2 workers before: the
driver loaded every worker's part and gzip-wrote every shard itself, and ``num_workers=1`` still
ran two tasks at once in a 2-CPU Ray session, so both runs were the same run.)

Task sizes:

* **Whole shards** when there are at least ``2 x workers`` shards to render, or the shard holds
  one subject: one task renders the shard's subjects and writes the shard. No intermediate
  files; only the last round can leave a worker idle.
* **One task per subject** otherwise (too few shards to keep every worker busy, or whole shards
  of every worker would not fit in memory): each writes a part file with its images already
  compressed as the shard stores them, and once a shard's parts are all back one more task
  copies them into the shard (the same bytes).

A worker writes its shard under ``.parts/`` with the final name; the driver records the manifest
entry (size and SHA-256 from the worker) and only then renames the file into the output folder,
so, as with the in-process executor, a shard under its final name always has its manifest entry.

At most ``num_workers`` tasks are in flight (a Ray session may have more CPUs). Ray starts each
worker with ``OMP_NUM_THREADS=1`` (torch then uses one thread), so N workers use N cores.

Failures: Ray re-runs a task whose worker died :data:`~hvg_data.pipeline.TASK_MAX_RETRIES` times.
A whole-shard task that still fails is split into subject tasks, so that the failure lands on the
subject that caused it and the shard's other subjects are kept; a subject task that still fails is
that subject's failure; a failed assembly is a runtime error.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hvg_core.errors import HVGError, MissingResourceError

from hvg_data.config import RenderConfig
from hvg_data.render_job import (
    MEMORY_HEADROOM,
    STORED_BYTES_PER_PIXEL,
    TASK_MAX_RETRIES,
    PipelineOptions,
    RenderJob,
    ShardWriter,
    available_memory_bytes,
    default_workers,
    render_one,
    subject_peak_bytes,
)
from hvg_data.shards import (
    SHARD_PATTERN,
    PackedSample,
    RenderedSample,
    pack_sample,
    read_part,
    save_part,
    write_shard,
)

#: Loggers of Ray that print INFO/WARNING chatter on the console unless ``verbose``.
RAY_LOGGERS = ("ray",)
#: Whole-shard tasks need at least this many shards per worker (fewer: one task per subject).
SHARDS_PER_WORKER = 2

# ----------------------------------------------------------------------------- worker side

_ADAPTERS: dict[str, Any] = {}


def _task_adapter(task: dict[str, Any]) -> Any:
    """The task's adapter, built once per worker process."""
    key = json.dumps([task["adapter_class"], task["root"], task["adapter_options"]])
    if key not in _ADAPTERS:
        module_name, _, attribute = task["adapter_class"].partition(":")
        klass: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            klass = getattr(klass, part)
        _ADAPTERS[key] = klass(task["root"], **task["adapter_options"])
    return _ADAPTERS[key]


def _render(
    task: dict[str, Any], subject: str
) -> tuple[RenderedSample | None, dict[str, str] | None]:
    config = RenderConfig.from_json(task["config"])
    return render_one(_task_adapter(task), subject, config, task["smplx_model_dir"])


def _compression(task: dict[str, Any]) -> int:
    return RenderConfig.from_json(task["config"]).compression


def _fatal(result: dict[str, Any], error: MissingResourceError) -> dict[str, Any]:
    return {**result, "status": "fatal", "reason": error.message, "file": error.path or ""}


def render_subject_task(task: dict[str, Any]) -> dict[str, Any]:
    """Render one subject into a part file (runs in a Ray worker).

    The images are compressed here, chunk by chunk as the shard stores them, so that the
    shard's assembly only copies them.

    Task keys: ``adapter_class`` (``module:attribute``), ``root``, ``adapter_options``,
    ``config`` (RenderConfig JSON), ``smplx_model_dir``, ``subject``, ``shard``, ``position``,
    ``part`` (absolute path of the part file).

    Returns:
        ``{"shard", "position", "subject", "status"}`` with status ``"ok"``, ``"failed"`` (plus
        ``"failure"``) or ``"fatal"`` (plus ``"reason"`` and ``"file"``: a missing resource).
    """
    result = {"shard": task["shard"], "position": task["position"], "subject": task["subject"]}
    try:
        sample, failure = _render(task, task["subject"])
    except MissingResourceError as error:
        return _fatal(result, error)
    if sample is None:
        return {**result, "status": "failed", "failure": failure}
    level = _compression(task)
    save_part(Path(task["part"]), pack_sample(sample, level) if level else sample)
    return {**result, "status": "ok"}


class _Samples(Sequence[RenderedSample | PackedSample]):
    """Rendered samples and part files, a part read only when its sample is."""

    def __init__(self, items: list[RenderedSample | Path]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._load(item) for item in self.items[index]]
        return self._load(self.items[index])

    def __iter__(self) -> Iterator[RenderedSample | PackedSample]:
        for item in self.items:
            yield self._load(item)

    @staticmethod
    def _load(item: RenderedSample | Path) -> RenderedSample | PackedSample:
        return read_part(item) if isinstance(item, Path) else item


def write_shard_task(task: dict[str, Any]) -> dict[str, Any]:
    """Render a shard's subjects (or take them from part files) and write the shard (Ray worker).

    Task keys: those of :func:`render_subject_task` but ``subject``/``position``/``part``, plus
    ``dataset``, ``config_hash``, ``subjects`` (the shard's planned subjects, in order), ``parts``
    (position -> part file of a subject already rendered), ``failures`` (position -> failure
    record of a subject already failed) and ``file`` (where to write the shard). Subjects in
    neither ``parts`` nor ``failures`` are rendered here. The part files are deleted once the
    shard is written.

    Returns:
        ``{"shard", "status": "ok", "file", "sha256", "bytes", "samples", "failures",
        "rendered"}`` (``rendered``: subjects rendered by this task), or status ``"fatal"`` (plus
        ``"reason"`` and ``"file"``: a missing resource).
    """
    result: dict[str, Any] = {"shard": task["shard"]}
    parts: dict[int, str] = task["parts"]
    known: dict[int, dict[str, str]] = task["failures"]
    samples: list[RenderedSample | Path] = []
    failures: list[dict[str, str]] = []
    rendered = 0
    for position, subject in enumerate(task["subjects"]):
        if position in parts:
            samples.append(Path(parts[position]))
            continue
        if position in known:
            failures.append(known[position])
            continue
        try:
            sample, failure = _render(task, subject)
        except MissingResourceError as error:
            return _fatal(result, error)
        rendered += 1
        if sample is None:
            assert failure is not None
            failures.append(failure)
        else:
            samples.append(sample)
    path = Path(task["file"])
    digest = write_shard(
        path,
        _Samples(samples),
        config_hash=task["config_hash"],
        dataset=task["dataset"],
        shard_index=task["shard"],
        compression=_compression(task),
        planned_subjects=task["subjects"],
        failures=failures,
    )
    for part in parts.values():
        Path(part).unlink()
    return {
        **result,
        "status": "ok",
        "file": str(path),
        "sha256": digest,
        "bytes": path.stat().st_size,
        "samples": len(samples),
        "failures": failures,
        "rendered": rendered,
    }


# ----------------------------------------------------------------------------- driver side


def run_on_ray(job: RenderJob, options: PipelineOptions, writer: ShardWriter, parts: Path) -> None:
    """Render ``job`` on Ray: workers write the shards into ``parts``, ``writer`` adopts them.

    Raises:
        MissingResourceError: A task reported a resource every subject needs as missing.
        HVGError: Ray itself failed, or a shard could not be assembled.
    """
    levels, added = _quiet_ray(options.verbose, local=options.address is None)
    try:
        with warnings.catch_warnings():
            if not options.verbose:
                warnings.filterwarnings("ignore", module=r"ray(\.|$)")
            with _ray_session(options) as workers:
                _Scheduler(job, options, writer, parts, workers).run()
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for name in added:
            os.environ.pop(name, None)


def _adapter_reference(dataset: str) -> str:
    """``module:attribute`` of the dataset's adapter class, importable by Ray workers."""
    from hvg_core.registry import get_registry

    entry = next(e for e in get_registry().entries("datasets") if e.name == dataset)
    if isinstance(entry.target, str):
        return entry.target
    return f"{entry.target.__module__}:{entry.target.__qualname__}"


def _quiet_ray(verbose: bool, local: bool) -> tuple[dict[str, int], list[str]]:
    """Set Ray's environment and loggers for a quiet run.

    Returns:
        The logger levels and the names of the environment variables to restore afterwards.
    """
    settings = {"RAY_USAGE_STATS_ENABLED": "0"}
    if local:
        # Workers share this interpreter's environment: skip Ray's `uv run` hook, which packages
        # the working directory (and breaks relative paths). Ray reads it when imported.
        settings["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
        if not verbose:
            # Token authentication stays on (Ray's default for a new local cluster); setting it
            # explicitly only drops Ray's notice about the default.
            settings["RAY_AUTH_MODE"] = "token"
    added = [name for name in settings if name not in os.environ]
    for name in added:
        os.environ[name] = settings[name]
    if verbose:
        return {}, added
    levels = {}
    for name in RAY_LOGGERS:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        # Failures come back as results and are reported by the pipeline itself.
        logger.setLevel(logging.CRITICAL)
    return levels, added


@contextlib.contextmanager
def _ray_session(options: PipelineOptions) -> Iterator[int]:
    """Start (or join) Ray; yield the number of workers; stop a Ray started here.

    Plain Ray tasks rather than a Ray Data ``map``: Ray Data retries a task whose worker died
    forever (``max_retries=-1``) and offers no supported setting to bound it (``ray_remote_args``
    is deprecated), while a task's own ``max_retries`` bounds it and ``ray.get`` names the
    subject whose worker died.

    Raises:
        HVGError: Any error of Ray's own (it wraps its failures in many types).
    """
    import ray

    started_here = False
    try:
        if not ray.is_initialized():
            init: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": options.verbose,
                "configure_logging": options.verbose,
            }
            if options.address is not None:
                init["address"] = options.address
            else:
                init["num_cpus"] = options.num_workers or default_workers()
            init.update(options.ray_init)
            ray.init(**init)
            started_here = True
        yield options.num_workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    except HVGError:
        raise
    except Exception as error:  # Ray wraps its own failures in many types
        raise HVGError(f"the Ray render failed: {type(error).__name__}: {error}") from error
    finally:
        if started_here:
            ray.shutdown()


class _Scheduler:
    """Keeps ``workers`` tasks in flight, turns results into shards, and shard files into entries.

    Args:
        job: What to render.
        options: Executor settings (progress display).
        writer: Records and adopts the shards the workers write.
        parts: Folder of the workers' part and shard files.
        workers: Tasks in flight at most.
    """

    def __init__(
        self,
        job: RenderJob,
        options: PipelineOptions,
        writer: ShardWriter,
        parts: Path,
        workers: int,
    ) -> None:
        self.job, self.writer, self.parts, self.workers = job, writer, parts, workers
        self.options = options
        self.common = {
            "adapter_class": _adapter_reference(job.dataset),
            "root": job.root,
            "adapter_options": job.adapter_options,
            "config": job.config.to_json(),
            "smplx_model_dir": job.smplx_model_dir,
        }
        self.queue: deque[dict[str, Any]] = deque()
        # Shards rendered one task per subject: position -> that subject's result.
        self.outcome: dict[int, dict[int, dict[str, Any]]] = {}

    def whole_shards(self) -> bool:
        """Whether one task per shard keeps every worker busy and fits in memory."""
        config, frames = self.job.config, self.job.frames
        stored = config.views * config.size * config.size * STORED_BYTES_PER_PIXEL * frames
        largest = max(len(group) for group in self.job.shards.values())
        held = subject_peak_bytes(config, frames) + (largest - 1) * stored
        fits = self.workers * held <= MEMORY_HEADROOM * available_memory_bytes()
        return fits and len(self.job.shards) >= SHARDS_PER_WORKER * self.workers

    def run(self) -> None:
        """Render every shard of the job; return when all are recorded in the manifest."""
        import ray
        from hvg_core.cli_utils import ProgressBar

        remote = ray.remote(num_cpus=1, max_retries=TASK_MAX_RETRIES, retry_exceptions=False)
        functions = {"subject": remote(render_subject_task), "shard": remote(write_shard_task)}
        whole = self.whole_shards()
        for index, group in self.job.shards.items():
            if whole or len(group) == 1:
                self.queue.append(self._shard_task(index, {}, {}))
            else:
                self.outcome[index] = {}
                self.queue.extend(self._subject_tasks(index))
        pending: dict[Any, dict[str, Any]] = {}
        disable = None if self.options.progress else True
        with ProgressBar(
            self.job.subjects, desc=f"render {self.job.dataset}", unit="subject", disable=disable
        ) as bar:
            while self.queue or pending:
                while self.queue and len(pending) < self.workers:
                    task = self.queue.popleft()
                    call = functions[task["kind"]].options(name=task["name"])
                    pending[call.remote(task)] = task
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayError as error:
                        bar.update(self._task_failed(task, error))
                        continue
                    bar.update(self._task_done(task, result))

    def _shard_task(
        self, index: int, parts: dict[int, str], failures: dict[int, dict[str, str]]
    ) -> dict[str, Any]:
        name = SHARD_PATTERN.format(index=index)
        return {
            **self.common,
            "kind": "shard",
            "name": f"hvg-data render {self.job.dataset} {name}",
            "dataset": self.job.dataset,
            "config_hash": self.writer.config_hash,
            "shard": index,
            "subjects": self.job.shards[index],
            "parts": parts,
            "failures": failures,
            "file": str(self.parts / name),
        }

    def _subject_tasks(self, index: int) -> list[dict[str, Any]]:
        return [
            {
                **self.common,
                "kind": "subject",
                "name": f"hvg-data render {self.job.dataset} {subject}",
                "subject": subject,
                "shard": index,
                "position": position,
                "part": str(self.parts / f"{index:05d}-{position:05d}.npz"),
            }
            for position, subject in enumerate(self.job.shards[index])
        ]

    def _task_done(self, task: dict[str, Any], result: dict[str, Any]) -> int:
        """Act on a task's result; return the number of subjects it rendered."""
        if result["status"] == "fatal":
            raise MissingResourceError(result["reason"], path=result["file"] or None)
        if task["kind"] == "subject":
            self._subject_done(task, result)
            return 1
        self.writer.adopt(task["shard"], task["subjects"], result)
        return result["rendered"]

    def _subject_done(self, task: dict[str, Any], result: dict[str, Any]) -> None:
        """Record a subject's result; once the shard's are all in, assemble it next."""
        index = task["shard"]
        done = self.outcome[index]
        done[task["position"]] = result
        if len(done) < len(self.job.shards[index]):
            return
        del self.outcome[index]
        parts = {
            p: str(self.parts / f"{index:05d}-{p:05d}.npz")
            for p, r in done.items()
            if r["status"] == "ok"
        }
        failures = {p: r["failure"] for p, r in done.items() if r["status"] != "ok"}
        self.queue.appendleft(self._shard_task(index, parts, failures))

    def _task_failed(self, task: dict[str, Any], error: Exception) -> int:
        """Act on a task that failed for good; return the number of subjects now settled."""
        if task["kind"] == "subject":
            self._subject_done(task, {"status": "failed", "failure": _failure(task, error)})
            return 1
        index, group = task["shard"], task["subjects"]
        if task["parts"] or task["failures"]:
            raise HVGError(
                f"writing {SHARD_PATTERN.format(index=index)} failed on Ray: "
                f"{type(error).__name__}: {_last_line(error)}"
            )
        if len(group) == 1:
            failure = _failure({**task, "subject": group[0]}, error)
            self.queue.appendleft(self._shard_task(index, {}, {0: failure}))
            return 1
        # Find the subject that fails: render the shard again one task per subject.
        self.outcome[index] = {}
        self.queue.extendleft(reversed(self._subject_tasks(index)))
        return 0


def _last_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[-1] if text else ""


def _failure(task: dict[str, Any], error: Exception) -> dict[str, str]:
    """The failure record of a subject whose Ray task failed for good."""
    import ray

    if isinstance(error, (ray.exceptions.WorkerCrashedError, ray.exceptions.OutOfMemoryError)):
        reason = (
            f"the Ray worker rendering it died ({type(error).__name__}: crash or out of memory) "
            f"{TASK_MAX_RETRIES + 1} times"
        )
    else:
        reason = f"the Ray task failed: {type(error).__name__}: {_last_line(error)}"
    return {"subject": task["subject"], "file": "", "reason": reason}
