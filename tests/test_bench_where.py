"""The browser bench's split of a press (``bench/bench_explorer_browser.py --where``): the page's,
the kernel's and the server's logs paired on one wall clock, part by part."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
bench = pytest.importorskip("bench_explorer_browser")


def test_a_press_is_split_on_three_clocks(tmp_path):
    origin = 1_000_000.0  # the page's clock starts here on the wall's (ms)
    # the page: its key at 10, the widget's message out at 11, status (small) and image (large)
    # in, ipympl's draw at 60, the frame at 65; an earlier press's leftovers before the key
    log = [["in", 5.0, 40_000], ["out", 11.0, 400], ["in", 20.0, 500], ["in", 45.0, 23_000],
           ["in", 46.0, 900], ["draw", 60.0, 0]]  # fmt: skip
    (tmp_path / "kernel.log").write_text(
        f"in {origin + 2:.3f}\nimage {origin + 4:.3f}\n"  # an earlier press's
        f"in {origin + 15:.3f}\nimage {origin + 30:.3f}\n"
    )
    (tmp_path / "server.log").write_text(f"written {origin + 5:.3f}\nwritten {origin + 33:.3f}\n")
    kernel = bench.read_events(tmp_path / "kernel.log")
    server = bench.read_events(tmp_path / "server.log")
    split = bench.where_parts((log, 10.0, 65.0), origin, kernel, server)
    assert split == pytest.approx((1, 4, 15, 3, 12, 15, 5))
    assert sum(split) == pytest.approx(65 - 10)  # the parts add up to the press
    assert len(split) == len(bench.WHERE_PARTS)


def test_a_press_a_log_misses_is_left_out(tmp_path):
    log = [["out", 11.0, 400], ["in", 45.0, 23_000], ["draw", 60.0, 0]]
    no_server: dict = {}
    kernel = {"in": [1_000_015.0], "image": [1_000_030.0]}
    assert bench.where_parts((log, 10.0, 65.0), 1_000_000.0, kernel, no_server) is None
    assert bench.read_events(tmp_path / "missing.log") == {}
