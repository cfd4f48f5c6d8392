"""The plugin registry: entry-point discovery and a typed facade to look parts up.

Usage::

    from hvg_core.registry import get_registry

    registry = get_registry()
    registry.names("samplers")              # ["alternate", "hvg", ...]
    sampler_cls = registry.load("samplers", "hvg")
    for entry in registry.entries("metrics"):
        print(entry.name, entry.distribution, entry.version)

Built-in parts come from the workspace packages' own ``hvg`` entry points, exactly like
third-party plugins. ``HVG_DISABLE_PLUGIN_AUTOLOAD=1`` loads only the built-in distributions.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from types import MappingProxyType
from typing import Any, Final

import pluggy

from hvg_core import hookspecs
from hvg_core.errors import DuplicateRegistrationError, RegistryError, UnknownPartError

#: Kind name -> hook name. The kind is what callers pass to ``Registry.load``.
KINDS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        name.removeprefix("hvg_register_"): name
        for name in dir(hookspecs)
        if name.startswith("hvg_register_")
    }
)

#: Distributions whose entry points are loaded even with HVG_DISABLE_PLUGIN_AUTOLOAD=1.
BUILTIN_DISTRIBUTIONS: Final = frozenset(
    {"hvg-core", "hvg-bonemap", "hvg-data", "hvg-sampler", "hvg-model", "hvg-eval"}
)
DISABLE_AUTOLOAD_ENV: Final = "HVG_DISABLE_PLUGIN_AUTOLOAD"


@dataclass(frozen=True)
class Entry:
    """One registered part.

    Attributes:
        kind: Registry kind, e.g. ``"datasets"`` (see ``KINDS``).
        name: Registry key users type.
        target: The object, or a lazy ``"module:attribute"`` string.
        plugin: Name of the plugin (entry point) that registered it.
        distribution: Distribution that provides the plugin (``"?"`` if registered by hand).
        version: That distribution's version (``"?"`` if unknown).
        description: One-line description.
        metadata: Extra facts given at registration.
    """

    kind: str
    name: str
    target: object
    plugin: str
    distribution: str
    version: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_lazy(self) -> bool:
        """Whether ``target`` is a ``"module:attribute"`` reference not yet imported."""
        return isinstance(self.target, str)

    def load(self) -> Any:
        """Return the registered object, importing a lazy reference on first use."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attribute = self.target.partition(":")
        if not module_name or not attribute:
            raise RegistryError(
                f"{self.kind} {self.name!r} from plugin {self.plugin!r} has the malformed "
                f"reference {self.target!r}; expected 'package.module:attribute'"
            )
        module = importlib.import_module(module_name)
        obj: Any = module
        for part in attribute.split("."):
            obj = getattr(obj, part)
        return obj


def _distribution_of(entry_point: importlib_metadata.EntryPoint) -> tuple[str, str]:
    dist = entry_point.dist
    if dist is None:
        return "?", "?"
    return dist.metadata["Name"], dist.version


def make_plugin_manager(*, load_entry_points: bool = True) -> pluggy.PluginManager:
    """Create the ``hvg`` plugin manager with every hook specification added.

    Args:
        load_entry_points: Register the plugins of the ``hvg`` entry-point group. Third-party
            ones are skipped when ``HVG_DISABLE_PLUGIN_AUTOLOAD`` is set to a true value.

    Returns:
        The plugin manager; ``manager.hvg_distributions`` maps plugin name to
        ``(distribution, version)``.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.hvg_distributions = {}  # type: ignore[attr-defined]
    if load_entry_points:
        only_builtins = os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() in {
            "1",
            "true",
            "yes",
            "on",
        }
        seen: set[str] = set()
        for entry_point in importlib_metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP):
            distribution, version = _distribution_of(entry_point)
            if only_builtins and distribution not in BUILTIN_DISTRIBUTIONS:
                continue
            # The same distribution can be visible twice (editable + site-packages).
            if entry_point.name in seen:
                continue
            seen.add(entry_point.name)
            try:
                plugin = entry_point.load()
            except Exception as error:
                raise RegistryError(
                    f"plugin {entry_point.name!r} (entry point {entry_point.value!r} of "
                    f"distribution {distribution} {version}) failed to import: {error!r}. "
                    f"Fix or uninstall it, or set {DISABLE_AUTOLOAD_ENV}=1 to load only HVG's "
                    "built-in plugins."
                ) from error
            manager.register(plugin, name=entry_point.name)
            manager.hvg_distributions[entry_point.name] = (distribution, version)  # type: ignore[attr-defined]
    manager.check_pending()
    return manager


class Registry:
    """Typed facade over the plugin manager: every registered part, by kind and name.

    Args:
        manager: A plugin manager from :func:`make_plugin_manager`, possibly with more plugins
            registered by hand (``manager.register(module_or_object, name="...")``).
    """

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}
        distributions: dict[str, tuple[str, str]] = getattr(manager, "hvg_distributions", {})
        for kind, hook_name in KINDS.items():
            hook = getattr(manager.hook, hook_name)
            # Call implementations one by one so each registration knows its plugin.
            for implementation in reversed(hook.get_hookimpls()):
                distribution, version = distributions.get(implementation.plugin_name, ("?", "?"))
                register = self._make_register(
                    kind, implementation.plugin_name, distribution, version
                )
                implementation.function(register=register)

    def _make_register(self, kind: str, plugin: str, distribution: str, version: str) -> Any:
        def register(name: str, obj: object, *, description: str = "", **metadata: Any) -> None:
            if not isinstance(name, str) or not name or name != name.strip() or " " in name:
                raise RegistryError(
                    f"plugin {plugin!r} registered {kind} with the invalid name {name!r}; "
                    "names are non-empty strings without spaces"
                )
            existing = self._entries[kind].get(name)
            if existing is not None:
                raise DuplicateRegistrationError(
                    f"{kind} {name!r} is registered twice: by plugin {existing.plugin!r} "
                    f"({existing.distribution}) and by plugin {plugin!r} ({distribution}). "
                    "Rename one of them, or uninstall one of the two plugins."
                )
            self._entries[kind][name] = Entry(
                kind=kind,
                name=name,
                target=obj,
                plugin=plugin,
                distribution=distribution,
                version=version,
                description=description,
                metadata=dict(metadata),
            )

        return register

    def _check_kind(self, kind: str) -> None:
        if kind not in self._entries:
            raise UnknownPartError(
                f"unknown registry kind {kind!r}; kinds are: {', '.join(sorted(KINDS))}"
            )

    def kinds(self) -> list[str]:
        """All registry kinds, sorted."""
        return sorted(self._entries)

    def names(self, kind: str) -> list[str]:
        """Sorted names registered under ``kind``."""
        self._check_kind(kind)
        return sorted(self._entries[kind])

    def entries(self, kind: str | None = None) -> list[Entry]:
        """Entries of one kind (or of every kind), sorted by kind then name."""
        kinds: Iterable[str] = self.kinds() if kind is None else [kind]
        result = []
        for each in kinds:
            self._check_kind(each)
            result.extend(self._entries[each][name] for name in sorted(self._entries[each]))
        return result

    def entry(self, kind: str, name: str) -> Entry:
        """The entry registered as ``name`` under ``kind``.

        Raises:
            UnknownPartError: With the available names in the message.
        """
        self._check_kind(kind)
        try:
            return self._entries[kind][name]
        except KeyError:
            available = ", ".join(self.names(kind)) or "none"
            raise UnknownPartError(
                f"no {kind} named {name!r}; available: {available}. "
                "Run `hvg plugins` to see every registered part and the plugin providing it."
            ) from None

    def load(self, kind: str, name: str) -> Any:
        """The object registered as ``name`` under ``kind`` (imported if lazy)."""
        return self.entry(kind, name).load()

    def __contains__(self, key: tuple[str, str]) -> bool:
        kind, name = key
        return kind in self._entries and name in self._entries[kind]


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, built from the installed entry points on first call."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry(make_plugin_manager())
    return _REGISTRY


def reset_registry() -> None:
    """Forget the process-wide registry (tests; after installing or removing plugins)."""
    global _REGISTRY
    _REGISTRY = None


def load(kind: str, name: str) -> Any:
    """Shortcut for ``get_registry().load(kind, name)``."""
    return get_registry().load(kind, name)


def names(kind: str) -> list[str]:
    """Shortcut for ``get_registry().names(kind)``."""
    return get_registry().names(kind)
