"""``crosscheck sweep --jobs J``: one sweep (or one shard of it) as J local processes.

Job j of J computes shard (K − 1) + N·j + 1 of N·J of the sweep, whose architectures are those
of shard K of N with (i div N) mod J = j: the J jobs together are exactly shard K of N. Each job
is a fresh Python process (``spawn``: PyTorch and JAX do not survive a fork) that loads the
backends itself; the parent merges their reports (``sweep.merge``) and writes the worst network.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from crosscheck import backends as registry
from crosscheck.runs import memory, sweep


def _job(specs: dict, options: dict, shard: tuple[int, int]) -> sweep.SweepReport:
    """One job: the backends loaded again from their names or paths (after keeping freed
    memory, as ``crosscheck sweep`` does), one shard swept, PyTorch's padded steps apart as
    there."""
    memory.keep_freed()
    modules = {shown: registry.load(spec) for shown, spec in specs.items()}
    apart = sweep.apart_by_default(modules, options["count"] // shard[1])
    return sweep.sweep(modules, shard=shard, apart=apart, **options)


def run(modules: dict, specs: dict, jobs: int, shard: tuple[int, int], worst_file=None,
        **options) -> sweep.SweepReport:
    """Shard ``shard`` of the sweep of ``options`` (``sweep.sweep``'s keywords), as ``jobs``
    processes; ``specs`` maps each backend's name to what loads it (a name or a path)."""
    k, n = shard
    shards = [(k + n * j, n * jobs) for j in range(jobs)]
    began = time.perf_counter()
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        reports = list(pool.map(_job, [specs] * jobs, [options] * jobs, shards))
    report = sweep.merge(reports, time.perf_counter() - began)
    report.shard = shard
    if worst_file and report.worst is not None:
        accepts = sweep.accepted_by(modules) if report.optimizers else None
        draws = sweep.groups(report.seed, report.count, report.per_architecture, report.rules,
                             accepts)
        group = next(g for i, (_, g) in enumerate(draws) if i == report.worst_architecture)
        sweep.write_worst(report, (report.architecture(report.worst_architecture), group),
                          worst_file)
    return report
