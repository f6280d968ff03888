"""RangeTestResult.load on damaged and hostile files: one line naming the file and the key
(numpy only: no Keras needed)."""

import json

import numpy as np
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
    (lambda d: d.update(lr=[]), r"`lr` must hold one finite rate > 0 per iteration"),
    (lambda d: d.update(lr=[None] * len(d["lr"])), r"`lr` must hold one finite rate"),
    (lambda d: d.update(loss=d["loss"][:-1]), r"`loss` has 399 values for 400 rates"),
    (lambda d: d.update(accuracy=[True] * 400), r"key 'accuracy' must be a list of numbers"),
    (lambda d: d.update(val_iterations=[1.5]), r"`val_iterations` must be iterations \(whole"),
    (
        lambda d: d.update(val_iterations=[500], val_loss=[1.0]),
        r"`val_iterations` names iterations past",
    ),
    (
        lambda d: d.update(val_iterations=[5], val_loss=[]),
        r"`val_loss` has 0 values for 1 evaluations",
    ),
    (lambda d: d.update(sweep="log"), r"`sweep` must be one of"),
    (lambda d: d.update(start_lr=-1), r"`start_lr` must be a finite number > 0"),
    (lambda d: d.update(planned_iterations=3), r"`planned_iterations` must be an integer >="),
    (lambda d: d.update(stopped_early="no"), r"`stopped_early` must be True or False"),
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


def _fields(**change):
    result = toy_range_test()
    return {**{f: getattr(result, f) for f in result.__dataclass_fields__}, **change}


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"lr": -np.ones(400)}, ValueError, r"`lr` must hold one finite rate > 0"),
        ({"lr": np.ones((400, 2))}, TypeError, r"`lr` must be a 1-D sequence of numbers"),
        ({"lr": "0.1"}, TypeError, r"`lr` must be a 1-D sequence of numbers"),
        ({"loss": np.ones(5)}, ValueError, r"`loss` has 5 values for 400 rates"),
        ({"accuracy": np.ones(3)}, ValueError, r"`accuracy` has 3 values for 400 rates"),
        ({"sweep": "log"}, ValueError, r"`sweep` must be one of"),
        ({"end_lr": float("nan")}, ValueError, r"`end_lr` must be a finite number > 0"),
        ({"planned_iterations": "x"}, TypeError, r"`planned_iterations` must be an integer"),
        ({"stop_reason": 3}, TypeError, r"`stop_reason` must be a string or None"),
        (
            {"val_iterations": np.array([900]), "val_loss": np.ones(1), "val_accuracy": None},
            ValueError,
            r"`val_iterations` names iterations past",
        ),
    ],
    ids=repr,
)
def test_a_result_built_by_hand_is_checked_like_a_loaded_one(change, error, message):
    # Before, the constructor took anything, and suggest() read a negative rate as a suggestion.
    with pytest.raises(error, match=message):
        RangeTestResult(**_fields(**change))


def test_a_result_built_from_lists_holds_arrays():
    built = RangeTestResult(**_fields(lr=list(toy_range_test().lr), sweep=np.str_("linear")))
    assert isinstance(built.lr, np.ndarray) and type(built.sweep) is str
    assert built.suggest() == toy_range_test().suggest()
