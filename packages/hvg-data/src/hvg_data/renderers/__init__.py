"""Scan renderers (RGB + silhouette per camera); registered through ``hvg_register_scan_renderers``.

A scan renderer is a class constructed with keyword options whose ``render(mesh, K, R, t, width,
height)`` returns a :class:`~hvg_data.renderers.base.ScanRender`.
"""
