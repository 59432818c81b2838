//===- VectorCodegen.h - helpers shared by the CPU kernel generators -*- C++ -*-===//
//
// The CPU passes generate their kernels directly as scf loops around vector
// ops on buffers with static shapes. These are the pieces they share.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_TARGET_CPU_VECTORCODEGEN_H
#define QUARC_LIB_TARGET_CPU_VECTORCODEGEN_H

#include "quarc/Target/TargetInfo.h"

#include "mlir/IR/Builders.h"
#include "mlir/Pass/Pass.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::quarc {

/// Parses a pass's `target` option into `target` (once, from the pass's
/// initialize()); reports the error, which lists the known targets.
LogicalResult parsePassTarget(StringRef spec, MLIRContext *context,
                              TargetInfo &target);

/// `acc + a * b` on vectors: one fused multiply-add where the target has
/// it, otherwise a multiply and an add.
Value multiplyAdd(OpBuilder &b, Location loc, Value a, Value b2, Value acc,
                  bool fused);

/// A call of the LLVM intrinsic `name` (e.g. "llvm.x86.avx2.pshuf.b"):
/// the target instructions upstream MLIR has no op for.
Value callIntrinsic(OpBuilder &b, Location loc, Type result, StringRef name,
                    ValueRange args);

/// Whether the target loads bytes under a mask (AVX-512BW's vmovdqu8):
/// without it (AVX2, NEON) LLVM splits a masked byte load into one branch
/// per byte.
bool hasMaskedByteLoads(const TargetInfo &target);

/// The `span` bytes of `buffer` from `at` on. With `masked`, in a vector
/// whose size is the next power of two (the bytes after them zero, not
/// read: a masked load): LLVM takes shuffles of such vectors apart into a
/// few byte permutes, where one of an odd size (31 bytes for 16 pixels at
/// stride 2) became a byte extract and insert per lane, half of the time
/// of ResNet-50's stride-2 layers.
Value loadByteSpan(OpBuilder &b, Location loc, Value buffer, ValueRange at,
                   int64_t span, bool masked);

/// The 32 bits of `buffer` at `at` as one i32: four i8 (the dot products'
/// group of four k) or two i16, whatever its element type.
Value loadWord(OpBuilder &b, Location loc, Value buffer, ValueRange at);

/// loadWord of a buffer of bytes.
Value loadByteQuad(OpBuilder &b, Location loc, Value buffer, ValueRange at);

/// The i32 `word` broadcast to `lanes` lanes, viewed as a vector of
/// `element` (i8 by default: a group of four bytes in every lane; i16: a
/// pair of words).
Value broadcastWord(OpBuilder &b, Location loc, Value word, int64_t lanes,
                    Type element = {});

/// broadcastWord of loadByteQuad.
Value broadcastByteQuad(OpBuilder &b, Location loc, Value buffer,
                        ValueRange at, int64_t lanes);

/// The 1-D `vector` in the first lanes of a vector of `lanes` lanes, zeros
/// after it (a partial register widened for a full-register kernel).
Value widenWithZeros(OpBuilder &b, Location loc, Value vector, int64_t lanes);

/// The first `count` lanes of the 1-D `vector` (the inverse of
/// widenWithZeros).
Value leadingLanes(OpBuilder &b, Location loc, Value vector, int64_t count);

/// The s8 constant a buffer holds, if it is (a view of) a constant global.
std::optional<SmallVector<int8_t>> getGlobalBytes(Value buffer);

/// Covers [0, total) in chunks of `step`: a loop over the whole chunks
/// (or a single call when there is one), then one call for the remainder.
/// `body` gets the chunk's start and its static size, so the kernel it
/// builds always has static vector sizes.
/// The same over a total known only at run time: a loop over the whole
/// chunks, then the remainder through an scf.index_switch with one case per
/// possible size (1 .. step - 1), so the body still gets static sizes.
void forEachChunk(OpBuilder &b, Location loc, Value total, int64_t step,
                  llvm::function_ref<void(OpBuilder &, Value, int64_t)> body);
void forEachChunk(OpBuilder &b, Location loc, int64_t total, int64_t step,
                  llvm::function_ref<void(OpBuilder &, Value, int64_t)> body);

/// Chunk `index` of [0, total) in chunks of `chunk` (an iteration of a
/// parallel loop over the chunks): `body` gets its start and its static
/// size, under an scf.if when the last chunk is smaller.
void forChunkAt(OpBuilder &b, Location loc, Value index, int64_t total,
                int64_t chunk,
                llvm::function_ref<void(OpBuilder &, Value, int64_t)> body);

/// [0, total) in blocks of `block`: the first and the last block built on
/// their own (the first may start from a prologue's values, the last runs
/// an epilogue), the ones in between as a loop (or inline when there is
/// one). `body` gets the block's start, its static size and whether it is
/// the first and the last.
void forEachBlock(
    OpBuilder &b, Location loc, int64_t total, int64_t block,
    llvm::function_ref<void(OpBuilder &, Value, int64_t, bool, bool)> body);

/// The indices of an operand read through `map` at loop indices `ivs`.
SmallVector<Value> getMapIndices(OpBuilder &b, Location loc, AffineMap map,
                                 ArrayRef<Value> ivs);

/// The stride and dilation of a window index `outer * stride + inner *
/// dilation` (loop dims of a map with `numDims` dims), if `expr` is one.
std::optional<std::pair<int64_t, int64_t>>
matchWindowIndex(AffineExpr expr, unsigned outer, unsigned inner,
                 unsigned numDims);

/// Marks a loop built by a kernel generator as one whose iterations are
/// heavy enough to run on separate threads.
void markKernelLoop(Operation *loop);

/// Whether `value` is a buffer of f32 with a static shape (any layout).
bool isStaticF32Buffer(Value value);
/// The buffer `value` is a view of (through any chain of views), or
/// `value` itself.
Value getRootBuffer(Value value);

/// Whether `a` and `b` certainly do not share a byte, from where their
/// memory comes (through view-like ops): distinct allocations, globals and
/// function arguments (the runtime passes inputs, workspace and weights as
/// separate buffers), or views of one buffer (the planned workspace) at
/// constant, non-overlapping byte ranges. False when it cannot tell.
bool buffersProvablyDisjoint(Value a, Value b);

/// Whether `value` is a buffer of f32 (any shape and layout).
bool isF32Buffer(Value value);
/// Whether `value` is a buffer of f32 whose dims are static except perhaps
/// the first (a dynamic batch), any layout.
bool isF32BufferWithStaticTail(Value value);
/// The sizes of `buffer`'s first `count` dims, as values (memref.dim for a
/// dynamic one).
SmallVector<Value> getLeadingSizes(OpBuilder &b, Location loc, Value buffer,
                                   unsigned count);

/// Bounds of loops over [0, size) with step 1, one per size.
struct LoopBounds {
  SmallVector<Value> lower, upper, steps;
};
LoopBounds getZeroBasedBounds(OpBuilder &b, Location loc,
                              ArrayRef<int64_t> sizes);
/// The same for sizes known only as values (dynamic dims).
LoopBounds getZeroBasedBounds(OpBuilder &b, Location loc, ValueRange sizes);

/// `base + offset` for an index value and a constant.
Value addIndex(OpBuilder &b, Location loc, Value base, int64_t offset);

} // namespace mlir::quarc

#endif // QUARC_LIB_TARGET_CPU_VECTORCODEGEN_H
