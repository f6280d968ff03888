"""Starting servers and Chromium for the browser tests and the browser benchmark (one copy)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CLR_CHROMIUM", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(tmp: Path) -> dict[str, str]:
    """Jupyter, IPython, matplotlib and Chromium write only under ``tmp``."""
    env = dict(os.environ)
    for name in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
        "IPYTHONDIR",
        "MPLCONFIGDIR",
        "HOME",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
    ):
        path = tmp / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    return env


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


def serve(cmd: list[str], ready_url: str, env: dict[str, str], log: Path):
    proc = subprocess.Popen(
        cmd, cwd=ROOT / "notebooks", env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        wait_for_http(ready_url, proc)
    except Exception:
        proc.terminate()
        raise RuntimeError(f"{cmd[0]} did not start; its log:\n{log.read_text()[-3000:]}") from None
    return proc


def open_page(playwright, tmp: Path):
    """A fresh headless Chromium (Debian's) whose requests never leave 127.0.0.1: its context
    and first page. Voila's page asks a CDN for fonts; that request is aborted."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        env=isolated_env(tmp / "chromium"),
        viewport={"width": 1500, "height": 1000},
    )
    context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), lambda route: route.abort())
    return context, context.pages[0] if context.pages else context.new_page()
