//===- WeightQuantization.h - constant weights quantized at compile time -*- C++ -*-===//
//
// What static (quarc-quantize) and dynamic (quarc-quantize-dynamic)
// quantization share: a constant f32 weight becomes an integer constant of
// its stored values, read as a tensor of `!quant.uniform` elements through
// `quarc.storage_cast`, with parameters from the scheme's weight type and
// granularity (Quantization/ChooseQuantParams.h).
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_DIALECT_QUARC_TRANSFORMS_WEIGHTQUANTIZATION_H
#define QUARC_LIB_DIALECT_QUARC_TRANSFORMS_WEIGHTQUANTIZATION_H

#include "quarc/Quantization/QuantScheme.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::quarc {

/// The quantized form of the constant `weight` (per the scheme's weights,
/// along `channelAxis` for per-channel granularity), created at the
/// builder's insertion point: the storage_cast's result. Null when
/// `weight` is not an f32 constant of static shape that can be read;
/// failure, reported at `user`, when no parameters fit the data.
FailureOr<Value> quantizeConstantWeight(OpBuilder &builder, Operation *user,
                                        Value weight,
                                        const QuantScheme &scheme,
                                        int32_t channelAxis);

/// The discardable attribute of a quarc.matmul in the QDQ form of a
/// weight-only product (its B a dequantized grouped constant) asking for
/// int8 activations: set by quarc-decompose-matmul-nbits (accuracy level 4)
/// and quarc-quantize-weights (int8-activations), read by quarc-fold-qdq
/// into quarc.qmatmul_weight_only's `int8_activations`. ONNX export drops
/// it.
constexpr llvm::StringLiteral kInt8ActivationsAttr = "quarc.int8_activations";

/// A matrix product with a constant weight, in the form the quantized
/// products take: the activation `a` (... x K), the weight as a K x N f32
/// constant (a Gemm's B^T transposed and alpha applied) and the bias of
/// each column (beta * C) as an f32 constant, or a quarc.none.
struct ConstantWeightProduct {
  Value a, weight, bias;
};

/// The product form of a quarc.matmul (B a 2-D f32 constant) or quarc.gemm
/// (transA 0, B a constant, C absent or one value per column or in all),
/// its constants created at the builder's insertion point; nullopt for
/// any other op.
std::optional<ConstantWeightProduct>
buildConstantWeightProduct(OpBuilder &builder, Operation *op);

/// The ops of `module` for which `candidate` holds, except those named
/// (ONNX node names) in `excludeNodes` or of a kind (quarc op names)
/// listed in `floatOps`: the ops a quantization pass rewrites.
SmallVector<Operation *> selectOps(ModuleOp module,
                                   ArrayRef<std::string> excludeNodes,
                                   ArrayRef<std::string> floatOps,
                                   function_ref<bool(Operation *)> candidate);

} // namespace mlir::quarc

#endif // QUARC_LIB_DIALECT_QUARC_TRANSFORMS_WEIGHTQUANTIZATION_H
