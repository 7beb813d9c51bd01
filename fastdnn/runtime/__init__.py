"""The process's thread pools, shared by the course's functions and the engine: when a kernel
runs on every core (threads.py), and which BLAS libraries run the products, their kernels,
threads and GEMM rates (blas.py)."""
