"""Build one run's schedule from a registered scheduler name or a scheduler object."""

from __future__ import annotations

from typing import Any

from hvg_core.errors import InputError, UnknownPartError

from hvg_sampler.schedulers.base import Schedule
from hvg_sampler.schedulers.diffusers_adapter import DiffusersSchedule

#: The scheduler a sampler uses when given none: SVD-xt's schedule.
DEFAULT_SCHEDULER = "edm-euler"


def make_schedule(scheduler: Any, num_steps: int) -> Schedule:
    """Build the schedule for one sampling run.

    Args:
        scheduler: A name registered with ``hvg_register_schedulers`` (``"edm-euler"``, SVD-xt's
            schedule, also used for ``None``), whose factory is called as
            ``factory(num_steps)``; an object with ``for_steps(num_steps)`` (a configured
            schedule such as ``EDMEulerSchedule(sigma_min=..., sigma_max=...)``); or a diffusers
            scheduler instance (anything with ``set_timesteps`` and ``step``, e.g.
            ``EulerDiscreteScheduler``).
        num_steps: Number of denoising steps.

    Raises:
        InputError: ``num_steps < 1``, an unregistered name (listing the registered ones) or
            an unsupported object.
    """
    if num_steps < 1:
        raise InputError(f"num_steps must be >= 1, got {num_steps}", field="num_steps")
    if scheduler is None:
        scheduler = DEFAULT_SCHEDULER
    if isinstance(scheduler, str):
        from hvg_core.registry import get_registry

        try:
            factory = get_registry().load("schedulers", scheduler)
        except UnknownPartError as error:
            raise InputError(str(error), field="scheduler") from error
        return factory(num_steps)
    if hasattr(scheduler, "for_steps"):
        return scheduler.for_steps(num_steps)
    if hasattr(scheduler, "set_timesteps") and hasattr(scheduler, "step"):
        return DiffusersSchedule(scheduler, num_steps)
    raise InputError(
        f"unsupported scheduler object {type(scheduler).__name__}: expected a registered "
        "scheduler name, an object with for_steps(num_steps) or a diffusers scheduler",
        field="scheduler",
    )


__all__ = ["DEFAULT_SCHEDULER", "make_schedule"]
