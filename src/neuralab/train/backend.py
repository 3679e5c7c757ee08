"""Where the trials of a search run: in this process, or as tasks on a Ray cluster.

A search is many independent trainings (a configuration on a fold).  A backend maps one function
over them and yields each result as it finishes:

* :class:`LocalBackend` (``"local"``): one after another, here.
* :class:`RayBackend` (``"ray"``, the optional extra ``pip install 'neuralab[ray]'``): every
  training is a Ray task.  The data goes once into Ray's object store (``ray.put``) and every task
  reads it from there; each task asks for ``cpus_per_task`` CPUs and pins its BLAS threads to
  what Ray granted it (threadpoolctl), so two tasks on two cores do not fight over them.  A task
  whose worker process dies is run again elsewhere (``max_retries``).  ``address`` joins a
  running cluster (``ray start --head`` on one machine, ``ray start --address HEAD:6379`` on the
  others); without it a local Ray instance is started for the search and stopped after it.

One training is not distributed: a trial runs on one worker.  What scales is the number of
trials and folds running at once.  Every task is seeded on its own, so the results do not depend
on the backend, the number of workers or the order in which tasks finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["Backend", "LocalBackend", "RayBackend", "get_backend"]


class Backend:
    """Runs ``fn(shared, item)`` for every item; :meth:`map_unordered` yields ``(index,
    result)`` pairs as they finish."""

    name = "backend"

    def map_unordered(self, fn: Callable[[Any, Any], Any], shared: Any,
                      items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError


class LocalBackend(Backend):
    """In this process, in order (``shared`` is passed as it is, never copied)."""

    name = "local"

    def map_unordered(self, fn: Callable[[Any, Any], Any], shared: Any,
                      items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            yield index, fn(shared, item)

    def __repr__(self) -> str:
        return "LocalBackend()"


def _ray_task(fn: Callable[[Any, Any], Any], shared: Any, item: Any) -> Any:
    """One task on a Ray worker: BLAS pinned to the CPUs Ray granted this task."""
    import ray
    from threadpoolctl import threadpool_limits

    granted = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    with threadpool_limits(limits=max(1, int(granted))):
        return fn(shared, item)


def _check_reachable(address: str) -> None:
    """Fail in seconds when nothing listens at ``HOST:PORT`` (``ray.init`` would retry for
    minutes); ``auto`` and ``ray://`` addresses are left to Ray."""
    import socket

    host, sep, port = address.rpartition(":")
    if address == "auto" or "://" in address or not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except OSError as err:
        raise ConnectionError(f"cannot reach the Ray cluster at {address!r} "
                              f"({err.strerror or err}); start one with 'ray start --head' or "
                              f"check the address") from None


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("the Ray backend needs Ray: pip install 'neuralab[ray]' (or run with "
                          "backend='local')") from None
    return ray


class RayBackend(Backend):
    """Trials as Ray tasks.

    Args:
        address: a running cluster to join (``"HOST:6379"``, or ``"auto"`` for the one started
            on this machine with ``ray start --head``); None starts a local instance with
            ``num_cpus`` CPUs for the duration of the search.
        num_cpus: CPUs of the local instance (default: all); ignored with ``address``.
        cpus_per_task: CPUs each training asks for, and the BLAS threads it may use (default 1).
        max_retries: how often a task whose worker died is run again (default 3).
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None,
                 cpus_per_task: int = 1, max_retries: int = 3) -> None:
        if isinstance(cpus_per_task, bool) or not isinstance(cpus_per_task, int) \
                or cpus_per_task < 1:
            raise ValueError(f"RayBackend expected a positive integer cpus_per_task, got "
                             f"{cpus_per_task!r}")
        self.address = address
        self.num_cpus = num_cpus
        self.cpus_per_task = cpus_per_task
        self.max_retries = int(max_retries)

    def _connect(self, ray: Any) -> bool:
        """Start or join Ray unless this process already is connected; True when we did."""
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "configure_logging": False}
        if self.address is not None:
            _check_reachable(self.address)
            options["address"] = self.address
        elif self.num_cpus is not None:
            options["num_cpus"] = int(self.num_cpus)
        try:
            ray.init(**options)
        except ConnectionError as err:
            raise ConnectionError(f"cannot reach the Ray cluster at {self.address!r} ({err}); "
                                  f"start one with 'ray start --head' or check the "
                                  f"address") from None
        return True

    def map_unordered(self, fn: Callable[[Any, Any], Any], shared: Any,
                      items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        ray = _import_ray()
        started = self._connect(ray)
        pending: dict[Any, int] = {}
        try:
            shared_ref = ray.put(shared)  # once; every task reads it from the object store
            task = ray.remote(_ray_task).options(num_cpus=self.cpus_per_task,
                                                 max_retries=self.max_retries)
            pending = {task.remote(fn, shared_ref, item): i for i, item in enumerate(items)}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    index = pending.pop(ref)
                    yield index, ray.get(ref)
        finally:
            for ref in pending:  # interrupted or failed: do not leave work running
                ray.cancel(ref, force=True)
            if started:
                ray.shutdown()

    def __repr__(self) -> str:
        return (f"RayBackend(address={self.address!r}, num_cpus={self.num_cpus!r}, "
                f"cpus_per_task={self.cpus_per_task})")


def get_backend(spec: str | Backend | None = "local", address: str | None = None) -> Backend:
    """``"local"`` (or None), ``"ray"`` or a :class:`Backend`; ``address`` is the Ray cluster to
    join."""
    if isinstance(spec, Backend):
        return spec
    if spec in (None, "local"):
        if address is not None:
            raise ValueError("address names a Ray cluster; use backend='ray' with it")
        return LocalBackend()
    if spec == "ray":
        return RayBackend(address)
    raise ValueError(f"backend expected 'local', 'ray' or a Backend, got {spec!r}")
