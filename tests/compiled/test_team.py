"""kernels/team.py: its atomic operations, its waits, and the team of threads that runs a
call's training steps in one parallel region: the serial twin's bits with every thread, and
with fewer running threads than the loop's slots (no deadlock)."""
import contextlib

import numba
import numpy as np
import pytest

import fastdnn
from conftest import every_core
from fastdnn.engine.settings import checked
from fastdnn.kernels import team


@numba.njit
def _atomics(a):
    # Each operation once, returning what it saw.
    seen = team.atomic_load(a, 0)
    team.atomic_store(a, 1, 7)
    before = team.fetch_add(a, 1, 5)
    missed = team.compare_swap(a, 2, 99, 1)        # a[2] is not 99: unchanged
    hit = team.compare_swap(a, 2, a[2], 42)
    return seen, before, missed, hit


def test_atomic_operations_do_what_they_say():
    a = np.array([3, 0, 11], np.int64)
    seen, before, missed, hit = _atomics(a)
    assert (seen, before, missed, hit) == (3, 7, False, True)
    assert a.tolist() == [3, 12, 42]


@numba.njit(parallel=True)
def _count(a, slots, adds):
    # Every slot adds 1 ``adds`` times to a[0] (fetch_add) and to a[8] (compare_swap).
    for w in numba.prange(slots):
        for _ in range(adds):
            team.fetch_add(a, 0, 1)
            while True:
                seen = team.atomic_load(a, 8)
                if team.compare_swap(a, 8, seen, seen + 1):
                    break


def test_atomic_counts_lose_nothing_between_threads():
    with every_core():
        a = np.zeros(team.SYNC_SIZE, np.int64)
        _count(a, 4, 20000)
    assert a[0] == 80000 and a[8] == 80000


@numba.njit
def _relax(spins):
    return team.relax(spins)


def test_the_state_has_a_claim_for_every_chunk():
    from fastdnn.kernels.codes import CHUNKS
    assert team.SYNC_SIZE - team.CHUNK >= CHUNKS


def test_waits_pause_then_yield():
    assert _relax(0) == 1
    assert _relax(team.SPINS) == team.SPINS + 1          # past SPINS: sched_yield, returns


def _train(dims, m, dtype, options):
    rng = np.random.default_rng(5)
    X = np.asfortranarray(rng.standard_normal((dims[0], m)), dtype)
    Y = (X[:1] > 0).astype(dtype)
    if dims[-1] > 1:
        Y = np.eye(dims[-1], dtype=dtype)[:, rng.integers(0, dims[-1], m)]
    trainer = fastdnn.Trainer(X, Y, fastdnn.initialize_parameters_deep(dims), 0.01,
                              dtype=dtype, settings=checked(**options))
    costs = np.empty(3)
    trainer.run(costs)
    return costs, trainer.net.theta.copy(), trainer.tiles.chunks


CASES = [([20, 10, 1], 3000, np.float32, {}),                     # full batch, many chunks
         ([30, 16, 3], 1000, np.float64,                          # last batch shorter
          dict(optimizer="adam", mini_batch_size=256, lambd=0.1)),
         ([12, 8, 1], 1400, np.float32,                           # dropout reads the step
          dict(optimizer="momentum", mini_batch_size=512, keep_prob=0.8, seed=2))]


@pytest.mark.parametrize("dims, m, dtype, options", CASES)
def test_team_gives_the_serial_twins_bits(dims, m, dtype, options, monkeypatch):
    from fastdnn.engine.sources import memory
    with every_core(parallel=False):
        want = _train(dims, m, dtype, options)
    with every_core():
        got = _train(dims, m, dtype, options)
    assert want[2] > 1                    # several chunks: the team has work to share
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    # One running thread for all of the parallel loop's slots: it does every step in its
    # first slot, and the others find them done.
    monkeypatch.setattr(memory, "pick", lambda par, ser, work, parts=2:
                        (par, contextlib.nullcontext()))
    with fastdnn.runtime.threads.limit_threads(1):
        assert numba.get_num_threads() == 1
        alone = _train(dims, m, dtype, options)
    assert np.array_equal(alone[0], want[0]) and np.array_equal(alone[1], want[1])


def _train_twice(X, X2, dims):
    # Two calls on one trainer, X changed in place between them (a thread may keep its
    # transposed tile of X between steps of a call, never between calls).
    Y = (X[:1] > 0).astype(X.dtype)
    trainer = fastdnn.Trainer(X, Y, fastdnn.initialize_parameters_deep(dims), 0.05,
                              dtype=X.dtype)
    first, second = np.empty(3), np.empty(3)
    trainer.run(first)
    X[...] = X2
    trainer.run(second)
    return first, second, trainer.net.theta.copy()


def test_a_kept_tile_of_x_never_outlives_its_call():
    rng = np.random.default_rng(8)
    dims, m = [20, 10, 1], 1500
    X1 = np.asfortranarray(rng.standard_normal((20, m)), np.float32)
    X2 = np.asfortranarray(rng.standard_normal((20, m)), np.float32)
    with every_core(parallel=False):
        want = _train_twice(X1.copy(order="F"), X2, dims)
    with every_core():
        got = _train_twice(X1.copy(order="F"), X2, dims)
    assert not np.array_equal(want[0], want[1])
    for a, b in zip(got, want):
        assert np.array_equal(a, b)
