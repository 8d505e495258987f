"""What the rest of xgrad needs to know of ``xgrad.compile``: whether a trace is
running, and two calls that library code makes at the few places a trace must
hear of (this module imports nothing, so any layer may import it).

* :func:`host` runs a small Python function whose results are Python numbers
  that change from one call to the next (Adam's bias corrections from its step
  count). Under a trace the call becomes a step of the program: a replay runs it
  again and its float results enter the later array calls as values, not as
  constants baked in.
* :func:`graph_break` tells the running trace that something it cannot replay
  happened (a hook ran, ...): that signature runs eagerly from then on.
* :func:`side_effect` records a Python call a replay must repeat (reseeding).
"""

from __future__ import annotations

ACTIVE = None  # the running xgrad._compile._trace.Trace, or None


def host(fn, *args):
    """``fn(*args)``; under a trace also a program step whose float results are dynamic."""
    result = fn(*args)
    trace = ACTIVE
    if trace is not None:
        trace.host_step(fn, args, result)
    return result


def check(fn, *args) -> None:
    """``fn(*args)``, a check that raises on bad values (an index out of bounds) and returns
    nothing; ``args`` may hold arrays. Under a trace also a program step: a replay runs it
    again on its own arrays (and raises there), so the check reads no value at trace time."""
    trace = ACTIVE
    if trace is None:
        fn(*args)
    else:
        trace.check_step(fn, args)


def graph_break(reason: str) -> None:
    """Tell the running trace (if any) that ``reason`` cannot be replayed."""
    trace = ACTIVE
    if trace is not None:
        trace.graph_break(reason)


def side_effect(fn, *args) -> None:
    """Record ``fn(*args)`` (already done by the caller) as a step a replay repeats."""
    trace = ACTIVE
    if trace is not None:
        trace.host_step(fn, args, None)


def on_optimizer_step(optimizer) -> None:
    """An optimizer's ``step()`` ran: the program then depends on its hyperparameters."""
    trace = ACTIVE
    if trace is not None:
        trace.note_optimizer(optimizer)
