//===- ConstantFolding.cpp - evaluate quarc ops on constants -------------===//
//
// A small evaluator for the ops that compute shapes and parameters in
// exported models (Shape -> Gather -> Concat -> Reshape and friends). It
// works on host values, int64 or double per element, so it is exact for
// every integer type up to 64 bits and for f32/f64.
//
//===----------------------------------------------------------------------===//

#include "ConstantFolding.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Dialect/Quarc/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/TypeSwitch.h"
#include <cmath>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCFOLDCONSTANTS
#include "quarc/Dialect/Quarc/Transforms/Passes.h.inc"

namespace {

/// A constant tensor on the host: one of `ints` / `floats` holds the
/// row-major elements.
struct HostTensor {
  SmallVector<int64_t> shape;
  bool isFloat = false;
  SmallVector<int64_t> ints;
  SmallVector<double> floats;

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  double asDouble(int64_t i) const { return isFloat ? floats[i] : double(ints[i]); }
  int64_t asInt(int64_t i) const { return isFloat ? int64_t(floats[i]) : ints[i]; }

  /// The elements at `indices` (flat), in that order.
  HostTensor take(ArrayRef<int64_t> indices, ArrayRef<int64_t> newShape) const {
    HostTensor result;
    result.shape.assign(newShape.begin(), newShape.end());
    result.isFloat = isFloat;
    for (int64_t i : indices) {
      if (isFloat)
        result.floats.push_back(floats[i]);
      else
        result.ints.push_back(ints[i]);
    }
    return result;
  }
};

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

std::optional<HostTensor> readConstant(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  HostTensor tensor;
  tensor.shape.assign(type.getShape().begin(), type.getShape().end());
  if (isa<FloatType>(type.getElementType())) {
    std::optional<SmallVector<double>> values = getConstantFloatValues(value);
    if (!values)
      return std::nullopt;
    tensor.isFloat = true;
    tensor.floats = std::move(*values);
  } else {
    auto intType = dyn_cast<IntegerType>(type.getElementType());
    if (!intType || !intType.isSignless())
      return std::nullopt;
    std::optional<SmallVector<int64_t>> values = getConstantIntValues(value);
    if (!values)
      return std::nullopt;
    // i1 reads as 0/-1 when sign-extended; ONNX bools are 0/1.
    if (intType.getWidth() == 1)
      for (int64_t &v : *values)
        v = v != 0;
    tensor.ints = std::move(*values);
  }
  if (int64_t(tensor.isFloat ? tensor.floats.size() : tensor.ints.size()) !=
      tensor.numElements())
    return std::nullopt;
  return tensor;
}

/// Builds the attribute for `tensor` with element type `element`.
ElementsAttr toAttr(const HostTensor &tensor, Type element) {
  auto type = RankedTensorType::get(tensor.shape, element);
  if (auto floatType = dyn_cast<FloatType>(element)) {
    SmallVector<APFloat> values;
    for (int64_t i = 0, e = tensor.numElements(); i < e; ++i) {
      APFloat v(tensor.asDouble(i));
      bool lossy;
      v.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                &lossy);
      values.push_back(v);
    }
    return DenseElementsAttr::get(type, values);
  }
  unsigned width = element.getIntOrFloatBitWidth();
  SmallVector<APInt> values;
  for (int64_t i = 0, e = tensor.numElements(); i < e; ++i) {
    int64_t v = tensor.asInt(i);
    values.push_back(width == 1 ? APInt(1, v != 0)
                                : APInt(width, uint64_t(v), /*isSigned=*/true,
                                        /*implicitTrunc=*/true));
  }
  return DenseElementsAttr::get(type, values);
}

/// Numpy broadcasting: the result shape and, per operand, the flat source
/// index of every result element.
std::optional<std::pair<SmallVector<int64_t>, SmallVector<SmallVector<int64_t>>>>
broadcast(ArrayRef<const HostTensor *> operands) {
  size_t rank = 0;
  for (const HostTensor *t : operands)
    rank = std::max(rank, t->shape.size());
  SmallVector<int64_t> shape(rank, 1);
  for (const HostTensor *t : operands)
    for (size_t i = 0, off = rank - t->shape.size(); i < t->shape.size(); ++i) {
      int64_t d = t->shape[i];
      if (d == 1)
        continue;
      if (shape[off + i] != 1 && shape[off + i] != d)
        return std::nullopt;
      shape[off + i] = d;
    }
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  SmallVector<SmallVector<int64_t>> indices(operands.size());
  SmallVector<SmallVector<int64_t>> operandStrides;
  for (const HostTensor *t : operands)
    operandStrides.push_back(stridesOf(t->shape));
  SmallVector<int64_t> index(rank, 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    for (auto [k, t] : llvm::enumerate(operands)) {
      ArrayRef<int64_t> strides = operandStrides[k];
      int64_t source = 0;
      for (size_t i = 0, off = rank - t->shape.size(); i < t->shape.size(); ++i)
        if (t->shape[i] != 1)
          source += index[off + i] * strides[i];
      indices[k].push_back(source);
    }
    for (int64_t i = int64_t(rank) - 1; i >= 0; --i) {
      if (++index[i] < shape[i])
        break;
      index[i] = 0;
    }
  }
  return std::make_pair(shape, indices);
}

using IntFn = function_ref<int64_t(ArrayRef<int64_t>)>;
using FloatFn = function_ref<double(ArrayRef<double>)>;

/// Elementwise op over broadcast operands; the result is float when the
/// result element type is.
std::optional<HostTensor> elementwise(ArrayRef<HostTensor> operands,
                                      bool floatResult, IntFn intFn,
                                      FloatFn floatFn) {
  SmallVector<const HostTensor *> pointers;
  for (const HostTensor &t : operands)
    pointers.push_back(&t);
  auto shaped = broadcast(pointers);
  if (!shaped)
    return std::nullopt;
  auto &[shape, indices] = *shaped;
  HostTensor result;
  result.shape = shape;
  result.isFloat = floatResult;
  bool floatInputs = llvm::any_of(operands, [](auto &t) { return t.isFloat; });
  int64_t count = indices.empty() ? 0 : int64_t(indices[0].size());
  for (int64_t i = 0; i < count; ++i) {
    if (floatInputs) {
      SmallVector<double> args;
      for (auto [k, t] : llvm::enumerate(operands))
        args.push_back(t.asDouble(indices[k][i]));
      double v = floatFn(args);
      if (floatResult)
        result.floats.push_back(v);
      else
        result.ints.push_back(int64_t(v));
    } else {
      SmallVector<int64_t> args;
      for (auto [k, t] : llvm::enumerate(operands))
        args.push_back(t.asInt(indices[k][i]));
      int64_t v = intFn(args);
      if (floatResult)
        result.floats.push_back(double(v));
      else
        result.ints.push_back(v);
    }
  }
  return result;
}

std::optional<HostTensor> evalConcat(ArrayRef<HostTensor> inputs, int64_t axis) {
  int64_t rank = inputs[0].shape.size();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return std::nullopt;
  HostTensor result;
  result.shape = inputs[0].shape;
  result.shape[axis] = 0;
  result.isFloat = inputs[0].isFloat;
  for (const HostTensor &t : inputs)
    result.shape[axis] += t.shape[axis];
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= result.shape[i];
  for (int64_t o = 0; o < outer; ++o)
    for (const HostTensor &t : inputs) {
      int64_t block = t.numElements() / std::max<int64_t>(outer, 1);
      for (int64_t j = 0; j < block; ++j) {
        int64_t source = o * block + j;
        if (t.isFloat)
          result.floats.push_back(t.floats[source]);
        else
          result.ints.push_back(t.ints[source]);
      }
    }
  return result;
}

/// ONNX Slice on a constant, any rank, any steps.
std::optional<HostTensor> evalSlice(const HostTensor &data,
                                    ArrayRef<int64_t> starts,
                                    ArrayRef<int64_t> ends,
                                    ArrayRef<int64_t> axes,
                                    ArrayRef<int64_t> steps) {
  int64_t rank = data.shape.size();
  SmallVector<int64_t> begin(rank, 0), step(rank, 1), count(data.shape);
  for (size_t k = 0; k < starts.size(); ++k) {
    int64_t axis = axes.empty() ? int64_t(k) : axes[k];
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank || (!steps.empty() && steps[k] == 0))
      return std::nullopt;
    int64_t dim = data.shape[axis];
    int64_t s = steps.empty() ? 1 : steps[k];
    int64_t b = starts[k], e = ends[k];
    if (b < 0)
      b += dim;
    if (e < 0 && e > INT64_MIN / 2)
      e += dim;
    if (s > 0) {
      b = std::clamp<int64_t>(b, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count[axis] = e > b ? (e - b + s - 1) / s : 0;
    } else {
      b = std::clamp<int64_t>(b, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count[axis] = b > e ? (b - e - s - 1) / -s : 0;
    }
    begin[axis] = b;
    step[axis] = s;
  }
  SmallVector<int64_t> strides = stridesOf(data.shape), indices, index(rank, 0);
  int64_t total = 1;
  for (int64_t c : count)
    total *= c;
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t source = 0;
    for (int64_t i = 0; i < rank; ++i)
      source += (begin[i] + index[i] * step[i]) * strides[i];
    indices.push_back(source);
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++index[i] < count[i])
        break;
      index[i] = 0;
    }
  }
  return data.take(indices, count);
}

std::optional<HostTensor> evalGather(const HostTensor &data,
                                     const HostTensor &indices, int64_t axis) {
  int64_t rank = data.shape.size();
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return std::nullopt;
  int64_t outer = 1, inner = 1, dim = data.shape[axis];
  for (int64_t i = 0; i < axis; ++i)
    outer *= data.shape[i];
  for (int64_t i = axis + 1; i < rank; ++i)
    inner *= data.shape[i];
  SmallVector<int64_t> shape(data.shape.begin(), data.shape.begin() + axis);
  shape.append(indices.shape.begin(), indices.shape.end());
  shape.append(data.shape.begin() + axis + 1, data.shape.end());
  SmallVector<int64_t> sources;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0, n = indices.numElements(); k < n; ++k) {
      int64_t index = indices.asInt(k);
      if (index < 0)
        index += dim;
      if (index < 0 || index >= dim)
        return std::nullopt;
      for (int64_t j = 0; j < inner; ++j)
        sources.push_back((o * dim + index) * inner + j);
    }
  return data.take(sources, shape);
}

std::optional<SmallVector<int64_t>> optionalInts(Value value) {
  if (isNone(value))
    return SmallVector<int64_t>();
  return getConstantIntValues(value);
}

/// Evaluates `op` on constant operands, or nullopt if the evaluator does
/// not know the op or the operands are out of its domain.
std::optional<HostTensor> evaluate(Operation *op, ArrayRef<HostTensor> args,
                                   bool floatResult) {
  auto binary = [&](IntFn i, FloatFn f) {
    return elementwise(args, floatResult, i, f);
  };
  using R = std::optional<HostTensor>;
  return llvm::TypeSwitch<Operation *, R>(op)
      .Case<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp, IdentityOp>(
          [&](Operation *) -> R {
            auto type = cast<RankedTensorType>(op->getResult(0).getType());
            if (!type.hasStaticShape())
              return std::nullopt;
            HostTensor result = args[0];
            result.shape.assign(type.getShape().begin(), type.getShape().end());
            return result;
          })
      .Case([&](CastOp) -> R {
        HostTensor result = args[0];
        result.shape = args[0].shape;
        result.isFloat = floatResult;
        result.ints.clear();
        result.floats.clear();
        unsigned width = floatResult ? 0 : getElementTypeOrSelf(
                                               op->getResult(0).getType())
                                               .getIntOrFloatBitWidth();
        for (int64_t i = 0, e = args[0].numElements(); i < e; ++i) {
          if (floatResult) {
            result.floats.push_back(args[0].asDouble(i));
            continue;
          }
          double v = args[0].asDouble(i);
          int64_t iv = args[0].isFloat ? int64_t(std::trunc(v)) : args[0].ints[i];
          if (width == 1)
            iv = args[0].isFloat ? v != 0.0 : iv != 0;
          else if (width < 64)
            iv = llvm::SignExtend64(uint64_t(iv), width);
          result.ints.push_back(iv);
        }
        return result;
      })
      .Case([&](ConcatOp concat) -> R {
        return evalConcat(args, concat.getAxis());
      })
      .Case([&](SliceOp slice) -> R {
        auto starts = getConstantIntValues(slice.getStarts());
        auto ends = getConstantIntValues(slice.getEnds());
        auto axes = optionalInts(slice.getAxes());
        auto steps = optionalInts(slice.getSteps());
        if (!starts || !ends || !axes || !steps || starts->size() != ends->size())
          return std::nullopt;
        return evalSlice(args[0], *starts, *ends, *axes, *steps);
      })
      .Case([&](GatherOp gather) -> R {
        return evalGather(args[0], args[1], gather.getAxis());
      })
      .Case([&](AddOp) {
        return binary([](auto a) { return a[0] + a[1]; },
                      [](auto a) { return a[0] + a[1]; });
      })
      .Case([&](SubOp) {
        return binary([](auto a) { return a[0] - a[1]; },
                      [](auto a) { return a[0] - a[1]; });
      })
      .Case([&](MulOp) {
        return binary([](auto a) { return a[0] * a[1]; },
                      [](auto a) { return a[0] * a[1]; });
      })
      .Case([&](DivOp) -> R {
        for (const HostTensor &t : args)
          if (!t.isFloat && llvm::is_contained(t.ints, 0))
            return std::nullopt; // Integer division by zero: leave it.
        return binary([](auto a) { return a[0] / a[1]; },
                      [](auto a) { return a[0] / a[1]; });
      })
      .Case([&](EqualOp) {
        return binary([](auto a) -> int64_t { return a[0] == a[1]; },
                      [](auto a) -> double { return a[0] == a[1]; });
      })
      .Case([&](LessOp) {
        return binary([](auto a) -> int64_t { return a[0] < a[1]; },
                      [](auto a) -> double { return a[0] < a[1]; });
      })
      .Case([&](GreaterOp) {
        return binary([](auto a) -> int64_t { return a[0] > a[1]; },
                      [](auto a) -> double { return a[0] > a[1]; });
      })
      .Case([&](WhereOp) {
        return binary([](auto a) { return a[0] ? a[1] : a[2]; },
                      [](auto a) { return a[0] != 0.0 ? a[1] : a[2]; });
      })
      .Case([&](MaxOp) {
        return binary(
            [](auto a) { return *std::max_element(a.begin(), a.end()); },
            [](auto a) { return *std::max_element(a.begin(), a.end()); });
      })
      .Case([&](MinOp) {
        return binary(
            [](auto a) { return *std::min_element(a.begin(), a.end()); },
            [](auto a) { return *std::min_element(a.begin(), a.end()); });
      })
      .Case([&](NegOp) {
        return binary([](auto a) { return -a[0]; }, [](auto a) { return -a[0]; });
      })
      .Case([&](AbsOp) {
        return binary([](auto a) { return a[0] < 0 ? -a[0] : a[0]; },
                      [](auto a) { return std::fabs(a[0]); });
      })
      .Case([&](ExpandOp) -> R {
        // Broadcast the input against a ones tensor of the target shape.
        HostTensor ones;
        for (int64_t i = 0, e = args[1].numElements(); i < e; ++i)
          ones.shape.push_back(args[1].asInt(i));
        ones.ints.assign(ones.numElements(), 0);
        return elementwise({args[0], ones}, floatResult,
                           [](auto a) { return a[0]; },
                           [](auto a) { return a[0]; });
      })
      .Case([&](ConstantOfShapeOp fill) -> R {
        HostTensor result;
        for (int64_t i = 0, e = args[0].numElements(); i < e; ++i)
          result.shape.push_back(args[0].asInt(i));
        result.isFloat = floatResult;
        double value = 0;
        if (ElementsAttr attr = fill.getValueAttr()) {
          auto values = attr.getValues<Attribute>();
          if (values.empty())
            return std::nullopt;
          Attribute first = *values.begin();
          if (auto f = dyn_cast<FloatAttr>(first))
            value = f.getValueAsDouble();
          else if (auto i = dyn_cast<IntegerAttr>(first))
            value = double(i.getValue().getSExtValue());
        }
        if (floatResult)
          result.floats.assign(result.numElements(), value);
        else
          result.ints.assign(result.numElements(), int64_t(value));
        return result;
      })
      .Default([](Operation *) -> R { return std::nullopt; });
}

/// Folds `op` if all its operands are constants (absent optional ones are
/// fine); returns whether it did.
bool foldOp(Operation *op, int64_t maxElements) {
  // Shape needs no constant operand, only a static one: its own folder
  // knows the ranges.
  if (isa<ShapeOp>(op)) {
    SmallVector<OpFoldResult> folded;
    if (failed(op->fold(folded)) || folded.size() != 1)
      return false;
    auto attr = dyn_cast_if_present<ElementsAttr>(dyn_cast<Attribute>(folded[0]));
    if (!attr)
      return false;
    OpBuilder builder(op);
    auto constant =
        ConstantOp::create(builder, op->getLoc(), attr.getType(), attr);
    op->getResult(0).replaceAllUsesWith(constant);
    op->erase();
    return true;
  }
  if (!isa<QuarcDialect>(op->getDialect()) || op->getNumResults() != 1 ||
      isa<ConstantOp, NoneOp>(op) || op->getNumRegions() != 0)
    return false;
  SmallVector<HostTensor> args;
  for (Value operand : op->getOperands()) {
    if (isNone(operand))
      continue;
    std::optional<HostTensor> value = readConstant(operand);
    if (!value)
      return false;
    args.push_back(std::move(*value));
  }
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType || args.empty())
    return false;
  Type element = resultType.getElementType();
  if (!isa<FloatType>(element) &&
      !(isa<IntegerType>(element) && element.isSignlessInteger()))
    return false;
  std::optional<HostTensor> result =
      evaluate(op, args, isa<FloatType>(element));
  if (!result || result->numElements() > maxElements)
    return false;
  // Never contradict a declared static dim.
  if (int64_t(result->shape.size()) != resultType.getRank())
    return false;
  for (auto [got, declared] : llvm::zip(result->shape, resultType.getShape()))
    if (!ShapedType::isDynamic(declared) && got != declared)
      return false;
  OpBuilder builder(op);
  ElementsAttr attr = toAttr(*result, element);
  auto constant = ConstantOp::create(builder, op->getLoc(), attr.getType(), attr);
  op->getResult(0).replaceAllUsesWith(constant);
  op->erase();
  return true;
}

} // namespace

bool foldConstantOps(func::FuncOp func, int64_t maxElements) {
  bool changed = false;
  // Ops are visited in order, so a chain folds in one sweep; the second
  // sweep catches ops inside regions that follow their operands.
  for (bool again = true; again;) {
    again = false;
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : ops)
      if (foldOp(op, maxElements))
        again = changed = true;
  }
  // Folding may have made returned values more static.
  updateFunctionType(func);
  return changed;
}

void updateFunctionType(func::FuncOp func) {
  Operation *terminator = func.getBody().back().getTerminator();
  func.setFunctionType(FunctionType::get(func.getContext(),
                                         func.getBody().getArgumentTypes(),
                                         terminator->getOperandTypes()));
}

namespace {
struct QuarcFoldConstantsPass
    : impl::QuarcFoldConstantsBase<QuarcFoldConstantsPass> {
  using Base::Base;
  void runOnOperation() override { foldConstantOps(getOperation(), maxElements); }
};
} // namespace

} // namespace mlir::quarc
