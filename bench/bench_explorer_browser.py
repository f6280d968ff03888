"""Key press to repainted figure in the policy explorer, measured in a real browser.

Serves ``notebooks/explorer_app.ipynb`` with Voila on 127.0.0.1, opens it in Debian's
Chromium (headless, through Playwright), focuses the ``base_lr`` slider's handle and presses
an arrow key (right and left in turn, so the value stays in range). Each sample is the time
from just before the key press to the first animation frame whose canvas differs from the one
before it: the kernel's recompute and redraw, ipympl's image message, and the browser's paint.
Prints the median and quartiles of ``--presses`` samples.

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
    samples = []
    try:
        with sync_playwright() as p:
            context, page = open_page(p, tmp)
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.locator(".clr-last-lr").wait_for(timeout=120_000)
            canvas = page.locator(".clr-figure canvas").first.element_handle()
            handle = page.locator(".clr-base-lr .noUi-handle")
            handle.focus()
            for k in range(args.presses + 3):  # the first three warm caches and are dropped
                before = canvas.evaluate("c => c.toDataURL()")
                start = page.evaluate("performance.now()")
                page.keyboard.press("ArrowRight" if k % 2 == 0 else "ArrowLeft")
                end = page.evaluate(WAIT_FOR_NEW_FRAME, [canvas, before])
                if k >= 3:
                    samples.append((end - start) / 1000)
            context.close()
    finally:
        server.terminate()
    quartiles = statistics.quantiles(samples, n=4)
    print(
        f"policy explorer in Voila + Chromium, {len(samples)} key presses on base_lr "
        "(20,000 iterations)"
    )
    print(
        f"  key press to repainted figure: median {statistics.median(samples) * 1e3:.0f} ms, "
        f"quartiles {quartiles[0] * 1e3:.0f}-{quartiles[2] * 1e3:.0f} ms, "
        f"min {min(samples) * 1e3:.0f} ms, max {max(samples) * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
