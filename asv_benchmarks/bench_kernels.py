"""The kernels called directly (no validation, no allocation): the compiled code's own speed."""
import numpy as np

from fastdnn import kernels as K

SIZES = {"notebook": (1, 2), "cat": (20, 209), "wide": (512, 2048)}
ELEMENT_SIZES = ["cat", "wide"]    # notebook-size calls are dispatch: bench_api times them
OPS = {"relu_forward": K.RELU_FORWARD, "relu_backward": K.RELU_BACKWARD,
       "sigmoid_forward": K.SIGMOID_FORWARD, "sigmoid_backward": K.SIGMOID_BACKWARD}


class Elementwise:
    rounds = 1
    repeat = (1, 5, 2.0)
    params = [list(OPS), ELEMENT_SIZES, ["float64", "float32"], ["serial", "parallel"]]
    param_names = ["op", "size", "dtype", "threads"]

    def setup(self, op, size, dtype, threads):
        rng = np.random.default_rng(0)
        shape = SIZES[size]
        self.a = rng.standard_normal(shape).astype(dtype)
        self.b = rng.standard_normal(shape).astype(dtype)
        self.out = np.empty_like(self.a)
        self.fn = K.apply if threads == "serial" else K.apply_parallel
        self.code = OPS[op]
        self.fn(self.out, self.a, self.b, self.code)

    def time_apply(self, op, size, dtype, threads):
        self.fn(self.out, self.a, self.b, self.code)


class Layer:
    params = [["notebook", "cat", "wide"], ["float64", "float32"]]
    param_names = ["size", "dtype"]

    def setup(self, size, dtype):
        rng = np.random.default_rng(0)
        n, m = SIZES[size]
        self.Z = rng.standard_normal((n, m)).astype(dtype)
        self.A = np.empty_like(self.Z)
        self.dZ = np.empty_like(self.Z)
        self.dA = rng.standard_normal((n, m)).astype(dtype)
        self.b = rng.standard_normal((n, 1)).astype(dtype)
        self.db = np.empty_like(self.b)
        self.time_bias_activation_forward(size, dtype)
        self.time_activation_bias_backward(size, dtype)

    def time_bias_activation_forward(self, size, dtype):
        K.bias_activation_forward(self.A, self.Z, self.b, K.RELU)

    def time_activation_bias_backward(self, size, dtype):
        K.activation_bias_backward(self.dZ, self.db, self.dA, self.Z, K.RELU)


class Cost:
    params = [[3, 209, 1 << 20], ["float64", "float32"]]
    param_names = ["m", "dtype"]

    def setup(self, m, dtype):
        rng = np.random.default_rng(0)
        self.a = rng.uniform(0.01, 0.99, m).astype(dtype)
        self.y = (rng.random(m) > 0.5).astype(dtype)
        self.buf = np.empty(K.COST_BLOCK, dtype)
        K.cross_entropy_sum(self.a, self.y, self.buf)
        K.cross_entropy_sum_parallel(self.a, self.y)

    def time_cross_entropy_sum(self, m, dtype):
        K.cross_entropy_sum(self.a, self.y, self.buf)

    def time_cross_entropy_sum_parallel(self, m, dtype):
        K.cross_entropy_sum_parallel(self.a, self.y)


class Update:
    params = [[6, 245760, 1 << 20], ["float64", "float32"]]
    param_names = ["n", "dtype"]

    def setup(self, n, dtype):
        rng = np.random.default_rng(0)
        self.p = rng.standard_normal(n).astype(dtype)
        self.g = rng.standard_normal(n).astype(dtype)
        self.new = np.empty_like(self.p)
        K.sgd_update(self.new, self.p, self.g, 0.01)

    def time_sgd_update(self, n, dtype):
        K.sgd_update(self.new, self.p, self.g, 0.01)
