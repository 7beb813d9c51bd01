"""The course's HDF5 data files: a missing, truncated or wrong-layout file is named with
its problem; write_dataset writes what read_dataset reads."""
import h5py
import numpy as np
import pytest

from fastdnn.io.datasets import DataFileError, load_data, read_dataset, write_dataset


def test_missing_data_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_catvnoncat.h5"):
        load_data(str(tmp_path))


def test_truncated_and_non_hdf5_data_files(tmp_path):
    bad = tmp_path / "train_x.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(DataFileError, match="train_x.h5: not a readable HDF5"):
        read_dataset(str(bad))


def test_wrong_layout_data_files(tmp_path):
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((3, 2, 2, 3), np.uint8)
    with pytest.raises(DataFileError, match=r"d.h5: expected one dataset named '\*_set_x'"):
        read_dataset(str(path))
    with h5py.File(path, "w") as f:
        f["a_set_x"] = np.zeros((3, 2, 2, 3), np.uint8)
        f["a_set_y"] = np.zeros(4, np.int64)
    with pytest.raises(DataFileError, match=r"d.h5: images \(3, 2, 2, 3\) and labels \(4,\)"):
        read_dataset(str(path))
