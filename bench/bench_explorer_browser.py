"""Key press to repainted figure in the policy explorer, measured in a real browser.

Serves ``notebooks/explorer_app.ipynb`` with Voila on 127.0.0.1, opens it in Debian's
Chromium (headless, through Playwright), focuses a slider's handle and presses an arrow key
(right and left in turn, so the value stays in range). Each sample is the time from just before
the key press to the first animation frame whose canvas differs from the one before it: the
kernel's recompute and redraw, ipympl's image message, and the browser's paint. Prints the
median and quartiles of ``--presses`` samples for each slider: ``base_lr`` keeps the axes (the
explorer repaints only the curves), ``max_lr`` keeps them until the peak passes the axis' top
(a full draw then), ``iterations`` changes the x axis on every press (always a full draw).

    python bench/bench_explorer_browser.py [--presses 30]
"""

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import free_port, isolated_env, open_page, serve  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

WAIT_FOR_NEW_FRAME = """
([canvas, before]) => new Promise(resolve => {
    const check = () =>
        canvas.toDataURL() !== before ? resolve(performance.now()) : requestAnimationFrame(check);
    requestAnimationFrame(check);
})
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=30)
    parser.add_argument("--sliders", nargs="+", default=["base_lr", "max_lr", "iterations"])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    port = free_port()
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or "voila"
    cmd = [voila, "explorer_app.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    server = serve(
        cmd,
        f"http://127.0.0.1:{port}/voila/static/voila.js",
        isolated_env(tmp / "server"),
        tmp / "voila.log",
    )
    samples: dict[str, list[float]] = {name: [] for name in args.sliders}
    try:
        with sync_playwright() as p:
            context, page = open_page(p, tmp)
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.locator(".clr-last-lr").wait_for(timeout=120_000)
            canvas = page.locator(".clr-figure canvas").first.element_handle()
            for name, times in samples.items():
                handle = page.locator(f".clr-{name.replace('_', '-')} .noUi-handle")
                handle.focus()
                for k in range(args.presses + 3):  # the first three warm caches, dropped
                    before = canvas.evaluate("c => c.toDataURL()")
                    start = page.evaluate("performance.now()")
                    page.keyboard.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
                    end = page.evaluate(WAIT_FOR_NEW_FRAME, [canvas, before])
                    if k >= 3:
                        times.append((end - start) / 1000)
            context.close()
    finally:
        server.terminate()
    print(f"policy explorer in Voila + Chromium, {args.presses} key presses per slider")
    for name, times in samples.items():
        quartiles = statistics.quantiles(times, n=4)
        print(
            f"  {name:8s} key press to repainted figure: median "
            f"{statistics.median(times) * 1e3:.0f} ms, quartiles {quartiles[0] * 1e3:.0f}-"
            f"{quartiles[2] * 1e3:.0f} ms, min {min(times) * 1e3:.0f} ms, "
            f"max {max(times) * 1e3:.0f} ms"
        )


if __name__ == "__main__":
    main()
