"""The documentation site (issue 41): built offline and strict by `make docs` (which `make test`
runs first), every public name in the API reference, a picture of every policy, every notebook
on a page with its figures, every internal link resolving, nothing fetched from outside; then the
site in Chromium, served from 127.0.0.1: the index, a notebook page and an API page, every image
loaded, no console error, no request leaving the machine, screenshots to test-artifacts/. And the
README as a landing page: at most 250 lines, its links into the docs resolving, its ten-line
example running."""

from __future__ import annotations

import functools
import http.server
import json
import posixpath
import re
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SITE = ROOT / "docs" / "_build" / "html"
PUBLIC = ("clr", "clr.keras", "clr.widgets", "clr.workshop")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
    (ROOT / "notebooks" / "solutions").glob("*.ipynb")
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site `make docs` built; built here (as strictly) when the suite runs without it."""
    if (SITE / "index.html").exists():
        return SITE
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "--keep-going", "-q",
         str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return out


class _Page(HTMLParser):
    """Every link, image, script and stylesheet of a page, and its ids."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.figures: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key):
                self.refs.append((tag, a[key]))
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag == "figure" and "clr-picture" in (a.get("class") or ""):
            self.figures.append("")
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])


@functools.cache
def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def test_every_public_name_has_a_reference_entry(site):
    from sphinx.util.inventory import InventoryFile

    with (site / "objects.inv").open("rb") as f:
        inventory = InventoryFile.load(f, "", posixpath.join)
    documented = {name for role, items in inventory.items() if role.startswith("py:")
                  for name in items}  # fmt: skip
    import importlib

    missing = [
        f"{module}.{name}"
        for module in PUBLIC
        for name in importlib.import_module(module).__all__
        if f"{module}.{name}" not in documented
    ]
    assert missing == [], f"public names without a reference entry: {missing}"


def test_every_policy_and_schedule_has_a_picture_with_its_settings(site):
    page = (site / "api" / "clr.html").read_text(encoding="utf-8")
    captions = re.findall(r'<figure class="[^"]*clr-picture[^"]*".*?</figure>', page, re.S)
    text = " ".join(re.sub(r"<[^>]+>", "", c) for c in captions)
    for policy in ("CyclicPolicy", "OneCyclePolicy", "OneCycleMomentumPolicy",
                   "CyclicMomentumPolicy", "Constant", "Linear", "Exponential", "Join", "Offset",
                   "SineScale", "ExpScale"):  # fmt: skip
        assert f"clr.{policy}(" in text, f"no picture of {policy}"
    for mode in ("triangular", "triangular2", "exp_range", "exp_range_bounds"):
        assert f"mode=&quot;{mode}&quot;" in " ".join(captions) or f'mode="{mode}"' in text, mode
    for caption in captions:
        src = re.search(r'<img[^>]+src="([^"]+)"', caption).group(1)
        assert (site / "api" / src).resolve().stat().st_size > 5000, src  # a drawn PNG


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_page_with_its_figures(site, notebook):
    relative = notebook.relative_to(ROOT / "notebooks").with_suffix(".html")
    html = site / "_notebooks" / relative
    assert html.exists(), f"no page for {notebook.name}"
    outputs = [
        o.get("data", {})
        for cell in json.loads(notebook.read_text())["cells"]
        for o in cell.get("outputs", [])
    ]
    # a figure is an image/png output, or an explorer's static picture (text/html with an <img>)
    figures = sum(
        1 for d in outputs if "image/png" in d or "<img" in "".join(d.get("text/html", ""))
    )
    images = [src for src in _parse(html).images if "_static" not in src]
    assert len(images) >= figures, (notebook.name, len(images), figures)


def test_every_internal_link_resolves_and_nothing_comes_from_outside(site):
    broken, outside = [], []
    for page in _pages(site):
        parsed = _parse(page)
        for tag, ref in parsed.refs:
            parts = urlsplit(ref)
            if parts.scheme in ("http", "https"):
                if tag != "a":  # a link the reader may follow is fine; a fetch is not
                    outside.append((page.name, ref))
                continue
            if parts.scheme in ("data", "mailto", "javascript") or ref.startswith("//"):
                if ref.startswith("//"):
                    outside.append((page.name, ref))
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append((str(page.relative_to(site)), ref))
            elif parts.fragment and target.suffix == ".html":
                if parts.fragment not in _parse(target).ids:
                    broken.append((str(page.relative_to(site)), ref))
    assert broken == [], f"broken internal links: {broken[:20]}"
    assert outside == [], f"fetched from outside: {outside[:20]}"
    assert not re.search(r"mathjax|unpkg|jsdelivr|googleapis", _all_text(site), re.I)


@functools.cache
def _all_text(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in _pages(site))


def test_the_reproduction_page_is_the_generated_one(site):
    # docs/reproduction.md itself is checked against the runs in tests/test_report.py
    text = (site / "reproduction.html").read_text(encoding="utf-8")
    assert "The verdict" in text and "Holm" in text


# -- the README as a landing page -----------------------------------------------------------------


def test_the_readme_is_a_landing_page_that_points_into_the_site():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\(((?:docs/|CHANGELOG)[^)#]*)", readme)
    assert len(links) >= 10
    for link in links:
        assert (ROOT / link).exists(), link
    assert "make lab" in readme and "make test" in readme and "pip install" in readme


def test_the_readmes_ten_lines_run(tmp_path):
    pytest.importorskip("keras")
    block = re.search(
        r"## Ten lines\n\n```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S
    )
    # a small model and data, and fit shortened to one quiet epoch: the lines themselves unchanged
    setup = """
import numpy as np, keras
rng = np.random.default_rng(0)
x, y = rng.normal(size=(400, 8)).astype("float32"), rng.integers(0, 2, 400)
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
_fit = model.fit
model.fit = lambda *args, **kwargs: _fit(*args, **{**kwargs, "epochs": 1, "verbose": 0})
"""
    check = "\nassert lr.shape == (20_000,) and result.suggest() is not None\nprint('ok')\n"
    done = subprocess.run(
        [sys.executable, "-c", setup + block.group(1) + check],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


# -- in a browser ---------------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def served(site):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


PAGES = {
    "docs-index": "index.html",
    "docs-notebook": "_notebooks/03_cifar10_fixed_vs_clr.html",
    "docs-explorer-notebook": "_notebooks/01_policy_explorer.html",
    "docs-api": "api/clr.html",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_site_in_chromium(served, name, tmp_path):
    from browser_support import CHROMIUM, open_page

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (`make test` installs Debian's with root)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    errors, outside = [], []
    with sync_playwright() as p:
        context, page = open_page(p, tmp_path)
        page.set_viewport_size({"width": 1366, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "request",
            lambda r: (
                outside.append(r.url)
                if not r.url.startswith((served, "data:", "blob:", "about:"))
                else None
            ),
        )
        page.goto(f"{served}/{PAGES[name]}", wait_until="load")
        page.wait_for_load_state("networkidle")
        # every image decoded, the lazy ones too: scroll each into view
        for img in page.locator("img").all():
            img.scroll_into_view_if_needed()
        page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
        unloaded = page.evaluate(
            "() => [...document.images].filter(i => !i.naturalWidth).map(i => i.src.slice(0, 120))"
        )
        count = page.evaluate("() => document.images.length")
        page.evaluate("() => window.scrollTo(0, 0)")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        context.close()
    assert unloaded == [], f"{name}: images that did not load: {unloaded}"
    assert count >= 1
    assert errors == [], f"{name}: console errors: {errors}"
    assert outside == [], f"{name}: requests leaving the machine: {outside}"
