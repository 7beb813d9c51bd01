"""scikit-learn's ``sklearn.neural_network`` estimators, compiled: change the import line,
keep the script (the ``fastdnn[sklearn]`` extra; importing this package imports
scikit-learn, ``import fastdnn`` never does).

    from fastdnn.neural_network import MLPClassifier, MLPRegressor
"""
from ..estimators.mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
