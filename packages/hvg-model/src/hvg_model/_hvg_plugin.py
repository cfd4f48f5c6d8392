"""Built-in parts of hvg-model, registered through the `hvg` entry-point group.

hvg-model's networks are configured by name through ``HVGDenoisingNet(pose_signal=...)``, whose
pose signals come from hvg-bonemap's ``pose_signals`` registry, and its pipeline picks samplers
from hvg-sampler's ``samplers`` registry. It contributes the end-to-end ``hvg demo`` command to
the umbrella ``hvg`` console script, through the same hook a third-party plugin would use.
"""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl


@hookimpl
def hvg_register_commands(register: Register) -> None:
    """Register ``hvg demo``."""
    register("demo", "hvg_model.demo:demo", group="hvg")
