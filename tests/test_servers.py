"""The servers the project starts, checked while they run (issue 23): JupyterLab (`make lab`'s
arguments), the Voila app (`make app`'s) and the grid's local Ray cluster listen on 127.0.0.1
only, kernels included; JupyterLab refuses requests without its token; a Ray worker killed by a
signal mid-trial is restarted and its run resumes without losing or repeating a row.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser_support import ROOT, free_port, isolated_env

psutil = pytest.importorskip("psutil")


def make_variable(name: str) -> list[str]:
    """A Makefile variable's value, split as the shell would: the servers' real arguments."""
    done = subprocess.run(
        ["make", "-s", f"print-{name}"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return shlex.split(done.stdout)


def listening(root_pid: int) -> set[tuple[str, str, int]]:
    """(process name, address, port) of every listening TCP socket in ``root_pid``'s tree."""
    try:
        root = psutil.Process(root_pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    found = set()
    for proc in procs:
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN:
                    found.add((proc.name(), conn.laddr.ip, conn.laddr.port))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def assert_loopback_only(sockets: set[tuple[str, str, int]]) -> None:
    assert sockets, "no listening socket seen"
    exposed = sorted(s for s in sockets if not is_loopback(s[1]))
    assert not exposed, f"listening beyond 127.0.0.1: {exposed}"


def status(url: str) -> int:
    try:
        return urllib.request.urlopen(url, timeout=5).status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:  # not listening yet
        return 0


def wait_until(predicate, timeout: float, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited early:\n{log.read_text()[-3000:]}")
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out; the server's log:\n{log.read_text()[-3000:]}")


def test_make_lab_and_make_app_take_a_port():
    """`make lab PORT=…` and `make app PORT=…` (getting started says so), loopback either way."""
    done = subprocess.run(["make", "-s", "print-LAB_ARGS", "print-APP_ARGS", "PORT=8890"],
                          cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
    lab, app = done.stdout.splitlines()
    assert "--ServerApp.port=8890" in lab.split() and "--port=8890" in app.split()
    assert "--ServerApp.port" not in " ".join(make_variable("LAB_ARGS"))  # Jupyter's own default
    assert "--port=8866" in make_variable("APP_ARGS")


def test_jupyterlab_listens_on_loopback_and_requires_its_token(tmp_path):
    port = free_port()
    log = tmp_path / "lab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
           f"--port={port}", *make_variable("LAB_ARGS")]  # fmt: skip
    assert "--ServerApp.ip=127.0.0.1" in cmd and not any("token=" in c for c in cmd)
    server = subprocess.Popen(
        cmd, cwd=ROOT, env=isolated_env(tmp_path), stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        token = wait_until(
            lambda: (m := re.search(r"\?token=([0-9a-f]{20,})", log.read_text())) and m.group(1),
            120,
            server,
            log,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: status(f"{base}/api/status?token={token}") == 200, 60, server, log)
        assert status(f"{base}/api/status") == 403  # no token: refused
        assert status(f"{base}/api/status?token=wrong{token}") == 403
        assert status(f"{base}/api/contents?token={token}") == 200
        # A kernel too: its ZMQ ports must stay on loopback.
        request = urllib.request.Request(
            f"{base}/api/kernels?token={token}", data=b"{}", method="POST"
        )
        urllib.request.urlopen(request, timeout=30).read()
        wait_until(lambda: len(listening(server.pid)) >= 6, 60, server, log)
        assert_loopback_only(listening(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_voila_app_listens_on_loopback(tmp_path):
    port = free_port()
    log = tmp_path / "voila.log"
    args = [a for a in make_variable("APP_ARGS") if not a.startswith("--port")]
    assert "--Voila.ip=127.0.0.1" in args
    voila = Path(sys.executable).with_name("voila")
    server = subprocess.Popen(
        [str(voila), *args, "--no-browser", f"--port={port}"],
        cwd=ROOT,
        env=isolated_env(tmp_path),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: status(f"http://127.0.0.1:{port}/voila/static/voila.js") == 200,
            120,
            server,
            log,
        )
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120).read()  # runs a kernel
        wait_until(lambda: len(listening(server.pid)) >= 6, 60, server, log)
        assert_loopback_only(listening(server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    """The grid on the quick preset (one trial), its sockets watched throughout, its Ray worker
    killed with SIGKILL after its third evaluation."""
    pytest.importorskip("ray")
    out = tmp_path_factory.mktemp("grid")
    log = out / "grid.log"
    cmd = [sys.executable, "-m", "clr.experiments", "grid", "--policies", "triangular",
           "--seeds", "0", "--preset", "quick", "--data", "synthetic", "--out", str(out),
           "--cpus-per-trial", "1"]  # fmt: skip
    grid = subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    csv_path = out / "quick" / "seed0" / "triangular.csv"
    sockets, killed = set(), None
    deadline = time.monotonic() + 900
    while grid.poll() is None and time.monotonic() < deadline:
        sockets |= listening(grid.pid)
        rows = len(csv_path.read_text().splitlines()) - 1 if csv_path.exists() else 0
        if killed is None and rows >= 3:
            workers = [
                p
                for p in psutil.Process(grid.pid).children(recursive=True)
                if p.name().startswith("ray::") and "IDLE" not in p.name()
                and ("train" in p.name() or "_trial" in p.name())
            ]  # fmt: skip
            if workers:
                workers[0].send_signal(signal.SIGKILL)
                killed = (workers[0].name(), rows)
        time.sleep(0.2)
    if grid.poll() is None:
        grid.kill()
    return {
        "returncode": grid.wait(),
        "log": log.read_text(),
        "sockets": sockets,
        "killed": killed,
        "csv": csv_path,
    }


def test_the_grids_local_ray_cluster_listens_on_loopback(grid_run):
    names = {s[0] for s in grid_run["sockets"]}
    assert {"gcs_server", "raylet"} <= names, names  # Ray's own servers were seen
    assert_loopback_only(grid_run["sockets"])


def test_a_ray_worker_killed_by_a_signal_resumes_without_repeating_a_row(grid_run):
    from clr.cifar10.runfiles import expected_iterations, read_provenance

    assert grid_run["killed"] is not None, grid_run["log"][-3000:]
    assert grid_run["returncode"] == 0, grid_run["log"][-3000:]
    iterations = [int(line.split(",")[0]) for line in grid_run["csv"].read_text().splitlines()[1:]]
    assert iterations == expected_iterations(480, 50)  # every evaluation, once
    sessions = read_provenance(grid_run["csv"].with_suffix(".json"))["sessions"]
    assert len(sessions) >= 2 and sessions[-1]["from_iteration"] > 0  # resumed, not restarted
