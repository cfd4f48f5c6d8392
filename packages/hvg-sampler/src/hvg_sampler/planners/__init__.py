"""Window planners: split one axis (time or views) into windows.

A planner is an object with ``cyclic: bool`` and ``__call__(length, window, overlap)`` returning
a tuple of windows, each a tuple of indices (see :class:`hvg_sampler.protocols.WindowPlanner`).
"""

from hvg_sampler.planners.anchored import AnchoredPlanner
from hvg_sampler.planners.cyclic import CyclicPlanner
from hvg_sampler.planners.partition import PartitionPlanner
from hvg_sampler.planners.sliding import SlidingPlanner

__all__ = ["AnchoredPlanner", "CyclicPlanner", "PartitionPlanner", "SlidingPlanner"]
