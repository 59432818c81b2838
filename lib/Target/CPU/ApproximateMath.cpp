//===- ApproximateMath.cpp - exp, erf and tanh as polynomials -------------===//
//
// convert-math-to-libm turns math.exp/erf/tanh into calls of expf, erff and
// tanhf, and LLVM does not vectorize a loop around a call it has no vector
// variant for: a Softmax or a GELU then runs one element at a time, and libm
// was a fifth of a small transformer's run time. Upstream's polynomial
// approximations are plain arithmetic that vectorizes. Only the functions
// whose accuracy quarc measures (test_math_approximation.py) are taken.
//
//===----------------------------------------------------------------------===//

#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCAPPROXIMATEMATH
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

bool isApproximated(StringRef opName) {
  return opName == math::ExpOp::getOperationName() ||
         opName == math::ErfOp::getOperationName() ||
         opName == math::TanhOp::getOperationName();
}

struct QuarcApproximateMath
    : impl::QuarcApproximateMathBase<QuarcApproximateMath> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, isApproximated);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace mlir::quarc
