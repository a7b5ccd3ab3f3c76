"""Why planning failed, typed by the phase that failed (what the pipeline logs and answers)."""

from __future__ import annotations

import time


class PlanningError(Exception):
    """Planning failed; `phase` names the step: "operation", "search", "refinement" or "deadline"."""

    phase = "operation"


class NoRootTypeError(PlanningError, ValueError):
    """The schema has no root type for the operation's kind (e.g. a mutation on a query-only graph)."""

    phase = "operation"


class UnplannableError(PlanningError):
    """The search found no subgraph that can resolve a selected field from where it is asked (an
    inconsistent supergraph). The plan then carries the message and the executor reports it."""

    phase = "search"


class RefinementError(PlanningError):
    """The refinement passes did not reach a fixed point (a pass kept changing the groups)."""

    phase = "refinement"


class PlanningTimeout(PlanningError):
    """Planning ran past its deadline; the operation is too costly to plan within the limit."""

    phase = "deadline"

    def __init__(self, seconds: float, during: str) -> None:
        super().__init__(f"Query planning took longer than {seconds:g} s (during {during}).")
        self.seconds = seconds
        self.during = during


# What one operation may take to plan (plans are cached, so this is paid once per operation).
DEFAULT_PLANNING_SECONDS = 2.0


class Deadline:
    """A monotonic-clock budget the planner checks as it goes."""

    __slots__ = ("seconds", "_ends")

    def __init__(self, seconds: float = DEFAULT_PLANNING_SECONDS) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def check(self, during: str) -> None:
        if time.monotonic() > self._ends:
            raise PlanningTimeout(self.seconds, during)
