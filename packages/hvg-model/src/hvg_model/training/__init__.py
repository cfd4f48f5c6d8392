"""HVG's two-stage trainer (``hvg-model train``): EDM objective, exact resume, Ray Train.

Modules (import what you need; nothing heavy is imported by this package itself):

- :mod:`~hvg_model.training.config` — ``TrainConfig``, built-in recipes, ``load_config``.
- :mod:`~hvg_model.training.objective` — v-loss, σ sampling, CFG dropout draws.
- :mod:`~hvg_model.training.forward` — the forward pass and loss of a batch (SVD conditioning).
- :mod:`~hvg_model.training.worker_setup` — networks, optimiser, resume and data of a worker.
- :mod:`~hvg_model.training.data` / :mod:`~hvg_model.training.sources` — sample sources,
  deterministic data order.
- :mod:`~hvg_model.training.loop` — the per-worker training loop.
- :mod:`~hvg_model.training.run` — ``train(config, out, resume=...)``, single process or Ray.
- :mod:`~hvg_model.training.checkpoint` — atomic checkpoints.
- :mod:`~hvg_model.training.memory_plan` — GPU memory plan on the meta device.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # names for type checkers; at run time __getattr__ imports them on first use
    from hvg_model.training.config import TrainConfig, load_config
    from hvg_model.training.loop import TrainSummary
    from hvg_model.training.run import train

_EXPORTS = {
    "TrainConfig": "hvg_model.training.config",
    "load_config": "hvg_model.training.config",
    "train": "hvg_model.training.run",
    "TrainSummary": "hvg_model.training.loop",
}

__all__ = ["TrainConfig", "TrainSummary", "load_config", "train"]  # the keys of _EXPORTS


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'hvg_model.training' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
