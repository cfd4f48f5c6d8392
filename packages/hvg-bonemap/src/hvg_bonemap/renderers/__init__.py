"""Bone-map rendering backends."""

from hvg_bonemap.renderers.analytic import AnalyticRenderer
from hvg_bonemap.renderers.output import BoneMap
from hvg_bonemap.renderers.reference import render_reference

__all__ = ["AnalyticRenderer", "BoneMap", "render_reference"]
