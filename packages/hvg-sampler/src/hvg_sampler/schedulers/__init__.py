"""Noise schedules the windowed loop steps with: registered by name, or a diffusers scheduler."""

from hvg_sampler.schedulers.base import Schedule
from hvg_sampler.schedulers.diffusers_adapter import DiffusersSchedule
from hvg_sampler.schedulers.edm_euler import EDMEulerSchedule
from hvg_sampler.schedulers.factory import make_schedule

__all__ = ["DiffusersSchedule", "EDMEulerSchedule", "Schedule", "make_schedule"]
