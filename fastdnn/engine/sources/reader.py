"""The background reader of a streamed run: windows of a file's rows made ready on a thread
while the kernels compute on the previous one.

Guarantees: at most two windows are ready or in use at a time; a window is handed out only
once filled, and refilled only once the caller has moved past it; an error on the reader's
thread is raised in the caller; ``close`` stops and joins the thread (call it in a finally).
"""
import queue
import threading

import numpy as np


class Reader:
    """Fills windows on a background thread, two windows ahead of the kernels at most.

    ``windows``: an iterable of Window; each is filled with its rows and handed out by
    iterating the Reader, as (array, window): a window of jobs has job k's rows at k·W of the
    array (positions as they are: a full batch); a segment (jobs None) has its positions'
    rows, through its order, gathered from blocks of ``block`` rows (``capacity`` of them
    kept, enough for a batch), in order from row 0. With a ``mapping`` (io.hdf5.Mapping)
    nothing is copied: the array is the mapped file (row r at r), and a window's pages are
    fetched ahead and released once used.
    """

    def __init__(self, source, windows, rows, W, block, capacity, mapping=None):
        self.source, self.W, self.block, self.capacity = source, W, block, capacity
        self.mapping = mapping
        self.buffers = [mapping.rows] * 2 if mapping is not None else \
            [np.empty((rows, source.n0), source.dtype) for _ in range(2)]
        self.blocks = {}           # block index -> its rows (shuffled batches), capacity at most
        self.free, self.ready = queue.Queue(), queue.Queue()
        for i in range(len(self.buffers)):
            self.free.put(i)
        self.stop = False
        self.thread = threading.Thread(target=self._fill_all, args=(windows,), daemon=True,
                                       name="fastdnn-reader")
        self.thread.start()

    def _fill_all(self, windows):
        try:
            for w in windows:
                i = self.free.get()
                if self.stop:
                    return
                self._fill(self.buffers[i], w)
                self.ready.put((i, w))
            self.ready.put(None)
        except BaseException as exc:          # handed to the consumer, raised there
            self.ready.put(exc)

    def _spans(self, w):
        """The file's row ranges a mapped window reads: its jobs', or its blocks'."""
        if w.jobs is not None:
            return [(s, e) for c, s, e in w.jobs]
        B = self.block
        return [(b * B, min((b + 1) * B, self.source.m))
                for b in np.unique(w.order[w.b0:w.b1] // B)]

    def _fill(self, buf, w):
        if self.mapping is not None:
            for s, e in self._spans(w):
                self.mapping.fetch(s, e)
            return
        if w.jobs is None:
            self._gather(buf[:w.b1 - w.b0], w.order[w.b0:w.b1])
            return
        order = w.order
        for k, (c, s, e) in enumerate(w.jobs):
            rows = buf[k * self.W: k * self.W + e - s]
            if order.size == 0:
                self.source.read(int(s), int(e), rows)
            else:
                self._gather(rows, order[s:e])

    def _gather(self, rows, samples):
        # samples lie in runs of one block each (epoch_order walks block after block)
        B = self.block
        ids = samples // B
        cuts = np.flatnonzero(np.diff(ids)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, ids.size]):
            b = int(ids[lo])
            if b not in self.blocks:
                if len(self.blocks) >= self.capacity:      # the oldest one is done with
                    self.blocks.pop(next(iter(self.blocks)))
                e = min((b + 1) * B, self.source.m)
                self.blocks[b] = np.empty((e - b * B, self.source.n0), self.source.dtype)
                self.source.read(b * B, e, self.blocks[b])
            np.take(self.blocks[b], samples[lo:hi] - b * B, axis=0, out=rows[lo:hi], mode="clip")

    def __iter__(self):
        while True:
            item = self.ready.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            i, w = item
            yield self.buffers[i], w
            if self.mapping is not None:
                for s, e in self._spans(w):
                    self.mapping.release(s, e)
            self.free.put(i)

    def close(self):
        self.stop = True
        self.free.put(0)                      # wakes a reader waiting for a buffer
        self.thread.join()
