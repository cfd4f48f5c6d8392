"""Load a verified reference file into its plain-torch network (``weights_only=True``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hvg_core.errors import InputError

from hvg_eval.weights.registry import (
    WEIGHT_FILES,
    check_against_manifest,
    resolve_weight_file,
)
from hvg_eval.weights.state_dict import read_state_dict as read_state_dict  # re-export


@dataclass(frozen=True)
class WeightRecord:
    """What a result JSON records about one weight file.

    Attributes:
        key: Registry key.
        filename: File name found.
        path: Where it was found.
        sha256: Full SHA-256 of the bytes used.
        verified: Whether it matched the published digest.
        checked: What was compared.
    """

    key: str
    filename: str
    path: str
    sha256: str
    verified: bool
    checked: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return dict(self.__dict__)


def load_network(
    key: str,
    module: Any,
    *,
    metric: str,
    weights_dir: str | os.PathLike[str] | None = None,
    allow_unverified: bool = False,
    keep_prefix: str | None = None,
) -> WeightRecord:
    """Resolve, verify and load the reference file ``key`` into ``module`` (in place, eval).

    Args:
        key: Weight registry key.
        module: The plain-torch network (state-dict file) — ignored for TorchScript files.
        metric: Who needs it (for the error message).
        weights_dir: Highest-priority search directory.
        allow_unverified: Accept a checksum mismatch.
        keep_prefix: Keep only keys starting with this prefix (``"features."`` for VGG16).

    Returns:
        The record to store in results.

    Raises:
        MissingResourceError: Missing or mismatching file.
        InputError: A file whose keys/shapes do not match the manifest.
    """
    entry = WEIGHT_FILES[key]
    verification = resolve_weight_file(key, metric, weights_dir, allow_unverified=allow_unverified)
    state = read_state_dict(verification.path)
    if keep_prefix is not None:
        state = {name: value for name, value in state.items() if name.startswith(keep_prefix)}
    if entry.manifest is not None:
        check_against_manifest(state, entry.manifest, path=verification.path)
    result = module.load_state_dict(state, strict=False)
    missing = [name for name in result.missing_keys if not name.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise InputError(
            f"state dict does not fit {type(module).__name__}: missing {missing[:3]}, "
            f"unexpected {list(result.unexpected_keys)[:3]}",
            path=verification.path,
        )
    module.eval()
    return WeightRecord(
        key=key,
        filename=verification.path.name,
        path=str(verification.path),
        sha256=verification.sha256,
        verified=verification.ok,
        checked=verification.checked,
    )


def load_torchscript(
    key: str,
    *,
    metric: str,
    weights_dir: str | os.PathLike[str] | None = None,
    allow_unverified: bool = False,
) -> tuple[Any, WeightRecord]:
    """Resolve, verify and ``torch.jit.load`` a TorchScript reference file.

    Raises:
        MissingResourceError: Missing or mismatching file.
        InputError: Not loadable as TorchScript.
    """
    import torch

    verification = resolve_weight_file(key, metric, weights_dir, allow_unverified=allow_unverified)
    try:
        module = torch.jit.load(str(verification.path), map_location="cpu")
    except Exception as error:
        raise InputError(f"cannot load as TorchScript: {error}", path=verification.path) from error
    module.eval()
    record = WeightRecord(
        key=key,
        filename=verification.path.name,
        path=str(verification.path),
        sha256=verification.sha256,
        verified=verification.ok,
        checked=verification.checked,
    )
    return module, record
