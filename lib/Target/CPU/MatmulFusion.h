//===- MatmulFusion.h - the ops around a matmul kernel, fused into it -*- C++ -*-===//
//
// A convolution or matrix product in a network comes with two elementwise
// passes over its result C: one before it that initializes C (zeros, or the
// bias broadcast along the image), and one after it that reads C back
// (bias, batch norm, activation, a residual add). As separate loops, each
// reads or writes all of C in memory. Fused into quarc-vectorize-matmul's
// kernel, the first one gives each tile's accumulators their initial values
// in registers, and the second one runs on the accumulators after the last
// k block, so only its own result is stored (C too, if anything else reads
// it).
//
// The same holds for the integer kernels: the bias initializes i32
// accumulators, and the requantization to 8 bits (i64 arithmetic per
// element) runs on them, so only the 8-bit result is stored.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_TARGET_CPU_MATMULFUSION_H
#define QUARC_LIB_TARGET_CPU_MATMULFUSION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir::quarc {

/// How the buffer of a contraction's result C, and buffers shaped like it,
/// are indexed from the contraction's loop dims.
struct ResultIndexing {
  Value out;        // C as the contraction writes it
  AffineMap outMap; // contraction loop dims -> indices of `out`
  unsigned n;       // the loop dim the kernel vectorizes
  // The buffer ops around the contraction see: `out`, or a buffer of which
  // `out` is a reshaped view (both contiguous, the same elements); then
  // `rootToOut` gives, for each of root's dims, the dim of `out` that walks
  // the same elements (same size and stride), or none for a dim of size 1.
  // When `out` is one collapse of root, `reassociation` is that collapse's
  // (buffers shaped like root are viewed like `out` through it).
  Value root;
  bool reshaped = false;
  SmallVector<std::optional<unsigned>> rootToOut;
  SmallVector<ReassociationIndices> reassociation;

  /// For an operand read through `map` (from root's dims) that does not
  /// vary along n: the loop dim of each of its indices, or none for a
  /// constant 0. Nullopt if it varies along n or along collapsed dims.
  std::optional<SmallVector<std::optional<unsigned>>>
  getBroadcastDims(AffineMap map) const;

  /// The indices of such an operand at loop indices `ivs`.
  static SmallVector<Value>
  getBroadcastIndices(OpBuilder &b, Location loc,
                      ArrayRef<std::optional<unsigned>> dims,
                      ArrayRef<Value> ivs);

  /// The indices of `out` (and of buffers viewed like it) at `ivs`.
  SmallVector<Value> getResultIndices(OpBuilder &b, Location loc,
                                      ArrayRef<Value> ivs) const;
};

/// The op that writes all of C last before the contraction, when its value
/// does not vary along n: a linalg.fill (or a generic that only yields a
/// value from outside it), or a linalg.generic copying a buffer broadcast
/// along n (the bias).
class MatmulPrologue {
public:
  static std::optional<MatmulPrologue> match(Operation *contraction,
                                             Value out, AffineMap outMap,
                                             unsigned n);

  /// The initial accumulator of type `type` at loop indices `ivs`.
  Value getInitialValue(OpBuilder &b, Location loc, VectorType type,
                        ArrayRef<Value> ivs) const;

  /// The buffer the initial values are read from (null for a fill).
  Value getSource() const { return buffer; }

  /// Erases the op; the kernel now does its work.
  void finish() { init->erase(); }

private:
  Operation *init = nullptr;
  Value scalar; // a fill's value, or
  Value buffer; // the buffer read, at
  SmallVector<std::optional<unsigned>> dims;
};

/// An elementwise linalg.generic right after the contraction that reads C,
/// with each of its operands one of:
///  - C itself: the accumulator;
///  - an operand of C's shape, read at C's position (through the same
///    reshape as C, if C is a reshape of the consumer's operand);
///  - an operand that does not vary along n (a per-channel bias or scale):
///    one scalar per tile row, broadcast.
/// The consumer's output is of the second kind.
class MatmulEpilogue {
public:
  /// `inputs` are the buffers the kernel reads (the contraction's inputs,
  /// the prologue's source): the consumer must not write them while other
  /// tiles still read them.
  static std::optional<MatmulEpilogue> match(Operation *contraction, Value out,
                                             AffineMap outMap, unsigned n,
                                             ValueRange inputs);

  /// Prepares the operands (views shaped like C), before the contraction.
  void prepare(OpBuilder &b);

  /// Computes the consumer on `accumulator` (the piece of C at loop indices
  /// `ivs`, where ivs[n] is the piece's first column) and stores the
  /// result.
  void emit(OpBuilder &b, Location loc, Value accumulator,
            ArrayRef<Value> ivs);

  /// Whether C must be stored too: something other than the consumer
  /// reads it.
  bool needsResult() const { return resultIsRead; }

  /// Erases the consumer, and C's buffer if nothing needs it any more.
  void finish();

private:
  /// emit() for a power-of-two number of lanes.
  void emitVector(OpBuilder &b, Location loc, Value accumulator,
                  ArrayRef<Value> ivs);

  struct Operand {
    enum Kind { Accumulator, Tile, Broadcast } kind;
    Value buffer; // Tile: shaped like C; Broadcast: the operand itself
    SmallVector<std::optional<unsigned>> dims; // Broadcast
  };

  /// The scalar of Broadcast operand `operand` at loop indices `ivs`,
  /// loaded once per block and indices: the pieces of a tile row read the
  /// same per-channel scale and shift, and LLVM cannot merge their loads
  /// across the stores of the outputs between them (nor the arithmetic
  /// that follows).
  Value loadBroadcastScalar(OpBuilder &b, Location loc, const Operand &operand,
                            ArrayRef<Value> ivs);

  struct LoadedScalar {
    Value buffer;
    SmallVector<Value> indices; // ivs of the broadcast dims (null: 0)
    Value scalar;
  };

  linalg::GenericOp consumer;
  ResultIndexing indexing;
  SmallVector<Operand> operands; // the consumer's inputs, then its output
  SmallVector<LoadedScalar> loadedScalars;
  // The consumer's output allocations and the allocations, views and
  // memref.dim ops (a dynamic batch's) that size them, in order, moved
  // before the contraction.
  SmallVector<Operation *> opsToHoist;
  bool resultIsRead = false;
};

/// Replaces `contraction` (C = `out`, indexed by `outMap`; the kernel
/// vectorizes loop dim `n` and reads `inputs`) by the kernel `build`
/// generates before it, with the ops around it fused in where they match:
/// `build` gets the prologue and epilogue (or null) to use.
void replaceWithFusedKernel(
    Operation *contraction, Value out, AffineMap outMap, unsigned n,
    ValueRange inputs,
    llvm::function_ref<void(OpBuilder &, const MatmulPrologue *,
                            MatmulEpilogue *)>
        build);

} // namespace mlir::quarc

#endif // QUARC_LIB_TARGET_CPU_MATMULFUSION_H
