"""Self-checking exercises for the workshop notebook (numpy only).

- ``checks``: the ``check_*`` functions participants call (what this package exports);
- ``catalogue``: the mistakes beginners make, each with a wrong answer that makes it;
- ``shapes``: what a wrong answer's values show, named for the participant;
- ``answers``: reading a participant's values (a missing ``return``, an integer, ...);
- ``guide``: the instructors' table of mistakes and the hints they get.
"""

from __future__ import annotations

from .catalogue import MISTAKES, Mistake
from .checks import (
    check_bounds,
    check_exp_range,
    check_one_cycle,
    check_prediction,
    check_step_size,
    check_triangular,
    check_triangular2,
)

__all__ = [
    "MISTAKES",
    "Mistake",
    "check_triangular",
    "check_triangular2",
    "check_exp_range",
    "check_one_cycle",
    "check_prediction",
    "check_step_size",
    "check_bounds",
]
