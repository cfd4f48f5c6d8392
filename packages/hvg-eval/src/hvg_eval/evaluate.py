"""Run registered metrics over real/fake inputs on disk, streaming one video pair at a time."""

from __future__ import annotations

import inspect
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvg_core.errors import HVGError, InputError, MissingResourceError
from hvg_core.registry import get_registry

from hvg_eval.protocols import Protocol, get_protocol

#: The paper's table order.
TABLE_ORDER = ("fid", "ssim", "psnr", "lpips", "l1", "fid-vid", "fvd")


@dataclass
class MetricOutcome:
    """One metric's result.

    Attributes:
        name: Registry name.
        value: The number (``None`` when skipped).
        higher_is_better: Direction.
        conventions: Conventions, counts and resolution the metric reports.
        weights: One record (file, path, SHA-256, verified) per weight file used.
        breakdown: ``{"per_view": {v: x}, "per_frame": {t: x}}`` where the metric provides it.
        extra: Other entries of a mapping returned by ``compute()``.
        skipped: Why the metric was not computed (``--skip-missing``), else ``None``.
        provider: Distribution that registered it.
    """

    name: str
    value: float | None
    higher_is_better: bool | None
    conventions: dict[str, Any] = field(default_factory=dict)
    weights: list[dict[str, Any]] = field(default_factory=list)
    breakdown: dict[str, dict[int, float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    provider: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form (breakdown keys become strings)."""
        return {
            "metric": self.name,
            "value": self.value,
            "higher_is_better": self.higher_is_better,
            "provider": self.provider,
            "conventions": self.conventions,
            "weights": self.weights,
            "breakdown": {
                kind: {str(key): value for key, value in values.items()}
                for kind, values in self.breakdown.items()
            },
            **({"extra": self.extra} if self.extra else {}),
            **({"skipped": self.skipped} if self.skipped else {}),
        }


def _accepted_kwargs(factory: Any, candidates: Mapping[str, Any]) -> dict[str, Any]:
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(candidates)
    return {key: value for key, value in candidates.items() if key in parameters}


def build_metric(
    name: str,
    protocol: Protocol,
    *,
    weights_dir: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    allow_unverified_weights: bool = False,
    per_view: bool = False,
    compile_kernels: bool = False,
) -> Any:
    """Instantiate the metric registered as ``name`` with the options its class accepts.

    Built-in metrics receive the :class:`Protocol` object (with any overrides); plugin metrics
    receive the protocol's name.
    """
    entry = get_registry().entry("metrics", name)
    factory = entry.load()
    builtin = getattr(factory, "__module__", "").startswith("hvg_eval.")
    options = _accepted_kwargs(
        factory,
        {
            "protocol": protocol if builtin else protocol.name,
            "weights_dir": weights_dir,
            "device": device,
            "allow_unverified_weights": allow_unverified_weights,
            "per_view": per_view,
            "compile": compile_kernels,
        },
    )
    metric = factory(**options)
    for method in ("update", "compute", "reset"):
        if not callable(getattr(metric, method, None)):
            raise HVGError(
                f"metric {name!r} from plugin {entry.plugin!r} ({entry.distribution}) has no "
                f"{method}() method; see the metric contract in hvg_eval.metrics.base"
            )
    return metric


def _to_batch(frames: Any) -> Any:
    import torch

    # (T, H, W, 3) uint8 -> (1, 1, T, 3, H, W) float in [0, 1]
    return torch.from_numpy(frames).permute(0, 3, 1, 2).unsqueeze(0).unsqueeze(0).float() / 255.0


def _update(metric: Any, real: Any, fake: Any, view: int) -> None:
    if "view_offset" in _accepted_kwargs(metric.update, {"view_offset": view}):
        metric.update(real, fake, view_offset=view)
    else:
        metric.update(real, fake)


def evaluate(
    metric_names: Sequence[str],
    real: str | os.PathLike[str],
    fake: str | os.PathLike[str],
    *,
    protocol: str | Protocol = "disco",
    weights_dir: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    allow_unverified_weights: bool = False,
    skip_missing: bool = False,
    per_view: bool = False,
    compile_kernels: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    """Compute metrics of ``fake`` against ``real`` and return the result document.

    Args:
        metric_names: Registry names of the metrics.
        real: Ground-truth path (folder, video, HDF5 shard).
        fake: Generated path, same layout.
        protocol: Protocol name or object (with overrides applied).
        weights_dir: Highest-priority weight directory.
        device: Torch device.
        allow_unverified_weights: Accept weight files whose checksum does not match.
        skip_missing: Record metrics whose weights are missing as skipped instead of failing.
        per_view: Keep per-view statistics in the Fréchet metrics too.
        compile_kernels: ``torch.compile`` the per-frame kernels of metrics that offer it.
        progress: ``progress(iterable, desc=, total=)`` wrapper for a progress bar.

    Returns:
        ``{"protocol": {...}, "inputs": {...}, "metrics": {name: outcome dict}, "versions": {...}}``.

    Raises:
        MissingResourceError: A weight file is missing (unless ``skip_missing``).
        InputError: Inputs that do not pair up, or with different frame counts or sizes.
    """
    from hvg_eval.inputs.discover import check_same_frames, discover_videos, pair_videos

    chosen = get_protocol(protocol)
    registry = get_registry()
    metrics: dict[str, Any] = {}
    outcomes: dict[str, MetricOutcome] = {}
    for name in metric_names:
        entry = registry.entry("metrics", name)
        try:
            metrics[name] = build_metric(
                name,
                chosen,
                weights_dir=weights_dir,
                device=device,
                allow_unverified_weights=allow_unverified_weights,
                per_view=per_view,
                compile_kernels=compile_kernels,
            )
        except MissingResourceError as error:
            if not skip_missing:
                raise
            outcomes[name] = MetricOutcome(
                name,
                None,
                entry.metadata.get("higher_is_better"),
                skipped=str(error),
                provider=entry.distribution,
            )
    real_items = discover_videos(real)
    fake_items = discover_videos(fake)
    paired = [name for name, metric in metrics.items() if getattr(metric, "paired", True)]
    unpaired = [name for name in metrics if name not in paired]
    wrap = progress or (lambda iterable, **_: iterable)
    frames_total = {"real": 0, "fake": 0}
    if paired:
        pairs = pair_videos(real_items, fake_items)
        for real_item, fake_item in wrap(pairs, desc="videos", total=len(pairs)):
            real_frames, fake_frames = real_item.read(), fake_item.read()
            check_same_frames(real_item.name, real_frames, fake_frames, fake_item.source)
            frames_total["real"] += real_frames.shape[0]
            frames_total["fake"] += fake_frames.shape[0]
            real_batch, fake_batch = _to_batch(real_frames), _to_batch(fake_frames)
            for name in metrics:
                _update(metrics[name], real_batch, fake_batch, real_item.view)
    elif unpaired:
        for side, items in (("real", real_items), ("fake", fake_items)):
            for item in wrap(items, desc=f"{side} videos", total=len(items)):
                frames = item.read()
                frames_total[side] += frames.shape[0]
                batch = _to_batch(frames)
                for name in unpaired:
                    if side == "real":
                        _update(metrics[name], batch, None, item.view)
                    else:
                        _update(metrics[name], None, batch, item.view)
    for name, metric in metrics.items():
        outcomes[name] = _outcome(name, metric, registry.entry("metrics", name).distribution)
    return {
        "protocol": chosen.as_dict(),
        "inputs": {
            "real": str(Path(real)),
            "fake": str(Path(fake)),
            "real_videos": len(real_items),
            "fake_videos": len(fake_items),
            "real_frames": frames_total["real"],
            "fake_frames": frames_total["fake"],
            "kinds": sorted({item.kind for item in real_items + fake_items}),
            "containers": sorted(
                {item.source.suffix.lower() or "folder" for item in real_items + fake_items}
            ),
        },
        "metrics": {name: outcomes[name].as_dict() for name in metric_names},
        "versions": _versions(),
    }


def _outcome(name: str, metric: Any, provider: str) -> MetricOutcome:
    raw = metric.compute()
    extra: dict[str, Any] = {}
    if isinstance(raw, Mapping):
        if "value" not in raw:
            raise HVGError(f"metric {name!r} returned a mapping without a 'value' entry")
        extra = {key: value for key, value in raw.items() if key != "value"}
        raw = raw["value"]
    try:
        value = float(raw)
    except (TypeError, ValueError) as error:
        raise HVGError(f"metric {name!r} returned {raw!r}, not a number") from error
    optional = {
        attribute: getattr(metric, attribute)()
        for attribute in ("conventions", "weight_records", "breakdown")
        if callable(getattr(metric, attribute, None))
    }
    return MetricOutcome(
        name=name,
        value=value,
        higher_is_better=getattr(metric, "higher_is_better", None),
        conventions=optional.get("conventions", {}),
        weights=optional.get("weight_records", []),
        breakdown=optional.get("breakdown", {}),
        extra=extra,
        provider=provider,
    )


def _versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in ("hvg-eval", "torch", "numpy", "scipy", "scikit-image", "pillow", "av"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def ensure_known(names: Sequence[str]) -> None:
    """Fail early, listing the registered metrics, if a name is unknown.

    Raises:
        InputError: Unknown metric name.
    """
    available = get_registry().names("metrics")
    unknown = [name for name in names if name not in available]
    if unknown:
        raise InputError(
            f"unknown metric {unknown[0]!r}; registered metrics: {', '.join(available)}",
            field="metric",
        )
