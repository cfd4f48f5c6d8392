"""A scan renderer: the Embree renderer with every hit pixel painted one flat colour."""

from __future__ import annotations

import dataclasses

import numpy as np
from hvg_data.renderers.base import ScanRender
from hvg_data.renderers.embree import EmbreeScanRenderer

FLAT_COLOUR = (255, 0, 255)


class FlatColourRenderer(EmbreeScanRenderer):
    """Silhouettes in flat magenta on the background colour (test plugin)."""

    name = "testplugin-flat-colour"

    def render(self, *args: object, **kwargs: object) -> ScanRender:
        """Same contract as ``EmbreeScanRenderer.render``; hit pixels are magenta."""
        result = super().render(*args, **kwargs)  # type: ignore[arg-type]
        rgb = result.rgb.copy()
        rgb[result.mask] = np.asarray(FLAT_COLOUR, np.uint8)
        return dataclasses.replace(result, rgb=rgb)
