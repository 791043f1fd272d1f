"""Ray itself: started quietly in this process (embedded) or joined (a cluster's address),
its nodes checked against what one trial needs, and shut down.

Embedded, Ray starts as a fresh instance on this machine's cores (`address="local"`: never
one a `ray start` left running here). With an address (or RAY_ADDRESS) the sweep joins an
existing cluster; its trials then import the project from the same path on every node
(PYTHONPATH is passed to the workers), and the runs and sweeps folders must be one shared
filesystem mounted at the same path everywhere (the README's cluster recipe).

Joining is bounded in time: Ray's own connect retries for minutes against an address where
nothing answers, printing C++ warnings all the while. `reach_cluster` first opens a plain
TCP connection to the address (refused or silent: one SweepError within CONNECT_TIMEOUT_S,
before the sweep is saved or Ray imported); a port that answers but is not a Ray head gets
one of Ray's connect attempts (about 40 s) rather than twenty, its warnings held back.

Ray is imported only here and in the sweep modules that run under it, so the dashboard and
the other commands start as fast as without it. Its console output is switched off before
the import: a sweep prints the project's own lines only.
"""
from __future__ import annotations

import logging
import os
import re
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.processes import stderr_held_back
from core.sweeps.spec import SweepError

REPO = Path(__file__).resolve().parents[2]  # what every Ray worker must be able to import
QUIET = {
    "RAY_AIR_NEW_OUTPUT": "0",                   # no result tables, no "View results" boxes
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",   # no TensorBoard events or CSV per trial
    "RAY_USAGE_STATS_ENABLED": "0",              # no usage report (and no line about it)
    "TUNE_GLOBAL_CHECKPOINT_S": "2",             # Tune's experiment state saved every 2 s
    "TUNE_WARN_INSUFFICENT_RESOURCE_THRESHOLD_S": "1000000",  # we check resources first
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "RAY_COLOR_PREFIX": "0",                     # a dead worker's "(raylet)" line: plain text
}
OBJECT_STORE_BYTES = 100 * 2**20  # Ray's minimum is 75 MB; trials pass only small dicts
CONNECT_TIMEOUT_S = 10.0  # an address where nothing answers is refused after this long
GPU_PROBE_S = 300.0  # a GPU node's TensorFlow import, first run on a cold node included
# Ray's retries of a head that does not answer (20 by default, each up to 30 s): one.
JOIN_ONCE = {"RAY_gcs_server_port_wait_time_s": "1"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colour codes in Ray's messages


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
            with _joining():
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


@contextmanager
def _joining() -> Iterator[None]:
    """While joining a cluster: one connect attempt (JOIN_ONCE) and Ray's C++ warnings held
    back (the error that follows says what went wrong in one line)."""
    before = {k: os.environ.get(k) for k in JOIN_ONCE}
    os.environ.update({k: os.environ.get(k) or v for k, v in JOIN_ONCE.items()})
    try:
        with stderr_held_back(show_on_error=False):
            yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def reach_cluster(address: str, timeout: float | None = None) -> None:
    """Refuse, within `timeout` seconds (CONNECT_TIMEOUT_S), an address where nothing
    answers: the port is opened with a plain TCP connection before Ray is asked to join.
    Addresses Ray resolves itself ("auto", "local", "") are left to it."""
    host, port = _host_port(address)
    if host is None:
        return
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except socket.timeout:
        reason = f"nothing answered within {timeout:g} s"
    except OSError as exc:
        reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    raise SweepError("address", f"no Ray cluster at {address} ({reason}): start one there "
                                "with `ray start --head`, or check the host and port")


def _host_port(address: str) -> tuple[str | None, int]:
    """(host, port) of 'host:port', 'ray://host:port' or '[v6]:port'; (None, 0) otherwise."""
    match = re.fullmatch(r"(?:ray://)?\[?([^\[\]]+?)\]?:(\d{1,5})", address.strip())
    return (match[1], int(match[2])) if match else (None, 0)


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


def plain(text: str) -> str:
    """One of Ray's messages as one plain line: its colour codes out, its lines joined."""
    return " ".join(ANSI.sub("", text).split())


def check_gpus_usable(gpus: float) -> None:
    """Refuse --gpus-per-trial where a node that offers GPUs runs a TensorFlow that cannot
    see one (the CPU build, or no driver): Ray would hand its trials a GPU and they would
    train on the CPU, silently. Each such node is asked once, by a task holding a GPU there
    (TensorFlow's import: seconds)."""
    if not gpus:
        return
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0, num_gpus=min(gpus, 1.0))(tensorflow_gpus)
    nodes = [n for n in ray.nodes() if n.get("Alive") and n["Resources"].get("GPU", 0) >= gpus]
    refs = {n["NodeManagerAddress"]: probe.options(scheduling_strategy=(
        NodeAffinitySchedulingStrategy(n["NodeID"], soft=False))).remote() for n in nodes}
    try:
        found = ray.get(list(refs.values()), timeout=GPU_PROBE_S)
    except Exception as exc:  # noqa: BLE001  a timeout, a node lost, TensorFlow missing
        raise SweepError("gpus_per_trial", "could not ask the GPU nodes whether TensorFlow "
                                           f"sees a GPU: {_first_sentence(exc)}") from exc
    problems = [f"on node {ip}: {problem}" for ip, facts in zip(refs, found)
                if (problem := gpu_problem(*facts))]
    if problems:
        raise SweepError("gpus_per_trial", "Ray would give trials a GPU that TensorFlow "
                                           f"cannot use, {'; '.join(problems)}")


def tensorflow_gpus() -> tuple[str, bool, int]:
    """(TensorFlow's version, whether it is built with CUDA, the GPUs it sees) here."""
    import tensorflow as tf

    return tf.__version__, tf.test.is_built_with_cuda(), len(
        tf.config.list_physical_devices("GPU"))


def gpu_problem(version: str, cuda: bool, seen: int) -> str:
    """Why a TensorFlow cannot train on a GPU, in words; "" when it can."""
    if not cuda:
        return (f"TensorFlow {version} is the CPU build (tensorflow-cpu): install the GPU "
                "build there with `make setup GPU=1`")
    if not seen:
        return (f"TensorFlow {version} sees no GPU: check the NVIDIA driver there "
                "(`nvidia-smi -L`)")
    return ""


def _first_sentence(exc: BaseException) -> str:
    """Ray's messages run to paragraphs with advice for its own tools: their first sentence."""
    text = plain(str(exc)) or type(exc).__name__
    return text.split(". ")[0][:240]
