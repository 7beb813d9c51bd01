"""Where the benchmarks find the real cat data (../shared/data, or $FASTDNN_SHARED/data)."""
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("FASTDNN_SHARED", os.path.join(_HERE, "..", "..", "shared"))
CAT_DATA = os.path.join(SHARED, "data")


def cat_available():
    return os.path.exists(os.path.join(CAT_DATA, "train_catvnoncat.h5"))
