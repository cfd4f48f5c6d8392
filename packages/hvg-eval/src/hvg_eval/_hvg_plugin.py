"""Built-in parts of hvg-eval, registered through the `hvg` entry-point group."""

from __future__ import annotations

from hvg_core.hookspecs import Register, hookimpl
