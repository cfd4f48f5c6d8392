"""HVG core: the ``hvg`` plugin registry, hook specifications and shared CLI helpers.

The public names are imported on first use (:mod:`hvg_core.lazy`): every HVG package imports
``hvg_core.lazy`` in its ``__init__``, which must not pull in pluggy and ``importlib.metadata``.
"""

from hvg_core.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "DuplicateRegistrationError": "hvg_core.errors",
        "HVGError": "hvg_core.errors",
        "InputError": "hvg_core.errors",
        "MissingResourceError": "hvg_core.errors",
        "RegistryError": "hvg_core.errors",
        "UnknownPartError": "hvg_core.errors",
        "hookimpl": "hvg_core.hookspecs",
        "hookspec": "hvg_core.hookspecs",
        "Entry": "hvg_core.registry",
        "Registry": "hvg_core.registry",
        "get_registry": "hvg_core.registry",
    },
)
