"""File formats and files: atomic writes, the course's HDF5 datasets and the embedded one,
samples-first HDF5 rows (read, checked, mapped), model files and data fingerprints.

Nothing here trains: the engine reads and writes through these modules.
"""
