"""Atomic training checkpoints: weights, EMA, optimiser, schedule, RNG states, data position.

Layout of ``RUN/checkpoints/step-00001000/``::

    model.safetensors      the trainable module's full state dict (DenoisingNet [+ ReferenceNet])
    ema.safetensors        EMA averages of the trainable weights (absent if EMA is off)
    optimizer.safetensors  optimiser state tensors (exp_avg, exp_avg_sq, step per parameter)
    optimizer.json         the rest of the optimiser state and the parameter names it refers to
    scheduler.json         LR-scheduler state
    rng-rank{R}.safetensors / rng-rank{R}.json   torch (CPU, CUDA), numpy and Python RNG states
    trainer_state.json     step, samples consumed, world size, config — written last

The directory is assembled under a ``.tmp-…`` name and renamed into place (``os.replace``), so
a checkpoint either exists completely or not at all; a kill -9 during a write leaves only a
temporary directory that the next run deletes.

Lineage: every training session of a run directory is a *branch* with a random id, started at
step 0 or at the step of the checkpoint it resumed from. A session's lineage is the list of
``[branch, start_step]`` from the first session to itself; it is written to ``RUN/lineage.json``
when the session starts and into every checkpoint it writes (``trainer_state.json``). Resuming
a run directory takes the newest checkpoint *on the run's lineage*, so after ``--resume`` from an
older checkpoint the later checkpoints of the abandoned branch are never picked up again (they
are left on disk, and overwritten when the new branch reaches their step).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hvg_core.errors import InputError, MissingResourceError
from safetensors.torch import load_file, save_file

CHECKPOINT_VERSION = 1
STATE_FILE = "trainer_state.json"
LINEAGE_FILE = "lineage.json"

logger = logging.getLogger(__name__)

#: ``[[branch_id, start_step], ...]`` from a run's first session to the current one.
Lineage = list[list[Any]]


def checkpoint_name(step: int) -> str:
    """Directory name of the checkpoint written after ``step`` optimiser steps."""
    return f"step-{step:08d}"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    found = [
        path
        for path in folder.iterdir()
        if path.is_dir() and path.name.startswith("step-") and (path / STATE_FILE).is_file()
    ]
    return sorted(found, key=lambda path: path.name)


def new_lineage(parent: Lineage | None, start_step: int) -> Lineage:
    """The lineage of a new session: ``parent`` (the resumed checkpoint's) plus a new branch."""
    return [*(parent or []), [uuid.uuid4().hex[:12], int(start_step)]]


def read_state(path: str | Path) -> dict[str, Any]:
    """The ``trainer_state.json`` of a checkpoint directory.

    Raises:
        InputError: Unreadable or not a JSON object.
    """
    state_path = Path(path) / STATE_FILE
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"unreadable trainer state: {error}", path=state_path) from error
    if not isinstance(state, dict):
        raise InputError("trainer state is not a JSON object", path=state_path)
    return state


def read_lineage(run_dir: str | Path) -> Lineage | None:
    """The lineage of the run's latest session (``None`` for runs written before lineages).

    Raises:
        InputError: ``lineage.json`` is malformed.
    """
    path = Path(run_dir) / LINEAGE_FILE
    if not path.is_file():
        return None
    try:
        lineage = json.loads(path.read_text(encoding="utf-8"))["lineage"]
        return [[str(branch), int(start)] for branch, start in lineage]
    except (
        OSError,
        UnicodeDecodeError,
        json.JSONDecodeError,
        KeyError,
        TypeError,
        ValueError,
    ) as error:
        raise InputError(f"malformed run lineage: {error}", path=path, field="lineage") from error


def write_lineage(run_dir: str | Path, lineage: Lineage) -> None:
    """Record ``lineage`` as the run's current session (atomically)."""
    path = Path(run_dir) / LINEAGE_FILE
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(json.dumps({"lineage": lineage}, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def on_lineage(step: int, checkpoint_lineage: Lineage | None, lineage: Lineage | None) -> bool:
    """Whether a checkpoint (its step and the lineage that wrote it) belongs to ``lineage``.

    It does when its branch is on ``lineage`` and its step lies between that branch's start and
    the start of the next branch. In a run without a lineage (written before lineages) every
    checkpoint belongs; a checkpoint without one belongs up to the step the first recorded
    session started from (it is that session's ancestor).
    """
    if lineage is None:
        return True
    if not checkpoint_lineage:
        return bool(lineage) and step <= int(lineage[0][1])
    branch = checkpoint_lineage[-1][0]
    for index, (name, start) in enumerate(lineage):
        if name == branch:
            end = lineage[index + 1][1] if index + 1 < len(lineage) else None
            return step >= start and (end is None or step <= end)
    return False


def lineage_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoints on the run's current lineage, oldest first."""
    lineage = read_lineage(run_dir)
    found = []
    for path in list_checkpoints(run_dir):
        state = read_state(path)
        if on_lineage(int(state["step"]), state.get("lineage"), lineage):
            found.append(path)
    return found


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest checkpoint on the run's lineage, or ``None``."""
    found = lineage_checkpoints(run_dir)
    return found[-1] if found else None


def resolve_resume(path: str | Path, *, step: int | None = None) -> Path:
    """The checkpoint directory ``--resume`` means.

    Args:
        path: A checkpoint directory, or a run directory.
        step: With a run directory: the checkpoint of this step (``--resume-step``); without,
            the newest checkpoint on the run's lineage (never one of an abandoned branch).

    Raises:
        MissingResourceError: Nothing to resume from.
    """
    target = Path(path)
    if (target / STATE_FILE).is_file():
        if step is not None and load_step(target) != step:
            raise InputError(
                f"this checkpoint is of step {load_step(target)}, not {step}",
                path=target,
                field="--resume-step",
            )
        return target
    if step is not None:
        chosen = target / "checkpoints" / checkpoint_name(step)
        if not (chosen / STATE_FILE).is_file():
            steps = [load_step(p) for p in list_checkpoints(target)]
            raise MissingResourceError(
                f"no checkpoint of step {step} in this run; it has steps {steps or 'none'}",
                path=target,
                field="--resume-step",
            )
        return chosen
    found = latest_checkpoint(target)
    if found is None:
        raise MissingResourceError(
            "no checkpoint to resume from: expected a checkpoint directory (with "
            f"{STATE_FILE}) or a run directory with checkpoints/step-*/",
            path=target,
            field="--resume",
        )
    return found


def load_step(path: str | Path) -> int:
    """Step of a checkpoint directory (from its trainer state)."""
    return int(json.loads((Path(path) / STATE_FILE).read_text(encoding="utf-8"))["step"])


def remove_stale_temporaries(run_dir: str | Path) -> list[Path]:
    """Delete ``.tmp-*`` checkpoint directories left by a killed run; return what was removed."""
    folder = Path(run_dir) / "checkpoints"
    removed = []
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name.startswith(".tmp-") or path.name.startswith(".old-"):
                shutil.rmtree(path, ignore_errors=False)
                removed.append(path)
    return removed


def capture_rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Global RNG states as (tensors, JSON-safe values)."""
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{index}"] = state
    kind, keys, position, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    values = {
        "numpy": {
            "kind": kind,
            "keys": keys.tolist(),
            "pos": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }
    return tensors, values


def restore_rng_state(tensors: dict[str, torch.Tensor], values: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = sorted(key for key in tensors if key.startswith("torch_cuda_"))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[key] for key in cuda])
    state = values["numpy"]
    np.random.set_state(
        (
            state["kind"],
            np.asarray(state["keys"], dtype=np.uint32),
            state["pos"],
            state["has_gauss"],
            state["cached_gaussian"],
        )
    )
    state = values["python"]
    random.setstate((state["version"], tuple(state["internal"]), state["gauss_next"]))


@dataclass
class CheckpointPayload:
    """What one checkpoint holds (rank 0's view plus every rank's RNG state).

    Attributes:
        step: Optimiser steps done.
        samples_consumed: Data position (global samples read).
        model: Full state dict of the trainable module.
        ema: EMA state (tensors) or None.
        optimizer: Optimiser state dict (keyed as ``optimizer_names`` says).
        optimizer_names: Parameter names in the optimiser's order.
        scheduler: LR-scheduler state dict.
        rng: Per rank: (tensors, values) from :func:`capture_rng_state`.
        extra: JSON-safe extras (config, world size, ...).
    """

    step: int
    samples_consumed: int
    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor] | None
    optimizer: dict[str, Any]
    optimizer_names: list[str]
    scheduler: dict[str, Any]
    rng: list[tuple[dict[str, torch.Tensor], dict[str, Any]]]
    extra: dict[str, Any]


_TENSOR_MARK = "__tensor__"


def split_tensors(state: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Separate the tensors of a nested state (dicts, lists, scalars) from its JSON skeleton.

    Tensors go to a flat ``{path: tensor}`` dict (for safetensors); each is replaced in the
    skeleton by ``{"__tensor__": path}``. Dict keys become strings, so integer keys (an
    optimiser's parameter ids) are marked and restored by :func:`join_tensors`.
    """
    tensors: dict[str, torch.Tensor] = {}

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, torch.Tensor):
            tensors[path] = value.detach().cpu().contiguous()
            return {_TENSOR_MARK: path}
        if isinstance(value, dict):
            return {"__dict__": [[key, walk(item, f"{path}/{key}")] for key, item in value.items()]}
        if isinstance(value, list | tuple):
            return [walk(item, f"{path}/{index}") for index, item in enumerate(value)]
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise TypeError(f"cannot store {type(value).__name__} at {path or '/'} in a checkpoint")

    return tensors, walk(state, prefix)


def join_tensors(tensors: dict[str, torch.Tensor], skeleton: Any) -> Any:
    """Inverse of :func:`split_tensors` (tuples come back as lists)."""
    if isinstance(skeleton, dict):
        if _TENSOR_MARK in skeleton:
            return tensors[skeleton[_TENSOR_MARK]]
        return {key: join_tensors(tensors, item) for key, item in skeleton["__dict__"]}
    if isinstance(skeleton, list):
        return [join_tensors(tensors, item) for item in skeleton]
    return skeleton


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def save_checkpoint(run_dir: str | Path, payload: CheckpointPayload, *, keep: int) -> Path:
    """Write a checkpoint atomically and prune old ones of the run's lineage.

    Args:
        run_dir: Run directory.
        payload: Contents (``extra["lineage"]`` names the session that writes it).
        keep: Newest checkpoints of the lineage to keep (those of abandoned branches are not
            counted and not deleted here).

    Returns:
        The checkpoint directory.
    """
    folder = Path(run_dir) / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / checkpoint_name(payload.step)
    temporary = folder / f".tmp-{checkpoint_name(payload.step)}-{os.getpid()}"
    if temporary.exists():
        shutil.rmtree(temporary)
    temporary.mkdir()
    contiguous = {key: value.detach().cpu().contiguous() for key, value in payload.model.items()}
    save_file(contiguous, temporary / "model.safetensors", metadata={"format": "pt"})
    if payload.ema is not None:
        save_file(
            {k: v.contiguous() for k, v in payload.ema.items()}, temporary / "ema.safetensors"
        )
    tensors, skeleton = split_tensors(payload.optimizer)
    save_file(tensors, temporary / "optimizer.safetensors")
    (temporary / "optimizer.json").write_text(
        json.dumps({"state": skeleton, "names": payload.optimizer_names}), encoding="utf-8"
    )
    (temporary / "scheduler.json").write_text(json.dumps(payload.scheduler), encoding="utf-8")
    for rank, (tensors, values) in enumerate(payload.rng):
        save_file(
            {k: v.contiguous() for k, v in tensors.items()},
            temporary / f"rng-rank{rank}.safetensors",
        )
        (temporary / f"rng-rank{rank}.json").write_text(json.dumps(values), encoding="utf-8")
    state = {
        "checkpoint_version": CHECKPOINT_VERSION,
        "step": payload.step,
        "samples_consumed": payload.samples_consumed,
        "world_size": len(payload.rng),
        **payload.extra,
    }
    (temporary / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")
    for path in temporary.iterdir():
        _fsync_file(path)
    _publish(temporary, final)
    for stale in lineage_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(stale)
    return final


def _publish(temporary: Path, final: Path) -> None:
    """Rename a finished temporary checkpoint into place (swapping out an older one)."""
    folder = final.parent
    if final.exists():
        # A resumed run re-reaches a step whose checkpoint exists: swap it, never merge.
        old = folder / f".old-{final.name}-{os.getpid()}"
        os.replace(final, old)
        os.replace(temporary, final)
        shutil.rmtree(old)
    else:
        os.replace(temporary, final)


def load_checkpoint(path: str | Path, *, num_ranks: int) -> CheckpointPayload:
    """Read a checkpoint written by :func:`save_checkpoint` (tensors with ``weights_only``).

    Args:
        path: Checkpoint directory.
        num_ranks: Ranks of the resuming run; RNG states are restored per rank when the world
            size matches, otherwise rank 0's state seeds every rank (the data order and every
            draw of the objective do not depend on it).

    Raises:
        InputError: A missing or malformed file, named.
    """
    folder = Path(path)
    state_path = folder / STATE_FILE
    state = read_state(folder)
    if state.get("checkpoint_version") != CHECKPOINT_VERSION:
        raise InputError(
            f"unsupported checkpoint_version {state.get('checkpoint_version')!r}",
            path=state_path,
            field="checkpoint_version",
        )
    for name in (
        "model.safetensors",
        "optimizer.safetensors",
        "optimizer.json",
        "scheduler.json",
        "rng-rank0.safetensors",
    ):
        if not (folder / name).is_file():
            raise InputError(f"checkpoint is incomplete: {name} is missing", path=folder)
    optimizer = json.loads((folder / "optimizer.json").read_text(encoding="utf-8"))
    optimizer_state = join_tensors(load_file(folder / "optimizer.safetensors"), optimizer["state"])
    saved_ranks = int(state.get("world_size", 1))
    rng = []
    for rank in range(num_ranks):
        source = rank if saved_ranks == num_ranks else 0
        values = json.loads((folder / f"rng-rank{source}.json").read_text(encoding="utf-8"))
        rng.append((load_file(folder / f"rng-rank{source}.safetensors"), values))
    ema_path = folder / "ema.safetensors"
    return CheckpointPayload(
        step=int(state["step"]),
        samples_consumed=int(state["samples_consumed"]),
        model=load_file(folder / "model.safetensors"),
        ema=load_file(ema_path) if ema_path.is_file() else None,
        optimizer=optimizer_state,
        optimizer_names=list(optimizer["names"]),
        scheduler=json.loads((folder / "scheduler.json").read_text(encoding="utf-8")),
        rng=rng,
        extra={k: v for k, v in state.items() if k not in {"step", "samples_consumed"}},
    )


def load_model_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Weights for ``model.init_from``: a checkpoint, a run directory (latest checkpoint) or a file.

    Raises:
        MissingResourceError: Nothing found at ``path``.
    """
    target = Path(path)
    if target.is_file() and target.suffix == ".safetensors":
        return load_file(target)
    if (target / "model.safetensors").is_file():
        return load_file(target / "model.safetensors")
    checkpoints = lineage_checkpoints(target)
    if not checkpoints:
        raise MissingResourceError(
            "model.init_from must be a stage-1 checkpoint directory, a run directory with "
            "checkpoints/step-*/ or a model.safetensors file",
            path=target,
            field="model.init_from",
        )
    return load_file(checkpoints[-1] / "model.safetensors")
