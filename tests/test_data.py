"""CIFAR-10 loading paths, the paper's preprocessing, and the synthetic stand-in."""

import hashlib
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from clr.cifar10.data import DataError, load_cifar10, preprocess, synthetic_cifar10

SHARED_SMALL = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10-small.npz"


@pytest.fixture(scope="module")
def tiny():
    return synthetic_cifar10(n_train=60, n_test=20, seed=3)


def write_official_batches(folder: Path, data) -> None:
    """The official cifar-10-batches-py layout: pickled dicts, rows of 3072 channel-first bytes."""
    folder.mkdir(parents=True)
    rows = lambda x: x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # noqa: E731
    for i, part in enumerate(np.array_split(np.arange(len(data.x_train)), 5), start=1):
        (folder / f"data_batch_{i}").write_bytes(
            pickle.dumps(
                {b"data": rows(data.x_train[part]), b"labels": data.y_train[part].tolist()}
            )
        )
    (folder / "test_batch").write_bytes(
        pickle.dumps({b"data": rows(data.x_test), b"labels": data.y_test.tolist()})
    )


def assert_same(loaded, data):
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(data, name))
    assert loaded.y_train.ndim == 1 and loaded.x_train.dtype == np.uint8 and not loaded.synthetic


def test_npz(tmp_path, tiny):
    path = tmp_path / "c.npz"
    np.savez(
        path,
        x_train=tiny.x_train,
        y_train=tiny.y_train[:, None],
        x_test=tiny.x_test,
        y_test=tiny.y_test[:, None],
    )
    loaded = load_cifar10(path)
    assert_same(loaded, tiny)
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_official_folder_and_tarball(tmp_path, tiny):
    write_official_batches(tmp_path / "cifar-10-batches-py", tiny)
    assert_same(load_cifar10(tmp_path), tiny)  # the parent folder
    assert_same(load_cifar10(tmp_path / "cifar-10-batches-py"), tiny)
    tarball = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tmp_path / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    loaded = load_cifar10(tarball)
    assert_same(loaded, tiny)
    assert loaded.sha256 == hashlib.sha256(tarball.read_bytes()).hexdigest()


def test_environment_variable(tmp_path, tiny, monkeypatch):
    path = tmp_path / "env.npz"
    np.savez(
        path, x_train=tiny.x_train, y_train=tiny.y_train, x_test=tiny.x_test, y_test=tiny.y_test
    )
    monkeypatch.setenv("CLR_CIFAR10", str(path))
    assert load_cifar10().source == str(path)


def test_keras_loader_failure_says_how_to_provide_the_data(monkeypatch):
    keras = pytest.importorskip("keras")
    monkeypatch.delenv("CLR_CIFAR10", raising=False)

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(
        DataError,
        match=r"could not download CIFAR-10 \(no network\).*--data.*CLR_CIFAR10"
        r".*cifar-10-python\.tar\.gz",
    ) as info:
        load_cifar10()
    assert info.value.__cause__ is None and "\n" not in str(
        info.value
    )  # one line, no chained traceback


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing.npz", r"No CIFAR-10 at .*missing\.npz.*CLR_CIFAR10"),
        (
            lambda p: (np.savez(p / "bad.npz", x_train=np.zeros(1)), p / "bad.npz")[1],
            r"lacks the arrays \['x_test', 'y_test', 'y_train'\]",
        ),
        (lambda p: (p / "empty").mkdir() or p / "empty", r"holds no cifar-10-batches-py data"),
        (lambda p: (p / "x.txt").write_text("") * 0 or p / "x.txt", r"Unknown CIFAR-10 file type"),
    ],
)
def test_bad_sources(tmp_path, make, message):
    with pytest.raises(DataError, match=message):
        load_cifar10(make(tmp_path))


def _npz(path, tiny, **changes):
    arrays = dict(
        x_train=tiny.x_train, y_train=tiny.y_train, x_test=tiny.x_test, y_test=tiny.y_test
    )
    arrays.update(changes)
    np.savez(path, **arrays)
    return path


def _with(array, index, value):
    array = array.astype(np.result_type(array, np.asarray(value))).copy()
    array[index] = value
    return array


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            lambda t: dict(y_train=_with(t.y_train.astype(np.int64), 0, 10)),
            r"class indices 0-9; found 10",
        ),
        (
            lambda t: dict(y_train=_with(t.y_train.astype(np.int64), 3, -1)),
            r"class indices 0-9; found -1",
        ),
        (
            lambda t: dict(y_test=_with(t.y_test.astype(np.int64), 0, 259)),
            r"`y_test` must hold class indices 0-9; found 259",
        ),
        (
            lambda t: dict(y_train=_with(t.y_train.astype(np.float64), 0, 3.7)),
            r"integer class indices 0-9; found 3\.7",
        ),
        (
            lambda t: dict(x_train=t.x_train.astype(np.float32) / 255),
            r"looks scaled to \[0, 1\].*raw 0-255",
        ),
        (
            lambda t: dict(x_train=_with(t.x_train.astype(np.float32), (0, 0, 0, 0), -3.0)),
            r"pixels must be in 0-255; they span -3",
        ),
        (
            lambda t: dict(x_test=_with(t.x_test.astype(np.float32), (1, 2, 3, 0), np.nan)),
            r"`x_test` holds NaN",
        ),
        (lambda t: dict(x_train=t.x_train[:0], y_train=t.y_train[:0]), r"the train split is empty"),
        (lambda t: dict(x_test=t.x_test[:0], y_test=t.y_test[:0]), r"the test split is empty"),
        (
            lambda t: dict(y_train=np.eye(10, dtype=np.uint8)[t.y_train]),
            r"looks one-hot \(shape \(60, 10\)\).*argmax",
        ),
    ],
    ids=[
        "label-10",
        "label-minus-1",
        "label-259",
        "float-label",
        "images-0-1",
        "negative-pixel",
        "nan-pixel",
        "empty-train",
        "empty-test",
        "one-hot",
    ],
)
def test_bad_data_is_refused_in_one_line_naming_the_file(tmp_path, tiny, changes, message):
    path = _npz(tmp_path / "bad.npz", tiny, **changes(tiny))
    with pytest.raises(DataError, match=message) as info:
        load_cifar10(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04 truncated", np.random.default_rng(0).bytes(3000)],
    ids=["empty", "truncated", "random"],
)
def test_unreadable_npz_names_the_file(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"broken\.npz cannot be read as CIFAR-10"):
        load_cifar10(path)


def test_whole_float_labels_and_integer_images_are_accepted(tmp_path, tiny):
    path = _npz(
        tmp_path / "ok.npz",
        tiny,
        y_train=tiny.y_train.astype(np.float64),
        x_test=tiny.x_test.astype(np.int64),
    )
    assert_same(load_cifar10(path), tiny)


def test_synthetic_is_labelled_and_learnable():
    data = synthetic_cifar10(n_train=400, n_test=100, seed=0)
    assert data.synthetic and "SYNTHETIC" in data.description
    assert data.x_train.shape == (400, 32, 32, 3) and set(np.unique(data.y_train)) == set(range(10))
    # Learnable: nearest class mean on the training set beats chance by far on the test set.
    means = np.stack([data.x_train[data.y_train == c].mean(0) for c in range(10)]).reshape(10, -1)
    dist = ((data.x_test.reshape(100, 1, -1).astype(float) - means) ** 2).sum(-1)
    assert (dist.argmin(1) == data.y_test).mean() > 0.5


def test_preprocess_subtracts_the_mean_image_and_shuffles(tiny):
    out = preprocess(tiny, seed=1)
    np.testing.assert_allclose(out.x_train.mean(axis=0), 0, atol=1e-3)  # per pixel, per channel
    assert (
        out.x_train.dtype == np.float32 and np.abs(out.x_train).max() > 50
    )  # raw 0-255 scale kept
    mean_image = tiny.x_train.astype(np.float32).mean(axis=0)
    assert sorted(out.y_test.tolist()) == sorted(tiny.y_test.tolist())
    np.testing.assert_allclose(
        np.sort((out.x_test + mean_image).ravel()),
        np.sort(tiny.x_test.astype(np.float32).ravel()),
        atol=1e-3,
    )
    assert not np.array_equal(out.y_train, tiny.y_train)  # shuffled ...
    np.testing.assert_array_equal(preprocess(tiny, seed=1).y_train, out.y_train)  # ... reproducibly
    assert len(preprocess(tiny, seed=1, n_train=30, n_test=10).x_train) == 30


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda t: load_cifar10(123), TypeError, r"`source` must be a path"),
        (lambda t: synthetic_cifar10(n_train=0), ValueError, r"`n_train` must be"),
        (lambda t: synthetic_cifar10(n_test=2.5), ValueError, r"`n_test` must be a whole number"),
        (lambda t: synthetic_cifar10(seed=-1), ValueError, r"`seed` must be"),
        (lambda t: preprocess(t, seed="1"), TypeError, r"`seed` must be"),
        (lambda t: preprocess(t, n_train=0), ValueError, r"`n_train` must be"),
    ],
)
def test_bad_arguments_are_refused_naming_them(tiny, call, error, message):
    with pytest.raises(error, match=message):
        call(tiny)


@pytest.mark.skipif(
    not SHARED_SMALL.exists(),
    reason="no ../shared/data (a fresh machine): covered by the generated data above",
)
def test_the_teams_offline_copy():
    data = load_cifar10(SHARED_SMALL)
    assert data.sha256 == "5f34067b7d36e6a0f4134006dfa45bfcc01aa4e25f0383625a8732072138cfa0"
    assert (
        data.x_train.shape == (5000, 32, 32, 3) and np.bincount(data.y_train).tolist() == [500] * 10
    )
    subset = preprocess(data, seed=0, n_train=200)
    assert len(np.unique(subset.y_train)) == 10  # sorted by class in the file, shuffled here


# -- hostile and oversized files (issues 23 and 26): refused before anything runs or allocates --


class _RunsCode:
    """A pickle that would run a shell command when loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _tarball(path, members):
    """A .tar.gz of ``members``: name -> bytes, or a TarInfo-making callable."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            if callable(content):
                content(tar, name)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def _official_members(data, prefix="cifar-10-batches-py/"):
    rows = lambda x: x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # noqa: E731
    members = {}
    for i, part in enumerate(np.array_split(np.arange(len(data.x_train)), 5), start=1):
        members[f"{prefix}data_batch_{i}"] = pickle.dumps(
            {b"data": rows(data.x_train[part]), b"labels": data.y_train[part].tolist()}, protocol=2
        )
    members[f"{prefix}test_batch"] = pickle.dumps(
        {b"data": rows(data.x_test), b"labels": data.y_test.tolist()}, protocol=2
    )
    return members


def test_a_pickle_that_runs_code_is_refused_before_it_runs(tmp_path, tiny):
    marker = tmp_path / "pwned"
    members = _official_members(tiny)
    members["cifar-10-batches-py/data_batch_3"] = pickle.dumps(_RunsCode(marker), protocol=2)
    path = _tarball(tmp_path / "cifar-10-python.tar.gz", members)
    with pytest.raises(DataError, match=r"data_batch_3 asks to load posix\.system.*refused"):
        load_cifar10(path)
    assert not marker.exists()
    # The same in an extracted folder.
    folder = tmp_path / "cifar-10-batches-py"
    write_official_batches(folder, tiny)
    (folder / "test_batch").write_bytes(pickle.dumps(_RunsCode(marker)))
    with pytest.raises(DataError, match=r"test_batch asks to load posix\.system"):
        load_cifar10(folder)
    assert not marker.exists()


def test_a_pickle_of_the_right_kind_with_object_values_is_refused(tmp_path, tiny):
    members = _official_members(tiny)
    members["cifar-10-batches-py/test_batch"] = pickle.dumps(
        {b"data": np.array([[object()]], dtype=object), b"labels": [0]}, protocol=2
    )
    with pytest.raises(DataError, match=r"test_batch"):
        load_cifar10(_tarball(tmp_path / "c.tar.gz", members))


def _symlink(target):
    def add(tar, name):
        info = tarfile.TarInfo(name)
        info.type, info.linkname = tarfile.SYMTYPE, target
        tar.addfile(info)

    return add


def _huge(size):
    def add(tar, name):
        info = tarfile.TarInfo(name)
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))

    return add


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda m: {**m, "../data_batch_1": m.pop("cifar-10-batches-py/data_batch_1")},
            r"member '\.\./data_batch_1' points outside the archive",
        ),
        (
            lambda m: {**m, "/tmp/evil/test_batch": m.pop("cifar-10-batches-py/test_batch")},
            r"member '/tmp/evil/test_batch' points outside the archive",
        ),
        (
            lambda m: {**m, "cifar-10-batches-py/x/../../../etc": b"boom"},
            r"points outside the archive",
        ),
        (
            lambda m: {
                **{k: v for k, v in m.items() if not k.endswith("data_batch_2")},
                "cifar-10-batches-py/data_batch_2": _symlink("/etc/passwd"),
            },
            r"member 'cifar-10-batches-py/data_batch_2' is a link",
        ),
        (
            lambda m: {**m, "copy/data_batch_4": m["cifar-10-batches-py/data_batch_4"]},
            r"members 'cifar-10-batches-py/data_batch_4' and 'copy/data_batch_4' could both be",
        ),
        (
            lambda m: {
                **{k: v for k, v in m.items() if not k.endswith("data_batch_5")},
                "cifar-10-batches-py/data_batch_5": _huge(40 * 1024 * 1024),
            },
            r"declares 41,943,040 bytes; a CIFAR-10 batch is about 31 MB: refused unread",
        ),
    ],
    ids=["dotdot", "absolute", "deep dotdot", "symlink", "two copies", "oversized"],
)
def test_hostile_tar_members_are_refused_and_nothing_is_written(tmp_path, tiny, change, message):
    members = change(_official_members(tiny))
    (tmp_path / "in").mkdir()
    path = _tarball(tmp_path / "in" / "c.tar.gz", members)
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(DataError, match=message):
        load_cifar10(path)
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not Path("/tmp/evil").exists()


def _npy_member(z, name, header_shape, dtype="|u1", body=b""):
    """An .npy inside a zip whose header declares ``header_shape`` whatever its body holds."""
    header = {"descr": dtype, "fortran_order": False, "shape": header_shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    z.writestr(name, buffer.getvalue() + body)


def test_npz_with_object_arrays_is_refused(tmp_path, tiny):
    path = tmp_path / "objects.npz"
    np.savez(path, x_train=np.array([object()] * 3, dtype=object), y_train=tiny.y_train,
             x_test=tiny.x_test, y_test=tiny.y_test)  # fmt: skip
    with pytest.raises(DataError, match=r"array 'x_train' holds object values.*refused"):
        load_cifar10(path)


def test_npz_declaring_an_enormous_shape_is_refused_before_allocating(tmp_path, tiny):
    import tracemalloc
    import zipfile

    path = tmp_path / "enormous.npz"
    with zipfile.ZipFile(path, "w") as z:
        _npy_member(z, "x_train.npy", (10**9, 32, 32, 3), body=b"\0" * 100)
        for key in ("y_train", "x_test", "y_test"):
            buffer = io.BytesIO()
            np.save(buffer, getattr(tiny, key))
            z.writestr(f"{key}.npy", buffer.getvalue())
    tracemalloc.start()
    with pytest.raises(
        DataError, match=r"array 'x_train' declares shape \(1000000000, 32, 32, 3\)"
    ):
        load_cifar10(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000  # nothing near the declared 3 TB, nor any real array, was allocated


def test_npz_over_the_data_sets_bytes_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "float64.npz"
    with zipfile.ZipFile(path, "w") as z:  # full-size float64 images: 8 times CIFAR-10 in uint8
        _npy_member(z, "x_train.npy", (50_000, 32, 32, 3), dtype="<f8", body=b"")
        _npy_member(z, "y_train.npy", (50_000,), body=b"")
        _npy_member(z, "x_test.npy", (10_000, 32, 32, 3), body=b"")
        _npy_member(z, "y_test.npy", (10_000,), body=b"")
    with pytest.raises(DataError, match=r"declares 1,228,800,000 bytes.*store the images as uint8"):
        load_cifar10(path)


def test_npz_shorter_than_its_header_is_refused(tmp_path, tiny):
    import zipfile

    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as z:
        _npy_member(z, "x_train.npy", (60, 32, 32, 3), body=b"\0" * 10)
        for key in ("y_train", "x_test", "y_test"):
            buffer = io.BytesIO()
            np.save(buffer, getattr(tiny, key))
            z.writestr(f"{key}.npy", buffer.getvalue())
    with pytest.raises(DataError, match=r"array 'x_train' is shorter than its header says"):
        load_cifar10(path)
