//===- ShapeOps.cpp - reshaping, slicing, gathering, resizing -------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::quarc;

/// Normalizes a list of axes for `rank` and rejects duplicates.
static FailureOr<SmallVector<int64_t>>
normalizeAxes(std::optional<Location> loc, ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    FailureOr<int64_t> normalized = normalizeAxis(loc, axis, rank, "axis");
    if (failed(normalized))
      return failure();
    if (llvm::is_contained(result, *normalized))
      return emitOptionalError(loc, "axis ", axis, " is repeated");
    result.push_back(*normalized);
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Reshape, Flatten
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  std::optional<SmallVector<int64_t>> target =
      getConstantIntValues(adaptor.getShape());
  if (!target) {
    FailureOr<int64_t> rank = getStaticLength(loc, adaptor.getShape(), "shape");
    if (failed(rank))
      return failure();
    return pushTensorType(types, SmallVector<int64_t>(*rank, ShapedType::kDynamic),
                      data->getElementType());
  }
  SmallVector<int64_t> shape;
  int64_t inferIndex = -1;
  for (auto [i, dim] : llvm::enumerate(*target)) {
    if (dim == 0 && !adaptor.getAllowzero()) {
      if (int64_t(i) >= data->getRank())
        return emitOptionalError(loc, "shape copies dim ", i,
                                 " (0) but data has rank ", data->getRank());
      shape.push_back(data->getDimSize(i));
    } else if (dim == -1) {
      if (inferIndex >= 0)
        return emitOptionalError(loc, "shape has more than one -1");
      inferIndex = i;
      shape.push_back(ShapedType::kDynamic);
    } else if (dim < -1) {
      return emitOptionalError(loc, "shape has an invalid dim ", dim);
    } else {
      shape.push_back(dim);
    }
  }
  if (inferIndex >= 0 && data->hasStaticShape()) {
    int64_t known = 1;
    for (auto [i, dim] : llvm::enumerate(shape))
      if (int64_t(i) != inferIndex) {
        if (ShapedType::isDynamic(dim))
          return pushTensorType(types, shape, data->getElementType());
        known *= dim;
      }
    if (known == 0 || data->getNumElements() % known != 0)
      return emitOptionalError(loc, "cannot reshape ", data->getNumElements(),
                               " elements with a -1 dim");
    shape[inferIndex] = data->getNumElements() / known;
  }
  if (data->hasStaticShape() && !llvm::is_contained(shape, ShapedType::kDynamic)) {
    int64_t count = 1;
    for (int64_t dim : shape)
      count *= dim;
    if (count != data->getNumElements())
      return emitOptionalError(loc, "cannot reshape ", data->getNumElements(),
                               " elements into ", count);
  }
  return pushTensorType(types, shape, data->getElementType());
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getData().getType() == getType() && getType().hasStaticShape())
    return getData();
  // reshape(reshape(x)) keeps only the outer shape, and so does a reshape of
  // a flatten, squeeze or unsqueeze. Only for a static result: inferred from
  // x, a `?` result could become more static than declared.
  std::optional<SmallVector<int64_t>> target = getConstantIntValues(getShape());
  Operation *inner = getData().getDefiningOp();
  if (isa_and_present<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp>(inner))
    if (getType().hasStaticShape() && target &&
        !llvm::is_contained(*target, 0)) {
      getDataMutable().assign(inner->getOperand(0));
      return getResult();
    }
  return nullptr;
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> input =
      getRankedType(loc, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  int64_t rank = input->getRank();
  int64_t axis = adaptor.getAxis();
  if (axis < -rank || axis > rank)
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             rank);
  if (axis < 0)
    axis += rank;
  auto product = [](ArrayRef<int64_t> dims) {
    int64_t result = 1;
    for (int64_t dim : dims) {
      if (ShapedType::isDynamic(dim))
        return ShapedType::kDynamic;
      result *= dim;
    }
    return result;
  };
  ArrayRef<int64_t> shape = input->getShape();
  return pushTensorType(types,
                    {product(shape.take_front(axis)),
                     product(shape.drop_front(axis))},
                    input->getElementType());
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

static SmallVector<int64_t> getPermutation(std::optional<ArrayRef<int64_t>> perm,
                                           int64_t rank) {
  if (perm)
    return SmallVector<int64_t>(perm->begin(), perm->end());
  SmallVector<int64_t> reversed;
  for (int64_t i = rank - 1; i >= 0; --i)
    reversed.push_back(i);
  return reversed;
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  int64_t rank = data->getRank();
  SmallVector<int64_t> perm = getPermutation(adaptor.getPerm(), rank);
  if (int64_t(perm.size()) != rank)
    return emitOptionalError(loc, "perm has ", perm.size(),
                             " entries for rank ", rank);
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return emitOptionalError(loc, "perm is not a permutation of 0..",
                               rank - 1);
    seen[p] = true;
    shape.push_back(data->getDimSize(p));
  }
  return pushTensorType(types, shape, data->getElementType());
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  if (getData().getType() != getType())
    return nullptr;
  SmallVector<int64_t> perm = getPermutation(getPerm(), getType().getRank());
  for (auto [i, p] : llvm::enumerate(perm))
    if (int64_t(i) != p)
      return nullptr;
  return getData();
}

namespace {
/// transpose(transpose(x, inner), outer) -> transpose(x, inner o outer).
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getData().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    int64_t rank = op.getType().getRank();
    SmallVector<int64_t> innerPerm = getPermutation(inner.getPerm(), rank);
    SmallVector<int64_t> outerPerm = getPermutation(op.getPerm(), rank);
    SmallVector<int64_t> composed;
    for (int64_t p : outerPerm)
      composed.push_back(innerPerm[p]);
    rewriter.modifyOpInPlace(op, [&] {
      op.getDataMutable().assign(inner.getData());
      op.setPermAttr(rewriter.getDenseI64ArrayAttr(composed));
    });
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                              MLIRContext *context) {
  patterns.add<ComposeTransposes>(context);
}

//===----------------------------------------------------------------------===//
// Squeeze, Unsqueeze
//===----------------------------------------------------------------------===//

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  ArrayRef<int64_t> shape = data->getShape();
  SmallVector<int64_t> axes;
  if (isNone(adaptor.getAxes())) {
    for (auto [i, dim] : llvm::enumerate(shape)) {
      if (ShapedType::isDynamic(dim))
        return emitOptionalError(loc, "squeeze without axes needs static dims "
                                      "(dim ",
                                 i, " is dynamic)");
      if (dim == 1)
        axes.push_back(i);
    }
  } else {
    std::optional<SmallVector<int64_t>> values =
        getConstantIntValues(adaptor.getAxes());
    if (!values)
      return emitOptionalError(loc, "axes must be a constant");
    FailureOr<SmallVector<int64_t>> normalized =
        normalizeAxes(loc, *values, data->getRank());
    if (failed(normalized))
      return failure();
    axes = *normalized;
    for (int64_t axis : axes)
      if (shape[axis] != 1 && !ShapedType::isDynamic(shape[axis]))
        return emitOptionalError(loc, "cannot squeeze dim ", axis, " of size ",
                                 shape[axis]);
  }
  SmallVector<int64_t> result;
  for (auto [i, dim] : llvm::enumerate(shape))
    if (!llvm::is_contained(axes, int64_t(i)))
      result.push_back(dim);
  return pushTensorType(types, result, data->getElementType());
}

LogicalResult UnsqueezeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  std::optional<SmallVector<int64_t>> values =
      getConstantIntValues(adaptor.getAxes());
  if (!values)
    return emitOptionalError(loc, "axes must be a constant");
  int64_t rank = data->getRank() + values->size();
  FailureOr<SmallVector<int64_t>> axes = normalizeAxes(loc, *values, rank);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> shape;
  auto dims = data->getShape().begin();
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(llvm::is_contained(*axes, i) ? 1 : *dims++);
  return pushTensorType(types, shape, data->getElementType());
}

//===----------------------------------------------------------------------===//
// Concat, Split
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "needs at least one input");
  FailureOr<RankedTensorType> first =
      getRankedType(loc, adaptor.getInputs().front(), "input 0");
  if (failed(first))
    return failure();
  int64_t rank = first->getRank();
  FailureOr<int64_t> axis = normalizeAxis(loc, adaptor.getAxis(), rank, "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(first->getShape());
  shape[*axis] = 0;
  for (auto [i, input] : llvm::enumerate(adaptor.getInputs())) {
    FailureOr<RankedTensorType> type =
        getRankedType(loc, input, "input " + std::to_string(i));
    if (failed(type))
      return failure();
    if (type->getRank() != rank)
      return emitOptionalError(loc, "input ", i, " has rank ", type->getRank(),
                               ", expected ", rank);
    for (int64_t d = 0; d < rank; ++d) {
      int64_t dim = type->getDimSize(d);
      if (d == *axis) {
        shape[d] = ShapedType::isDynamic(dim) || ShapedType::isDynamic(shape[d])
                       ? ShapedType::kDynamic
                       : shape[d] + dim;
      } else if (ShapedType::isDynamic(shape[d])) {
        shape[d] = dim;
      } else if (!ShapedType::isDynamic(dim) && dim != shape[d]) {
        return emitOptionalError(loc, "input ", i, " has size ", dim,
                                 " in dim ", d, ", expected ", shape[d]);
      }
    }
  }
  return pushTensorType(types, shape, first->getElementType());
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> input =
      getRankedType(loc, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  FailureOr<int64_t> axis =
      normalizeAxis(loc, adaptor.getAxis(), input->getRank(), "axis");
  if (failed(axis))
    return failure();
  int64_t dim = input->getDimSize(*axis);
  SmallVector<int64_t> sizes;
  if (!isNone(adaptor.getSplit())) {
    if (std::optional<SmallVector<int64_t>> split =
            getConstantIntValues(adaptor.getSplit())) {
      int64_t total = 0;
      for (int64_t size : *split) {
        if (size < 0)
          return emitOptionalError(loc, "split sizes must be non-negative");
        total += size;
      }
      if (!ShapedType::isDynamic(dim) && total != dim)
        return emitOptionalError(loc, "split sizes add up to ", total,
                                 " but the dim has size ", dim);
      sizes = *split;
    } else {
      FailureOr<int64_t> count = getStaticLength(loc, adaptor.getSplit(), "split");
      if (failed(count))
        return failure();
      sizes.assign(*count, ShapedType::kDynamic);
    }
  } else if (std::optional<uint64_t> parts = adaptor.getNumOutputs()) {
    int64_t count = *parts;
    if (count < 1)
      return emitOptionalError(loc, "num_outputs must be positive");
    if (ShapedType::isDynamic(dim)) {
      sizes.assign(count, ShapedType::kDynamic);
    } else {
      int64_t chunk = llvm::divideCeil(dim, count);
      if (chunk * (count - 1) >= dim && count > 1)
        return emitOptionalError(loc, "cannot split a dim of size ", dim,
                                 " into ", count, " outputs");
      sizes.assign(count - 1, chunk);
      sizes.push_back(dim - chunk * (count - 1));
    }
  } else {
    return emitOptionalError(loc, "needs 'split' or 'num_outputs'");
  }
  for (int64_t size : sizes) {
    SmallVector<int64_t> shape(input->getShape());
    shape[*axis] = size;
    types.push_back(RankedTensorType::get(shape, input->getElementType()));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Slice, Gather
//===----------------------------------------------------------------------===//

/// The size of one sliced dim, with ONNX's clamping of start and end.
static int64_t slicedSize(int64_t dim, int64_t start, int64_t end,
                          int64_t step) {
  auto clamp = [](int64_t v, int64_t lo, int64_t hi) {
    return std::max(lo, std::min(v, hi));
  };
  if (start < 0)
    start = start < -dim ? 0 : start + dim;
  if (end < 0)
    end = end < -dim ? -1 : end + dim;
  if (step > 0) {
    start = clamp(start, 0, dim);
    end = clamp(end, 0, dim);
    return std::max<int64_t>(0, (end - start + step - 1) / step);
  }
  start = clamp(start, 0, dim - 1);
  end = clamp(end, -1, dim - 1);
  return std::max<int64_t>(0, (start - end + (-step) - 1) / (-step));
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  int64_t rank = data->getRank();
  SmallVector<int64_t> shape(data->getShape());
  auto starts = getConstantIntValues(adaptor.getStarts());
  auto ends = getConstantIntValues(adaptor.getEnds());
  std::optional<SmallVector<int64_t>> axes, steps;
  bool axesKnown = true, stepsKnown = true;
  if (!isNone(adaptor.getAxes()))
    axesKnown = bool(axes = getConstantIntValues(adaptor.getAxes()));
  if (!isNone(adaptor.getSteps()))
    stepsKnown = bool(steps = getConstantIntValues(adaptor.getSteps()));
  if (!starts || !ends || !axesKnown || !stepsKnown) {
    // Unknown values: every dim that may be sliced becomes `?`.
    SmallVector<int64_t> sliced;
    if (axesKnown && axes)
      sliced = *axes;
    else
      for (int64_t i = 0; i < rank; ++i)
        sliced.push_back(i);
    for (int64_t axis : sliced) {
      FailureOr<int64_t> normalized = normalizeAxis(loc, axis, rank, "axis");
      if (failed(normalized))
        return failure();
      shape[*normalized] = ShapedType::kDynamic;
    }
    return pushTensorType(types, shape, data->getElementType());
  }
  size_t count = starts->size();
  if (ends->size() != count || (axes && axes->size() != count) ||
      (steps && steps->size() != count))
    return emitOptionalError(loc, "starts, ends, axes and steps must have the "
                                  "same length");
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < count; ++i)
      axes->push_back(i);
  }
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(loc, *axes, rank);
  if (failed(normalized))
    return failure();
  for (size_t i = 0; i < count; ++i) {
    int64_t axis = (*normalized)[i];
    int64_t step = steps ? (*steps)[i] : 1;
    if (step == 0)
      return emitOptionalError(loc, "slice step must not be 0");
    if (!ShapedType::isDynamic(shape[axis]))
      shape[axis] = slicedSize(shape[axis], (*starts)[i], (*ends)[i], step);
  }
  return pushTensorType(types, shape, data->getElementType());
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  FailureOr<RankedTensorType> indices =
      getRankedType(loc, adaptor.getIndices(), "indices");
  if (failed(data) || failed(indices))
    return failure();
  if (data->getRank() < 1)
    return emitOptionalError(loc, "data must have rank >= 1");
  FailureOr<int64_t> axis =
      normalizeAxis(loc, adaptor.getAxis(), data->getRank(), "axis");
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(data->getShape().take_front(*axis));
  llvm::append_range(shape, indices->getShape());
  llvm::append_range(shape, data->getShape().drop_front(*axis + 1));
  return pushTensorType(types, shape, data->getElementType());
}

//===----------------------------------------------------------------------===//
// Expand, Tile, Pad
//===----------------------------------------------------------------------===//

LogicalResult ExpandOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> input =
      getRankedType(loc, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  FailureOr<SmallVector<int64_t>> target =
      getShapeOperandDims(loc, adaptor.getShape(), "shape");
  if (failed(target))
    return failure();
  for (int64_t dim : *target)
    if (!ShapedType::isDynamic(dim) && dim < 0)
      return emitOptionalError(loc, "shape has a negative dim ", dim);
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes(loc, {input->getShape(), *target});
  if (failed(shape))
    return failure();
  return pushTensorType(types, *shape, input->getElementType());
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> input =
      getRankedType(loc, adaptor.getInput(), "input");
  if (failed(input))
    return failure();
  SmallVector<int64_t> shape(input->getShape());
  if (auto repeats = getConstantIntValues(adaptor.getRepeats())) {
    if (repeats->size() != shape.size())
      return emitOptionalError(loc, "repeats has ", repeats->size(),
                               " values for rank ", shape.size());
    for (auto [dim, repeat] : llvm::zip(shape, *repeats)) {
      if (repeat < 0)
        return emitOptionalError(loc, "repeats must be non-negative");
      if (!ShapedType::isDynamic(dim))
        dim *= repeat;
    }
  } else {
    shape.assign(shape.size(), ShapedType::kDynamic);
  }
  return pushTensorType(types, shape, input->getElementType());
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  int64_t rank = data->getRank();
  SmallVector<int64_t> shape(data->getShape());
  SmallVector<int64_t> axes;
  bool axesKnown = true;
  if (isNone(adaptor.getAxes())) {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  } else if (auto values = getConstantIntValues(adaptor.getAxes())) {
    FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(loc, *values, rank);
    if (failed(normalized))
      return failure();
    axes = *normalized;
  } else {
    axesKnown = false;
  }
  std::optional<SmallVector<int64_t>> pads =
      getConstantIntValues(adaptor.getPads());
  if (!pads || !axesKnown) {
    for (int64_t i = 0; i < rank; ++i)
      if (!axesKnown || llvm::is_contained(axes, i))
        shape[i] = ShapedType::kDynamic;
    return pushTensorType(types, shape, data->getElementType());
  }
  if (pads->size() != 2 * axes.size())
    return emitOptionalError(loc, "pads has ", pads->size(), " values for ",
                             axes.size(), " axes (expected twice as many)");
  for (auto [i, axis] : llvm::enumerate(axes)) {
    if (ShapedType::isDynamic(shape[axis]))
      continue;
    shape[axis] += (*pads)[i] + (*pads)[i + axes.size()];
    if (shape[axis] < 0)
      return emitOptionalError(loc, "pads make dim ", axis, " negative");
  }
  return pushTensorType(types, shape, data->getElementType());
}

LogicalResult PadOp::verify() {
  StringRef mode = getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return emitOpError("unknown mode '")
           << mode << "' (expected constant, reflect, edge or wrap)";
  if (!isNone(getConstantValue()) &&
      getElementTypeOrSelf(getConstantValue()) !=
          getData().getType().getElementType())
    return emitOpError("constant_value must have the data's element type");
  return success();
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

/// A tensor operand that is absent or empty (opset 11-12 pass an empty
/// `scales` when `sizes` is given).
static bool isAbsentOrEmpty(Value value) {
  if (isNone(value))
    return true;
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.hasStaticShape() && type.getNumElements() == 0;
}

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> x = getRankedType(loc, adaptor.getX(), "X");
  if (failed(x))
    return failure();
  int64_t rank = x->getRank();
  SmallVector<int64_t> axes;
  if (std::optional<ArrayRef<int64_t>> attr = adaptor.getAxes()) {
    FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(loc, *attr, rank);
    if (failed(normalized))
      return failure();
    axes = *normalized;
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  SmallVector<int64_t> shape(x->getShape());
  bool hasSizes = !isAbsentOrEmpty(adaptor.getSizes());
  bool hasScales = !isAbsentOrEmpty(adaptor.getScales());
  if (hasSizes == hasScales)
    return emitOptionalError(loc, "exactly one of scales and sizes must be "
                                  "given");
  auto markDynamic = [&] {
    for (int64_t axis : axes)
      shape[axis] = ShapedType::kDynamic;
  };
  if (hasSizes) {
    auto sizes = getConstantIntValues(adaptor.getSizes());
    if (!sizes || adaptor.getKeepAspectRatioPolicy() != "stretch") {
      markDynamic();
    } else {
      if (sizes->size() != axes.size())
        return emitOptionalError(loc, "sizes has ", sizes->size(),
                                 " values for ", axes.size(), " axes");
      for (auto [axis, size] : llvm::zip(axes, *sizes))
        shape[axis] = size;
    }
  } else if (auto scales = getConstantFloatValues(adaptor.getScales())) {
    if (scales->size() != axes.size())
      return emitOptionalError(loc, "scales has ", scales->size(),
                               " values for ", axes.size(), " axes");
    for (auto [axis, scale] : llvm::zip(axes, *scales)) {
      if (scale <= 0)
        return emitOptionalError(loc, "scales must be positive");
      if (!ShapedType::isDynamic(shape[axis]))
        shape[axis] = int64_t(std::floor(double(shape[axis]) * scale));
    }
  } else {
    markDynamic();
  }
  return pushTensorType(types, shape, x->getElementType());
}

LogicalResult ResizeOp::verify() {
  StringRef mode = getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError("unknown mode '")
           << mode << "' (expected nearest, linear or cubic)";
  StringRef coordinates = getCoordinateTransformationMode();
  if (!llvm::is_contained({"half_pixel", "half_pixel_symmetric",
                           "pytorch_half_pixel", "align_corners", "asymmetric",
                           "tf_crop_and_resize"},
                          coordinates))
    return emitOpError("unknown coordinate_transformation_mode '")
           << coordinates << "'";
  StringRef nearest = getNearestMode();
  if (!llvm::is_contained(
          {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}, nearest))
    return emitOpError("unknown nearest_mode '") << nearest << "'";
  StringRef policy = getKeepAspectRatioPolicy();
  if (!llvm::is_contained({"stretch", "not_larger", "not_smaller"}, policy))
    return emitOpError("unknown keep_aspect_ratio_policy '") << policy << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

/// The [start, end) dims that Shape returns, clamped as ONNX says.
static std::pair<int64_t, int64_t> getShapeRange(std::optional<uint64_t> start,
                                                 std::optional<uint64_t> end,
                                                 int64_t rank) {
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::max<int64_t>(0, std::min(v, rank));
  };
  int64_t from = start ? clamp(int64_t(*start)) : 0;
  int64_t to = end ? clamp(int64_t(*end)) : rank;
  return {from, std::max(from, to)};
}

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> data =
      getRankedType(loc, adaptor.getData(), "data");
  if (failed(data))
    return failure();
  auto [from, to] =
      getShapeRange(adaptor.getStart(), adaptor.getEnd(), data->getRank());
  return pushTensorType(types, {to - from}, IntegerType::get(context, 64));
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  RankedTensorType data = getData().getType();
  auto [from, to] = getShapeRange(getStart(), getEnd(), data.getRank());
  ArrayRef<int64_t> dims = data.getShape().slice(from, to - from);
  if (llvm::is_contained(dims, ShapedType::kDynamic))
    return nullptr;
  return DenseIntElementsAttr::get(getType(), dims);
}
