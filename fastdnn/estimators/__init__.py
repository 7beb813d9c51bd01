"""scikit-learn estimators over the engine (the ``fastdnn[sklearn]`` extra: importing this
package imports scikit-learn; ``import fastdnn`` never does).

dnn.py: ``DNNClassifier``, the course-flavoured classifier.
"""
from .dnn import DNNClassifier

__all__ = ["DNNClassifier"]
