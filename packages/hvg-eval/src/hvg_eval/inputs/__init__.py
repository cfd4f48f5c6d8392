"""Reading what gets evaluated: frame folders, MP4/GIF videos, HDF5 shards, generator outputs."""

from hvg_eval.inputs.discover import VideoItem, discover_videos, pair_videos

__all__ = ["VideoItem", "discover_videos", "pair_videos"]
