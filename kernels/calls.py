"""Calling a compiled kernel through its address, so that the caller links none of its code.

Why: Numba links the LLVM code of every kernel a kernel calls (and of their callees) into the
caller, then optimises and compiles all of it again there. The training steps' chunk loop
(tiled._chunk, with the forward, cost and backward passes it calls) was compiled again in
each step that calls it, twice more in a parallel build (its loop body, then the kernel
around it). Called through its address, the chunk loop is compiled once per signature (and
cached, as every kernel is), and each step around it is a small kernel. The tiled forward
pass calls its own chunk loop (tiled._probability_chunk) the same way.

Guarantees: ``call_kernel(fn, args)`` runs the kernel that ``fn``, a Callee (structs.py) from
``callee``, names with the tuple ``args``; ``callee`` compiles it for exactly the argument
types given (the Callee's key is a hash of them). ``check_callee`` raises before any call
when a Callee was made for other types than the ones the calling kernel passes (NO_CALLEE
for none at all): a wrong address is an error, never a call.
The address is the process's own: a Callee is made in the process that runs the kernel (a
forked child inherits a valid one; a cached kernel never holds one).
"""
import zlib

import numba
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import kernel
from .structs import Callee


def _key(argtypes):
    # The key of a tuple of Numba types: the same in every process (their names are).
    return zlib.crc32(repr(tuple(argtypes)).encode()) & 0x7FFFFFFF


@intrinsic
def _types_key(typingctx, args):
    # The key of the types of the tuple ``args``, a constant of the compiled code.
    if not isinstance(args, types.BaseTuple):
        return None
    key = _key(args.types)

    def codegen(context, builder, signature, llargs):
        return ir.Constant(ir.IntType(64), key)
    return types.int64(args), codegen


@intrinsic
def _call_address(typingctx, addr, args):
    # Call the native entry (Numba's calling convention, returning None) at address ``addr``
    # with the values of the tuple ``args``; an exception it raised propagates.
    if not isinstance(addr, types.Integer) or not isinstance(args, types.BaseTuple):
        return None
    argtypes = tuple(args.types)

    def codegen(context, builder, signature, llargs):
        values = cgutils.unpack_tuple(builder, llargs[1], len(argtypes))
        fnty = context.call_conv.get_function_type(types.none, argtypes)
        fn = builder.inttoptr(llargs[0], fnty.as_pointer())
        status, _ = context.call_conv.call_function(builder, fn, types.none, argtypes, values)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return context.get_dummy_value()
    return types.none(addr, args), codegen


@kernel(inline=True)
def check_callee(fn, args):
    # Raises unless fn (a Callee) was made for the types of the tuple args.
    if fn.key != _types_key(args):
        raise ValueError("a kernel address was made for other argument types")


@kernel(inline=True)
def call_kernel(fn, args):
    # The kernel fn (a Callee, checked by check_callee) on the tuple args.
    _call_address(fn.addr, args)


NO_CALLEE = Callee(0, -1)     # no kernel: for a call that runs none (check_callee refuses it)
_callees = {}


def callee(dispatcher, args):
    """A Callee for the kernel ``dispatcher`` on arguments like ``args`` (a tuple of values of
    the types its caller will pass): the kernel compiled (or loaded from the cache) for their
    types, and its native entry's address. Made once per kernel and types in a process,
    found again by Numba's fingerprint of the arguments (its type signature where Numba has
    no fingerprint for one)."""
    try:
        types_of = tuple(numba._dispatcher.compute_fingerprint(a) for a in args)
    except (ValueError, TypeError):
        types_of = tuple(numba.typeof(a) for a in args)
    found = _callees.get((dispatcher, types_of))
    if found is None:
        sig = tuple(numba.typeof(a) for a in args)
        dispatcher.compile(sig)
        compiled = dispatcher.overloads[sig]
        address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
        found = _callees[(dispatcher, types_of)] = Callee(address, _key(sig))
    return found
