"""Where independent parts of a run are computed: in this process, in worker processes, or
on a Dask cluster.

A run splits into parts that share nothing (ticket hashing per task, staffing and dates per
pool of inspectors, see :mod:`scheduler.staffing`). Each part is a pure function of plain
arrays, and every random choice in it is keyed by the part's own label, never by which worker
ran it or when; so the outputs are the same bytes whatever the executor and the number of
workers (tested: ``tests/scheduler/test_executor.py``).

``make_executor(spec)``:

- ``None`` / ``"local"``: in this process, one part after another;
- ``"processes"`` or ``"processes:N"``: a pool of N worker processes on this machine
  (default: the number of CPUs);
- ``"dask://HOST:PORT"`` (or ``"tcp://HOST:PORT"``): an existing Dask cluster's scheduler;
  ``"dask"`` alone takes the address from ``RANDINSPECT_DASK_SCHEDULER``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

ENV_SCHEDULER = "RANDINSPECT_DASK_SCHEDULER"
ENV_EXECUTOR = "RANDINSPECT_EXECUTOR"  # the CLI's default --executor


class Executor(Protocol):
    """Runs ``fn`` over argument tuples; results in the order of the arguments."""

    name: str
    workers: int

    def map(self, fn: Callable[..., Any], args: Sequence[tuple]) -> list[Any]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """One part after another in this process."""

    name = "local"
    workers = 1

    def map(self, fn: Callable[..., Any], args: Sequence[tuple]) -> list[Any]:
        return [fn(*a) for a in args]

    def close(self) -> None:
        pass


def _call(fn: Callable[..., Any], a: tuple) -> Any:
    return fn(*a)


class ProcessExecutor:
    """A pool of worker processes on this machine (forked, so they share the loaded code)."""

    def __init__(self, workers: int | None = None):
        import multiprocessing

        self.workers = max(1, workers or os.cpu_count() or 1)
        self.name = f"processes:{self.workers}"
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"))

    def map(self, fn: Callable[..., Any], args: Sequence[tuple]) -> list[Any]:
        if len(args) <= 1:
            return [fn(*a) for a in args]
        futures = [self._pool.submit(_call, fn, a) for a in args]
        return [f.result() for f in futures]

    def close(self) -> None:
        self._pool.shutdown()


PINNED = ("randinspect", "ortools", "numpy", "scipy", "numba")  # what decides a part's result


def versions() -> dict[str, str]:
    """Versions of the packages whose code computes a part (and Python's)."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in PINNED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def batches(sizes: Sequence[int], target: int) -> list[list[int]]:
    """Consecutive item numbers packed into batches of about ``target`` total size (a batch
    always holds at least one item)."""
    out: list[list[int]] = []
    acc = 0
    for k, s in enumerate(sizes):
        if not out or acc + s > target:
            out.append([])
            acc = 0
        out[-1].append(k)
        acc += s
    return out


def _run_batch(fn: Callable[..., Any], batch: list[tuple]) -> list[Any]:
    return [fn(*a) for a in batch]


def map_packed(
    executor: Executor, fn: Callable[..., Any], args: Sequence[tuple], sizes: Sequence[int], target: int
) -> list[Any]:
    """``[fn(*a) for a in args]`` on ``executor``, consecutive arguments packed into batches of
    about ``target`` total size (fewer messages to the workers; packing changes no result)."""
    groups = batches(sizes, target)
    done = executor.map(_run_batch, [(fn, [args[k] for k in b]) for b in groups])
    return [r for batch in done for r in batch]


def version_mismatches(here: dict[str, str], workers: dict[str, dict[str, str]]) -> list[str]:
    """One line per worker whose versions differ from ``here``."""
    out = []
    for worker, theirs in sorted(workers.items()):
        differ = [f"{k} {theirs.get(k)} (here {v})" for k, v in here.items() if theirs.get(k) != v]
        if differ:
            out.append(f"Dask worker {worker} runs other versions: {', '.join(differ)}")
    return out


class DaskExecutor:
    """Parts run on an existing Dask cluster (``distributed`` scheduler at ``address``).

    Every worker must run the same versions of randinspect and the libraries that compute a
    part (``PINNED``), or the results could differ from a local run: checked on connecting."""

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - the test extra installs it
            raise RuntimeError(
                "the Dask executor needs the 'distributed' package: pip install 'randinspect[cluster]'"
            ) from exc
        self.address = address
        self._client = Client(address, set_as_default=False, timeout="10s")
        self.workers = max(
            1, sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
        )
        self.name = f"dask:{address}"
        problems = version_mismatches(versions(), self._client.run(versions))
        if problems:
            self._client.close()
            raise RuntimeError("; ".join(problems))

    def map(self, fn: Callable[..., Any], args: Sequence[tuple]) -> list[Any]:
        if not args:
            return []
        futures = [self._client.submit(_call, fn, a, pure=False) for a in args]
        return self._client.gather(futures)

    def close(self) -> None:
        self._client.close()


def check_spec(spec: str | None) -> None:
    """Raise ValueError unless ``spec`` names an executor (without connecting to anything)."""
    if spec is None or spec in ("", "local", "processes", "dask"):
        return
    if spec.startswith("processes:"):
        if not spec.partition(":")[2].isdigit():
            raise ValueError(f"executor {spec!r}: the worker count after 'processes:' must be a number")
        return
    if spec.startswith(("dask://", "tcp://")) and len(spec.split("://", 1)[1]) > 0:
        return
    raise ValueError(f"executor {spec!r}: expected local, processes[:N], dask://HOST:PORT or dask")


def make_executor(spec: str | None = None) -> Executor:
    """The executor named by ``spec`` (see the module's docstring)."""
    check_spec(spec)
    if spec is None or spec in ("", "local"):
        return LocalExecutor()
    if spec == "processes" or spec.startswith("processes:"):
        _, _, n = spec.partition(":")
        return ProcessExecutor(int(n) if n else None)
    if spec == "dask":
        address = os.environ.get(ENV_SCHEDULER, "")
        if not address:
            raise ValueError(
                f"executor 'dask': set {ENV_SCHEDULER} to the scheduler's address, or pass dask://HOST:PORT"
            )
        return DaskExecutor(address if "://" in address else f"tcp://{address}")
    if spec.startswith("dask://"):
        return DaskExecutor("tcp://" + spec.removeprefix("dask://"))
    return DaskExecutor(spec)
