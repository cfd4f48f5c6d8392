"""Shape and dtype checks for public boundaries.

Every check raises :class:`BoneMapInputError` (a ``ValueError``) whose message names the argument
and the expected shape, so that callers see *which* input is wrong and how it should look.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


class BoneMapInputError(ValueError):
    """An argument has the wrong shape, dtype or value for a bone-map function."""


def as_float_tensor(
    value: object,
    name: str,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Converts ``value`` to a floating tensor, rejecting non-numeric and non-finite input.

    Integer and boolean inputs are promoted to ``torch.get_default_dtype()`` (or ``dtype``);
    floating inputs keep their dtype unless ``dtype`` is given.
    """
    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        try:
            tensor = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError) as error:
            raise BoneMapInputError(
                f"{name}: expected a numeric array, got {type(value).__name__}"
            ) from error
    if tensor.is_complex():
        raise BoneMapInputError(f"{name}: expected a real-valued array, got dtype {tensor.dtype}")
    if not tensor.is_floating_point():
        tensor = tensor.to(dtype or torch.get_default_dtype())
    elif dtype is not None:
        tensor = tensor.to(dtype)
    if device is not None:
        tensor = tensor.to(device)
    if not bool(torch.isfinite(tensor).all()):
        raise BoneMapInputError(f"{name}: contains NaN or infinite values")
    return tensor


def check_trailing_shape(
    tensor: torch.Tensor, name: str, trailing: Sequence[int | None], letters: str
) -> None:
    """Checks that ``tensor.shape`` ends with ``trailing`` (``None`` = any size).

    Args:
        tensor: The tensor to check.
        name: Argument name used in the error message.
        trailing: Expected trailing sizes; ``None`` matches any size.
        letters: Human-readable expected shape, e.g. ``"(..., N, 3)"``.
    """
    shape = tuple(tensor.shape)
    if len(shape) < len(trailing) or any(
        want is not None and got != want
        for got, want in zip(shape[len(shape) - len(trailing) :], trailing, strict=True)
    ):
        raise BoneMapInputError(f"{name}: expected shape {letters}, got {shape}")


def broadcast_batch(shapes: Sequence[tuple[int, ...]], names: Sequence[str]) -> tuple[int, ...]:
    """Broadcasts batch shapes, naming the arguments when they are incompatible."""
    try:
        return tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError as error:
        described = ", ".join(f"{n} batch {tuple(s)}" for n, s in zip(names, shapes, strict=True))
        raise BoneMapInputError(f"batch shapes do not broadcast: {described}") from error
