//===- DecomposeMatMulNBits.cpp - MatMulNBits as a product of a QDQ weight ===//
//
// com.microsoft MatMulNBits stores its weight transposed and bit-packed:
// B is N x blocks x blob bytes, each column's k running LSB first through
// the blob, with one scale per (column, block) and optional zero points
// packed the same way (2^(bits-1) when absent). This pass unpacks it at
// compile time into quarc's own form of a weight-only product,
//
//   matmul(a, dequantize(storage_cast(constant K x N)))  [+ bias]
//
// whose weight type is per group of block_size along k (the ONNX blocked
// quantization), so that quarc-fold-qdq makes it quarc.qmatmul_weight_only,
// as it does for --quantize=int4-weight. The dequantized values are
// exactly onnxruntime's: a negative scale (its symmetric quantizer writes
// max / -8) is made positive by mirroring the group's integers
// (q -> qmax - q, z -> qmax - z), and a zero scale's group holds zeros.
// accuracy_level 4 (int8 activations) marks the product for them
// (kInt8ActivationsAttr).
//
//===----------------------------------------------------------------------===//

#include "WeightQuantization.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Quant/IR/Quant.h"

#include <cmath>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCDECOMPOSEMATMULNBITS
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

/// Bit field `index` of `width` bits in `bytes`, read LSB first.
int64_t readBits(ArrayRef<char> bytes, int64_t index, int64_t width) {
  int64_t value = 0;
  for (int64_t bit = 0; bit < width; ++bit) {
    int64_t position = index * width + bit;
    auto byte = static_cast<unsigned char>(bytes[position / 8]);
    value |= int64_t((byte >> (position % 8)) & 1) << bit;
  }
  return value;
}

/// The weight of a MatMulNBits unpacked: K x N integers and one scale and
/// zero point per (block, column), ready for a per-group type.
struct UnpackedWeight {
  SmallVector<char> values; // K x N, one byte each
  QuantParams params;
};

FailureOr<UnpackedWeight> unpack(MatMulNBitsOp op) {
  auto fail = [&](const Twine &reason) {
    return op.emitError() << "com.microsoft MatMulNBits: " << reason;
  };
  int64_t k = op.getK(), n = op.getN(), bits = op.getBits();
  int64_t blockSize = op.getBlockSize();
  int64_t blocks = llvm::divideCeil(k, blockSize);
  int64_t qmax = (int64_t(1) << bits) - 1;
  if (!op.getA().getType().getElementType().isF32())
    return fail("only f32 activations and scales are supported, A is ")
           << op.getA().getType();
  if (!isNone(op.getGIdx()))
    return fail("g_idx (act-order group indices) is not supported");
  std::optional<SmallVector<char>> packed = getConstantBytes(op.getB());
  std::optional<SmallVector<double>> scales =
      getConstantFloatValues(op.getScales());
  if (!packed || !scales)
    return fail("B and scales must be constants (initializers)");
  if (int64_t(scales->size()) != n * blocks)
    return fail("scales has " + Twine(scales->size()) + " values, expected N * "
                "ceil(K / block_size) = " + Twine(n * blocks));
  // Zero points: packed like B, a row of ceil(blocks * bits / 8) bytes per
  // column; 2^(bits - 1) when absent.
  int64_t zeroRow = llvm::divideCeil(blocks * bits, 8);
  std::optional<SmallVector<char>> zeroBytes;
  if (!isNone(op.getZeroPoints())) {
    auto zpType = cast<RankedTensorType>(op.getZeroPoints().getType());
    if (!zpType.getElementType().isUnsignedInteger(8))
      return fail("zero points of type ")
             << zpType << " are not supported (only packed uint8)";
    zeroBytes = getConstantBytes(op.getZeroPoints());
    if (!zeroBytes)
      return fail("zero_points must be a constant (initializer)");
    if (int64_t(zeroBytes->size()) != n * zeroRow)
      return fail("zero_points has " + Twine(zeroBytes->size()) +
                  " bytes, expected " + Twine(n * zeroRow));
  }

  UnpackedWeight weight;
  weight.values.resize(k * n);
  QuantParams &params = weight.params;
  params.storageBits = bits;
  params.isSigned = false;
  params.qmin = 0;
  params.qmax = qmax;
  params.granularity = Granularity::PerGroup;
  params.axis = 0;
  params.groupSize = blockSize;
  params.groupShape = {blocks, n};
  params.scales.assign(blocks * n, 1.0);
  params.zeroPoints.assign(blocks * n, 0);
  int64_t blob = llvm::divideCeil(blockSize * bits, 8);
  for (int64_t column = 0; column < n; ++column) {
    for (int64_t block = 0; block < blocks; ++block) {
      float scale = float((*scales)[column * blocks + block]);
      int64_t zeroPoint =
          zeroBytes ? readBits(ArrayRef(*zeroBytes).slice(column * zeroRow,
                                                          zeroRow),
                               block, bits)
                    : int64_t(1) << (bits - 1);
      if (!std::isfinite(scale))
        return fail("scale of column " + Twine(column) + ", block " +
                    Twine(block) + " is not finite");
      bool mirrored = scale < 0;
      ArrayRef<char> source = ArrayRef(*packed).slice(
          (column * blocks + block) * blob, blob);
      for (int64_t j = 0; j < blockSize && block * blockSize + j < k; ++j) {
        int64_t q = readBits(source, j, bits);
        if (scale == 0)
          q = zeroPoint; // (q - z) * 0 = 0 with a positive scale
        else if (mirrored)
          q = qmax - q;
        weight.values[(block * blockSize + j) * n + column] = char(q);
      }
      int64_t group = block * n + column;
      params.scales[group] = scale == 0 ? 1.0 : std::fabs(double(scale));
      params.zeroPoints[group] = mirrored ? qmax - zeroPoint : zeroPoint;
    }
  }
  return weight;
}

LogicalResult decompose(MatMulNBitsOp op) {
  FailureOr<UnpackedWeight> weight = unpack(op);
  if (failed(weight))
    return failure();
  OpBuilder builder(op);
  Location loc = op.getLoc();
  FailureOr<quant::QuantizedType> element =
      getQuantizedType(loc, weight->params, builder.getF32Type());
  if (failed(element))
    return failure();
  int64_t k = op.getK(), n = op.getN();
  // One byte per value, as dense attributes of sub-byte integers store them.
  auto storageType = RankedTensorType::get(
      {k, n}, IntegerType::get(op.getContext(), op.getBits(),
                               IntegerType::Unsigned));
  Value stored = ConstantOp::create(
      builder, loc, storageType,
      createElementsAttr(storageType, weight->values,
                         deriveConstantKey(op.getB(), "weight", "_kn")));
  Value quantized = StorageCastOp::create(
      builder, loc, storageType.clone(*element), stored);
  Value dequantized = DequantizeOp::create(
      builder, loc, storageType.clone(builder.getF32Type()), quantized);
  auto matmul =
      MatMulOp::create(builder, loc, op.getType(), op.getA(), dequantized);
  // Accuracy level 4 computes with int8 activations (levels 1 to 3 ask for
  // f32, f16 and bf16 arithmetic: quarc uses f32 for all three).
  if (op.getAccuracyLevel() == 4)
    matmul->setAttr(kInt8ActivationsAttr, builder.getUnitAttr());
  Value result = matmul;
  if (!isNone(op.getBias()))
    result = AddOp::create(builder, loc, op.getType(), result, op.getBias());
  op.replaceAllUsesWith(result);
  op.erase();
  return success();
}

struct DecomposeMatMulNBitsPass
    : impl::QuarcDecomposeMatMulNBitsBase<DecomposeMatMulNBitsPass> {
  void runOnOperation() override {
    SmallVector<MatMulNBitsOp> ops;
    getOperation().walk([&](MatMulNBitsOp op) { ops.push_back(op); });
    bool failedAny = false;
    for (MatMulNBitsOp op : ops)
      failedAny |= failed(decompose(op));
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
} // namespace mlir::quarc
