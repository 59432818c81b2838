//===- TableFunctions.cpp - elementwise functions evaluated at compile time ===//

#include "TableFunctions.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#include "llvm/ADT/TypeSwitch.h"
#include <cmath>

namespace mlir::quarc {

bool isTableFunction(Operation *op) {
  if (op->getNumResults() != 1)
    return false;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.getElementType().isF32())
    return false;
  return isa<SqrtOp, ExpOp, LogOp, ErfOp, TanhOp, SigmoidOp, SinOp, CosOp,
             FloorOp, CeilOp, RoundOp, ReciprocalOp, SoftplusOp, HardSwishOp,
             NegOp, AbsOp, SignOp, ReluOp, LeakyReluOp, EluOp, HardSigmoidOp,
             GeluOp, ClipOp, PReluOp, AddOp, SubOp, MulOp, DivOp, PowOp, MaxOp,
             MinOp, SumOp, MeanOp, IdentityOp>(op);
}

std::optional<double> getScalarConstant(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || type.getNumElements() != 1 ||
      !type.getElementType().isF32())
    return std::nullopt;
  std::optional<SmallVector<double>> values = getConstantFloatValues(value);
  if (!values || values->size() != 1)
    return std::nullopt;
  return values->front();
}

static double attr(FloatAttr attribute) {
  return attribute.getValue().convertToDouble();
}

static double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

/// The value of `op` at `x` (its operand values in `v`), in double.
static std::optional<double>
evaluate(Operation *op, ArrayRef<std::optional<double>> v) {
  using R = std::optional<double>;
  // Every operand but Clip's bounds must be present.
  auto at = [&](unsigned i) { return *v[i]; };
  return llvm::TypeSwitch<Operation *, R>(op)
      .Case([&](SqrtOp) { return R(std::sqrt(at(0))); })
      .Case([&](ExpOp) { return R(std::exp(at(0))); })
      .Case([&](LogOp) { return R(std::log(at(0))); })
      .Case([&](ErfOp) { return R(std::erf(at(0))); })
      .Case([&](TanhOp) { return R(std::tanh(at(0))); })
      .Case([&](SigmoidOp) { return R(sigmoid(at(0))); })
      .Case([&](SinOp) { return R(std::sin(at(0))); })
      .Case([&](CosOp) { return R(std::cos(at(0))); })
      .Case([&](FloorOp) { return R(std::floor(at(0))); })
      .Case([&](CeilOp) { return R(std::ceil(at(0))); })
      // ONNX Round: half to even, as nearbyint in the default mode.
      .Case([&](RoundOp) { return R(std::nearbyint(at(0))); })
      .Case([&](ReciprocalOp) { return R(1 / at(0)); })
      .Case([&](SoftplusOp) { return R(std::log1p(std::exp(at(0)))); })
      .Case([&](HardSwishOp) {
        double x = at(0);
        return R(x * std::clamp(x / 6 + 0.5, 0.0, 1.0));
      })
      .Case([&](NegOp) { return R(-at(0)); })
      .Case([&](AbsOp) { return R(std::abs(at(0))); })
      .Case([&](SignOp) {
        double x = at(0);
        return R(x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0);
      })
      .Case([&](ReluOp) { return R(std::max(at(0), 0.0)); })
      .Case([&](LeakyReluOp op) {
        double x = at(0);
        return R(x < 0 ? x * attr(op.getAlphaAttr()) : x);
      })
      .Case([&](EluOp op) {
        double x = at(0);
        return R(x < 0 ? attr(op.getAlphaAttr()) * std::expm1(x) : x);
      })
      .Case([&](HardSigmoidOp op) {
        double linear =
            at(0) * attr(op.getAlphaAttr()) + attr(op.getBetaAttr());
        return R(std::clamp(linear, 0.0, 1.0));
      })
      .Case([&](GeluOp op) {
        double x = at(0);
        if (op.getApproximate() == "tanh")
          return R(0.5 * x *
                   (1 + std::tanh(std::sqrt(2 / M_PI) *
                                  (x + 0.044715 * x * x * x))));
        return R(0.5 * x * (1 + std::erf(x * M_SQRT1_2)));
      })
      .Case([&](ClipOp) {
        double x = at(0);
        if (v[1])
          x = std::max(x, *v[1]);
        if (v[2])
          x = std::min(x, *v[2]);
        return R(x);
      })
      .Case([&](PReluOp) {
        double x = at(0);
        return R(x < 0 ? x * at(1) : x);
      })
      .Case([&](AddOp) { return R(at(0) + at(1)); })
      .Case([&](SubOp) { return R(at(0) - at(1)); })
      .Case([&](MulOp) { return R(at(0) * at(1)); })
      .Case([&](DivOp) { return R(at(0) / at(1)); })
      .Case([&](PowOp) { return R(std::pow(at(0), at(1))); })
      .Case<MaxOp, MinOp, SumOp, MeanOp>([&](Operation *op) {
        double result = at(0);
        for (unsigned i = 1; i < v.size(); ++i) {
          if (isa<MaxOp>(op))
            result = std::max(result, at(i));
          else if (isa<MinOp>(op))
            result = std::min(result, at(i));
          else
            result += at(i);
        }
        if (isa<MeanOp>(op))
          result /= double(v.size());
        return R(result);
      })
      .Case([&](IdentityOp) { return R(at(0)); })
      .Default([](Operation *) { return R(); });
}

std::optional<double>
evaluateTableFunction(Operation *op, ArrayRef<std::optional<double>> operands) {
  if (operands.size() != op->getNumOperands())
    return std::nullopt;
  // Only Clip may have absent operands (its bounds).
  for (auto [i, value] : llvm::enumerate(operands))
    if (!value && !(isa<ClipOp>(op) && i > 0))
      return std::nullopt;
  std::optional<double> result = evaluate(op, operands);
  if (!result)
    return std::nullopt;
  // The float code computes each op in f32. A NaN (log of a negative) stays
  // NaN, which quantizes to the zero point, as it would at run time.
  return double(float(*result));
}

} // namespace mlir::quarc
