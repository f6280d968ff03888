"""RangeTestResult.load on damaged and hostile files: one line naming the file and the key
(numpy only: no Keras needed)."""

import json

import pytest
from conftest import toy_range_test

from clr import RangeTestResult


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "range_test.json"
    toy_range_test().save(path)
    return path


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


CASES = [
    (lambda d: d.pop("lr"), r"missing keys \['lr'\]"),
    (lambda d: d.update(extra=1), r"unknown keys \['extra'\]"),
    (lambda d: d.update(lr="0.1"), r"key 'lr' must be a list of numbers"),
    (lambda d: d.update(lr=[]), r"key 'lr' must hold one finite rate > 0 per iteration"),
    (lambda d: d.update(lr=[None] * len(d["lr"])), r"key 'lr' must hold one finite rate"),
    (lambda d: d.update(loss=d["loss"][:-1]), r"key 'loss' has 399 values for 400 rates"),
    (lambda d: d.update(accuracy=[True] * 400), r"key 'accuracy' must be a list of numbers"),
    (lambda d: d.update(val_iterations=[1.5]), r"key 'val_iterations' must be a list of iter"),
    (lambda d: d.update(val_iterations=[500], val_loss=[1.0]), r"names iterations past"),
    (lambda d: d.update(val_iterations=[5], val_loss=[]), r"key 'val_loss' has 0 values"),
    (lambda d: d.update(sweep="log"), r"key 'sweep' must be 'linear' or 'exp'"),
    (lambda d: d.update(start_lr=-1), r"key 'start_lr' must be a rate > 0"),
    (lambda d: d.update(planned_iterations=3), r"key 'planned_iterations' must be an integer"),
    (lambda d: d.update(stopped_early="no"), r"key 'stopped_early' must be true or false"),
]


@pytest.mark.parametrize("change, message", CASES, ids=[m for _, m in CASES])
def test_wrong_keys_types_and_shapes_are_one_line(saved, change, message):
    _edit(saved, change)
    with pytest.raises(ValueError, match=message) as info:
        RangeTestResult.load(saved)
    assert str(saved) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "content, message",
    [
        ("", r"not readable JSON"),
        ('{"lr": [0.1', r"not readable JSON"),
        ("[1, 2, 3]", r"it holds a list, not an object"),
        ("null", r"it holds a NoneType"),
    ],
)
def test_empty_truncated_and_non_object_files(tmp_path, content, message):
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        RangeTestResult.load(path)


def test_a_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No range-test result at .*nope\.json"):
        RangeTestResult.load(tmp_path / "nope.json")


def test_round_trip_and_the_old_key_names(saved):
    again = RangeTestResult.load(saved)
    assert again.suggest().max_lr == pytest.approx(toy_range_test().suggest().max_lr)
    _edit(saved, lambda d: d.update(min_lr=d.pop("start_lr"), max_lr=d.pop("end_lr")))
    assert RangeTestResult.load(saved).start_lr == pytest.approx(0.0001)
