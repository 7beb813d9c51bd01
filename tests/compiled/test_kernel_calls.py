"""A kernel called through its address (kernels/calls.py): the training step's chunk loop is
compiled once and called by address; a Callee made for other types is an error, not a call.
(The streamed steps call it the same way: tests/engine/test_streaming.py checks that they
give the in-memory bits.)"""
import numpy as np
import pytest

import fastdnn
from fastdnn import kernels as K
from fastdnn.kernels import tiled


def _captured_step_arguments(monkeypatch):
    """The arguments of the training kernel's call in a small fit (its serial twin)."""
    seen = []
    serial = K.tiled_train_steps_serial
    monkeypatch.setattr(K, "tiled_train_steps_serial", lambda *a: seen.append(a) or serial(*a))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 40))
    fastdnn.fit(X, (X[:1] > 0).astype(float), [6, 3, 1], 0.1, 2, gram=False)
    return serial, seen[0]


def test_the_step_calls_the_chunk_loop_by_address_and_links_none_of_it(monkeypatch):
    serial, (costs, net, tw, data, opt, mb, chunk_fn) = _captured_step_arguments(monkeypatch)
    assert isinstance(chunk_fn, K.Callee) and chunk_fn.addr != 0
    assert K.chunk_callee(tw, net, data, opt) == chunk_fn          # made once, then found
    sig = next(s for s in serial.signatures if "Callee" in str(s[-1]))
    # The compiled module as callers would link it (kept in the cache too, unlike
    # inspect_llvm's text); Numba's mangled names: the entry point's, none of the chunk loop's.
    code = str(serial.overloads[sig].library._get_module_for_linking())
    assert "5tiled24tiled_train_steps_serial" in code and "5tiled6_chunk" not in code


def test_a_callee_for_other_types_is_refused(monkeypatch):
    serial, (costs, net, tw, data, opt, mb, chunk_fn) = _captured_step_arguments(monkeypatch)
    wrong = chunk_fn._replace(key=chunk_fn.key + 1)
    theta = net.theta.copy()
    with pytest.raises(ValueError, match="kernel address was made for other argument types"):
        serial(np.zeros(1), net, tw, data, opt, mb, wrong)
    assert np.array_equal(net.theta, theta)                    # nothing ran

