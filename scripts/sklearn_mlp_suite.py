"""Run scikit-learn's own MLP test module against fastdnn.neural_network.

Copies the installed scikit-learn's sklearn/neural_network/tests/test_mlp.py into a
directory (the first argument, else a temporary one) with its one import line of
MLPClassifier and MLPRegressor changed to ``fastdnn.neural_network``, and runs it with
pytest (scikit-learn's fixtures loaded from its conftest). The copy never enters the
repository. Exit status: pytest's.

    python scripts/sklearn_mlp_suite.py
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import sklearn

LINE = "from sklearn.neural_network import MLPClassifier, MLPRegressor"


def swapped_module(directory):
    """The path of the swapped copy, written into ``directory``."""
    source = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
    text = source.read_text()
    if text.count(LINE) != 1:
        raise SystemExit(f"{source}: expected the line {LINE!r} once; this scikit-learn "
                         "imports its MLP another way")
    out = Path(directory) / "test_mlp_fastdnn.py"
    out.write_text(text.replace(LINE, LINE.replace("sklearn.", "fastdnn.")))
    return out


def main(argv):
    directory = argv[1] if len(argv) > 1 else tempfile.mkdtemp(prefix="sklearn-mlp-")
    module = swapped_module(directory)
    print(f"scikit-learn {sklearn.__version__}: {module}", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "-p", "sklearn.conftest", "-W", "ignore", str(module)],
                           cwd=directory)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
