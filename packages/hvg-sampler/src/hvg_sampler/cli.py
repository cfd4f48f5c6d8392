"""``hvg-sampler`` command line."""

from __future__ import annotations

from hvg_core.cli_utils import hvg_group, run_group


@hvg_group(package="hvg-sampler")
def cli() -> None:
    """HVG sampler."""


def main() -> None:
    """Console-script entry point of ``hvg-sampler``."""
    run_group(cli, plugin_group="hvg-sampler")
