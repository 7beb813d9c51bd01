"""A team of threads through the steps of one call, in one parallel region.

Why: a parallel loop (prange) per training step costs 2-4 µs to start and join on the
2-core build machine (Numba's scheduling plus OpenMP's fork and join), a fifth of a tiny
network's step and a tenth of a step of Adam on batches of 64. Instead the threads of one
parallel loop go through every step together: each claims the current step's chunks one at
a time; the thread that finishes a step's last chunk does the step's serial part (the
chunks' sums added in order, the update) and then opens the next step.

Guarantees:
* The same bits as one parallel loop a step, and as the serial twin: each chunk is the same
  work whichever thread claims it (its sums go to the chunk's own accumulator), and the
  serial part is one thread's, in the fixed order, before any chunk of the next step starts.
* No deadlock whatever threads run: a thread waits only for chunks already claimed by
  running threads and for a step's serial part, done by the running thread that finished
  it. A slot of the loop that no thread runs until the others are done finds every step done
  and returns; a single thread running every slot does every step in its first.
* Waiting spins (the pause instruction) for about SPINS pauses, then yields its core to the
  scheduler at each try, so that threads that share cores with others still progress.

The team's state is one int64 array of SYNC_SIZE values (Tiles.team, zeroed as a call
starts), read and changed atomically: STEP the current step; DONE the number of its chunks
finished; RANKS the threads that joined (a thread's rank: how many joined before it);
CHUNK + c the last step whose chunk c was claimed, plus one. Counters that threads change
often lie on cache lines of their own.
"""
import platform
import sys

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import kernel
from .codes import TEAM_STATE

STEP, DONE, RANKS, CHUNK = 0, 8, 16, 24   # int64 entries (8 a cache line)
SYNC_SIZE = TEAM_STATE                    # CHUNK + room for CHUNKS (codes.py) claims
SPINS = 1 << 12             # pauses (~25 ns each on Zen 3: about 0.1 ms) before yielding
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
_YIELDS = sys.platform != "win32"          # sched_yield: POSIX


def _entry(context, builder, signature, args):
    # Pointer to entry args[1] of the int64 array args[0].
    arr = context.make_array(signature.args[0])(context, builder, args[0])
    return builder.gep(arr.data, [args[1]])


def _int64_arg(context, builder, signature, args, k):
    # Argument k as an int64 value.
    return context.cast(builder, args[k], signature.args[k], types.int64)


def _int64_array(arr):
    return isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1


def _call(builder, name, returns):
    # Call the argument-less function ``name`` (an LLVM intrinsic or a C library symbol).
    fnty = ir.FunctionType(returns, [])
    builder.call(cgutils.get_or_insert_function(builder.module, fnty, name), [])


@intrinsic
def atomic_load(typingctx, arr, i):
    # arr[i], read atomically (sequentially consistent: no load or store of the caller's
    # moves across it).
    if not _int64_array(arr):
        return None

    def codegen(context, builder, signature, args):
        return builder.load_atomic(_entry(context, builder, signature, args), "seq_cst", 8)
    return types.int64(arr, i), codegen


@intrinsic
def atomic_store(typingctx, arr, i, value):
    # arr[i] = value, written atomically (sequentially consistent: every store before it is
    # seen by a thread that then reads this one).
    if not _int64_array(arr):
        return None

    def codegen(context, builder, signature, args):
        builder.store_atomic(_int64_arg(context, builder, signature, args, 2),
                             _entry(context, builder, signature, args), "seq_cst", 8)
        return context.get_dummy_value()
    return types.none(arr, i, value), codegen


@intrinsic
def compare_swap(typingctx, arr, i, old, new):
    # arr[i] = new if it still holds old (atomically); whether it did.
    if not _int64_array(arr):
        return None

    def codegen(context, builder, signature, args):
        old, new = (_int64_arg(context, builder, signature, args, k) for k in (2, 3))
        pair = builder.cmpxchg(_entry(context, builder, signature, args), old, new, "seq_cst",
                               "seq_cst")
        return builder.extract_value(pair, 1)
    return types.boolean(arr, i, old, new), codegen


@intrinsic
def fetch_add(typingctx, arr, i, value):
    # arr[i] += value atomically; the value before.
    if not _int64_array(arr):
        return None

    def codegen(context, builder, signature, args):
        return builder.atomic_rmw("add", _entry(context, builder, signature, args),
                                  _int64_arg(context, builder, signature, args, 2), "seq_cst")
    return types.int64(arr, i, value), codegen


@intrinsic
def _pause(typingctx):
    # x86's pause (a spin loop's hint: less power, no memory-order stall on exit); nothing
    # elsewhere.
    def codegen(context, builder, signature, args):
        if _X86:
            _call(builder, "llvm.x86.sse2.pause", ir.VoidType())
        return context.get_dummy_value()
    return types.none(), codegen


@intrinsic
def _yield(typingctx):
    # The C library's sched_yield (POSIX): the core to another runnable thread, if any.
    def codegen(context, builder, signature, args):
        if _YIELDS:
            _call(builder, "sched_yield", ir.IntType(32))
        return context.get_dummy_value()
    return types.none(), codegen


@kernel(inline=True)
def relax(spins):
    # One wait of a spin loop that has waited ``spins`` times: a pause, then, past SPINS,
    # the core to the scheduler. Returns spins + 1.
    if spins < SPINS:
        _pause()
    else:
        _yield()
    return spins + 1


@kernel(inline=True)
def reset(sync):
    # A new call's team: step 0, nothing claimed, no thread joined (before the parallel
    # loop: plain stores, which starting the loop publishes).
    for k in range(sync.size):
        sync[k] = 0


@kernel(inline=True)
def current(sync):
    # The step the team is at (every step before it done).
    return atomic_load(sync, STEP)


@kernel(inline=True)
def join(sync):
    # This thread's rank: how many threads joined the team before it.
    return fetch_add(sync, RANKS, 1)


@kernel(inline=True)
def take_chunk(sync, s, rank, nchunks):
    # Claims one of step s's chunks, the thread's own (rank mod nchunks) first: its
    # index, or -1 when all are claimed.
    for i in range(nchunks):
        j = (rank + i) % nchunks
        seen = atomic_load(sync, CHUNK + j)
        if seen < s + 1 and compare_swap(sync, CHUNK + j, seen, s + 1):
            return j
    return -1


@kernel(inline=True)
def claim(sync, s, rank, nchunks, spins):
    # A worker's turn at step s of nchunks chunks: (chunk, rank, spins). It joins the team
    # first (rank -1: not yet); the chunk is -1 when all are claimed, after one wait
    # (relax: spins counts the waits since the worker last had a chunk).
    if rank < 0:
        rank = join(sync)
    c = take_chunk(sync, s, rank, nchunks)
    if c < 0:
        return c, rank, relax(spins)
    return c, rank, 0


@kernel(inline=True)
def finish(sync, nchunks):
    # Counts a finished chunk of the current step: True for the step's last (whose thread
    # then does the step's serial part and calls open_step).
    return fetch_add(sync, DONE, 1) == nchunks - 1


@kernel(inline=True)
def open_step(sync, s):
    # Step s may start: every write of the serial part before it is seen by the threads
    # that read it.
    atomic_store(sync, DONE, 0)
    atomic_store(sync, STEP, s)
