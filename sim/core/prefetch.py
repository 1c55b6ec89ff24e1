"""``prefetch(array, i)``: ask the processor to start loading ``array[i]`` before it is needed.

Inside a compiled loop whose steps are long (a consultation), a load from a big array indexed by
a random key (a resident's books: 16 MB for two million residents) waits for main memory at
every step, one after the other.  Asking for the element a few steps ahead lets that wait overlap
the work in between.  It changes no value: the processor may even ignore it.  For compiled code
only (an LLVM intrinsic).
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_READ, _KEEP_IN_ALL_CACHES, _DATA = 0, 3, 1  # llvm.prefetch's (rw, locality, cache type) arguments


@intrinsic
def prefetch(typingctx, array, index):
    if not isinstance(array, types.Array) or array.ndim != 1 or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]])
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32]), "llvm.prefetch.p0")
        builder.call(function, [builder.bitcast(pointer, cgutils.voidptr_t), i32(_READ), i32(_KEEP_IN_ALL_CACHES),
                                i32(_DATA)])
        return context.get_dummy_value()

    return types.none(array, index), codegen
