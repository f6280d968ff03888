"""Key press to repainted figure in the policy explorer, for every control, in a real browser,
at the sizes people use.

``--view voila`` serves ``notebooks/explorer_app.ipynb`` (the projector view) with Voila;
``--view lab`` opens ``notebooks/01_policy_explorer.ipynb`` in JupyterLab with its file browser
open and runs it (its first explorer is timed). Both on 127.0.0.1, in Debian's Chromium
(headless, through Playwright) with the window ``--size WxH``. Each control is focused and a
key pressed (a slider's arrow keys right and left in turn, a dropdown's down and up, a
checkbox's space), then the new picture waited for. Each sample runs from the key's
``keydown`` event (its timestamp) to the animation frame after ipympl drew the new image on the
canvas (a hook on ``drawImage`` of the figure's canvas): the browser's input handling, the
widget message, the kernel's recompute and repaint, ipympl's image message and the paint.
Prints the median and quartiles of ``--presses`` samples per control, in the CLR modes and in
1cycle's, the canvas' size and the PNG bytes a press sends (a larger canvas sends more), and
beside them, in the same run, a bare full ``canvas.draw()`` of a figure of the same size in
this process (the kernel's cost of a redraw without the repaint-only path).

With ``--where`` it also says where a press's time goes (medians per control), on three clocks
read against one wall clock: the page's (its kernel WebSocket's messages and ipympl's draws), the
kernel's (an IPython startup file in the run's own IPython directory logs when the widget's
message is handled and when ipympl sends the image) and the server's (a config file in the run's
own Jupyter directory logs when the image is written to the WebSocket): the key to the widget's
message leaving on the socket; to the kernel handling it; the kernel's work until the image is
sent; to the server writing it to the socket; to the page handling it (a page busy with its own
work counts here); the image decoded until ipympl draws it; and the frame that shows it.

    python bench/bench_explorer_browser.py [--presses 30] [--view voila|lab] [--size 1920x1080]
                                           [--where]
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import free_port, isolated_env, open_page, serve  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

HOOK = """
() => {
    if (window.__clrHooked) return;
    window.__clrHooked = true;
    window.__clrKey = 0; window.__clrPainted = 0; window.__clrBytes = [];
    window.addEventListener('keydown', e => { window.__clrKey = e.timeStamp; }, true);
    const draw = CanvasRenderingContext2D.prototype.drawImage;
    CanvasRenderingContext2D.prototype.drawImage = function (...args) {
        const start = performance.now();
        const result = draw.apply(this, args);
        if (this.canvas && this.canvas.closest && this.canvas.closest('.clr-figure')) {
            if (window.__clrLog) window.__clrLog.push(['draw', start, 0]);  // --where
            requestAnimationFrame(t => { window.__clrPainted = t; });
        }
        return result;
    };
}
"""
# --where: a log of the kernel WebSocket's messages (out and in, with sizes), in the page's clock;
# installed before the page loads, to see the sockets it opens. HOOK adds the figure's draws.
WHERE_HOOK = """
(() => {
    window.__clrLog = [];
    const size = d => typeof d === 'string' ? d.length : (d.byteLength ?? d.size ?? 0);
    const Socket = window.WebSocket;
    function Logged(...args) {
        const ws = new Socket(...args);
        ws.addEventListener('message',
            e => window.__clrLog.push(['in', performance.now(), size(e.data)]));
        return ws;
    }
    Logged.prototype = Socket.prototype;
    Object.assign(Logged, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
    window.WebSocket = Logged;
    const send = Socket.prototype.send;
    Socket.prototype.send = function (d) {
        window.__clrLog.push(['out', performance.now(), size(d)]);
        return send.call(this, d);
    };
})();
"""
WHERE_PARTS = (
    "key to socket",  # the keydown .. the widget's message leaves on the kernel's socket
    "to kernel",  # .. the kernel handles it (the server, the kernel picking it up)
    "kernel",  # .. ipympl sends the image (our recompute, repaint and PNG)
    "to server",  # .. the server writes the image to the WebSocket
    "to page",  # .. the page handles the message (waiting while the page is busy)
    "decode + draw",  # .. ipympl draws the image on the canvas
    "frame",  # .. the animation frame after it
)
# --where: what the kernel and the server log, each line "<event> <wall clock in ms>"; both are
# installed only in the run's own IPython and Jupyter directories.
KERNEL_WHERE = """
import os, time
_log = open(os.environ["CLR_WHERE_KERNEL_LOG"], "a", buffering=1)
_kernel = get_ipython().kernel
_handle = _kernel.shell_handlers["comm_msg"]
def _timed(stream, ident, msg):
    _log.write(f"in {time.time() * 1e3:.3f}\\n")
    return _handle(stream, ident, msg)
_kernel.shell_handlers["comm_msg"] = _timed
import ipympl.backend_nbagg as _nbagg
_send = _nbagg.Canvas.send_binary
def _send_binary(self, data):
    _log.write(f"image {time.time() * 1e3:.3f}\\n")
    return _send(self, data)
_nbagg.Canvas.send_binary = _send_binary
"""
IMAGE_BYTES = 3000  # ipympl's image message; the widgets' own messages are under 1.5 kB
SERVER_WHERE = f"""
import os, time
from jupyter_server.services.kernels.connection import channels
_log = open(os.environ["CLR_WHERE_SERVER_LOG"], "a", buffering=1)
_out = channels.ZMQChannelsWebsocketConnection.handle_outgoing_message
def _timed(self, stream, outgoing_msg):
    result = _out(self, stream, outgoing_msg)
    if sum(len(part) for part in outgoing_msg) > {IMAGE_BYTES}:
        _log.write(f"written {{time.time() * 1e3:.3f}}\\n")
    return result
channels.ZMQChannelsWebsocketConnection.handle_outgoing_message = _timed
"""
# After a mode or a checkbox shows other controls, the panel's height changes, its size probe
# reports, and the figure is redrawn at its new size: a key pressed meanwhile can be lost with
# the slider's re-render, so the first press waits for that to land.
SETTLE_S = 1.5
SKEW_MS = 2.0  # the page's and the processes' clocks agree to about a millisecond


def read_events(path: Path) -> dict[str, list[float]]:
    """A kernel or server log (``KERNEL_WHERE``, ``SERVER_WHERE``): wall-clock ms per event."""
    events: dict[str, list[float]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, ms = line.split()
            events.setdefault(name, []).append(float(ms))
    return events


def where_parts(press: tuple, origin: float, kernel: dict, server: dict) -> tuple | None:
    """One press's time split (ms, ``WHERE_PARTS``) from the page's log (``WHERE_HOOK``, on the
    page's clock from ``origin``) and the kernel's and server's logs (wall clock), or None where
    a log misses a part."""
    log, key, painted = press

    def first(times, after: float) -> float | None:
        return min((t for t in times if t >= after), default=None)

    sent = first([t for kind, t, _ in log if kind == "out"], key)
    if sent is None:
        return None
    handled = first(kernel.get("in", []), origin + sent - SKEW_MS)
    image_sent = handled and first(kernel.get("image", []), handled)
    written = image_sent and first(server.get("written", []), image_sent - SKEW_MS)
    arrived = first([t for kind, t, n in log if kind == "in" and n > IMAGE_BYTES], sent)
    drawn = arrived and first([t for kind, t, _ in log if kind == "draw"], arrived)
    if not (written and drawn):
        return None
    wall = [origin + sent, handled, image_sent, written, origin + arrived]
    return (
        sent - key,
        *(later - earlier for earlier, later in zip(wall, wall[1:])),
        drawn - arrived,
        painted - drawn,
    )


# (control, keys alternated, CSS of the element to focus)
CLR_CONTROLS = [
    ("base_lr", "slider"),
    ("max_lr", "slider"),
    ("step_size", "slider"),
    ("iterations", "slider"),
    ("mode", "select"),
    ("compare", "checkbox"),
    ("asymmetric", "checkbox"),
    ("cycle_momentum", "checkbox"),
]
GAMMA_CONTROLS = [("gamma", "slider")]  # active in the exp modes
ASYMMETRIC_CONTROLS = [("step_size_down", "slider")]
MOMENTUM_CONTROLS = [("base_momentum", "slider"), ("max_momentum", "slider")]
ONE_CYCLE_CONTROLS = [
    ("pct_start", "slider"),
    ("div_factor", "slider"),
    ("final_div_factor", "slider"),
    ("three_phase", "checkbox"),
    ("anneal_strategy", "select"),
    ("max_lr", "slider"),
    ("iterations", "slider"),
]
KEYS = {
    "slider": ("ArrowRight", "ArrowLeft"),
    "select": ("ArrowDown", "ArrowUp"),
    "checkbox": ("Space", "Space"),
}
FOCUS = {"slider": ".noUi-handle", "select": "select", "checkbox": "input"}


def press_and_time(
    page,
    explorer,
    name: str,
    kind: str,
    presses: int,
    parts: list | None = None,
) -> list[float]:
    """``presses`` samples (s) of key press to repainted figure; with ``parts``, each press's
    page log, key and paint times are appended to it (for ``where_parts``)."""
    element = explorer.locator(f".clr-{name.replace('_', '-')} {FOCUS[kind]}").first
    times = []
    # The first four warm caches (each state's picture); an even count in all leaves a
    # checkbox or dropdown as it was, so that every control is timed in the same state.
    for k in range(presses + presses % 2 + 4):
        element.focus()  # again: a redrawn panel may have taken the focus
        page.evaluate("window.__clrPainted = 0; window.__clrLog = []")
        page.keyboard.press(KEYS[kind][k % 2])
        try:
            handle = page.wait_for_function(
                "window.__clrPainted > window.__clrKey && window.__clrPainted - window.__clrKey",
                timeout=30_000,
            )
        except Exception:
            key = KEYS[kind][k % 2]
            shown = explorer.locator(".clr-message").inner_text()
            raise SystemExit(f"no new picture after pressing {key} on {name} ({shown})") from None
        if k >= 4:
            times.append(handle.json_value() / 1000)
        time.sleep(0.05)  # let the text widgets' messages land before the next press
        if k >= 4 and parts is not None:
            parts.append(page.evaluate("[window.__clrLog, window.__clrKey, window.__clrPainted]"))
    return times


def select(explorer, name: str, label: str) -> None:
    explorer.locator(f".clr-{name.replace('_', '-')} select").select_option(label=label)
    time.sleep(SETTLE_S)


def check(explorer, name: str) -> None:
    explorer.locator(f".clr-{name.replace('_', '-')} input").check()
    time.sleep(SETTLE_S)


def bare_draw_ms(width: float, height: float, projector: bool) -> float:
    """A bare full draw + PNG of a figure of this size in this process (median of 20)."""
    from clr.widgets import PolicyExplorer

    explorer = PolicyExplorer(mode="triangular2", iterations=20_000, projector=projector)
    explorer.size.value = f"{width + 12:.0f} {height:.0f}"
    canvas = explorer.figure.canvas
    canvas.syncing_data_url = False
    canvas.send_binary = lambda data: None
    canvas.draw()
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        canvas.draw()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def png_bytes(width: float, height: float, projector: bool) -> tuple[float, float]:
    """The PNG bytes ipympl sends for a press that repaints the curves, and for a full draw, at
    this size (what the browser receives; median of 10 presses)."""
    from clr.widgets import PolicyExplorer

    explorer = PolicyExplorer(mode="triangular2", iterations=20_000, projector=projector)
    explorer.size.value = f"{width + 12:.0f} {height:.0f}"
    canvas = explorer.figure.canvas
    canvas.syncing_data_url = False
    sent: list[int] = []
    canvas.send_binary = lambda data: sent.append(len(data))
    canvas.draw()
    full = sent[-1] if sent else 0
    sent.clear()
    for k in range(10):
        explorer.step_size.value = 2000 + 10 * (k % 2)
    return statistics.median(sent) / 1e3, full / 1e3


def open_lab(page, port: int) -> None:
    import re

    page.goto(f"http://127.0.0.1:{port}/lab/tree/01_policy_explorer.ipynb?reset&token=B")
    page.locator("#jp-main-statusbar", has_text=re.compile(r"ipykernel\) \| Idle")).wait_for(
        timeout=120_000
    )
    if not page.locator(".jp-FileBrowser").first.is_visible():
        page.keyboard.press("Control+Shift+f")
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
    page.get_by_text("the paper's step_size of 2000 is 4 epochs").wait_for(timeout=180_000)
    page.locator("#jp-main-statusbar", has_text=re.compile(r"\| Idle")).wait_for(timeout=120_000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--view", choices=("voila", "lab"), default="voila")
    parser.add_argument("--size", default="1920x1080", help="the browser window, WxH")
    parser.add_argument("--where", action="store_true", help="also split each press's time")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    tmp = Path(tempfile.mkdtemp())
    port = free_port()
    env = isolated_env(tmp / "server")
    if args.where:
        startup = Path(env["IPYTHONDIR"]) / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-clr-where.py").write_text(KERNEL_WHERE)
        for config in ("jupyter_server_config.py", "voila.py"):  # JupyterLab's, Voila's
            (Path(env["JUPYTER_CONFIG_DIR"]) / config).write_text(SERVER_WHERE)
        env["CLR_WHERE_KERNEL_LOG"] = str(tmp / "kernel-where.log")
        env["CLR_WHERE_SERVER_LOG"] = str(tmp / "server-where.log")
    if args.view == "voila":
        voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or "voila"
        cmd = [voila, "explorer_app.ipynb", "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1"]  # fmt: skip
        ready = f"http://127.0.0.1:{port}/voila/static/voila.js"
    else:
        settings = tmp / "lab-settings"
        settings.mkdir()
        # no news, no update check, and no autosave: the run's outputs stay out of the
        # committed notebook
        (settings / "overrides.json").write_text(
            '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", '
            '"checkForUpdates": false}, '
            '"@jupyterlab/docmanager-extension:plugin": {"autosave": false}}'
        )
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
               f"--port={port}", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=B",
               "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly",
               f"--LabApp.app_settings_dir={settings}"]  # fmt: skip
        ready = f"http://127.0.0.1:{port}/api/status?token=B"
    server = serve(cmd, ready, env, tmp / "server.log")
    samples: dict[str, list[float]] = {}
    splits: dict[str, list] = {}

    def timed(name: str, control: str, kind: str) -> None:
        splits[name] = [] if args.where else None
        samples[name] = press_and_time(page, explorer, control, kind, args.presses, splits[name])

    try:
        with sync_playwright() as p:
            context, page = open_page(p, tmp)
            if args.where:
                context.add_init_script(WHERE_HOOK)
            page.set_viewport_size({"width": width, "height": height})
            if args.view == "voila":
                page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            else:
                open_lab(page, port)
            explorer = page.locator(".clr-policy-explorer").first
            explorer.locator(".clr-last-lr").wait_for(timeout=120_000)
            explorer.evaluate("e => e.scrollIntoView({block: 'start'})")
            time.sleep(2)  # the width reported, the figure sized
            canvas = explorer.locator(".clr-figure canvas").first.bounding_box()
            page.evaluate(HOOK)
            origin = page.evaluate("performance.timeOrigin")  # this page's clock on the wall's
            for name, kind in CLR_CONTROLS:
                timed(name, name, kind)
            check(explorer, "asymmetric")
            for name, kind in ASYMMETRIC_CONTROLS:
                timed(name, name, kind)
            check(explorer, "cycle_momentum")
            for name, kind in MOMENTUM_CONTROLS:
                timed(name, name, kind)
            select(explorer, "mode", "exp_range")
            for name, kind in GAMMA_CONTROLS:
                timed(name, name, kind)
            select(explorer, "mode", "1cycle")
            for name, kind in ONE_CYCLE_CONTROLS:
                timed(f"{name} (1cycle)", name, kind)
            context.close()
    finally:
        server.terminate()
    projector = args.view == "voila"
    bare = bare_draw_ms(canvas["width"], canvas["height"], projector)
    press_kb, full_kb = png_bytes(canvas["width"], canvas["height"], projector)
    where = "Voila, the projector view" if projector else "JupyterLab, file browser open"
    print(f"policy explorer in {where}, window {width}x{height}, Chromium; canvas "
          f"{canvas['width']:.0f}x{canvas['height']:.0f} px; {args.presses} key presses per "
          "control")  # fmt: skip
    print(f"  a press sends a {press_kb:.1f} kB PNG (a full draw {full_kb:.1f} kB); a bare full "
          f"canvas.draw() + PNG of this figure: {bare:.0f} ms")  # fmt: skip
    for name, times in samples.items():
        q = statistics.quantiles(times, n=4)
        print(
            f"  {name:26s} key press to repainted figure: median "
            f"{statistics.median(times) * 1e3:3.0f} ms, quartiles {q[0] * 1e3:.0f}-"
            f"{q[2] * 1e3:.0f} ms, max {max(times) * 1e3:.0f} ms"
        )
    worst = max(statistics.median(t) for t in samples.values())
    print(f"  the slowest control's median: {worst * 1e3:.0f} ms (target <= 50 ms)")
    if args.where:
        print("  where a press's time goes, medians in ms: " + " | ".join(WHERE_PARTS))
        kernel = read_events(tmp / "kernel-where.log")
        server_log = read_events(tmp / "server-where.log")
        rows = {}
        for name, presses in splits.items():
            parts = [where_parts(press, origin, kernel, server_log) for press in presses]
            rows[name] = [split for split in parts if split is not None]
        rows["every control"] = [split for parts in rows.values() for split in parts]
        for name, parts in rows.items():
            if parts:
                medians = [statistics.median(column) for column in zip(*parts)]
                print(f"  {name:26s} " + " | ".join(f"{m:5.1f}" for m in medians)
                      + f"   ({len(parts)} presses)")  # fmt: skip


if __name__ == "__main__":
    main()
