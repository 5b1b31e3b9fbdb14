"""Where stage tasks run: :class:`RayExecutor` (one Ray task per stage, each with its own
resource request) or :class:`SerialExecutor` (in this process, one after another; the
reference a Ray run is compared with).

An executor has ``submit(stage, point, work) -> handle``, ``wait(handles) -> [(handle,
marker_or_exception)]`` (at least one finished handle, blocking), ``cancel(handles)`` and
``close()``. Ray is imported only by :class:`RayExecutor`; a missing Ray is an error that says
which extra to install.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hgqflow.sweep.config import StageResources
from hgqflow.sweep.points import Point
from hgqflow.sweep.stages import run_stage

__all__ = ["RAY_MISSING", "RayExecutor", "SerialExecutor", "import_ray"]

RAY_MISSING = "hgq sweep needs Ray: pip install 'hgqflow[sweep]' (or pip install 'ray>=2.60')"


def import_ray() -> Any:
    """The ``ray`` module; :class:`~hgq_hw.errors.HgqError` (a ``ValueError``, one line at the
    CLI) with :data:`RAY_MISSING` when it is not installed."""
    try:
        import ray
    except ImportError as err:
        from hgq_hw.errors import HgqError

        raise HgqError(f"{RAY_MISSING} ({err})") from None
    return ray


def _stage_task(stage: str, point: Point, work: str, threads: int | None) -> dict[str, Any]:
    """The body of a Ray stage task (module level, so Ray pickles it by reference); the
    marker records the id of the Ray node it ran on."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    return run_stage(stage, point, Path(work), threads, node=node)


class SerialExecutor:
    """Runs each stage in this process when it is waited for, in submission order."""

    def __init__(self) -> None:
        self._queue: list[tuple[int, str, Point, Path]] = []
        self._next = 0

    def submit(self, stage: str, point: Point, work: Path) -> int:
        self._next += 1
        self._queue.append((self._next, stage, point, work))
        return self._next

    def wait(self, handles: Sequence[int]) -> list[tuple[int, Any]]:
        handle, stage, point, work = next(q for q in self._queue if q[0] in handles)
        self._queue = [q for q in self._queue if q[0] != handle]
        try:
            return [(handle, run_stage(stage, point, work))]
        except Exception as err:  # reported as the stage's failure, as Ray would
            return [(handle, err)]

    def cancel(self, handles: Sequence[int]) -> None:
        self._queue = [q for q in self._queue if q[0] not in handles]

    def capacity(self) -> int:
        return 1

    def close(self) -> None:
        pass


class RayExecutor:
    """Stage tasks on Ray: a local Ray started here (``address=None``, ``num_cpus`` CPUs), an
    existing cluster (``"auto"``, ``"ray://host:port"``), or the Ray this process already
    joined (left running by :meth:`close`). Each stage asks for its :class:`StageResources`;
    Ray does not retry a task (the runner retries a failed point once)."""

    def __init__(
        self,
        resources: dict[str, StageResources],
        *,
        address: str | None = None,
        num_cpus: int | None = None,
    ) -> None:
        ray = self._ray = import_ray()
        self._owned = not ray.is_initialized()
        if self._owned:
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": "WARNING",
            }
            if address is None:
                kwargs["num_cpus"] = num_cpus or os.cpu_count() or 1
            else:
                kwargs["address"] = address
            ray.init(**kwargs)
        self._resources = resources
        try:
            self._check_fits(ray.cluster_resources())
        except ValueError:
            self.close()
            raise
        self._remote = ray.remote(max_retries=0)(_stage_task)
        self._refs: dict[Any, Any] = {}

    def _check_fits(self, cluster: dict[str, float]) -> None:
        """``ValueError`` naming the stage whose request no node of this size can meet (Ray
        would wait for it forever)."""
        for stage, ask in self._resources.items():
            for key, need, unit in (
                ("CPU", ask.num_cpus, "CPUs"),
                ("memory", ask.memory_mb * 2**20, "bytes of memory"),
            ):
                have = cluster.get(key, 0.0)
                if need > have:
                    raise ValueError(
                        f"[sweep.resources.{stage}] asks for {need:g} {unit}, the Ray cluster "
                        f"has {have:g} in all: lower it or add nodes"
                    )

    def submit(self, stage: str, point: Point, work: Path) -> Any:
        ask = self._resources[stage]
        threads = max(1, int(ask.num_cpus)) if ask.num_cpus else None
        ref = self._remote.options(name=f"{stage}:{point.id}", **ask.ray_options()).remote(
            stage, point, str(work), threads
        )
        return ref

    def wait(self, handles: Sequence[Any]) -> list[tuple[Any, Any]]:
        ray = self._ray
        done, _ = ray.wait(list(handles), num_returns=1, timeout=None)
        out = []
        for ref in done:
            try:
                out.append((ref, ray.get(ref)))
            except Exception as err:  # RayTaskError (the stage raised), WorkerCrashedError, ...
                out.append((ref, err))
        return out

    def cancel(self, handles: Sequence[Any]) -> None:
        for ref in handles:
            with contextlib.suppress(Exception):  # already finished or gone
                self._ray.cancel(ref, force=True)

    def capacity(self) -> int:
        """CPUs of the cluster (how many stage tasks can run at once)."""
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def close(self) -> None:
        if self._owned:
            self._ray.shutdown()
