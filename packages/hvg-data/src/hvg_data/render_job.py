"""What the render executors share: the job, its options, one subject's render, the shard writer.

Its own module so that both executors (in-process in :mod:`hvg_data.pipeline`, Ray workers in
:mod:`hvg_data.ray_executor`) import it without importing each other.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvg_core.errors import HVGError, InputError, MissingResourceError

from hvg_data.config import RenderConfig
from hvg_data.shards import (
    SHARD_PATTERN,
    Manifest,
    RenderedSample,
    ShardRecord,
    write_shard,
)

PARTIAL_FAILURE_EXIT_CODE = 3

EXECUTORS = ("auto", "local", "ray")

#: Ray re-runs a task whose worker process died this many times before the subject fails.
TASK_MAX_RETRIES = 2

#: Peak memory of rendering one subject: renderer buffers per view pixel (measured 75 B/px at
#: 256²-1024²), plus the stored arrays (rgb 3 + mask 1 + depth 2 + normal 3 bytes) per view-frame
#: pixel.
RENDER_BYTES_PER_VIEW_PIXEL = 80

STORED_BYTES_PER_PIXEL = 9

#: Share of the available memory that the workers may plan to use.
MEMORY_HEADROOM = 0.7


@dataclass(frozen=True)
class PipelineOptions:
    """Where and how the shards are computed (does not change their content).

    Attributes:
        executor: ``"auto"`` (default: in-process unless Ray pays for its start-up, see
            :func:`hvg_data.pipeline.choose_executor`), ``"ray"`` (Ray tasks; local Ray started on demand) or
            ``"local"`` (this process, one subject at a time).
        num_workers: Concurrent Ray workers (>= 1); default: the CPUs this process may use.
        address: Address of an existing Ray cluster (``ray://...`` or ``auto``); default: start a
            local one. Implies ``executor="ray"`` under ``auto``.
        ray_init: Extra keyword arguments for ``ray.init`` of a local cluster (e.g.
            ``object_store_memory``).
        smplx_model_dir: SMPL-X model files for ``body_model="smplx"``.
        progress: Show a progress bar (on a terminal).
        verbose: Let Ray print its own logs, warnings and progress bars.
    """

    executor: str = "auto"
    num_workers: int | None = None
    address: str | None = None
    ray_init: dict[str, Any] = field(default_factory=dict)
    smplx_model_dir: str | None = None
    progress: bool = True
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise InputError(
                f"unknown executor {self.executor!r}; use one of {', '.join(EXECUTORS)}",
                field="executor",
            )
        if self.num_workers is not None and (
            isinstance(self.num_workers, bool) or self.num_workers < 1
        ):
            raise InputError(f"must be >= 1, got {self.num_workers}", field="num_workers")


@dataclass
class RenderSummary:
    """What a run did."""

    out: Path
    shards_total: int = 0
    shards_skipped: int = 0
    shards_written: int = 0
    samples: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    executor: str = ""

    @property
    def exit_code(self) -> int:
        """0; :data:`PARTIAL_FAILURE_EXIT_CODE` when some subjects failed; 1 when all did."""
        if not self.failures:
            return 0
        return 1 if self.samples == 0 else PARTIAL_FAILURE_EXIT_CODE


def available_memory_bytes() -> int:
    """Memory available to new work (``MemAvailable``; physical memory if unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def subject_peak_bytes(config: RenderConfig, frames: int) -> int:
    """Estimated peak memory of rendering one subject (renderer buffers + stored arrays)."""
    pixels = config.views * config.size * config.size
    return pixels * (RENDER_BYTES_PER_VIEW_PIXEL + STORED_BYTES_PER_PIXEL * frames)


def default_workers() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def render_one(
    adapter: Any, subject: str, config: RenderConfig, smplx_model_dir: str | None
) -> tuple[RenderedSample | None, dict[str, str] | None]:
    """Load and render one subject: ``(sample, None)`` or ``(None, failure record)``.

    Raises:
        MissingResourceError: A resource every subject needs is missing (stops the run).
    """
    from hvg_data.render_sample import render_sample

    try:
        sample = adapter.load(subject)
        return render_sample(sample, config, smplx_model_dir=smplx_model_dir), None
    except MissingResourceError:
        raise
    except HVGError as error:
        return None, {
            "subject": subject,
            "file": getattr(error, "path", None) or "",
            "reason": str(error),
        }
    except Exception as error:  # a corrupt file can raise anything inside third-party parsers
        last = traceback.extract_tb(error.__traceback__)[-1]
        return None, {
            "subject": subject,
            "file": "",
            "reason": f"{type(error).__name__}: {error} "
            f"(at {Path(last.filename).name}:{last.lineno})",
        }


@dataclass
class RenderJob:
    """What the executors render: ``shards`` (index -> planned subjects) of one dataset."""

    dataset: str
    frames: int
    adapter: Any
    root: str | None
    adapter_options: dict[str, Any]
    config: RenderConfig
    smplx_model_dir: str | None
    shards: dict[int, list[str]]

    @property
    def subjects(self) -> int:
        """Subjects to render over all shards."""
        return sum(len(subjects) for subjects in self.shards.values())


class ShardWriter:
    """Records finished shards in the manifest before they take their final name.

    ``write`` writes a shard here (in-process executor); ``adopt`` takes one a Ray worker wrote.
    """

    def __init__(
        self,
        out: Path,
        dataset: str,
        config: RenderConfig,
        config_hash: str,
        manifest: Manifest,
        summary: RenderSummary,
        on_shard: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        self.out, self.dataset, self.config = out, dataset, config
        self.config_hash, self.manifest, self.summary = config_hash, manifest, summary
        self.on_shard = on_shard

    def write(
        self,
        index: int,
        subjects: list[str],
        samples: Sequence[RenderedSample],
        failures: list[dict[str, str]],
    ) -> None:
        """Write shard ``index`` and record it (before it takes its name)."""
        name = SHARD_PATTERN.format(index=index)

        def record(digest: str, size: int) -> None:
            self._record(
                ShardRecord(
                    name, len(samples), list(subjects), digest, size, self.config_hash, failures
                )
            )

        write_shard(
            self.out / name,
            samples,
            config_hash=self.config_hash,
            dataset=self.dataset,
            shard_index=index,
            compression=self.config.compression,
            planned_subjects=subjects,
            failures=failures,
            before_replace=record,
        )
        self._finished(name)

    def adopt(self, index: int, subjects: list[str], written: dict[str, Any]) -> None:
        """Record a complete shard written elsewhere in the folder, then give it its name.

        Args:
            index: Shard index.
            subjects: The shard's planned subjects.
            written: ``file`` (a complete shard inside the output folder, on the same file
                system), ``sha256``, ``bytes``, ``samples`` and ``failures``.

        Raises:
            HVGError: The file is not the size its writer reported.
        """
        name = SHARD_PATTERN.format(index=index)
        path = Path(written["file"])
        if path.stat().st_size != written["bytes"]:
            raise HVGError(
                f"{path}: {path.stat().st_size} bytes, its writer said {written['bytes']}"
            )
        self._record(
            ShardRecord(
                name,
                written["samples"],
                list(subjects),
                written["sha256"],
                written["bytes"],
                self.config_hash,
                list(written["failures"]),
            )
        )
        os.replace(path, self.out / name)
        self._finished(name)

    def _record(self, record: ShardRecord) -> None:
        self.manifest.shards[record.file] = record
        self.manifest.save(self.out)

    def _finished(self, name: str) -> None:
        self.summary.shards_written += 1
        if self.on_shard is not None:
            self.on_shard(self.manifest.shards[name].to_json())
