"""Ray in tests: each test gets its own short temp dir (Ray's socket paths must fit AF_UNIX's
107 bytes, so pytest's long tmp_path cannot hold them) and its own auth token, and every Ray
process it started is ended by it: found by the RAY_TMPDIR in its environment, which all of
them inherit, never by name (`ray stop` would end every Ray process on the machine).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).parent / "ray"


def ray_environment(temp: Path) -> dict[str, str]:
    """The environment of a test's Ray processes: RAY_TMPDIR in `temp` (short), a token of
    its own (Ray 2.60 turns token auth on), no usage report."""
    temp.mkdir(parents=True, exist_ok=True)
    token = temp / "token"
    token.write_text(secrets.token_hex(32))
    return {**os.environ, "RAY_TMPDIR": str(temp), "RAY_AUTH_TOKEN_PATH": str(token),
            "RAY_USAGE_STATS_ENABLED": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}


def short_temp() -> Path:
    """/tmp/rt<pid>-<random>: short enough for Ray's sockets, unique per test."""
    return Path(f"/tmp/rt{os.getpid()}-{secrets.token_hex(2)}")


def processes_of(temp: Path) -> list[int]:
    """Pids of the processes whose environment names `temp` as RAY_TMPDIR."""
    marker = f"RAY_TMPDIR={temp}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


def wait_gone(temp: Path, timeout: float) -> list[int]:
    """Wait until no process of `temp` is left; the pids still there after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = processes_of(temp)
        if not left:
            return []
        time.sleep(0.5)
    return processes_of(temp)


def end_ray(temp: Path) -> None:
    """Kill what is left of a test's Ray processes, then remove its temp dir."""
    for pid in processes_of(temp):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_gone(temp, 10)
    shutil.rmtree(temp, ignore_errors=True)


def core_command(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    """`python -m core ...` in the background with `env`, its output in `log`."""
    with open(log, "w") as out:  # the child keeps its own copy
        return subprocess.Popen([sys.executable, "-m", "core", *map(str, args)], cwd=REPO,
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def process_state(pid: int) -> str:
    """'T' stopped (by a pause point), 'S'/'R' running, '' gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""
