//===- IntegerLowering.cpp - scalar pieces of the integer op lowerings ----===//

#include "IntegerLowering.h"
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::quarc {

quant::QuantizedType getElementQuantType(Value value) {
  return cast<quant::QuantizedType>(
      cast<RankedTensorType>(value.getType()).getElementType());
}

Value extendStored(OpBuilder &b, Location loc, Value value,
                   quant::QuantizedType type, Type to) {
  if (type.isSigned())
    return arith::ExtSIOp::create(b, loc, to, value);
  return arith::ExtUIOp::create(b, loc, to, value);
}

std::pair<int64_t, int64_t> getClampRange(Operation *op,
                                          quant::UniformQuantizedType type) {
  int64_t low = type.getStorageTypeMin(), high = type.getStorageTypeMax();
  if (auto clampMin = op->getAttrOfType<IntegerAttr>("clamp_min"))
    low = std::max(low, clampMin.getInt());
  if (auto clampMax = op->getAttrOfType<IntegerAttr>("clamp_max"))
    high = std::min(high, clampMax.getInt());
  return {low, high};
}

namespace {

/// clamp(value + zeroPoint, qmin, qmax) in `value`'s type, truncated to
/// `storage`.
Value addZeroPointAndClamp(OpBuilder &b, Location loc, Value value,
                           int64_t zeroPoint, int64_t qmin, int64_t qmax,
                           Type storage) {
  Type type = value.getType();
  Value shifted = arith::AddIOp::create(
      b, loc, value, createScalar(b, loc, type, double(zeroPoint)));
  Value clamped = arith::MinSIOp::create(
      b, loc,
      arith::MaxSIOp::create(b, loc, shifted,
                             createScalar(b, loc, type, double(qmin))),
      createScalar(b, loc, type, double(qmax)));
  if (clamped.getType() == storage)
    return clamped;
  return arith::TruncIOp::create(b, loc, storage, clamped);
}

} // namespace

Value buildRoundingShiftAndClamp(OpBuilder &b, Location loc, Value value,
                                 Value shift, int64_t leastShift,
                                 int64_t zeroPoint, int64_t qmin, int64_t qmax,
                                 Type storage) {
  Type i64 = b.getI64Type();
  Value one = createScalar(b, loc, i64, 1);
  Value half =
      arith::ShLIOp::create(b, loc, one, arith::SubIOp::create(b, loc, shift, one));
  Value biased = arith::AddIOp::create(b, loc, value, half);
  if (leastShift < 32)
    return addZeroPointAndClamp(b, loc,
                                arith::ShRSIOp::create(b, loc, biased, shift),
                                zeroPoint, qmin, qmax, storage);
  // The rest in i32 where the shift takes at least 32 bits off: floor
  // division by 2^32 then by 2^(n - 32) is floor division by 2^n, and
  // (value + half) >> 32 fits i32 (|value| < 2^62). Vector code then needs
  // no 64-bit arithmetic shift or comparison, which AVX2 lacks.
  Type i32 = b.getI32Type();
  Value high = arith::TruncIOp::create(
      b, loc, i32,
      arith::ShRSIOp::create(b, loc, biased, createScalar(b, loc, i64, 32)));
  Value rest = arith::SubIOp::create(b, loc,
                                     arith::TruncIOp::create(b, loc, i32, shift),
                                     createScalar(b, loc, i32, 32));
  return addZeroPointAndClamp(b, loc, arith::ShRSIOp::create(b, loc, high, rest),
                              zeroPoint, qmin, qmax, storage);
}

std::optional<MultiplierSplit> getMultiplierSplit(unsigned valueBits,
                                                  unsigned terms,
                                                  int64_t shift) {
  if (valueBits <= 9 && terms <= 2 && shift >= 17 && shift <= 47)
    return MultiplierSplit{16, 2};
  if (valueBits <= 17 && terms == 1 && shift >= 23 && shift <= 53)
    return MultiplierSplit{11, 3};
  return std::nullopt;
}

Value buildSplitRequantize(OpBuilder &b, Location loc,
                           ArrayRef<std::pair<Value, int64_t>> terms,
                           MultiplierSplit split, int64_t shift,
                           int64_t zeroPoint, int64_t qmin, int64_t qmax,
                           Type storage) {
  // With each M = sum over pieces i of M_i 2^(w i) (w = pieceBits), sum x M
  // = sum over i of S_i 2^(w i), S_i the sum of x M_i. Floor division by
  // 2^w of an integer plus S_i 2^w keeps S_i whole, so from the low piece
  // up, T_0 = S_0 and T_i = S_i + (T_(i-1) >> w) carry everything that can
  // reach the high bits; the rounding half 2^(n-1) = 2^(n-1-w k) 2^(w k)
  // joins the top piece k, and the result is T_k >> (n - w k).
  // getMultiplierSplit's bounds keep every T_i within i32: halves of 16
  // bits for 9-bit values (|S_1| < 2^24, |S_0| < 2^25), thirds of 11 bits
  // for 17-bit products (|S_i| < 2^27, the top one < 2^25). Sixteen lanes
  // a 512-bit vector where i64 took 8, and no 64-bit multiply (AVX2 has
  // none: LLVM's took three vpmuludq per four lanes).
  Type i32 = b.getI32Type();
  auto constant = [&](int64_t value) {
    return createScalar(b, loc, i32, double(value));
  };
  unsigned w = split.pieceBits, top = split.pieces - 1;
  auto weighted = [&](unsigned piece) {
    Value sum;
    for (auto [x, multiplier] : terms) {
      int64_t bits = multiplier >> (w * piece);
      if (piece != top)
        bits &= (int64_t(1) << w) - 1;
      Value product = arith::MulIOp::create(b, loc, x, constant(bits));
      sum = sum ? arith::AddIOp::create(b, loc, sum, product).getResult()
                : product;
    }
    return sum;
  };
  Value high = weighted(top);
  Value carry = weighted(0);
  for (unsigned piece = 1; piece < top; ++piece)
    carry = arith::AddIOp::create(
        b, loc, weighted(piece),
        arith::ShRSIOp::create(b, loc, carry, constant(w)));
  Value carried = arith::AddIOp::create(
      b, loc, arith::ShRSIOp::create(b, loc, carry, constant(w)),
      constant(int64_t(1) << (shift - 1 - w * top)));
  Value rounded = arith::ShRSIOp::create(
      b, loc, arith::AddIOp::create(b, loc, high, carried),
      constant(shift - w * top));
  return addZeroPointAndClamp(b, loc, rounded, zeroPoint, qmin, qmax, storage);
}

Value buildRequantize(OpBuilder &b, Location loc, Value acc, Value multiplier,
                      Value shift, int64_t leastShift, int64_t zeroPoint,
                      int64_t qmin, int64_t qmax, Type storage) {
  if (leastShift >= 33) {
    // acc * M = H 2^32 + L: from n = 33 on the rounding half 2^(n-1) has
    // no low word, and L / 2^32 < 1 cannot change floor((H + 2^(n-33) +
    // L / 2^32) / 2^(n-32)): the result is (H + 2^(n-33)) >> (n - 32),
    // with H the high word of a 32 x 32-bit product (LLVM's mulhs: on x86
    // two vpmuldq and shuffles, no 64-bit lanes kept).
    Type i32 = b.getI32Type();
    Value high =
        arith::MulSIExtendedOp::create(b, loc, acc, multiplier).getHigh();
    auto constant = [&](int64_t value) { return createScalar(b, loc, i32, value); };
    Value halfHigh = arith::ShLIOp::create(
        b, loc, constant(1), arith::SubIOp::create(b, loc, shift, constant(33)));
    Value rounded = arith::ShRSIOp::create(
        b, loc, arith::AddIOp::create(b, loc, high, halfHigh),
        arith::SubIOp::create(b, loc, shift, constant(32)));
    return addZeroPointAndClamp(b, loc, rounded, zeroPoint, qmin, qmax, storage);
  }
  Type i64 = b.getI64Type();
  auto widen = [&](Value v) {
    return arith::ExtSIOp::create(b, loc, i64, v).getResult();
  };
  Value product = arith::MulIOp::create(b, loc, widen(acc), widen(multiplier));
  return buildRoundingShiftAndClamp(b, loc, product, widen(shift), leastShift,
                                    zeroPoint, qmin, qmax, storage);
}

} // namespace mlir::quarc
