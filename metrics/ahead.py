"""Deciding the years ahead: which year when, and the processes that decide them side by side.

`precompute` is the loader's (core.derived: inside the change that writes the data, for at most
`$FINSAM_PROTECT_SECONDS`), metrics.backlog runs the same chains after the load for the years left. How the years are
scheduled decides nothing about what a year hides (a year's decision is `metrics.suppress._ahead`'s, over its grid
and the year before's), so this module is not part of the engine's digest (metrics.decisions.ENGINE): a change here
does not make every stored decision another engine's.

The processes: `python -m metrics.ahead`. Why not multiprocessing: a spawned worker imports the parent's `__main__`
again, and inside the app's server that is the page script being run (Streamlit sets it), which would run the page
in every worker. This process imports only the engine. It reads one task at a time from stdin and writes its answer
to stdout, each a pickle after its length; the parent is the loader on this machine, the only writer of either pipe.
"""
from __future__ import annotations

import logging
import os
import pickle
import struct
import subprocess
import sys
import time
import traceback
from typing import BinaryIO, NamedTuple

import duckdb

from core import settings

from . import catalog, decisions
from .suppress import DEFAULT_THRESHOLD, PUBLICATION, _ahead, _grid, _Grid, _remember

_LENGTH = struct.Struct(">Q")


def send(pipe: BinaryIO, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_LENGTH.pack(len(data)) + data)
    pipe.flush()


def receive(pipe: BinaryIO) -> object:
    """The next message, or EOFError where the other side has closed the pipe."""
    head = pipe.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    size = _LENGTH.unpack(head)[0]
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def precompute_seconds() -> float:
    """`$FINSAM_PROTECT_SECONDS`: how long a load may spend deciding protection ahead (default 120; 0: none)."""
    return settings.get("FINSAM_PROTECT_SECONDS")


def precompute(con: duckdb.DuckDBPyConnection) -> None:
    """Decide each year's grid at the standard threshold and store it (core.derived: run by the loader inside the
    change that writes the data). The years in order, each decided beside the one before (`_given`), each
    association on its own where there are several, the associations side by side on every core
    (`in_parallel`); past `precompute_seconds` nothing more is begun and the rest is left to metrics.backlog
    (or, where that is off, to the first reader who asks). A year whose cells and year before are as the
    replaced data had them keeps its stored decision (`decisions.kept`), so the budget goes to the years that
    changed, and a load of the same rows again decides on where the last one stopped. Never raises: a decision
    that cannot be made now is made when it is asked for."""
    budget = precompute_seconds()
    rows: list = []
    try:
        if budget > 0:
            years, wholes = ahead_plan(con)
            decide_chains(Chains(con, years, wholes, decisions.kept(con), time.monotonic() + budget, rows))
    except Exception:  # noqa: BLE001 - deciding ahead only saves time; the reader decides what is not stored
        # but the server's log says so: a failure here is a fault of the engine, and every first visit pays for it
        logging.getLogger(__name__).exception("protection could not be decided ahead; %d year(s) stored", len(rows))
    decisions.write(con, rows)


def ahead_plan(con: duckdb.DuckDBPyConnection) -> tuple[list[int], list[tuple[str, ...]]]:
    """The years and the wholes decided ahead (by the load, then metrics.backlog): every year, each association on
    its own where there are several, the one whole of a database with one (or none named)."""
    names = catalog.associations(con)
    return sorted(catalog.years(con)), [()] if len(names) <= 1 else [(a,) for a in names]


def decide_chains(chains: "Chains") -> None:
    """Every step `chains` gives, side by side on every core where there are several associations."""
    if (workers := _workers(len(chains.wholes))) > 1:
        in_parallel(chains, workers)
    else:
        while (step := chains.next()) is not None:
            chains.done(step, _ahead(*step.work))


def _workers(associations: int) -> int:
    """How many processes decide ahead at once: one per core, never more than there are associations."""
    return max(1, min(associations, os.cpu_count() or 1))


class Step(NamedTuple):
    year: int  # an index of Chains.years
    association: int  # an index of Chains.wholes
    work: tuple  # `_ahead`'s arguments


class Chains:
    """The years to decide ahead, each association's in order: the earliest year first across associations (as
    far as the budget goes, every association gets its first years), the next year of an association only once
    the one before is decided, nothing begun past the deadline."""

    def __init__(self, con, years: list[int], wholes: list[tuple[str, ...]], kept: dict, deadline: float,
                 rows: list) -> None:
        self.con, self.years, self.kept, self.deadline = con, years, kept, deadline
        self.ready: list[tuple[int, int]] = [(0, i) for i in range(len(wholes))]  # (year index, association index)
        self.wholes = wholes
        self.before: dict[int, tuple[_Grid, tuple]] = {}
        self.rows = rows  # (year, associations, threshold, digest, decision, cells): decisions.write's

    def next(self) -> Step | None:
        if not self.ready or time.monotonic() > self.deadline:
            return None
        y, a = self.first()
        year, associations = self.years[y], self.wholes[a]
        grid = _grid(self.con, year, associations, PUBLICATION)
        kept = self.kept.get(decisions.kept_key(year, associations, DEFAULT_THRESHOLD), {})
        return Step(y, a, (grid, self.before.get(a), DEFAULT_THRESHOLD, kept))

    def first(self) -> tuple[int, int]:
        """The (year index, association index) to begin next of those ready: the earliest year first."""
        self.ready.sort()
        return self.ready.pop(0)

    def done(self, step: Step, result) -> None:
        grid, digest, decision = result
        y, a = step.year, step.association
        year, associations = self.years[y], self.wholes[a]
        _remember((digest, year, associations, DEFAULT_THRESHOLD), grid.protection(decision, DEFAULT_THRESHOLD))
        self.rows.append((year, associations, DEFAULT_THRESHOLD, digest, decisions.encode(*decision),
                          decisions.encode_grid(grid.values, grid.relations, grid.dim_sets, grid.ctx.positive,
                                                grid.ctx.wide)))
        self.before[a] = (grid, decision)
        if y + 1 < len(self.years):
            self.ready.append((y + 1, a))


def in_parallel(chains: Chains, workers: int) -> None:
    """The associations' chains side by side in `workers` processes (metrics.ahead: they import only the engine,
    never the app's page). The grids are counted here, on the load's connection; the processes only decide.
    Past the deadline nothing new is begun and those running are waited for; a failure in one ends them all."""
    from multiprocessing.connection import wait

    env = settings.environment(PYTHONPATH=str(settings.ROOT))  # the settings as this load has them (overridden too)
    procs = [subprocess.Popen([sys.executable, "-m", "metrics.ahead"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              cwd=settings.ROOT, env=env) for _ in range(workers)]
    idle, running = list(procs), {}
    try:
        while True:
            while idle and (step := chains.next()) is not None:
                proc = idle.pop()
                send(proc.stdin, step.work)
                running[proc.stdout] = (proc, step)
            if not running:
                return
            for pipe in wait(list(running)):
                proc, step = running.pop(pipe)
                status, answer = receive(pipe)
                if status != "ok":
                    raise RuntimeError(f"a year could not be decided ahead in another process:\n{answer}")
                chains.done(step, answer)
                idle.append(proc)
    finally:  # the idle end when their pipe closes; one still deciding (after a failure) is not waited for
        for proc in procs:
            proc.stdin.close()
        for proc, _ in running.values():
            proc.kill()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    answers = os.fdopen(os.dup(1), "wb")  # the answers' own pipe: anything printed goes to stderr instead
    os.dup2(2, 1)
    tasks = sys.stdin.buffer
    while True:
        try:
            args = receive(tasks)
        except EOFError:  # the loader is done
            return
        try:
            send(answers, ("ok", _ahead(*args)))
        except Exception:  # noqa: BLE001 - the loader logs it and leaves the rest to the readers
            send(answers, ("error", traceback.format_exc()))


if __name__ == "__main__":
    main()
