//===- IntegerDot.cpp - u8 x s8 dot products (groups of four, usmmla) -----===//

#include "IntegerDot.h"
#include "VectorCodegen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::quarc {
namespace {

/// vpmaddubsw: pairs of u8 x s8 products, summed into saturated i16.
Value multiplyAddPairs(OpBuilder &b, Location loc, Value u8, Value s8,
                       unsigned bits) {
  const char *name = bits == 512   ? "llvm.x86.avx512.pmaddubs.w.512"
                     : bits == 256 ? "llvm.x86.avx2.pmadd.ub.sw"
                                   : "llvm.x86.ssse3.pmadd.ub.sw.128";
  auto type = VectorType::get({bits / 16}, b.getI16Type());
  return callIntrinsic(b, loc, type, name, {u8, s8});
}

/// vpmaddwd: pairs of i16 x i16 products, summed into i32 (exact).
Value multiplyAddWords(OpBuilder &b, Location loc, Value lhs, Value rhs,
                       unsigned bits) {
  const char *name = bits == 512   ? "llvm.x86.avx512.pmaddw.d.512"
                     : bits == 256 ? "llvm.x86.avx2.pmadd.wd"
                                   : "llvm.x86.sse2.pmadd.wd";
  auto type = VectorType::get({bits / 32}, b.getI32Type());
  return callIntrinsic(b, loc, type, name, {lhs, rhs});
}

/// vpmaddwd against a constant factor: pairs of i16, each times `factor`,
/// summed into i32.
Value addPairsTimes(OpBuilder &b, Location loc, Value i16, int16_t factor,
                    unsigned bits) {
  auto i16Type = cast<VectorType>(i16.getType());
  Value factors = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(i16Type, APInt(16, factor)));
  return multiplyAddWords(b, loc, i16, factors, bits);
}

/// The even and odd bytes of each 16-bit word of `bytes`, as i16 words:
/// zero-extended (the u8 operand) or sign-extended (the s8 one). Word
/// shifts and a mask: AVX2 has no byte shifts, and no byte-to-word widening
/// that keeps the lanes in place.
std::pair<Value, Value> widenByteHalves(OpBuilder &b, Location loc,
                                        Value bytes, bool isSigned) {
  auto byteType = cast<VectorType>(bytes.getType());
  auto wordType = VectorType::get({byteType.getNumElements() / 2},
                                  b.getI16Type());
  Value words = vector::BitCastOp::create(b, loc, wordType, bytes);
  auto splat = [&](int64_t value) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(wordType, APInt(16, value)));
  };
  if (!isSigned)
    return {arith::AndIOp::create(b, loc, words, splat(0xFF)),
            arith::ShRUIOp::create(b, loc, words, splat(8))};
  Value even = arith::ShRSIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, words, splat(8)), splat(8));
  return {even, arith::ShRSIOp::create(b, loc, words, splat(8))};
}

/// acc + (vpmaddwd(lhs0, rhs0) + vpmaddwd(lhs1, rhs1)): a group of four k
/// as two pairs of i16 words.
Value addTwoWordDots(OpBuilder &b, Location loc, Value acc, Value lhs0,
                     Value rhs0, Value lhs1, Value rhs1) {
  unsigned bits = cast<VectorType>(acc.getType()).getNumElements() * 32;
  Value sum = arith::AddIOp::create(b, loc,
                                    multiplyAddWords(b, loc, lhs0, rhs0, bits),
                                    multiplyAddWords(b, loc, lhs1, rhs1, bits));
  return arith::AddIOp::create(b, loc, acc, sum);
}

} // namespace

Value buildInt8MatrixMultiply(OpBuilder &b, Location loc, Value acc, Value u8,
                              Value s8) {
  return callIntrinsic(b, loc, acc.getType(),
                       "llvm.aarch64.neon.usmmla.v4i32.v16i8", {acc, u8, s8});
}

Value buildIntegerDot(OpBuilder &b, Location loc, TargetInfo::Int8Dot kind,
                      Value acc, Value u8, Value s8, bool pairsFitI16) {
  auto accType = cast<VectorType>(acc.getType());
  unsigned bits = accType.getNumElements() * 32;
  assert((bits == 128 || bits == 256 || bits == 512) && "a vector register");
  if (kind == TargetInfo::Int8Dot::NeonUsdot ||
      kind == TargetInfo::Int8Dot::NeonSdot) {
    assert(bits == 128 && "NEON registers");
    const char *name = kind == TargetInfo::Int8Dot::NeonUsdot
                           ? "llvm.aarch64.neon.usdot.v4i32.v16i8"
                           : "llvm.aarch64.neon.sdot.v4i32.v16i8";
    return callIntrinsic(b, loc, accType, name, {acc, u8, s8});
  }
  if (kind == TargetInfo::Int8Dot::VNNI) {
    std::string name = "llvm.x86.avx512.vpdpbusd." + std::to_string(bits);
    return callIntrinsic(b, loc, accType, name, {acc, u8, s8});
  }
  assert(kind == TargetInfo::Int8Dot::MaddUbsw && "a target with a dot");
  if (!pairsFitI16) {
    // 16-bit products: the even bytes of each word (k = 0 and 2 of the
    // group) in one vpmaddwd, the odd ones (k = 1 and 3) in another. Exact
    // for all u8 x s8, with the same two multiplies as the saturating
    // path; the widening is shared by a tile's rows and columns.
    auto [u8Even, u8Odd] = widenByteHalves(b, loc, u8, /*isSigned=*/false);
    auto [s8Even, s8Odd] = widenByteHalves(b, loc, s8, /*isSigned=*/true);
    return addTwoWordDots(b, loc, acc, u8Even, s8Even, u8Odd, s8Odd);
  }
  Value sum =
      addPairsTimes(b, loc, multiplyAddPairs(b, loc, u8, s8, bits), 1, bits);
  return arith::AddIOp::create(b, loc, acc, sum);
}

Value buildWideWeightDot(OpBuilder &b, Location loc, Value acc, Value u8,
                         Value pair01, Value pair23) {
  auto [k01, k23] = widenByteHalves(b, loc, u8, /*isSigned=*/false);
  return addTwoWordDots(b, loc, acc, k01, pair01, k23, pair23);
}

Value buildWordPairDot(OpBuilder &b, Location loc, Value acc, Value lhs,
                       Value rhs) {
  unsigned bits = cast<VectorType>(acc.getType()).getNumElements() * 32;
  return arith::AddIOp::create(b, loc, acc,
                               multiplyAddWords(b, loc, lhs, rhs, bits));
}

bool weightPairsFitI16(ArrayRef<int8_t> weights) {
  // Pairs (0, 1) and (2, 3) of each group of four; the extremes of a pair's
  // sum come from u8 values of 0 or 255.
  for (size_t i = 0; i + 1 < weights.size(); i += 2) {
    int64_t w0 = weights[i], w1 = weights[i + 1];
    int64_t high = 255 * (std::max<int64_t>(w0, 0) + std::max<int64_t>(w1, 0));
    int64_t low = 255 * (std::min<int64_t>(w0, 0) + std::min<int64_t>(w1, 0));
    if (high > 32767 || low < -32768)
      return false;
  }
  return true;
}

bool hasPixelRowsKernel(const TargetInfo &target) {
  if (target.int8Dot() == TargetInfo::Int8Dot::VNNI)
    return target.vectorBits() == 512 && target.vectorRegisters() >= 32;
  return target.int8Dot() == TargetInfo::Int8Dot::MaddUbsw &&
         target.vectorBits() == 256;
}

std::optional<int64_t> matchPixelRowsFilterMap(AffineMap map) {
  if (map.getNumDims() != 8 || map.getNumResults() != 6)
    return std::nullopt;
  auto div = dyn_cast<AffineBinaryOpExpr>(map.getResult(0));
  auto width = div ? dyn_cast<AffineConstantExpr>(div.getRHS()) : nullptr;
  if (!div || div.getKind() != AffineExprKind::FloorDiv || !width ||
      width.getValue() <= 0)
    return std::nullopt;
  MLIRContext *ctx = map.getContext();
  auto d = [&](unsigned position) { return getAffineDimExpr(position, ctx); };
  int64_t lanes = width.getValue();
  AffineMap expected = AffineMap::get(
      8, 0, {d(1).floorDiv(lanes), d(5), d(3), d(4), d(1) % lanes, d(7)}, ctx);
  if (map != expected)
    return std::nullopt;
  return lanes;
}

int64_t getDepthwiseRowSpan(int64_t pixels, int64_t kernelWidth, int64_t stride,
                            int64_t dilation) {
  return (pixels - 1) * stride + (kernelWidth - 1) * dilation + 1;
}

bool hasDepthwiseQuadKernel(const TargetInfo &target, int64_t kernelWidth,
                            int64_t stride, int64_t dilation) {
  if (target.int8Dot() != TargetInfo::Int8Dot::VNNI ||
      !target.has("avx512vbmi"))
    return false;
  int64_t lanes = target.vectorBits() / 32;
  return getDepthwiseRowSpan(lanes, kernelWidth, stride, dilation) <= 4 * lanes;
}

bool hasDepthwisePairKernel(const TargetInfo &target, int64_t kernelWidth,
                            int64_t stride, int64_t dilation) {
  if (target.arch != "x86_64" || target.vectorBits() < 256 ||
      target.int8Dot() == TargetInfo::Int8Dot::None ||
      hasDepthwiseQuadKernel(target, kernelWidth, stride, dilation))
    return false;
  return getDepthwiseRowSpan(kDepthwisePairLanePixels, kernelWidth, stride,
                             dilation) <= kDepthwisePairLaneBytes;
}

} // namespace mlir::quarc
