"""Optimiser, learning-rate schedule, parameter freezing and the EMA of the trainable weights."""

from __future__ import annotations

import fnmatch
import importlib.util
import math
from collections.abc import Iterable

import torch
from hvg_core.errors import InputError, MissingResourceError
from torch import Tensor, nn


def select_trainable(module: nn.Module, trainable: list[str], frozen: list[str]) -> list[str]:
    """Set ``requires_grad`` from ``fnmatch`` patterns over parameter names; return the trained names.

    Raises:
        ValueError: No parameter matches (a typo in the patterns would otherwise train nothing).
    """
    names = []
    for name, parameter in module.named_parameters():
        train = any(fnmatch.fnmatchcase(name, pattern) for pattern in trainable) and not any(
            fnmatch.fnmatchcase(name, pattern) for pattern in frozen
        )
        parameter.requires_grad_(train)
        if train:
            names.append(name)
    if not names:
        raise InputError(
            f"no parameter matches model.trainable={trainable} minus model.frozen={frozen}",
            field="model.trainable",
        )
    return names


def build_optimizer(
    parameters: Iterable[nn.Parameter],
    *,
    lr: float,
    betas: tuple[float, float],
    weight_decay: float,
    eps: float,
    use_8bit: str,
    on_cuda: bool,
) -> tuple[torch.optim.Optimizer, str]:
    """AdamW, 8-bit (bitsandbytes) where asked for and possible.

    Returns:
        ``(optimizer, description)``; the description names which AdamW runs (for the log).

    Raises:
        MissingResourceError: ``use_8bit="yes"`` without bitsandbytes or without CUDA.
    """
    available = importlib.util.find_spec("bitsandbytes") is not None
    if use_8bit == "yes" and not (available and on_cuda):
        raise MissingResourceError(
            "optim.use_8bit=yes needs the bitsandbytes package and a CUDA device "
            "(pip install bitsandbytes); use optim.use_8bit=auto to fall back to AdamW",
            field="optim.use_8bit",
        )
    params = list(parameters)
    if use_8bit in {"yes", "auto"} and available and on_cuda:
        import bitsandbytes as bnb  # pyright: ignore[reportMissingImports] (optional, CUDA only)

        optimizer = bnb.optim.AdamW8bit(
            params, lr=lr, betas=betas, weight_decay=weight_decay, eps=eps
        )
        return optimizer, "AdamW8bit (bitsandbytes)"
    optimizer = torch.optim.AdamW(params, lr=lr, betas=betas, weight_decay=weight_decay, eps=eps)
    reason = "" if use_8bit == "no" else " (8-bit needs bitsandbytes and CUDA)"
    return optimizer, f"torch AdamW{reason}"


def lr_factor(
    step: int, *, warmup_steps: int, max_steps: int, schedule: str, min_ratio: float
) -> float:
    """Learning-rate multiplier at ``step`` (0-based): linear warm-up, then the schedule."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    span = max(1, max_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    if schedule == "linear":
        return min_ratio + (1 - min_ratio) * (1 - progress)
    if schedule == "cosine":
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    raise InputError(f"unknown schedule {schedule!r}", field="optim.schedule")


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    *,
    warmup_steps: int,
    max_steps: int,
    schedule: str,
    min_ratio: float,
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` following :func:`lr_factor` (its state dict holds the step)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: lr_factor(
            step,
            warmup_steps=warmup_steps,
            max_steps=max_steps,
            schedule=schedule,
            min_ratio=min_ratio,
        ),
    )


class ExponentialMovingAverage:
    """fp32 EMA of named parameters: ``ema ← decay·ema + (1 − decay)·θ``, warmed up like diffusers.

    The effective decay at update n is ``min(decay, (1 + n) / (10 + n))`` so that early
    averages are not dominated by the random initial weights.

    Args:
        named_parameters: ``(name, parameter)`` pairs to track.
        decay: Target decay in [0, 1).
    """

    def __init__(self, named_parameters: Iterable[tuple[str, Tensor]], decay: float) -> None:
        self.decay = decay
        self.num_updates = 0
        self.shadow: dict[str, Tensor] = {
            name: parameter.detach().float().clone() for name, parameter in named_parameters
        }

    def current_decay(self) -> float:
        """Decay used by the next update."""
        return min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))

    @torch.no_grad()
    def update(self, named_parameters: Iterable[tuple[str, Tensor]]) -> None:
        """Move the averages towards the current values."""
        weight = 1.0 - self.current_decay()
        current = dict(named_parameters)
        names = list(self.shadow)
        torch._foreach_lerp_(
            [self.shadow[name] for name in names],
            [current[name].detach().float() for name in names],
            weight,
        )
        self.num_updates += 1

    def state_dict(self) -> dict[str, Tensor]:
        """Tensors only (safetensors-ready); the update count is stored as a 0-d tensor."""
        return {**self.shadow, "__num_updates__": torch.tensor(self.num_updates, dtype=torch.int64)}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore averages and the update count; the names must match exactly.

        Raises:
            ValueError: Missing or extra names.
        """
        state = dict(state)
        count = state.pop("__num_updates__", None)
        if set(state) != set(self.shadow):
            missing = sorted(set(self.shadow) - set(state))[:5]
            extra = sorted(set(state) - set(self.shadow))[:5]
            raise InputError(
                f"EMA state does not match: missing {missing}, unexpected {extra}", field="ema"
            )
        for name, value in state.items():
            self.shadow[name].copy_(value)
        self.num_updates = int(count) if count is not None else 0
