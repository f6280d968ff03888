"""The policy explorer in a real browser: JupyterLab and the Voila app, driven by Playwright
with Debian's Chromium. Screenshots of the before/after states go to test-artifacts/.

Skips, saying why, where Chromium or Playwright is missing (`make test` installs Chromium
when it runs as root with apt-get, as in CI).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from browser_support import CHROMIUM, ROOT, free_port, isolated_env, open_page, serve

import clr
from clr.widgets import ONE_CYCLE

ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "clr-browser-test"
# How long to wait for the kernel's answer to a change: generous, because a loaded machine
# (a training run beside the suite) can take tens of seconds; the speed itself is
# bench/bench_explorer_browser.py's business, not this test's.
ANSWER_MS = 90_000

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM} (install Debian's chromium, as `make test` does with root and "
        "apt-get)",
        allow_module_level=True,
    )
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


@pytest.fixture
def browser(tmp_path):
    with sync_playwright() as p:
        context, page = open_page(p, tmp_path)
        yield page
        context.close()


# -- driving the explorer --------------------------------------------------------------------


def type_into_readout(explorer, css_class: str, value: str) -> None:
    readout = explorer.locator(f".{css_class} .widget-readout")
    readout.click()
    readout.press("Control+a")
    readout.type(value)
    readout.press("Enter")


def canvas_image(explorer) -> str:
    return explorer.locator(".clr-figure canvas").first.evaluate("c => c.toDataURL()")


def shown_numbers(explorer) -> dict[str, float]:
    text = {
        name: explorer.locator(f".clr-{name}").first.inner_text()
        for name in ("last-lr", "last-iteration", "first-lr")
    }
    return {k: float(v.replace(",", "")) for k, v in text.items()}


def exercise_explorer(page, explorer, name: str) -> None:
    """Move base_lr, max_lr, step_size, mode and gamma; check the figure and the numbers."""
    explorer.locator(".clr-last-lr").wait_for()
    before = canvas_image(explorer)
    n = int(shown_numbers(explorer)["last-iteration"]) + 1
    ARTIFACTS.mkdir(exist_ok=True)
    explorer.screenshot(path=str(ARTIFACTS / f"{name}-before.png"))

    settings = dict(base_lr=0.0005, max_lr=0.008, step_size=1500, mode="exp_range", gamma=0.9999)
    code = explorer.locator(".clr-code")
    # One control at a time, each waited for in the code line the kernel sends back: a value
    # typed while an earlier update is in flight can be overwritten by it.
    explorer.locator(".clr-mode select").select_option(label="exp_range")
    code.filter(has_text="gamma=0.99994").wait_for(
        timeout=ANSWER_MS
    )  # exp_range brings the paper's gamma
    for css_class, value, fragment in [
        ("clr-base-lr", "0.0005", "base_lr=0.0005,"),
        ("clr-max-lr", "0.008", "max_lr=0.008,"),
        ("clr-step-size", "1500", "step_size=1500,"),
        ("clr-gamma", "0.9999", "gamma=0.9999)"),
    ]:
        type_into_readout(explorer, css_class, value)
        code.filter(has_text=fragment).wait_for(timeout=ANSWER_MS)

    want = clr.cyclic_lr(np.array([0, n - 1]), **settings)
    # Updates arrive in stages: wait for the final state, then compare exactly.
    expected_text = f"{want[1]:.6g}"
    explorer.locator(
        ".clr-last-lr", has_text=re.compile(rf"^{re.escape(expected_text)}$")
    ).wait_for(timeout=ANSWER_MS)
    shown = shown_numbers(explorer)
    assert shown["last-lr"] == pytest.approx(want[1], rel=1e-5)
    assert shown["first-lr"] == pytest.approx(want[0], rel=1e-5)
    assert (
        "CyclicLR(base_lr=0.0005, max_lr=0.008, step_size=1500, mode='exp_range', gamma=0.9999)"
        in code.inner_text()
    )
    assert explorer.locator(".clr-message").inner_text().strip() == ""

    page.wait_for_function(
        "([el, before]) => el.toDataURL() !== before",
        arg=[explorer.locator(".clr-figure canvas").first.element_handle(), before],
        timeout=ANSWER_MS,
    )
    assert canvas_image(explorer) != before

    # An invalid combination: a message next to the controls, the curve kept.
    type_into_readout(explorer, "clr-max-lr", "0.0001")
    explorer.locator(".clr-message", has_text="max_lr").wait_for(timeout=ANSWER_MS)
    assert shown_numbers(explorer)["last-lr"] == pytest.approx(want[1], rel=1e-5)
    type_into_readout(explorer, "clr-max-lr", "0.008")
    explorer.locator(".clr-message").filter(has_text=re.compile(r"^\s*$")).wait_for(
        state="attached", timeout=ANSWER_MS
    )
    # 1cycle: its own controls replace CLR's, the momentum panel follows, the code says so.
    before = canvas_image(explorer)
    explorer.locator(".clr-mode select").select_option(label=ONE_CYCLE)
    code.filter(has_text="ck.OneCycle(").wait_for(timeout=ANSWER_MS)
    explorer.locator(".clr-three-phase input").check()
    code.filter(has_text="three_phase=True").wait_for(timeout=ANSWER_MS)
    assert explorer.locator(".clr-pct-start").is_visible()
    assert not explorer.locator(".clr-step-size").is_visible()
    assert "momentum=ck.OneCycleMomentum(" in code.inner_text()
    page.wait_for_function(
        "([el, before]) => el.toDataURL() !== before",
        arg=[explorer.locator(".clr-figure canvas").first.element_handle(), before],
        timeout=ANSWER_MS,
    )
    explorer.screenshot(path=str(ARTIFACTS / f"{name}-after.png"))


# -- JupyterLab and Voila ----------------------------------------------------------------------


def test_explorer_in_jupyterlab(browser, tmp_path):
    env = isolated_env(tmp_path / "server")
    settings_dir = tmp_path / "app-settings"
    settings_dir.mkdir()
    (settings_dir / "overrides.json").write_text(
        json.dumps(
            {
                "@jupyterlab/apputils-extension:notification": {
                    "fetchNews": "false",
                    "checkForUpdates": False,
                },
                "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
            }
        )
    )
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.token={TOKEN}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.app_settings_dir={settings_dir}",
    ]
    server = serve(
        cmd, f"http://127.0.0.1:{port}/api/status?token={TOKEN}", env, tmp_path / "lab.log"
    )
    try:
        page = browser
        page.goto(f"http://127.0.0.1:{port}/lab/tree/01_policy_explorer.ipynb?reset&token={TOKEN}")
        page.locator("#jp-main-statusbar", has_text=re.compile(r"ipykernel\) \| Idle")).wait_for(
            timeout=120_000
        )
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
        # Run All has finished when the notebook's last output is there.
        page.get_by_text("the paper's step_size of 2000 is 4 epochs").wait_for(timeout=120_000)
        explorer = page.locator(".clr-policy-explorer").first
        explorer.scroll_into_view_if_needed()
        exercise_explorer(page, explorer, "jupyterlab")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_explorer_as_voila_app(browser, tmp_path):
    env = isolated_env(tmp_path / "server")
    port = free_port()
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or "voila"
    cmd = [voila, "explorer_app.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    server = serve(
        cmd, f"http://127.0.0.1:{port}/voila/static/voila.js", env, tmp_path / "voila.log"
    )
    try:
        page = browser
        page.goto(f"http://127.0.0.1:{port}/")
        explorer = page.locator(".clr-policy-explorer").first
        explorer.wait_for(timeout=120_000)
        body = page.locator("body").inner_text()
        assert "Cyclical learning rates: policy explorer" in body  # the prose is shown...
        assert "from clr.widgets import" not in body  # ...the code is not
        exercise_explorer(page, explorer, "voila")
        page.screenshot(path=str(ARTIFACTS / "voila-app.png"), full_page=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
