"""The policy explorer in a real browser, at the screen sizes people use (issue 36): JupyterLab
with its file browser open at 1280x800, 1366x768 and 1920x1080, and the Voila projector app at
1280x720 and 1920x1080, driven by Playwright with Debian's Chromium.

At every size, from the DOM: nothing inside the explorer sticks out of its output area or hides
content behind a horizontal scroll; the controls read in order; in JupyterLab, with the
explorer's top at the top of the notebook, the base_lr and max_lr sliders and the rate figure
are in view together; in the projector view, type of at least 18 px, the figure filling the
width, no resize handle, and at 1920x1080 the formula and code on screen without scrolling.
Then the explorer is moved and checked against the numpy policy, in each. Screenshots of every
size go to test-artifacts/.

Skips, saying why, where Chromium or Playwright is missing (`make test` installs Chromium when
it runs as root with apt-get, as in CI).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from browser_support import CHROMIUM, ROOT, free_port, isolated_env, open_page, serve

import clr
from clr.explorer.view import PROJECTOR
from clr.widgets import ONE_CYCLE

ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "clr-browser-test"
# How long to wait for the kernel's answer to a change: generous, because a loaded machine
# (a training run beside the suite) can take tens of seconds; the speed itself is
# bench/bench_explorer_browser.py's business, not this test's.
ANSWER_MS = 90_000
LAB_SIZES = [(1280, 800), (1366, 768), (1920, 1080)]
APP_SIZES = [(1280, 720), (1920, 1080)]
BACK_ROW_PX = 18  # the projector's smallest type
# The controls in reading order: the curve, its bounds, its length, then what is shown.
READING_ORDER = ["mode", "base-lr", "max-lr", "step-size", "iterations", "compare", "asymmetric",
                 "cycle-momentum", "show-formula", "show-code"]  # fmt: skip

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


# -- what the DOM says ---------------------------------------------------------------------------

FIT = """(ex) => {
  const rect = e => e.getBoundingClientRect();
  const area = rect(ex.closest('.jp-OutputArea-output') || ex.parentElement);
  const name = e => e.tagName.toLowerCase() + '.' + [...e.classList].slice(0, 3).join('.');
  const out = [], hidden = [];
  for (const el of [ex, ...ex.querySelectorAll('*')]) {
    const r = rect(el), s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden') continue;
    if (r.right > area.right + 1 || r.left < area.left - 1) out.push([name(el), r.left, r.right]);
    if (el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll', 'hidden'].includes(s.overflowX))
      hidden.push([name(el), el.scrollWidth, el.clientWidth]);
  }
  const canvas = ex.querySelector('.clr-figure canvas');
  const box = c => { const e = ex.querySelector('.clr-' + c); if (!e) return null;
    const r = rect(e); return r.width ? [r.left, r.top, r.right, r.bottom] : null; };
  const names = ['mode', 'base-lr', 'max-lr', 'step-size', 'gamma', 'iterations', 'compare',
                 'asymmetric', 'cycle-momentum', 'show-formula', 'show-code', 'formula', 'code'];
  const boxes = {};
  for (const n of names) boxes[n] = box(n);
  for (const n of ['formula', 'code']) {  // the text itself (a grid cell stretches to its row)
    const pre = ex.querySelector('.clr-' + n + ' pre');
    const r = pre ? rect(pre) : null;
    boxes[n + '-text'] = r && r.width ? [r.left, r.top, r.right, r.bottom] : null;
  }
  const c = rect(canvas);
  const handle = canvas.parentElement.querySelectorAll('canvas')[1];
  return {area: [area.left, area.right], explorer: [rect(ex).left, rect(ex).right],
          out, hidden, boxes, figure: [c.left, c.top, c.right, c.bottom],
          figure_css_width: parseFloat(canvas.style.width), viewport: window.innerHeight,
          handle_shown: handle ? getComputedStyle(handle).display !== 'none' : false};
}"""


def fit(explorer) -> dict:
    return explorer.evaluate(FIT)


def reading_order(report: dict) -> list[str]:
    """The shown controls, by rows (top, to 4 px) and then left to right."""
    shown = [(round(b[1] / 4), b[0], n) for n, b in report["boxes"].items()
             if b is not None and n in READING_ORDER]  # fmt: skip
    return [n for _, _, n in sorted(shown)]


def assert_fits(report: dict, where: str) -> None:
    assert report["out"] == [], f"{where}: sticks out of its output area: {report['out'][:5]}"
    assert report["hidden"] == [], f"{where}: hidden behind a scroll: {report['hidden'][:5]}"
    assert reading_order(report) == [n for n in READING_ORDER if report["boxes"][n]], where
    assert not report["handle_shown"], f"{where}: ipympl's resize handle shows"


def wait_for_width(page, explorer, timeout: float = 60) -> dict:
    """Wait until the figure has taken its column's width (the browser reports it, the kernel
    redraws); the report then."""
    deadline = time.monotonic() + timeout
    while True:
        report = fit(explorer)
        width = report["explorer"][1] - report["explorer"][0]
        if abs(report["figure_css_width"] - (width - 12)) <= 2 or time.monotonic() > deadline:
            return report
        time.sleep(0.3)


def settle(page) -> None:
    """In JupyterLab, wait until the kernel is idle (every explorer on the page redraws when the
    window changes size), as a person types into a page that has settled."""
    status = page.locator("#jp-main-statusbar")
    if status.count():
        status.filter(has_text=re.compile(r"\| Idle")).wait_for(timeout=ANSWER_MS)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# -- driving the explorer ------------------------------------------------------------------------


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
    """Move mode, base_lr, max_lr, step_size and gamma, and PageUp; check the figure and the
    numbers against the numpy policy; then 1cycle."""
    explorer.locator(".clr-last-lr").wait_for()
    if not explorer.locator(".clr-code").is_visible():
        explorer.locator(".clr-show-code").click()  # the projector view hides it at first
    before = canvas_image(explorer)
    n = int(shown_numbers(explorer)["last-iteration"]) + 1
    settings = dict(base_lr=0.0005, max_lr=0.008, step_size=1500, mode="exp_range", gamma=0.9999)
    code = explorer.locator(".clr-code")
    # One control at a time, each waited for in the code line the kernel sends back: a value
    # typed while an earlier update is in flight can be overwritten by it.
    explorer.locator(".clr-mode select").select_option(label="triangular")
    code.filter(has_text="CyclicLR(base_lr=").filter(has_not_text="mode=").wait_for(
        timeout=ANSWER_MS
    )
    # The keyboard: ArrowDown picks the next mode (JupyterLab's own ArrowDown stays out).
    explorer.locator(".clr-mode select").focus()
    page.keyboard.press("ArrowDown")
    code.filter(has_text="mode='triangular2'").wait_for(timeout=ANSWER_MS)
    explorer.locator(".clr-mode select").select_option(label="exp_range")
    code.filter(has_text="gamma=0.99994").wait_for(timeout=ANSWER_MS)  # the paper's gamma
    assert explorer.locator(".clr-gamma").is_visible()  # shown only where it acts
    for css_class, value, fragment in [
        ("clr-base-lr", "0.0005", "base_lr=0.0005,"),
        ("clr-max-lr", "0.008", "max_lr=0.008,"),
        ("clr-step-size", "1500", "step_size=1500,"),
        ("clr-gamma", "0.9999", "gamma=0.9999)"),
    ]:
        settle(page)
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
    # PageUp moves a tenth of the range (1,999.9 iterations), not noUiSlider's five steps.
    explorer.locator(".clr-step-size .noUi-handle").focus()
    page.keyboard.press("PageUp")
    code.filter(has_text="step_size=3500,").wait_for(timeout=ANSWER_MS)

    # An invalid combination: a message next to the controls, the curve kept.
    type_into_readout(explorer, "clr-max-lr", "0.0001")
    explorer.locator(".clr-message", has_text="max_lr").wait_for(timeout=ANSWER_MS)
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
    assert not explorer.locator(".clr-base-lr").is_visible()
    assert "momentum=ck.OneCycleMomentum(" in code.inner_text()
    page.wait_for_function(
        "([el, before]) => el.toDataURL() !== before",
        arg=[explorer.locator(".clr-figure canvas").first.element_handle(), before],
        timeout=ANSWER_MS,
    )
    assert_fits(wait_for_width(page, explorer), f"{name}, 1cycle")
    ARTIFACTS.mkdir(exist_ok=True)
    explorer.screenshot(path=str(ARTIFACTS / f"{name}-after.png"))


# -- JupyterLab ----------------------------------------------------------------------------------


def _lab(tmp_path) -> tuple[object, int]:
    env = isolated_env(tmp_path / "server")
    settings_dir = tmp_path / "app-settings"
    settings_dir.mkdir()
    overrides = {
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                        "checkForUpdates": False},
        "@jupyterlab/extensionmanager-extension:plugin": {"enabled": False},
        # Every cell in the DOM: with windowing, scrolling detaches cells and a locator's
        # "first explorer" could become another one between two actions.
        "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
        # The run's outputs stay out of the committed notebook.
        "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    }  # fmt: skip
    (settings_dir / "overrides.json").write_text(json.dumps(overrides))
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
           f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={TOKEN}",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly",
           f"--LabApp.app_settings_dir={settings_dir}"]  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/status?token={TOKEN}"
    return serve(cmd, url, env, tmp_path / "lab.log"), port


def test_explorer_in_jupyterlab_at_laptop_and_desktop_sizes(browser, tmp_path):
    server, port = _lab(tmp_path)
    try:
        page = browser
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"http://127.0.0.1:{port}/lab/tree/01_policy_explorer.ipynb?reset&token={TOKEN}")
        page.locator("#jp-main-statusbar", has_text=re.compile(r"ipykernel\) \| Idle")).wait_for(
            timeout=120_000
        )
        if not page.locator(".jp-FileBrowser").first.is_visible():
            page.keyboard.press("Control+Shift+f")  # the file browser open, as people work
        assert page.locator(".jp-FileBrowser").first.is_visible()
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
        # Run All has finished when the notebook's last output is there.
        page.get_by_text("the paper's step_size of 2000 is 4 epochs").wait_for(timeout=120_000)
        explorer = page.locator(".clr-policy-explorer").nth(0)
        for width, height in LAB_SIZES:
            where = f"JupyterLab {width}x{height}, file browser open"
            page.set_viewport_size({"width": width, "height": height})
            explorer.evaluate("e => e.scrollIntoView({block: 'start'})")
            report = wait_for_width(page, explorer)
            explorer.evaluate("e => e.scrollIntoView({block: 'start'})")
            report = fit(explorer)
            assert_fits(report, where)
            visible = page.locator(".jp-NotebookPanel-notebook").first.bounding_box()
            bottom = visible["y"] + visible["height"]
            for name in ("base-lr", "max-lr"):
                box = report["boxes"][name]
                assert box[1] >= visible["y"] - 1 and box[3] <= bottom, (where, name, box)
            assert report["figure"][3] <= bottom + 1, (where, report["figure"], bottom)
            shot(page, f"jupyterlab-{width}x{height}")
        page.set_viewport_size({"width": 1366, "height": 768})
        explorer.evaluate("e => e.scrollIntoView({block: 'start'})")
        exercise_explorer(page, explorer, "jupyterlab")
    finally:
        server.terminate()
        server.wait(timeout=30)


# -- the Voila projector app ---------------------------------------------------------------------


def test_projector_view_at_1280x720_and_1920x1080(browser, tmp_path):
    env = isolated_env(tmp_path / "server")
    port = free_port()
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or "voila"
    cmd = [voila, "explorer_app.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    server = serve(
        cmd, f"http://127.0.0.1:{port}/voila/static/voila.js", env, tmp_path / "voila.log"
    )
    try:
        page = browser
        for width, height in APP_SIZES:
            where = f"Voila projector view {width}x{height}"
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"http://127.0.0.1:{port}/")
            explorer = page.locator(".clr-policy-explorer").first
            explorer.locator(".clr-last-lr").wait_for(timeout=120_000)
            body = page.locator("body").inner_text()
            assert "Cyclical learning rates: policy explorer" in body  # the prose is shown...
            assert "from clr.widgets import" not in body  # ...the code is not
            # Settings that answer no exercise, formula and code hidden (the workshop's demo).
            assert not explorer.locator(".clr-formula").is_visible()
            assert not explorer.locator(".clr-code").is_visible()
            assert explorer.locator(".clr-mode select").input_value() == "exp_range"
            report = wait_for_width(page, explorer)
            assert_fits(report, where)
            fill = (report["figure"][2] - report["figure"][0]) / (
                report["explorer"][1] - report["explorer"][0]
            )
            assert fill >= 0.97, (where, fill)  # the figure fills the width
            sizes = explorer.evaluate(
                """ex => ['.clr-base-lr .widget-label', '.clr-base-lr .widget-readout',
                          '.clr-mode select', '.clr-mode-help', '.clr-numbers',
                          '.clr-compare label', '.clr-show-code']
                   .map(s => parseFloat(getComputedStyle(ex.querySelector(s)).fontSize))"""
            )
            assert min(sizes) >= BACK_ROW_PX, (where, sizes)
            # The figure's type, drawn at 90 dpi and shown at its own size (not scaled down).
            figure_px = min(PROJECTOR.ticks, PROJECTOR.legend, PROJECTOR.labels) * 90 / 72
            assert figure_px >= BACK_ROW_PX
            assert report["figure"][2] - report["figure"][0] == pytest.approx(
                report["figure_css_width"], abs=1
            )
            shot(page, f"voila-{width}x{height}")
            explorer.locator(".clr-show-formula").click()
            explorer.locator(".clr-show-code").click()
            explorer.locator(".clr-code pre").wait_for()
            page.evaluate("window.scrollTo(0, 0)")
            report = fit(explorer)
            assert_fits(report, f"{where}, formula and code shown")
            formula_px = explorer.evaluate(
                "ex => parseFloat(getComputedStyle(ex.querySelector('.clr-formula pre')).fontSize)"
            )
            assert formula_px >= BACK_ROW_PX
            if (width, height) == (1920, 1080):  # on screen without scrolling
                for name in ("formula-text", "code-text"):
                    assert report["boxes"][name][3] <= report["viewport"], (where, name, report)
            shot(page, f"voila-{width}x{height}-formula-and-code")
        exercise_explorer(page, page.locator(".clr-policy-explorer").first, "voila")
    finally:
        server.terminate()
        server.wait(timeout=30)
