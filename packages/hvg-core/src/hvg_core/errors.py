"""Errors every HVG package raises for expected failures.

The command lines turn these into one clear message and an exit code (see ``hvg_core.cli_utils``):
``InputError`` and its subclasses exit with 2 (bad usage, bad or missing input), any other
``HVGError`` with 1 (a runtime failure).
"""

from __future__ import annotations

from os import PathLike


class HVGError(Exception):
    """A failure HVG expects and can explain; exit code 1 on the command line."""

    exit_code = 1


class InputError(HVGError, ValueError):
    """Bad or missing input: a file, a field of a file, or an argument; exit code 2.

    Args:
        message: What is wrong and, where possible, how to fix it.
        path: The file or folder concerned, if any.
        field: The field (key, column, argument) concerned, if any.
    """

    exit_code = 2

    def __init__(
        self, message: str, *, path: str | PathLike[str] | None = None, field: str | None = None
    ) -> None:
        self.path = None if path is None else str(path)
        self.field = field
        self.message = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if field is not None:
            where.append(f"field {field!r}")
        prefix = f"{': '.join(where)}: " if where else ""
        super().__init__(prefix + message)


class MissingResourceError(InputError):
    """A weight file, dataset or model directory the user must provide is not there."""


class RegistryError(HVGError, LookupError):
    """A part could not be registered or found in the plugin registry; exit code 2."""

    exit_code = 2


class DuplicateRegistrationError(RegistryError):
    """Two plugins registered the same name for the same kind of part."""


class UnknownPartError(RegistryError, KeyError):
    """No part of that kind is registered under that name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""
