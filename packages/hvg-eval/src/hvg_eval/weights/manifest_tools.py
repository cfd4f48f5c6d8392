"""Write and compare key/shape manifests (``python -m hvg_eval.weights.manifest_tools``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hvg_eval.weights.registry import manifest_path


def state_dict_manifest(state_dict: dict[str, Any]) -> dict[str, list[int]]:
    """Sorted ``{key: shape}`` of a state dict."""
    return {key: list(state_dict[key].shape) for key in sorted(state_dict)}


def builtin_manifests() -> dict[str, dict[str, list[int]]]:
    """Manifests of the built-in networks as constructed here, by manifest name."""
    from hvg_eval.networks.fid_inception import FIDInceptionV3
    from hvg_eval.networks.i3d import InceptionI3d
    from hvg_eval.networks.lpips_vgg import LPIPSHeads, VGG16Features
    from hvg_eval.networks.resnet3d import ResNet3D50

    return {
        "fid_inception_v3": state_dict_manifest(FIDInceptionV3().state_dict()),
        "vgg16_features": state_dict_manifest(VGG16Features().state_dict()),
        "lpips_heads_vgg": state_dict_manifest(LPIPSHeads().state_dict()),
        "i3d": state_dict_manifest(InceptionI3d().state_dict()),
        "resnet3d50": state_dict_manifest(ResNet3D50().state_dict()),
    }


def write_manifest(name: str, tensors: dict[str, list[int]], source: str) -> Path:
    """Atomically write ``manifests/<name>.json``."""
    path = manifest_path(name)
    payload = {
        "name": name,
        "source": source,
        "tensor_count": len(tensors),
        "value_count": sum(_numel(shape) for shape in tensors.values()),
        "tensors": tensors,
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(payload, indent=1) + "\n")
    os.replace(temporary, path)
    return path


def _numel(shape: list[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    for manifest_name, manifest in builtin_manifests().items():
        print(
            write_manifest(
                manifest_name,
                manifest,
                "hvg_eval built-in network (checked against reference code in tests)",
            )
        )
