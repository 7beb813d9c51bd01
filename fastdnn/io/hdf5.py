"""A samples-first HDF5 dataset as the engine reads it: rows by blocks, checked by blocks,
or mapped from the file without a copy.

Guarantees: the values are the file's (HDF5 converts other number types to float64 exactly);
a mapping is made only of a contiguous, unfiltered dataset stored in the machine's byte
order, copy-on-write and never written, so the file cannot change; its pages come from the
OS's page cache as they are read and are handed back (``release``) once used, so a run's
resident memory stays a few windows whatever the file's size.
"""
import mmap
import os

import numpy as np

from ..kernels import SOURCE_DTYPES

BLOCK_BYTES = 16 << 20         # rows read at once by blocks(), at most (a row at least)
MADV_POPULATE_READ = 22        # Linux >= 5.14: fill the page tables now (Python lacks the name)


class H5Source:
    """Rows of a samples-first HDF5 dataset: (m, n0) as the tiled kernels read X^T.

    Parameters
    ----------
    data : h5py.Dataset, or (path, name) of one (the file is opened read-only, kept open
        until ``close``).
    """

    def __init__(self, data):
        import h5py
        self._file = None
        if isinstance(data, tuple):
            path, name = data
            try:
                self._file = h5py.File(path, "r")
                data = self._file[name]
            except (OSError, KeyError) as exc:
                self.close()
                raise ValueError(f"X: cannot read dataset {name!r} of {path!r} ({exc})") \
                    from None
        if not isinstance(data, h5py.Dataset) or data.ndim < 2 or data.shape[0] < 1:
            raise ValueError(f"X: expected a samples-first HDF5 dataset (m, ...), got {data!r}")
        if data.dtype.kind not in "fiub":
            raise ValueError(f"X: dataset {data.name} holds {data.dtype}, expected numbers")
        self.data = data
        self.m = data.shape[0]
        self.n0 = int(np.prod(data.shape[1:]))
        # The kernels read uint8, float32 and float64 as stored; others arrive as float64
        # (HDF5 converts exactly as it reads).
        self.dtype = data.dtype if data.dtype.type in SOURCE_DTYPES else np.dtype(np.float64)

    @property
    def shape(self):
        """(n0, m): the shape of X in the course's layout (one column a sample)."""
        return (self.n0, self.m)

    def read(self, s, e, out):
        """Rows s..e into ``out`` ((e - s, n0) C, this source's dtype)."""
        self.data.read_direct(out.reshape((e - s,) + self.data.shape[1:]), np.s_[s:e])

    def blocks(self, max_bytes=BLOCK_BYTES):
        """(first row, rows (r, n0)) of every row in order, ``max_bytes`` of them at a time (a
        row at least), read into one reused buffer: each block is valid until the next."""
        rows = max(1, max_bytes // (self.n0 * self.dtype.itemsize))
        buf = np.empty((min(rows, self.m), self.n0), self.dtype)
        for s in range(0, self.m, rows):
            e = min(s + rows, self.m)
            self.read(s, e, buf[:e - s])
            yield s, buf[:e - s]

    def first_bad(self):
        """The first (sample, feature) holding NaN or infinity, or None (by blocks of rows)."""
        if self.dtype.kind != "f":
            return None
        for s, rows in self.blocks():
            ok = np.isfinite(rows)
            if not ok.all():
                i, k = np.argwhere(~ok)[0]
                return int(s + i), int(k)
        return None

    def mapped(self):
        """A Mapping of the rows, or None where the dataset cannot be mapped as it is stored
        (chunked, filtered, another byte order or type) or the address space is short."""
        d = self.data
        offset = d.id.get_offset() if d.chunks is None else None
        if offset is None or d.dtype != self.dtype or not d.dtype.isnative:
            return None
        try:
            return Mapping(d.file.filename, offset, (self.m, self.n0), self.dtype)
        except (OSError, ValueError, AttributeError):    # no address space; not POSIX
            return None

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def file_source(X):
    """An H5Source when X is one, an h5py dataset or a (path, name) pair, else None (X is an
    array)."""
    if isinstance(X, H5Source):
        return X
    if isinstance(X, tuple) and len(X) == 2 and all(isinstance(p, str) for p in X):
        return H5Source(X)
    if type(X).__module__.startswith("h5py"):
        return H5Source(X)
    return None


class Mapping:
    """``rows`` (m, n0): a dataset's bytes in the file, mapped copy-on-write (never written).

    ``fetch(s, e)`` asks the OS for rows s..e ahead of their use; ``release(s, e)`` hands
    their pages back (they stay in the page cache; a later read maps them again)."""

    def __init__(self, path, offset, shape, dtype):
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        size = int(np.prod(shape)) * dtype.itemsize
        fd = os.open(path, os.O_RDONLY)
        try:
            self._map = mmap.mmap(fd, size + offset - start, flags=mmap.MAP_PRIVATE,
                                  prot=mmap.PROT_READ | mmap.PROT_WRITE, offset=start)
        finally:
            os.close(fd)
        self._skip, self._row = offset - start, shape[1] * dtype.itemsize
        self.rows = np.frombuffer(self._map, dtype, int(np.prod(shape)),
                                  self._skip).reshape(shape)

    def _pages(self, s, e):
        lo = self._skip + s * self._row
        lo -= lo % mmap.PAGESIZE
        return lo, self._skip + e * self._row - lo

    def fetch(self, s, e):
        lo, n = self._pages(s, e)
        try:
            self._map.madvise(MADV_POPULATE_READ, lo, n)
        except OSError:                      # an older kernel: read-ahead, faults later
            self._map.madvise(mmap.MADV_WILLNEED, lo, n)

    def release(self, s, e):
        self._map.madvise(mmap.MADV_DONTNEED, *self._pages(s, e))
