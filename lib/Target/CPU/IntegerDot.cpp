//===- IntegerDot.cpp - u8 x s8 dot products in groups of four ------------===//

#include "IntegerDot.h"
#include "VectorCodegen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

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

/// vpmaddwd with a constant factor: pairs of i16, each times `factor`,
/// summed into i32.
Value addPairsTimes(OpBuilder &b, Location loc, Value i16, int16_t factor,
                    unsigned bits) {
  const char *name = bits == 512   ? "llvm.x86.avx512.pmaddw.d.512"
                     : bits == 256 ? "llvm.x86.avx2.pmadd.wd"
                                   : "llvm.x86.sse2.pmadd.wd";
  auto i16Type = cast<VectorType>(i16.getType());
  Value factors = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(i16Type, APInt(16, factor)));
  auto type = VectorType::get({bits / 32}, b.getI32Type());
  return callIntrinsic(b, loc, type, name, {i16, factors});
}

} // namespace

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
    auto bytes = cast<VectorType>(s8.getType());
    auto splat = [&](int64_t value) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(bytes, APInt(8, value)));
    };
    return buildSplitIntegerDot(
        b, loc, acc, u8,
        {arith::ShRSIOp::create(b, loc, s8, splat(1)),
         arith::AndIOp::create(b, loc, s8, splat(1))});
  }
  Value sum =
      addPairsTimes(b, loc, multiplyAddPairs(b, loc, u8, s8, bits), 1, bits);
  return arith::AddIOp::create(b, loc, acc, sum);
}

SplitWeights splitBroadcastWeights(OpBuilder &b, Location loc, Value word,
                                   int64_t lanes) {
  Type i32 = b.getI32Type();
  auto constant = [&](uint32_t value) -> Value {
    return arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32, value));
  };
  // Per byte: h = (b >> 1) with b's sign bit kept, l = b & 1.
  Value shifted = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, word, constant(1)),
      constant(0x7F7F7F7Fu));
  Value high = arith::OrIOp::create(
      b, loc, shifted, arith::AndIOp::create(b, loc, word, constant(0x80808080u)));
  Value low = arith::AndIOp::create(b, loc, word, constant(0x01010101u));
  return {broadcastWord(b, loc, high, lanes), broadcastWord(b, loc, low, lanes)};
}

Value buildSplitIntegerDot(OpBuilder &b, Location loc, Value acc, Value u8,
                           SplitWeights s8) {
  unsigned bits = cast<VectorType>(acc.getType()).getNumElements() * 32;
  Value sum = arith::AddIOp::create(
      b, loc,
      addPairsTimes(b, loc, multiplyAddPairs(b, loc, u8, s8.high, bits), 2, bits),
      addPairsTimes(b, loc, multiplyAddPairs(b, loc, u8, s8.low, bits), 1, bits));
  return arith::AddIOp::create(b, loc, acc, sum);
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
  return target.int8Dot() == TargetInfo::Int8Dot::VNNI &&
         target.vectorBits() == 512 && target.vectorRegisters() >= 32;
}

bool hasDepthwiseQuadKernel(const TargetInfo &target, int64_t kernelWidth,
                            int64_t stride, int64_t dilation) {
  if (target.int8Dot() != TargetInfo::Int8Dot::VNNI ||
      !target.has("avx512vbmi"))
    return false;
  int64_t lanes = target.vectorBits() / 32;
  int64_t span = (lanes - 1) * stride + (kernelWidth - 1) * dilation + 1;
  return span <= 4 * lanes;
}

} // namespace mlir::quarc
