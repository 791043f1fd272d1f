"""Ray itself: started quietly in this process (embedded) or joined (a cluster's address),
its nodes checked against what one trial needs, and shut down.

Embedded, Ray starts as a fresh instance on this machine's cores (`address="local"`: never
one a `ray start` left running here). With an address (or RAY_ADDRESS) the sweep joins an
existing cluster; its trials then import the project from the same path on every node
(PYTHONPATH is passed to the workers), and the runs and sweeps folders must be one shared
filesystem mounted at the same path everywhere (the README's cluster recipe).

Ray is imported only here and in the sweep modules that run under it, so the dashboard and
the other commands start as fast as without it. Its console output is switched off before
the import: a sweep prints the project's own lines only.
"""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.sweeps.spec import SweepError

REPO = Path(__file__).resolve().parents[2]  # what every Ray worker must be able to import
QUIET = {
    "RAY_AIR_NEW_OUTPUT": "0",                   # no result tables, no "View results" boxes
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",   # no TensorBoard events or CSV per trial
    "RAY_USAGE_STATS_ENABLED": "0",              # no usage report (and no line about it)
    "TUNE_GLOBAL_CHECKPOINT_S": "2",             # Tune's experiment state saved every 2 s
    "TUNE_WARN_INSUFFICENT_RESOURCE_THRESHOLD_S": "1000000",  # we check resources first
    "TF_CPP_MIN_LOG_LEVEL": "2",
}
OBJECT_STORE_BYTES = 100 * 2**20  # Ray's minimum is 75 MB; trials pass only small dicts


def quiet() -> None:
    """Switch Ray's console output off; must run before `import ray`."""
    for name, value in QUIET.items():
        os.environ.setdefault(name, value)


@contextmanager
def ray_session(address: str = "") -> Iterator[dict]:
    """Ray started embedded (no address) or joined at `address`, shut down on leaving;
    yields the cluster's total resources."""
    quiet()
    import ray

    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    runtime_env = {"env_vars": {"PYTHONPATH": path,
                                **{k: os.environ[k] for k in QUIET if k in os.environ}}}
    options = dict(include_dashboard=False, log_to_driver=False,
                   logging_level=logging.CRITICAL, runtime_env=runtime_env)
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(address="local", num_cpus=os.cpu_count(),
                     object_store_memory=OBJECT_STORE_BYTES, **options)
    except Exception as exc:  # noqa: BLE001  Ray raises many types; say it in one line
        where = f"the Ray cluster at {address}" if address else "Ray on this machine"
        raise SweepError("address", f"could not start or reach {where}: "
                                    f"{_first_sentence(exc)}") from exc
    logging.getLogger("ray").setLevel(logging.CRITICAL)
    try:
        yield ray.cluster_resources()
    finally:
        ray.shutdown()


def check_fits(cpus: float, gpus: float) -> None:
    """Refuse, before any trial starts, a trial that no single node can hold: Ray would
    leave it pending for ever (say, --gpus-per-trial on a machine without a GPU)."""
    import ray

    need = {"CPU": cpus, "GPU": gpus}
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if any(all(n["Resources"].get(k, 0) >= v for k, v in need.items() if v) for n in nodes):
        return
    have = "; ".join(f"{n['Resources'].get('CPU', 0):g} CPU, {n['Resources'].get('GPU', 0):g} "
                     "GPU" for n in nodes) or "none"
    wanted = f"{cpus:g} CPU" + (f" and {gpus:g} GPU" if gpus else "")
    raise SweepError("gpus_per_trial" if gpus else "cpus_per_trial",
                     f"a trial needs {wanted} on one node, but no node of the Ray cluster has "
                     f"that much (its nodes: {have})")


def _first_sentence(exc: BaseException) -> str:
    """Ray's messages run to paragraphs with advice for its own tools: their first sentence."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.split(". ")[0][:240]
