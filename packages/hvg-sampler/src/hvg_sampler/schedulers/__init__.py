"""Noise schedules the windowed loop steps with: SVD-xt's EDM Euler, or a diffusers scheduler."""

from hvg_sampler.schedulers.base import Schedule, make_schedule
from hvg_sampler.schedulers.diffusers_adapter import DiffusersSchedule
from hvg_sampler.schedulers.edm_euler import EDMEulerSchedule

__all__ = ["DiffusersSchedule", "EDMEulerSchedule", "Schedule", "make_schedule"]
