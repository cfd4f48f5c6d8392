"""HDF5 shards (DESIGN §5): each sample holds ``rgb`` uint8 ``(V, T, H, W, 3)``.

Other keys (mask, depth, normal, cameras, attributes) are ignored here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hvg_core.errors import InputError

HDF5_SUFFIXES = frozenset({".h5", ".hdf5"})


def list_samples(path: Path) -> list[tuple[str, int, tuple[int, ...]]]:
    """``(sample name, views, shape)`` of every ``rgb`` dataset in a shard.

    A sample is the group holding an ``rgb`` dataset; a top-level ``rgb`` is one sample named
    after the file. ``(T, H, W, 3)`` datasets count as one view.

    Raises:
        InputError: Unreadable file, no ``rgb`` dataset, or a dataset of the wrong rank/channels.
    """
    import h5py

    found: list[tuple[str, int, tuple[int, ...]]] = []
    try:
        with h5py.File(path, "r") as handle:

            def visit(name: str, node: object) -> None:
                if isinstance(node, h5py.Dataset) and name.split("/")[-1] == "rgb":
                    shape = tuple(node.shape)
                    if len(shape) not in (4, 5) or shape[-1] != 3:
                        raise InputError(
                            f"expected (V, T, H, W, 3) or (T, H, W, 3); got shape {shape}",
                            path=path,
                            field=name,
                        )
                    sample = name.rsplit("/", 1)[0] if "/" in name else path.stem
                    found.append((sample, shape[0] if len(shape) == 5 else 1, shape))

            handle.visititems(visit)
    except OSError as error:
        raise InputError(f"cannot read HDF5 file: {error}", path=path) from error
    if not found:
        raise InputError("no 'rgb' dataset in this HDF5 file", path=path, field="rgb")
    return sorted(found)


def read_view(path: Path, sample: str, view: int) -> np.ndarray:
    """One view of one sample as uint8 ``(T, H, W, 3)``.

    Float datasets must lie in [0, 1] (rounded to uint8); other integer types are refused.
    """
    import h5py

    with h5py.File(path, "r") as handle:
        top_level = sample == path.stem and isinstance(handle.get("rgb"), h5py.Dataset)
        key = "rgb" if top_level else f"{sample}/rgb"
        dataset = handle[key]
        assert isinstance(dataset, h5py.Dataset)  # list_samples listed only datasets
        data = dataset[view] if dataset.ndim == 5 else dataset[()]
    if data.dtype == np.uint8:
        return data
    if np.issubdtype(data.dtype, np.floating):
        if data.size and (data.min() < 0 or data.max() > 1):
            raise InputError(
                f"float rgb must lie in [0, 1]; got [{data.min():.4g}, {data.max():.4g}]",
                path=path,
                field=key,
            )
        return np.round(data.astype(np.float64) * 255).astype(np.uint8)
    raise InputError(
        f"rgb must be uint8 (or float in [0, 1]); got {data.dtype}", path=path, field=key
    )
