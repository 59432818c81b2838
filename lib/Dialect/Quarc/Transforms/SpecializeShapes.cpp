//===- SpecializeShapes.cpp - the quarc-specialize-shapes pass -----------===//

#include "ConstantFolding.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"

#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCSPECIALIZESHAPES
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

LogicalResult parseInputShape(StringRef spec, std::string &name,
                              SmallVectorImpl<int64_t> &shape,
                              std::string &error) {
  auto [head, dims] = spec.rsplit('=');
  if (head.empty() || dims.empty() || !spec.contains('=')) {
    error = ("input shape '" + spec + "' is not NAME=D0xD1x...").str();
    return failure();
  }
  name = head.str();
  shape.clear();
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t dim;
    if (part == "?") {
      shape.push_back(ShapedType::kDynamic);
    } else if (!part.getAsInteger(10, dim) && dim >= 0) {
      shape.push_back(dim);
    } else {
      error = ("input shape '" + spec + "': '" + part +
               "' is not a dimension (a number or ?)")
                  .str();
      return failure();
    }
  }
  return success();
}

/// The more static of two compatible types, or null when they conflict.
static Type refineType(Type declared, Type inferred) {
  auto inferredTensor = dyn_cast<RankedTensorType>(inferred);
  if (!inferredTensor)
    return declared;
  auto declaredTensor = dyn_cast<TensorType>(declared);
  if (!declaredTensor ||
      declaredTensor.getElementType() != inferredTensor.getElementType())
    return declared;
  if (!declaredTensor.hasRank())
    return inferred;
  if (declaredTensor.getRank() != inferredTensor.getRank())
    return nullptr;
  SmallVector<int64_t> shape;
  for (auto [a, b] :
       llvm::zip(declaredTensor.getShape(), inferredTensor.getShape())) {
    if (!ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b)
      return nullptr;
    shape.push_back(ShapedType::isDynamic(a) ? b : a);
  }
  return declaredTensor.clone(shape);
}

FailureOr<bool> refineShapes(func::FuncOp func) {
  bool changed = false;
  WalkResult result = func.walk([&](Operation *op) {
    auto inference = dyn_cast<InferTypeOpInterface>(op);
    if (!inference)
      return WalkResult::advance();
    SmallVector<Type> inferred;
    if (failed(inference.inferReturnTypes(
            op->getContext(), op->getLoc(), op->getOperands(),
            op->getAttrDictionary(), op->getPropertiesStorage(),
            op->getRegions(), inferred)))
      return WalkResult::interrupt();
    for (auto [value, type] : llvm::zip(op->getResults(), inferred)) {
      Type refined = refineType(value.getType(), type);
      if (!refined) {
        op->emitError() << "the declared result type " << value.getType()
                        << " contradicts the inferred " << type;
        return WalkResult::interrupt();
      }
      if (refined != value.getType()) {
        value.setType(refined);
        changed = true;
      }
    }
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  updateFunctionType(func);
  return changed;
}

namespace {

struct QuarcSpecializeShapesPass
    : impl::QuarcSpecializeShapesBase<QuarcSpecializeShapesPass> {
  using Base::Base;

  LogicalResult applyInputShapes(func::FuncOp func) {
    for (const std::string &spec : inputShapes) {
      std::string name, error;
      SmallVector<int64_t> shape;
      if (failed(parseInputShape(spec, name, shape, error)))
        return func.emitError(error);
      BlockArgument arg = findArgument(func, name);
      if (!arg)
        return func.emitError() << "no input named '" << name
                                << "' (inputs: " << listInputs(func) << ")";
      auto declared = dyn_cast<RankedTensorType>(arg.getType());
      if (!declared)
        return func.emitError() << "input '" << name << "' is not a tensor";
      Type refined = refineType(
          declared, RankedTensorType::get(shape, declared.getElementType()));
      if (!refined)
        return func.emitError()
               << "input '" << name << "': shape " << spec
               << " contradicts the model's " << declared;
      arg.setType(refined);
    }
    updateFunctionType(func);
    return success();
  }

  static BlockArgument findArgument(func::FuncOp func, StringRef name) {
    for (BlockArgument arg : func.getArguments())
      if (auto attr = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                        "quarc.name"))
        if (attr.getValue() == name)
          return arg;
    return nullptr;
  }

  static std::string listInputs(func::FuncOp func) {
    std::string names;
    for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
      if (auto attr = func.getArgAttrOfType<StringAttr>(i, "quarc.name"))
        names += (names.empty() ? "" : ", ") + attr.getValue().str();
    return names;
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal()) // a runtime callback's declaration
      return;
    if (failed(applyInputShapes(func)))
      return signalPassFailure();
    // Refining can make shape computations constant, folding them can make
    // more shapes static: iterate to a fixed point (bounded: each round
    // only makes types more static).
    for (int round = 0; round < 16; ++round) {
      FailureOr<bool> refined = refineShapes(func);
      if (failed(refined))
        return signalPassFailure();
      bool folded = foldConstantOps(func, /*maxElements=*/1 << 16);
      if (!*refined && !folded)
        break;
    }
  }
};

} // namespace
} // namespace mlir::quarc
