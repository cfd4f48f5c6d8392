"""``hvg-eval`` command line."""

from __future__ import annotations

from hvg_core.cli_utils import hvg_group, run_group


@hvg_group(package="hvg-eval")
def cli() -> None:
    """HVG eval."""


def main() -> None:
    """Console-script entry point of ``hvg-eval``."""
    run_group(cli, plugin_group="hvg-eval")
