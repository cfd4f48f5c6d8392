"""Build parts by registry name, so third-party plugins work with no code change."""

from __future__ import annotations

from typing import Any

from hvg_core.errors import InputError


def build_sampler(name: str, **options: Any):
    """Construct a registered sampler: ``build_sampler("hvg", frame_window=24, ...)``.

    Args:
        name: Registry name (``hvg``, ``temporal``, ``view``, ``human4dit``, ``mimicmotion``,
            ``alternate`` or a plugin's).
        **options: Constructor options (see :class:`hvg_sampler.samplers.WindowedSampler`).

    Raises:
        hvg_core.errors.UnknownPartError: Unknown name, listing the registered samplers.
        InputError: The sampler rejected an option.
    """
    from hvg_core.registry import get_registry

    factory = get_registry().load("samplers", name)
    try:
        return factory(**options)
    except TypeError as error:
        raise InputError(f"sampler {name!r} rejected its options: {error}", field=name) from error


def get_fusion_weight(name: str):
    """The registered fusion weight ``weights(length) -> Tensor (length,)`` called ``name``."""
    from hvg_sampler.weights._evaluate import fusion_weight_by_name

    return fusion_weight_by_name(name)


def sampler_from_config(config: dict[str, Any]):
    """Rebuild a sampler from :meth:`WindowedSampler.to_config` output (or a file's table).

    The options go through the sampler's options dataclass
    (:class:`hvg_sampler.options.SamplerOptions`), which checks the ``version`` (older
    ``config_version`` dicts still load), every key and type, and that every part is registered.

    Raises:
        InputError: Missing ``sampler`` name, a newer version, an unknown option, a value of the
            wrong type or an unregistered part (the message names the field).
    """
    options = dict(config)
    name = options.pop("sampler", None)
    if not isinstance(name, str):
        raise InputError("a sampler config needs a 'sampler' name", field="sampler")
    options.pop("not_serialised", None)
    return build_sampler(name, **options)
