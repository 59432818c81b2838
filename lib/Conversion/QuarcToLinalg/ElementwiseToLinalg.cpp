//===- ElementwiseToLinalg.cpp - elementwise quarc ops to linalg ---------===//
//
// Every elementwise op becomes one parallel linalg.generic that reads its
// operands with ONNX broadcasting; only the scalar body differs per op, so
// each op contributes a `scalarBody` overload and one templated pattern does
// the rest. linalg-fuse-elementwise-ops later merges chains of them.
//
//===----------------------------------------------------------------------===//

#include "Activations.h"
#include "LoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include <cmath>

namespace mlir::quarc {
namespace {

using arith::CmpFPredicate;
using arith::CmpIPredicate;

bool isFloat(Value v) { return isa<FloatType>(v.getType()); }

Value constant(OpBuilder &b, Location loc, Value like, double value) {
  return createScalar(b, loc, like.getType(), value);
}

Value clamp01(OpBuilder &b, Location loc, Value x) {
  return createMinimum(b, loc, createMaximum(b, loc, x, constant(b, loc, x, 0.0)),
                 constant(b, loc, x, 1.0));
}

Value select(OpBuilder &b, Location loc, Value cond, Value x, Value y) {
  return arith::SelectOp::create(b, loc, cond, x, y);
}

Value lessThanZero(OpBuilder &b, Location loc, Value x) {
  if (isFloat(x))
    return arith::CmpFOp::create(b, loc, CmpFPredicate::OLT, x,
                                 constant(b, loc, x, 0.0));
  return arith::CmpIOp::create(b, loc, CmpIPredicate::slt, x,
                               constant(b, loc, x, 0));
}

} // namespace

Value createSigmoid(OpBuilder &b, Location loc, Value x) {
  Value one = constant(b, loc, x, 1.0);
  Value negated = arith::NegFOp::create(b, loc, x);
  Value denominator = arith::AddFOp::create(
      b, loc, one, math::ExpOp::create(b, loc, negated));
  return arith::DivFOp::create(b, loc, one, denominator);
}

Value createRelu(OpBuilder &b, Location loc, Value x) {
  return createMaximum(b, loc, x, constant(b, loc, x, 0));
}

Value createHardSigmoid(OpBuilder &b, Location loc, Value x, double alpha,
                        double beta) {
  Value linear = arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, x, constant(b, loc, x, alpha)),
      constant(b, loc, x, beta));
  return clamp01(b, loc, linear);
}

Value createLeakyRelu(OpBuilder &b, Location loc, Value x, double alpha) {
  return select(b, loc, lessThanZero(b, loc, x),
                arith::MulFOp::create(b, loc, x, constant(b, loc, x, alpha)),
                x);
}

Value createElu(OpBuilder &b, Location loc, Value x, double alpha) {
  Value negative = arith::MulFOp::create(b, loc, constant(b, loc, x, alpha),
                                         math::ExpM1Op::create(b, loc, x));
  return select(b, loc, lessThanZero(b, loc, x), negative, x);
}

Value createSoftplus(OpBuilder &b, Location loc, Value x) {
  return math::Log1pOp::create(b, loc, math::ExpOp::create(b, loc, x));
}

namespace {

// Scalar bodies, one per op. `s` are the operands' scalars in operand
// order (absent optional operands are left out).

#define UNARY_MATH(Op, MathOp)                                                 \
  Value scalarBody(Op, OpBuilder &b, Location loc, ValueRange s) {             \
    return math::MathOp::create(b, loc, s[0]);                                 \
  }
UNARY_MATH(SqrtOp, SqrtOp)
UNARY_MATH(ExpOp, ExpOp)
UNARY_MATH(LogOp, LogOp)
UNARY_MATH(ErfOp, ErfOp)
UNARY_MATH(TanhOp, TanhOp)
UNARY_MATH(SinOp, SinOp)
UNARY_MATH(CosOp, CosOp)
UNARY_MATH(FloorOp, FloorOp)
UNARY_MATH(CeilOp, CeilOp)
UNARY_MATH(RoundOp, RoundEvenOp) // ONNX Round rounds half to even.
#undef UNARY_MATH

Value scalarBody(SigmoidOp, OpBuilder &b, Location loc, ValueRange s) {
  return createSigmoid(b, loc, s[0]);
}

Value scalarBody(ReciprocalOp, OpBuilder &b, Location loc, ValueRange s) {
  return arith::DivFOp::create(b, loc, constant(b, loc, s[0], 1.0), s[0]);
}

Value scalarBody(SoftplusOp, OpBuilder &b, Location loc, ValueRange s) {
  return createSoftplus(b, loc, s[0]);
}

Value scalarBody(HardSwishOp, OpBuilder &b, Location loc, ValueRange s) {
  Value gate = arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, s[0], constant(b, loc, s[0], 1 / 6.0)),
      constant(b, loc, s[0], 0.5));
  return arith::MulFOp::create(b, loc, s[0], clamp01(b, loc, gate));
}

Value scalarBody(HardSigmoidOp op, OpBuilder &b, Location loc, ValueRange s) {
  return createHardSigmoid(b, loc, s[0], op.getAlpha().convertToDouble(),
                           op.getBeta().convertToDouble());
}

Value scalarBody(LeakyReluOp op, OpBuilder &b, Location loc, ValueRange s) {
  return createLeakyRelu(b, loc, s[0], op.getAlpha().convertToDouble());
}

Value scalarBody(EluOp op, OpBuilder &b, Location loc, ValueRange s) {
  return createElu(b, loc, s[0], op.getAlpha().convertToDouble());
}

Value scalarBody(GeluOp op, OpBuilder &b, Location loc, ValueRange s) {
  Value x = s[0];
  Value half = constant(b, loc, x, 0.5);
  Value one = constant(b, loc, x, 1.0);
  Value inner;
  if (op.getApproximate() == "tanh") {
    Value cube = arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value poly = arith::AddFOp::create(
        b, loc, x, arith::MulFOp::create(b, loc, cube, constant(b, loc, x, 0.044715)));
    inner = math::TanhOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, poly,
                              constant(b, loc, x, std::sqrt(2.0 / M_PI))));
  } else {
    inner = math::ErfOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, constant(b, loc, x, M_SQRT1_2)));
  }
  return arith::MulFOp::create(
      b, loc, arith::MulFOp::create(b, loc, half, x),
      arith::AddFOp::create(b, loc, one, inner));
}

Value scalarBody(NegOp, OpBuilder &b, Location loc, ValueRange s) {
  if (isFloat(s[0]))
    return arith::NegFOp::create(b, loc, s[0]);
  return arith::SubIOp::create(b, loc, constant(b, loc, s[0], 0), s[0]);
}

Value scalarBody(AbsOp, OpBuilder &b, Location loc, ValueRange s) {
  if (isFloat(s[0]))
    return math::AbsFOp::create(b, loc, s[0]);
  return math::AbsIOp::create(b, loc, s[0]);
}

Value scalarBody(SignOp, OpBuilder &b, Location loc, ValueRange s) {
  Value x = s[0];
  Value zero = constant(b, loc, x, 0), one = constant(b, loc, x, 1),
        minusOne = constant(b, loc, x, -1);
  Value positive =
      isFloat(x)
          ? arith::CmpFOp::create(b, loc, CmpFPredicate::OGT, x, zero).getResult()
          : arith::CmpIOp::create(b, loc, CmpIPredicate::sgt, x, zero).getResult();
  return select(b, loc, positive, one,
                select(b, loc, lessThanZero(b, loc, x), minusOne, zero));
}

Value scalarBody(ReluOp, OpBuilder &b, Location loc, ValueRange s) {
  return createRelu(b, loc, s[0]);
}

Value scalarBody(NotOp, OpBuilder &b, Location loc, ValueRange s) {
  return arith::XOrIOp::create(b, loc, s[0], constant(b, loc, s[0], 1));
}

Value scalarBody(PReluOp, OpBuilder &b, Location loc, ValueRange s) {
  return select(b, loc, lessThanZero(b, loc, s[0]),
                arith::MulFOp::create(b, loc, s[0], s[1]), s[0]);
}

Value scalarBody(AddOp, OpBuilder &b, Location loc, ValueRange s) {
  return createAdd(b, loc, s[0], s[1]);
}
Value scalarBody(SubOp, OpBuilder &b, Location loc, ValueRange s) {
  if (isFloat(s[0]))
    return arith::SubFOp::create(b, loc, s[0], s[1]);
  return arith::SubIOp::create(b, loc, s[0], s[1]);
}
Value scalarBody(MulOp, OpBuilder &b, Location loc, ValueRange s) {
  return createMul(b, loc, s[0], s[1]);
}
Value scalarBody(DivOp, OpBuilder &b, Location loc, ValueRange s) {
  if (isFloat(s[0]))
    return arith::DivFOp::create(b, loc, s[0], s[1]);
  return arith::DivSIOp::create(b, loc, s[0], s[1]);
}

Value scalarBody(PowOp op, OpBuilder &b, Location loc, ValueRange s) {
  Value x = s[0], y = s[1];
  if (!isFloat(x)) {
    Value exponent = castScalar(b, loc, y, x.getType());
    return math::IPowIOp::create(b, loc, x, exponent);
  }
  // A constant scalar exponent of 2 or 0.5 (variance and norm computations
  // in transformers) is a multiply or a square root, not a libm call.
  if (std::optional<SmallVector<double>> values =
          getConstantFloatValues(op.getY());
      values && values->size() == 1) {
    if ((*values)[0] == 2.0)
      return arith::MulFOp::create(b, loc, x, x);
    if ((*values)[0] == 1.0)
      return x;
    if ((*values)[0] == 0.5)
      return math::SqrtOp::create(b, loc, x);
  }
  return math::PowFOp::create(b, loc, x, castScalar(b, loc, y, x.getType()));
}

Value scalarBody(AndOp, OpBuilder &b, Location loc, ValueRange s) {
  return arith::AndIOp::create(b, loc, s[0], s[1]);
}
Value scalarBody(OrOp, OpBuilder &b, Location loc, ValueRange s) {
  return arith::OrIOp::create(b, loc, s[0], s[1]);
}
Value scalarBody(XorOp, OpBuilder &b, Location loc, ValueRange s) {
  return arith::XOrIOp::create(b, loc, s[0], s[1]);
}

Value compare(OpBuilder &b, Location loc, ValueRange s, CmpFPredicate fp,
              CmpIPredicate ip) {
  if (isFloat(s[0]))
    return arith::CmpFOp::create(b, loc, fp, s[0], s[1]);
  return arith::CmpIOp::create(b, loc, ip, s[0], s[1]);
}
Value scalarBody(EqualOp, OpBuilder &b, Location loc, ValueRange s) {
  return compare(b, loc, s, CmpFPredicate::OEQ, CmpIPredicate::eq);
}
Value scalarBody(LessOp, OpBuilder &b, Location loc, ValueRange s) {
  return compare(b, loc, s, CmpFPredicate::OLT, CmpIPredicate::slt);
}
Value scalarBody(LessOrEqualOp, OpBuilder &b, Location loc, ValueRange s) {
  return compare(b, loc, s, CmpFPredicate::OLE, CmpIPredicate::sle);
}
Value scalarBody(GreaterOp, OpBuilder &b, Location loc, ValueRange s) {
  return compare(b, loc, s, CmpFPredicate::OGT, CmpIPredicate::sgt);
}
Value scalarBody(GreaterOrEqualOp, OpBuilder &b, Location loc, ValueRange s) {
  return compare(b, loc, s, CmpFPredicate::OGE, CmpIPredicate::sge);
}

Value scalarBody(MaxOp, OpBuilder &b, Location loc, ValueRange s) {
  Value result = s[0];
  for (Value v : s.drop_front())
    result = createMaximum(b, loc, result, v);
  return result;
}
Value scalarBody(MinOp, OpBuilder &b, Location loc, ValueRange s) {
  Value result = s[0];
  for (Value v : s.drop_front())
    result = createMinimum(b, loc, result, v);
  return result;
}
Value scalarBody(SumOp, OpBuilder &b, Location loc, ValueRange s) {
  Value result = s[0];
  for (Value v : s.drop_front())
    result = createAdd(b, loc, result, v);
  return result;
}
Value scalarBody(MeanOp, OpBuilder &b, Location loc, ValueRange s) {
  Value sum = scalarBody(SumOp(), b, loc, s);
  Value count = constant(b, loc, sum, double(s.size()));
  if (isFloat(sum))
    return arith::DivFOp::create(b, loc, sum, count);
  return arith::DivSIOp::create(b, loc, sum, count);
}

Value scalarBody(WhereOp, OpBuilder &b, Location loc, ValueRange s) {
  return select(b, loc, s[0], s[1], s[2]);
}

/// One pattern for every elementwise op: all operands are inputs, the
/// result element comes from `scalarBody`.
template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    for (Value operand : adaptor.getOperands())
      if (!isa<RankedTensorType>(operand.getType()))
        return rewriter.notifyMatchFailure(op, "unranked operand");
    Value result = buildElementwise(
        rewriter, op.getLoc(), *type, adaptor.getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange scalars) {
          return scalarBody(op, b, loc, scalars);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Clip has optional bounds: absent ones are left out of the generic.
struct ClipLowering : OpConversionPattern<ClipOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ClipOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    bool hasMin = !isNone(op.getMin()), hasMax = !isNone(op.getMax());
    SmallVector<Value> inputs = {adaptor.getInput()};
    if (hasMin)
      inputs.push_back(adaptor.getMin());
    if (hasMax)
      inputs.push_back(adaptor.getMax());
    Value result = buildElementwise(
        rewriter, op.getLoc(), *type, inputs,
        [&](OpBuilder &b, Location loc, ValueRange s) {
          Value x = s[0];
          if (hasMin)
            x = createMaximum(b, loc, x, s[1]);
          if (hasMax)
            x = createMinimum(b, loc, x, s[hasMin ? 2 : 1]);
          return x;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct CastLowering : OpConversionPattern<CastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(CastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<RankedTensorType> type = getRankedResultType(rewriter, op);
    if (failed(type))
      return failure();
    if (adaptor.getInput().getType() == *type) {
      rewriter.replaceOp(op, adaptor.getInput());
      return success();
    }
    Value result = buildElementwise(
        rewriter, op.getLoc(), *type, adaptor.getInput(),
        [&](OpBuilder &b, Location loc, ValueRange s) {
          return castScalar(b, loc, s[0], type->getElementType());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<
      ElementwiseLowering<SqrtOp>, ElementwiseLowering<ExpOp>,
      ElementwiseLowering<LogOp>, ElementwiseLowering<ErfOp>,
      ElementwiseLowering<TanhOp>, ElementwiseLowering<SigmoidOp>,
      ElementwiseLowering<SinOp>, ElementwiseLowering<CosOp>,
      ElementwiseLowering<FloorOp>, ElementwiseLowering<CeilOp>,
      ElementwiseLowering<RoundOp>, ElementwiseLowering<ReciprocalOp>,
      ElementwiseLowering<SoftplusOp>, ElementwiseLowering<HardSwishOp>,
      ElementwiseLowering<HardSigmoidOp>, ElementwiseLowering<LeakyReluOp>,
      ElementwiseLowering<EluOp>, ElementwiseLowering<GeluOp>,
      ElementwiseLowering<NegOp>, ElementwiseLowering<AbsOp>,
      ElementwiseLowering<SignOp>, ElementwiseLowering<ReluOp>,
      ElementwiseLowering<NotOp>, ElementwiseLowering<PReluOp>,
      ElementwiseLowering<AddOp>, ElementwiseLowering<SubOp>,
      ElementwiseLowering<MulOp>, ElementwiseLowering<DivOp>,
      ElementwiseLowering<PowOp>, ElementwiseLowering<AndOp>,
      ElementwiseLowering<OrOp>, ElementwiseLowering<XorOp>,
      ElementwiseLowering<EqualOp>, ElementwiseLowering<LessOp>,
      ElementwiseLowering<LessOrEqualOp>, ElementwiseLowering<GreaterOp>,
      ElementwiseLowering<GreaterOrEqualOp>, ElementwiseLowering<MaxOp>,
      ElementwiseLowering<MinOp>, ElementwiseLowering<SumOp>,
      ElementwiseLowering<MeanOp>, ElementwiseLowering<WhereOp>, ClipLowering,
      CastLowering>(patterns.getContext());
}

} // namespace mlir::quarc
