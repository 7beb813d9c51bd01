"""Build fastdnn's embedded default dataset (run once; the output is committed).

Source: scikit-learn's bundled copy of the UCI "Optical Recognition of Handwritten Digits"
test set (1797 8x8 grey images, BSD-3-Clause as shipped by scikit-learn), in the course's
HDF5 layout: images (m, 8, 8, 1) uint8 scaled from 0..16 to 0..255; a fixed 80/20 split
(seed 0). Two label sets for the same images and split: ``*_digits.h5``, a binary task
(1 = even digit, 0 = odd), and ``*_digits10.h5``, the ten digits (list_classes "0".."9").

    pip install scikit-learn h5py && python scripts/make_digits_dataset.py
"""
import pathlib

import h5py
import numpy as np
from sklearn.datasets import load_digits

OUT = pathlib.Path(__file__).resolve().parent.parent / "fastdnn" / "io" / "embedded"


def main():
    digits = load_digits()
    images = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., None]   # (1797, 8, 8, 1)
    order = np.random.default_rng(0).permutation(len(digits.target))
    cut = int(0.8 * len(order))
    tasks = {"digits": ((digits.target % 2 == 0).astype(np.int64), [b"odd", b"even"]),
             "digits10": (digits.target.astype(np.int64), [str(d).encode() for d in range(10)])}
    OUT.mkdir(parents=True, exist_ok=True)
    for task, (labels, classes) in tasks.items():
        for name, idx in (("train", order[:cut]), ("test", order[cut:])):
            with h5py.File(OUT / f"{name}_{task}.h5", "w") as f:
                f.create_dataset(f"{name}_set_x", data=images[idx], compression="gzip")
                f.create_dataset(f"{name}_set_y", data=labels[idx])
                f.create_dataset("list_classes", data=np.array(classes))
    print("wrote", sorted(p.name for p in OUT.glob("*.h5")))


if __name__ == "__main__":
    main()
