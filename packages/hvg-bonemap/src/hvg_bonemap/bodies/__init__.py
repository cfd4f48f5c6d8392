"""Body models turning SMPL-X parameters into posed joints.

:func:`body_model` builds one by registry name (``body_models`` kind): the built-in
``anthropometric`` skeleton, the real ``smplx`` model, or a plug-in's.
"""

import inspect
from typing import Any

import torch

from hvg_bonemap._parts import load_part, part_names
from hvg_bonemap.bodies.anthropometric import (
    REST_JOINTS,
    AnthropometricBody,
    joints_from_smplx_params,
    rest_joints,
)
from hvg_bonemap.bodies.kinematics import forward_kinematics
from hvg_bonemap.bodies.params import HandPCA, full_pose_from_params


def body_model_names() -> list[str]:
    """Registered body-model names (built-ins, plus plug-ins when hvg-core is installed)."""
    return part_names("body_models")


def body_model(name: str, **options: Any) -> torch.nn.Module:
    """The body model registered as ``name``, built with the options its constructor takes.

    Hosts pass every option they know (``model_path``, ``gender``, ...); options the model's
    constructor does not accept, and ``None`` values, are left out, so one call site serves
    models with different needs.

    Args:
        name: Registry name, e.g. ``"anthropometric"`` (see :func:`body_model_names`).
        **options: Candidate constructor keywords.

    Returns:
        A module whose ``forward(params)`` maps SMPL-X parameters to joints ``(..., 55, 3)``.

    Raises:
        hvg_bonemap.BoneMapInputError: Unknown name (lists the registered ones).
    """
    factory = load_part("body_models", name, argument="body")
    parameters = inspect.signature(factory).parameters.values()
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    accepted = {p.name for p in parameters}
    kept = {
        key: value
        for key, value in options.items()
        if value is not None and (takes_any or key in accepted)
    }
    return factory(**kept)


__all__ = [
    "REST_JOINTS",
    "AnthropometricBody",
    "HandPCA",
    "body_model",
    "body_model_names",
    "forward_kinematics",
    "full_pose_from_params",
    "joints_from_smplx_params",
    "rest_joints",
]
