"""The installed package is complete: every module of the source tree imports from it.

Run against a non-editable install (as .ci/run does), this catches a module or subpackage
that pyproject.toml forgets to ship.
"""
import importlib
import importlib.util
import pathlib

import pytest

import fastdnn
from conftest import ROOT

SOURCES = [(".".join(("fastdnn",) + p.parent.relative_to(ROOT / "fastdnn").parts), p)
           for p in sorted((ROOT / "fastdnn").rglob("*.py"))] + \
          [("fastdnn.kernels", p) for p in sorted((ROOT / "kernels").glob("*.py"))]


@pytest.mark.parametrize("package, path", SOURCES, ids=[f"{p}/{s.name}" for p, s in SOURCES])
def test_every_source_module_is_installed(package, path):
    name = package if path.stem == "__init__" else f"{package}.{path.stem}"
    if path.stem == "__main__":              # runs the command when imported: found is enough
        assert importlib.util.find_spec(name) is not None
        return
    module = importlib.import_module(name)
    assert pathlib.Path(module.__file__).name == path.name


def test_no_top_level_kernels_module_is_installed():
    import importlib.util
    spec = importlib.util.find_spec("kernels")
    assert spec is None or "fastdnn" in str(spec.origin), spec


def test_kernels_are_a_subpackage():
    assert fastdnn.kernels.__name__ == "fastdnn.kernels"
