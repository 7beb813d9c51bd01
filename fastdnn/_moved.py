"""Import paths of modules that moved in 0.2.0, kept working: ``import fastdnn.model_file``
(and ``from fastdnn.inference import predictions``, ...) give the module at its new place.

One table, one finder: a module is imported only when an old path asks for it, and it is the
same module object as at its new path (no copy, no second state).
"""
import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "fastdnn.model_file": "fastdnn.io.model_file",
    "fastdnn.files": "fastdnn.io.files",
    "fastdnn.data": "fastdnn.io.datasets",
    "fastdnn.inference": "fastdnn.engine.inference",
    "fastdnn.training": "fastdnn.engine.training",
    "fastdnn.optim": "fastdnn.engine.settings",
    "fastdnn.estimator": "fastdnn.estimators.dnn",
}


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module path and loads the module of its new path."""

    def find_spec(self, name, path=None, target=None):
        if name not in MOVED:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        # The module at its new path: Python then binds it to the old name as well (module
        # attributes such as __name__ and __spec__ stay the new path's).
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module):
        pass


def install():
    """Put the finder on sys.meta_path once."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())
