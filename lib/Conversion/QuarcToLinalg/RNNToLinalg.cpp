//===- RNNToLinalg.cpp - LSTM, GRU and RNN to linalg and scf -------------===//
//
// ONNX's three recurrent layers share one structure, built here once:
//
//  1. The input projection of every time step at once, Xs x W^T + Wb + Rb,
//     one batch_matmul over [directions, seq * batch, input]. It holds most
//     of the FLOPs and runs on the f32 matmul kernel. Constant W and R are
//     transposed at compile time, so the kernel reads them contiguous along
//     n.
//  2. An scf.for over the time steps carrying the hidden (and cell) state of
//     all directions as [directions, batch, hidden] tensors. A step is one
//     small batch_matmul h x R^T (two for a GRU without linear_before_reset)
//     and one linalg.generic with the gate math, which also writes Y[t]
//     (tensor.insert_slice).
//  3. Y, Y_h and Y_c in the op's layout.
//
// The directions step together. The reverse direction reads its input
// reversed within each sequence's length (a copy made before the
// projection, as onnxruntime does) and its part of Y is reversed back after
// the loop. A step at or past a sequence's length (sequence_lens; the whole
// sequence without it) keeps that sequence's state and writes zeros to Y;
// a sequence of length 0 has zero Y_h and Y_c (onnxruntime's results).
//
// A layer marked dynamic_quantization (quarc-quantize-dynamic) runs its
// products in integers instead (DynamicQuantization.h): W and R are read
// as 8-bit constants, transposed at compile time like the f32 ones; X is
// quantized once, before the reversed copy (which then copies bytes), and
// the state once per step.
//
//===----------------------------------------------------------------------===//

#include "Activations.h"
#include "DynamicQuantization.h"
#include "LoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Quantization/Quantize.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>
#include <type_traits>

namespace mlir::quarc {
namespace {

//===----------------------------------------------------------------------===//
// Activation functions
//===----------------------------------------------------------------------===//

/// One of the activation functions the ONNX recurrent ops name, with the
/// alpha and beta it uses.
struct Activation {
  enum class Kind {
    Relu,
    Tanh,
    Sigmoid,
    Affine,
    LeakyRelu,
    ThresholdedRelu,
    ScaledTanh,
    HardSigmoid,
    Elu,
    Softsign,
    Softplus
  };
  Kind kind;
  double alpha = 0.0, beta = 0.0;

  bool operator==(const Activation &other) const {
    return kind == other.kind && alpha == other.alpha && beta == other.beta;
  }
  bool operator!=(const Activation &other) const { return !(*this == other); }

  Value build(OpBuilder &b, Location loc, Value x) const {
    auto constant = [&](double value) {
      return createScalar(b, loc, x.getType(), value);
    };
    switch (kind) {
    case Kind::Relu:
      return createRelu(b, loc, x);
    case Kind::Tanh:
      return math::TanhOp::create(b, loc, x);
    case Kind::Sigmoid:
      return createSigmoid(b, loc, x);
    case Kind::Affine:
      return arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, x, constant(alpha)),
          constant(beta));
    case Kind::LeakyRelu:
      return createLeakyRelu(b, loc, x, alpha);
    case Kind::ThresholdedRelu: {
      Value above = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                          constant(alpha));
      return arith::SelectOp::create(b, loc, above, x, constant(0.0));
    }
    case Kind::ScaledTanh: {
      Value scaled = arith::MulFOp::create(b, loc, x, constant(beta));
      return arith::MulFOp::create(b, loc, constant(alpha),
                                   math::TanhOp::create(b, loc, scaled));
    }
    case Kind::HardSigmoid:
      return createHardSigmoid(b, loc, x, alpha, beta);
    case Kind::Elu:
      return createElu(b, loc, x, alpha);
    case Kind::Softsign: {
      Value denominator = arith::AddFOp::create(
          b, loc, constant(1.0), math::AbsFOp::create(b, loc, x));
      return arith::DivFOp::create(b, loc, x, denominator);
    }
    case Kind::Softplus:
      return createSoftplus(b, loc, x);
    }
    llvm_unreachable("unknown activation kind");
  }
};

/// What the `activations` attribute may name, and the parameters each one
/// takes from `activation_alpha` / `activation_beta`. Where the ONNX spec's
/// default and onnxruntime's differ (ThresholdedRelu: 1.0 and 0.0) or
/// neither has one (Affine, ScaledTanh), the value must be given.
struct ActivationInfo {
  StringLiteral name;
  Activation::Kind kind;
  bool usesAlpha, usesBeta;
  std::optional<double> defaultAlpha, defaultBeta;
};

const ActivationInfo kActivations[] = {
    {"Relu", Activation::Kind::Relu, false, false, {}, {}},
    {"Tanh", Activation::Kind::Tanh, false, false, {}, {}},
    {"Sigmoid", Activation::Kind::Sigmoid, false, false, {}, {}},
    {"Affine", Activation::Kind::Affine, true, true, {}, {}},
    {"LeakyRelu", Activation::Kind::LeakyRelu, true, false, 0.01, {}},
    {"ThresholdedRelu", Activation::Kind::ThresholdedRelu, true, false, {}, {}},
    {"ScaledTanh", Activation::Kind::ScaledTanh, true, true, {}, {}},
    {"HardSigmoid", Activation::Kind::HardSigmoid, true, true, 0.2, 0.5},
    {"Elu", Activation::Kind::Elu, true, false, 1.0, {}},
    {"Softsign", Activation::Kind::Softsign, false, false, {}, {}},
    {"Softplus", Activation::Kind::Softplus, false, false, {}, {}},
};

//===----------------------------------------------------------------------===//
// The op's attributes and operands
//===----------------------------------------------------------------------===//

enum class Cell { LSTM, GRU, RNN };

/// The attributes of a recurrent op, checked.
struct LayerConfig {
  Cell cell;
  /// Gates stacked in W, R and the bias: LSTM i, o, f, c; GRU z, r, h; RNN 1.
  int64_t gates;
  int64_t hidden;
  int64_t directions;
  /// direction = "reverse": the only direction runs backwards.
  bool reverseOnly;
  bool batchFirst;
  std::optional<double> clip;
  bool inputForget = false;
  bool linearBeforeReset = false;
  /// Per direction: LSTM f, g, h; GRU f, g; RNN f.
  SmallVector<SmallVector<Activation, 3>, 2> activations;

  /// Whether a direction runs backwards: the reverse one, or the second
  /// of a bidirectional layer.
  bool anyReversed() const { return reverseOnly || directions == 2; }
};

/// The operands of a recurrent op after conversion (null when absent), and
/// the original W and R, whose constants are read at compile time.
struct LayerOperands {
  Value x, w, r, b, lens, initialH, initialC, peepholes;
  Value originalW, originalR;
};

Value presentOrNull(Value original, Value converted) {
  return isNone(original) ? Value() : converted;
}

/// The operands the three layers share (a GRU's or an RNN's, all of them).
template <typename OpTy>
LayerOperands getOperands(OpTy op, typename OpTy::Adaptor adaptor) {
  return {adaptor.getX(),
          adaptor.getW(),
          adaptor.getR(),
          presentOrNull(op.getB(), adaptor.getB()),
          presentOrNull(op.getSequenceLens(), adaptor.getSequenceLens()),
          presentOrNull(op.getInitialH(), adaptor.getInitialH()),
          Value(),
          Value(),
          op.getW(),
          op.getR()};
}

/// An LSTM's, with its initial cell state and peepholes.
LayerOperands getOperands(LSTMOp op, LSTMOp::Adaptor adaptor) {
  LayerOperands operands = getOperands<LSTMOp>(op, adaptor);
  operands.initialC = presentOrNull(op.getInitialC(), adaptor.getInitialC());
  operands.peepholes = presentOrNull(op.getP(), adaptor.getP());
  return operands;
}

/// The `activations` of `op` per direction, with their alpha and beta
/// consumed in order by the functions that take them (as onnxruntime does),
/// or the op's defaults.
template <typename OpTy>
FailureOr<SmallVector<SmallVector<Activation, 3>, 2>>
readActivations(OpTy op, ArrayRef<StringRef> defaults, int64_t directions) {
  size_t perDirection = defaults.size();
  SmallVector<StringRef> names;
  if (std::optional<ArrayAttr> attr = op.getActivations()) {
    for (Attribute name : *attr)
      names.push_back(cast<StringAttr>(name).getValue());
    if (names.size() != perDirection * directions)
      return op.emitOpError("has ")
             << names.size() << " activations; expected " << perDirection
             << " per direction (" << llvm::join(defaults, ", ") << ")";
  } else {
    for (int64_t d = 0; d < directions; ++d)
      names.append(defaults.begin(), defaults.end());
  }
  ArrayRef<float> alphas, betas;
  if (std::optional<ArrayRef<float>> values = op.getActivationAlpha())
    alphas = *values;
  if (std::optional<ArrayRef<float>> values = op.getActivationBeta())
    betas = *values;

  SmallVector<SmallVector<Activation, 3>, 2> result(directions);
  for (size_t index = 0; index < names.size(); ++index) {
    StringRef name = names[index];
    const ActivationInfo *info =
        llvm::find_if(kActivations, [&](const ActivationInfo &entry) {
          return entry.name.equals_insensitive(name);
        });
    if (info == std::end(kActivations))
      return op.emitOpError("activation '")
             << name
             << "' is not one of the ONNX recurrent activations (Relu, Tanh, "
                "Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, "
                "HardSigmoid, Elu, Softsign, Softplus)";
    Activation activation{info->kind};
    auto take = [&](bool uses, ArrayRef<float> &values,
                    std::optional<double> fallback, StringRef what,
                    double &out) -> LogicalResult {
      if (!uses)
        return success();
      if (!values.empty()) {
        out = values.front();
        values = values.drop_front();
        return success();
      }
      if (!fallback)
        return op.emitOpError("activation '")
               << name << "' needs its " << what << " in activation_" << what
               << " (the ONNX spec and onnxruntime share no default for it)";
      out = *fallback;
      return success();
    };
    if (failed(take(info->usesAlpha, alphas, info->defaultAlpha, "alpha",
                    activation.alpha)) ||
        failed(take(info->usesBeta, betas, info->defaultBeta, "beta",
                    activation.beta)))
      return failure();
    result[index / perDirection].push_back(activation);
  }
  return result;
}

template <typename OpTy> FailureOr<LayerConfig> readConfig(OpTy op) {
  LayerConfig config;
  SmallVector<StringRef, 3> defaults;
  if constexpr (std::is_same_v<OpTy, LSTMOp>) {
    config.cell = Cell::LSTM;
    config.gates = 4;
    config.inputForget = op.getInputForget() != 0;
    defaults = {"Sigmoid", "Tanh", "Tanh"};
  } else if constexpr (std::is_same_v<OpTy, GRUOp>) {
    config.cell = Cell::GRU;
    config.gates = 3;
    config.linearBeforeReset = op.getLinearBeforeReset() != 0;
    defaults = {"Sigmoid", "Tanh"};
  } else {
    config.cell = Cell::RNN;
    config.gates = 1;
    defaults = {"Tanh"};
  }
  config.hidden = op.getHiddenSize();
  StringRef direction = op.getDirection();
  config.directions = direction == "bidirectional" ? 2 : 1;
  config.reverseOnly = direction == "reverse";
  int64_t layout = op.getLayout();
  if (layout != 0 && layout != 1)
    return op.emitOpError("layout must be 0 or 1, got ") << layout;
  config.batchFirst = layout == 1;
  if (FloatAttr clip = op.getClipAttr()) {
    double value = clip.getValueAsDouble();
    if (!(value > 0.0))
      return op.emitOpError("clip must be positive, got ") << value;
    config.clip = value;
  }
  FailureOr<SmallVector<SmallVector<Activation, 3>, 2>> activations =
      readActivations(op, defaults, config.directions);
  if (failed(activations))
    return failure();
  config.activations = std::move(*activations);
  return config;
}

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

/// `weights` [D, N, K] as [D, K, N], so that the matmul kernel reads it
/// contiguous along n. A constant is transposed here, at compile time;
/// anything else by a linalg.transpose at run time.
Value transposeWeights(OpBuilder &b, Location loc, Value original,
                       Value converted) {
  auto type = cast<RankedTensorType>(converted.getType());
  ArrayRef<int64_t> shape = type.getShape();
  auto resultType = RankedTensorType::get({shape[0], shape[2], shape[1]},
                                          type.getElementType());
  auto constant = original.getDefiningOp<ConstantOp>();
  if (std::optional<SmallVector<double>> values =
          constant ? getConstantFloatValues(original) : std::nullopt;
      values && int64_t(values->size()) == type.getNumElements()) {
    SmallVector<float> transposed(values->size());
    int64_t n = shape[1], k = shape[2];
    for (int64_t d = 0; d < shape[0]; ++d)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < k; ++j)
          transposed[(d * k + j) * n + i] =
              float((*values)[(d * n + i) * k + j]);
    ElementsAttr attr;
    if (auto resource =
            dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
      attr = DenseResourceElementsAttr::get(
          resultType, (resource.getRawHandle().getKey() + "_t").str(),
          HeapAsmResourceBlob::allocateAndCopyInferAlign(
              ArrayRef<float>(transposed), /*dataIsMutable=*/false));
    else
      attr = DenseElementsAttr::get(resultType, ArrayRef<float>(transposed));
    return arith::ConstantOp::create(b, loc, resultType, cast<TypedAttr>(attr));
  }
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                       resultType.getElementType());
  return linalg::TransposeOp::create(b, loc, converted, init,
                                     ArrayRef<int64_t>{0, 2, 1})
      .getResult()[0];
}

/// A weight the products read, transposed to [D, K, N]: f32, or (a layer
/// with dynamic_quantization) 8-bit with the parameters of each column.
struct ProductWeights {
  Value f32;
  std::optional<ColumnQuantizedWeights> quantized;

  /// Columns [offset, offset + width) of every direction.
  ProductWeights sliceColumns(OpBuilder &b, Location loc, int64_t offset,
                              int64_t width) const {
    Value full = quantized ? quantized->stored : f32;
    auto type = cast<RankedTensorType>(full.getType());
    int64_t directions = type.getDimSize(0), rows = type.getDimSize(1),
            columns = type.getDimSize(2);
    Value slice = tensor::ExtractSliceOp::create(
        b, loc, full,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0),
                               b.getIndexAttr(offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(directions),
                               b.getIndexAttr(rows), b.getIndexAttr(width)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                               b.getIndexAttr(1)});
    if (!quantized)
      return {slice, std::nullopt};
    ColumnQuantizedWeights part{slice, quantized->type, {}, {}, {}};
    for (int64_t d = 0; d < directions; ++d)
      for (int64_t n = offset; n < offset + width; ++n) {
        part.scales.push_back(quantized->scales[d * columns + n]);
        part.zeroPoints.push_back(quantized->zeroPoints[d * columns + n]);
        part.columnSums.push_back(quantized->columnSums[d * columns + n]);
      }
    return {Value(), std::move(part)};
  }
};

/// The 8-bit W or R [D, N, K] of a layer with dynamic_quantization,
/// `quarc.dequantize(quarc.storage_cast(constant))`, as [D, K, N] with the
/// scale and zero point of each (direction, row). Fails, reported at `op`,
/// for any other form, or parameters that vary along K.
FailureOr<ColumnQuantizedWeights>
readQuantizedWeights(OpBuilder &b, Location loc, Operation *op, Value weight,
                     StringRef name) {
  auto dequantize = weight.getDefiningOp<DequantizeOp>();
  auto storageCast =
      dequantize ? dequantize.getInput().getDefiningOp<StorageCastOp>()
                 : nullptr;
  auto type = cast<RankedTensorType>(weight.getType());
  std::optional<SmallVector<int64_t>> stored =
      storageCast ? getConstantIntValues(storageCast.getInput())
                  : std::nullopt;
  auto quantType =
      dequantize ? dyn_cast<quant::QuantizedType>(
                       dequantize.getInput().getType().getElementType())
                 : nullptr;
  if (!stored || !quantType || quantType.getStorageTypeIntegralWidth() != 8 ||
      !type.hasStaticShape())
    return op->emitOpError("with dynamic_quantization needs ")
           << name << " as quarc.dequantize of an 8-bit constant";
  FailureOr<QuantParams> params = getQuantParams(loc, quantType);
  if (failed(params))
    return failure();

  ArrayRef<int64_t> shape = type.getShape();
  int64_t directions = shape[0], n = shape[1], k = shape[2];
  SmallVector<int64_t> indices = paramIndices(shape, *params);
  ColumnQuantizedWeights result{Value(), quantType, {}, {}, {}};
  SmallVector<int8_t> transposed(stored->size());
  for (int64_t d = 0; d < directions; ++d)
    for (int64_t i = 0; i < n; ++i) {
      int64_t row = (d * n + i) * k;
      int64_t param = indices[row];
      for (int64_t j = 0; j < k; ++j) {
        if (indices[row + j] != param)
          return op->emitOpError("with dynamic_quantization needs one scale "
                                 "per row of ")
                 << name << ", not " << dequantize.getInput().getType();
        transposed[(d * k + j) * n + i] = int8_t((*stored)[row + j]);
      }
      result.scales.push_back(params->scales[param]);
      result.zeroPoints.push_back(params->zeroPoints[param]);
    }
  SmallVector<int64_t> centered(transposed.size());
  for (auto [i, value] : llvm::enumerate(transposed))
    centered[i] = quantType.isSigned() ? int64_t(value) : int64_t(uint8_t(value));
  result.columnSums =
      computeColumnSums(centered, {directions, k, n}, result.zeroPoints);
  auto transposedType = RankedTensorType::get({directions, k, n}, b.getI8Type());
  ElementsAttr attr;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(
          storageCast.getInput().getDefiningOp<ConstantOp>().getValue()))
    attr = DenseResourceElementsAttr::get(
        transposedType, (resource.getRawHandle().getKey() + "_t").str(),
        HeapAsmResourceBlob::allocateAndCopyInferAlign(
            ArrayRef<int8_t>(transposed), /*dataIsMutable=*/false));
  else
    attr = DenseElementsAttr::get(transposedType, ArrayRef(transposed));
  result.stored =
      arith::ConstantOp::create(b, loc, transposedType, cast<TypedAttr>(attr));
  return result;
}

/// init + lhs [D, M, K] x rhs [D, K, N], a linalg.batch_matmul.
Value createBatchProduct(OpBuilder &b, Location loc, Value lhs, Value rhs,
                         Value init) {
  return linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()},
                                       ValueRange{lhs, rhs}, init)
      .getResult(0);
}

/// A parallel linalg.generic over the state's loop dims (d, b, j), i.e.
/// [directions, batch, hidden], collecting its operands and their maps.
/// Stacked gates are read through a [.., gates, hidden] view, so that every
/// operand's last dim is j itself (linalg takes the loop sizes from the
/// operands' dims).
class StepGeneric {
public:
  StepGeneric(OpBuilder &b, Location loc, int64_t hidden)
      : b(b), loc(loc), hidden(hidden) {}

  /// Gate `gate` of `gates` ([D, B, G*H]).
  unsigned addGate(Value gates, int64_t gate) {
    return addInput(splitGates(gates),
                    {dim(0), dim(1), b.getAffineConstantExpr(gate), dim(2)});
  }
  /// Part `part` (of size H) of a per-direction vector [D, N * H]: biases,
  /// peepholes.
  unsigned addVector(Value vector, int64_t part) {
    return addInput(splitGates(vector),
                    {dim(0), b.getAffineConstantExpr(part), dim(2)});
  }
  /// A state-shaped [D, B, H] tensor.
  unsigned addState(Value state) {
    return addInput(state, {dim(0), dim(1), dim(2)});
  }
  /// The per-sequence lengths [B].
  unsigned addLengths(Value lengths) { return addInput(lengths, {dim(1)}); }

  /// An output (state-shaped); its index among the body's arguments.
  unsigned addOutput(Value init) {
    outputs.push_back(init);
    return inputs.size() + outputs.size() - 1;
  }

  using Body =
      function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;
  ValueRange build(Body body) {
    MLIRContext *context = b.getContext();
    SmallVector<AffineMap> allMaps = maps;
    for (size_t i = 0; i < outputs.size(); ++i)
      allMaps.push_back(AffineMap::getMultiDimIdentityMap(3, context));
    SmallVector<Type> types;
    for (Value output : outputs)
      types.push_back(output.getType());
    auto generic = linalg::GenericOp::create(
        b, loc, types, inputs, outputs, allMaps,
        SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          linalg::YieldOp::create(nb, nl, body(nb, nl, args));
        });
    return generic.getResults();
  }

private:
  AffineExpr dim(unsigned position) {
    return getAffineDimExpr(position, b.getContext());
  }

  /// [..., N * H] viewed as [..., N, H] (one view per value).
  Value splitGates(Value value) {
    Value &view = views[value];
    if (view)
      return view;
    auto type = cast<RankedTensorType>(value.getType());
    int64_t rank = type.getRank();
    SmallVector<int64_t> shape(type.getShape().drop_back());
    shape.append({type.getShape().back() / hidden, hidden});
    SmallVector<ReassociationIndices> groups;
    for (int64_t i = 0; i < rank - 1; ++i)
      groups.push_back({i});
    groups.push_back({rank - 1, rank});
    SmallVector<OpFoldResult> sizes;
    for (int64_t i = 0; i < rank - 1; ++i)
      sizes.push_back(tensor::getMixedSize(b, loc, value, i));
    sizes.append({b.getIndexAttr(shape[rank - 1]), b.getIndexAttr(hidden)});
    view = tensor::ExpandShapeOp::create(b, loc, type.clone(shape), value,
                                         groups, sizes);
    return view;
  }

  unsigned addInput(Value value, ArrayRef<AffineExpr> exprs) {
    assert(outputs.empty() && "inputs come before outputs");
    inputs.push_back(value);
    maps.push_back(AffineMap::get(3, 0, exprs, b.getContext()));
    return inputs.size() - 1;
  }

  OpBuilder &b;
  Location loc;
  int64_t hidden;
  SmallVector<Value> inputs, outputs;
  SmallVector<AffineMap> maps;
  DenseMap<Value, Value> views;
};

//===----------------------------------------------------------------------===//
// The lowering
//===----------------------------------------------------------------------===//

/// Builds the lowering of one recurrent op; see the file comment.
class RecurrentLayerBuilder {
public:
  RecurrentLayerBuilder(ConversionPatternRewriter &rewriter, Operation *op,
                        const LayerConfig &config, const LayerOperands &values)
      : b(rewriter), op(op), loc(op->getLoc()), config(config), values(values),
        f32(rewriter.getF32Type()) {}

  /// The op's results (null for the unused ones), or a failure reported on
  /// the op.
  FailureOr<SmallVector<Value>> build();

private:
  LogicalResult checkOperands();
  Value createLengths();
  FailureOr<ProductWeights> getProductWeights(Value original, Value converted,
                                              StringRef name);
  Value prepareInput(Value x, Value lengths);
  FailureOr<Value> projectInput(Value lengths);
  Value initialState(Value given);
  SmallVector<Value> buildLoop(Value projected,
                               const ProductWeights &recurrentT, Value lengths,
                               bool withY);
  SmallVector<Value> buildStep(Value t, ValueRange state, Value projected,
                               ArrayRef<ProductWeights> recurrentT,
                               Value lengths, bool withY);
  Value finalizeSteps(Value steps, Value lengths);
  Value finalizeLast(Value state, Value lengths);

  /// The time step of X that direction `d` runs at step `t`: t, or
  /// length - 1 - t for a reversed direction (0 past the sequence's end,
  /// where the step is masked anyway). A length beyond X's counts as X's,
  /// so that no index leaves X.
  Value sourceTime(OpBuilder &nb, Location nl, Value d, Value t,
                   Value length) const;
  /// t < length, for a length of any integer type.
  Value isValidStep(OpBuilder &nb, Location nl, Value t, Value length) const;
  Value clip(OpBuilder &nb, Location nl, Value x) const;
  /// Activation `slot` (LSTM f, g, h; GRU f, g; RNN f) of the direction
  /// the generic is at.
  Value activate(OpBuilder &nb, Location nl, unsigned slot, Value x) const;
  /// h x R^T for one step: [D, B, K] x [D, K, n].
  Value stepProduct(Value lhs, const ProductWeights &rhsT, int64_t n);

  bool isDynamicallyQuantized() const {
    return op->hasAttr("dynamic_quantization");
  }
  RankedTensorType stateType() const {
    return RankedTensorType::get(
        {config.directions, batchStatic, config.hidden}, f32);
  }
  SmallVector<OpFoldResult> stateSizes() {
    return {b.getIndexAttr(config.directions), batch,
            b.getIndexAttr(config.hidden)};
  }

  ConversionPatternRewriter &b;
  Operation *op;
  Location loc;
  const LayerConfig &config;
  LayerOperands values;
  Type f32;
  int64_t inputSize = 0;
  int64_t batchStatic = 0;
  OpFoldResult seq, batch;
  Value seqLength; // seq as an index value
};

LogicalResult RecurrentLayerBuilder::checkOperands() {
  // The op's float and integer operands are ranked tensors (ODS).
  for (Value value : {values.x, values.w, values.r, values.b, values.initialH,
                      values.initialC, values.peepholes}) {
    if (!value)
      continue;
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getElementType() != f32)
      return op->emitOpError("on ")
             << type << ": only f32 recurrent layers lower to native code";
  }

  auto xType = cast<RankedTensorType>(values.x.getType());
  int64_t seqDim = config.batchFirst ? 1 : 0, batchDim = 1 - seqDim;
  batchStatic = xType.getDimSize(batchDim);
  seq = tensor::getMixedSize(b, loc, values.x, seqDim);
  batch = tensor::getMixedSize(b, loc, values.x, batchDim);
  seqLength = getValueOrCreateConstantIndexOp(b, loc, seq);

  for (Value value : {values.w, values.r, values.b, values.peepholes})
    if (value && !cast<RankedTensorType>(value.getType()).hasStaticShape())
      return op->emitOpError("W, R, B and P must have static shapes to lower "
                             "to native code, got ")
             << value.getType();
  int64_t directions = config.directions, gates = config.gates,
          hidden = config.hidden;
  inputSize = cast<RankedTensorType>(values.w.getType()).getDimSize(2);
  int64_t xInput = xType.getDimSize(2);
  if (!ShapedType::isDynamic(xInput) && xInput != inputSize)
    return op->emitOpError("W's input size ")
           << inputSize << " differs from X's (" << xInput << ")";

  // Every operand has the shape the attributes and X say (a dynamic dim
  // of X or of the operand matches anything).
  auto check = [&](Value value, StringRef name,
                   ArrayRef<int64_t> expected) -> LogicalResult {
    if (!value)
      return success();
    auto type = cast<RankedTensorType>(value.getType());
    bool matches = type.getRank() == int64_t(expected.size());
    for (int64_t i = 0; matches && i < type.getRank(); ++i)
      matches = ShapedType::isDynamic(expected[i]) ||
                ShapedType::isDynamic(type.getDimSize(i)) ||
                type.getDimSize(i) == expected[i];
    if (matches)
      return success();
    std::string shape;
    llvm::raw_string_ostream os(shape);
    llvm::interleave(
        expected,
        [&](int64_t dim) {
          if (ShapedType::isDynamic(dim))
            os << "?";
          else
            os << dim;
        },
        [&] { os << "x"; });
    return op->emitOpError(name)
           << " must be " << shape << " (hidden_size " << hidden << ", "
           << directions << " direction(s), X " << xType << "), got " << type;
  };
  SmallVector<int64_t> state =
      config.batchFirst ? SmallVector<int64_t>{batchStatic, directions, hidden}
                        : SmallVector<int64_t>{directions, batchStatic, hidden};
  if (failed(check(values.w, "W", {directions, gates * hidden, inputSize})) ||
      failed(check(values.r, "R", {directions, gates * hidden, hidden})) ||
      failed(check(values.b, "B", {directions, 2 * gates * hidden})) ||
      failed(check(values.peepholes, "P", {directions, 3 * hidden})) ||
      failed(check(values.initialH, "initial_h", state)) ||
      failed(check(values.initialC, "initial_c", state)) ||
      failed(check(values.lens, "sequence_lens", {batchStatic})))
    return failure();
  return success();
}

Value RecurrentLayerBuilder::createLengths() {
  if (values.lens)
    return values.lens;
  // Without sequence_lens every sequence runs the whole X.
  Type i64 = b.getI64Type();
  Value length = arith::IndexCastOp::create(b, loc, i64, seqLength);
  Value empty = tensor::EmptyOp::create(b, loc, {batch}, i64);
  return linalg::FillOp::create(b, loc, length, empty).getResult(0);
}

/// W or R transposed to [D, K, N]: the f32 weight, or its 8-bit constant
/// for a layer with dynamic_quantization.
FailureOr<ProductWeights>
RecurrentLayerBuilder::getProductWeights(Value original, Value converted,
                                         StringRef name) {
  if (!isDynamicallyQuantized())
    return ProductWeights{transposeWeights(b, loc, original, converted),
                          std::nullopt};
  FailureOr<ColumnQuantizedWeights> quantized =
      readQuantizedWeights(b, loc, op, original, name);
  if (failed(quantized))
    return failure();
  return ProductWeights{Value(), std::move(*quantized)};
}

Value RecurrentLayerBuilder::sourceTime(OpBuilder &nb, Location nl, Value d,
                                        Value t, Value length) const {
  if (!config.anyReversed())
    return t;
  Value end = arith::MinSIOp::create(
      nb, nl, arith::IndexCastOp::create(nb, nl, nb.getIndexType(), length),
      seqLength);
  Value one = arith::ConstantIndexOp::create(nb, nl, 1);
  Value reversed =
      arith::SubIOp::create(nb, nl, arith::SubIOp::create(nb, nl, end, one), t);
  reversed =
      arith::SelectOp::create(nb, nl, isValidStep(nb, nl, t, length), reversed,
                              arith::ConstantIndexOp::create(nb, nl, 0));
  if (config.reverseOnly)
    return reversed;
  Value backward =
      arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, d, one);
  return arith::SelectOp::create(nb, nl, backward, reversed, t);
}

Value RecurrentLayerBuilder::isValidStep(OpBuilder &nb, Location nl, Value t,
                                         Value length) const {
  Value end = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), length);
  return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::slt, t, end);
}

/// The input `x` (X, or X quantized) as [D, seq * batch, input]:
/// time-major rows, each direction's in the order it runs its steps.
Value RecurrentLayerBuilder::prepareInput(Value x, Value lengths) {
  if (!config.batchFirst && !config.anyReversed()) {
    Value rows = tensor::CollapseShapeOp::create(
        b, loc, x, SmallVector<ReassociationIndices>{{0, 1}, {2}});
    return expandUnitDims(b, loc, rows, {0});
  }
  // A copy [D, seq, batch, input] reading X at the step each direction
  // runs at t (and transposing a batch-first X).
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(config.directions), seq,
                                     batch, b.getIndexAttr(inputSize)};
  Value init = tensor::EmptyOp::create(
      b, loc, sizes, cast<RankedTensorType>(x.getType()).getElementType());
  MLIRContext *context = b.getContext();
  SmallVector<AffineMap> maps = {
      AffineMap::get(4, 0, {getAffineDimExpr(2, context)}, context),
      AffineMap::getMultiDimIdentityMap(4, context)};
  bool batchFirst = config.batchFirst;
  Value copy =
      linalg::GenericOp::create(
          b, loc, TypeRange{init.getType()}, ValueRange{lengths},
          ValueRange{init}, maps,
          SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value d = linalg::IndexOp::create(nb, nl, 0);
            Value t = linalg::IndexOp::create(nb, nl, 1);
            Value batchIndex = linalg::IndexOp::create(nb, nl, 2);
            Value i = linalg::IndexOp::create(nb, nl, 3);
            Value time = sourceTime(nb, nl, d, t, args[0]);
            SmallVector<Value> indices =
                batchFirst ? SmallVector<Value>{batchIndex, time, i}
                           : SmallVector<Value>{time, batchIndex, i};
            Value element = tensor::ExtractOp::create(nb, nl, x, indices);
            linalg::YieldOp::create(nb, nl, element);
          })
          .getResult(0);
  return tensor::CollapseShapeOp::create(
      b, loc, copy, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}});
}

/// The inputs x W^T plus Wb + Rb (a GRU with linear_before_reset adds Rbh
/// inside the step instead): [D, seq * batch, gates * hidden].
FailureOr<Value> RecurrentLayerBuilder::projectInput(Value lengths) {
  std::optional<RunTimeQuantized> quantizedX;
  if (isDynamicallyQuantized())
    quantizedX = quantizeAtRunTime(b, loc, values.x);
  Value inputs =
      prepareInput(quantizedX ? quantizedX->stored : values.x, lengths);
  FailureOr<ProductWeights> weights =
      getProductWeights(values.originalW, values.w, "W");
  if (failed(weights))
    return failure();
  int64_t width = config.gates * config.hidden;
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(config.directions),
                                     tensor::getMixedSize(b, loc, inputs, 1),
                                     b.getIndexAttr(width)};
  Value empty = tensor::EmptyOp::create(b, loc, sizes, f32);
  Value init;
  if (!values.b) {
    if (!quantizedX)
      init = linalg::FillOp::create(b, loc, createScalar(b, loc, f32, 0.0),
                                    empty)
                 .getResult(0);
  } else {
    // B [D, 2 * width] as [D, 2, width]: Wb, then Rb.
    Value bias = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({config.directions, 2, width}, f32),
        values.b, SmallVector<ReassociationIndices>{{0}, {1, 2}});
    MLIRContext *context = b.getContext();
    AffineExpr d, row, j;
    bindDims(context, d, row, j);
    AffineExpr wb = b.getAffineConstantExpr(0), rb = b.getAffineConstantExpr(1);
    SmallVector<AffineMap> maps = {
        AffineMap::get(3, 0, {d, wb, j}, context),
        AffineMap::get(3, 0, {d, rb, j}, context),
        AffineMap::getMultiDimIdentityMap(3, context)};
    bool recurrentHInStep =
        config.cell == Cell::GRU && config.linearBeforeReset;
    int64_t hGate = 2 * config.hidden;
    init =
        linalg::GenericOp::create(
            b, loc, TypeRange{empty.getType()}, ValueRange{bias, bias},
            ValueRange{empty}, maps,
            SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Value sum = arith::AddFOp::create(nb, nl, args[0], args[1]);
              if (recurrentHInStep) {
                Value column = linalg::IndexOp::create(nb, nl, 2);
                Value isH = arith::CmpIOp::create(
                    nb, nl, arith::CmpIPredicate::sge, column,
                    arith::ConstantIndexOp::create(nb, nl, hGate));
                sum = arith::SelectOp::create(nb, nl, isH, args[0], sum);
              }
              linalg::YieldOp::create(nb, nl, sum);
            })
            .getResult(0);
  }
  if (quantizedX)
    return buildDynamicProduct(
        b, loc, {inputs, quantizedX->scale, quantizedX->zeroPoint},
        *weights->quantized, init, cast<RankedTensorType>(empty.getType()));
  return createBatchProduct(b, loc, inputs, weights->f32, init);
}

/// initial_h or initial_c as [D, batch, hidden], or zeros.
Value RecurrentLayerBuilder::initialState(Value given) {
  if (!given) {
    Value empty = tensor::EmptyOp::create(b, loc, stateSizes(), f32);
    return linalg::FillOp::create(b, loc, createScalar(b, loc, f32, 0.0), empty)
        .getResult(0);
  }
  if (config.batchFirst) {
    Value empty = tensor::EmptyOp::create(b, loc, stateSizes(), f32);
    given = linalg::TransposeOp::create(b, loc, given, empty,
                                        ArrayRef<int64_t>{1, 0, 2})
                .getResult()[0];
  }
  return castToType(b, loc, given, stateType());
}

Value RecurrentLayerBuilder::stepProduct(Value lhs,
                                         const ProductWeights &rhsT,
                                         int64_t n) {
  if (rhsT.quantized)
    return buildDynamicProduct(
        b, loc, quantizeAtRunTime(b, loc, lhs), *rhsT.quantized, Value(),
        RankedTensorType::get({config.directions, batchStatic, n}, f32));
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(config.directions), batch,
                                     b.getIndexAttr(n)};
  Value empty = tensor::EmptyOp::create(b, loc, sizes, f32);
  Value zeros =
      linalg::FillOp::create(b, loc, createScalar(b, loc, f32, 0.0), empty)
          .getResult(0);
  return createBatchProduct(b, loc, lhs, rhsT.f32, zeros);
}

Value RecurrentLayerBuilder::clip(OpBuilder &nb, Location nl, Value x) const {
  if (!config.clip)
    return x;
  Value bound = createScalar(nb, nl, x.getType(), *config.clip);
  Value negated = createScalar(nb, nl, x.getType(), -*config.clip);
  return createMaximum(nb, nl, createMinimum(nb, nl, x, bound), negated);
}

Value RecurrentLayerBuilder::activate(OpBuilder &nb, Location nl, unsigned slot,
                                      Value x) const {
  const Activation &forward = config.activations[0][slot];
  Value result = forward.build(nb, nl, x);
  if (config.directions == 1 || config.activations[1][slot] == forward)
    return result;
  Value backward = config.activations[1][slot].build(nb, nl, x);
  Value d = linalg::IndexOp::create(nb, nl, 0);
  Value isBackward =
      arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, d,
                            arith::ConstantIndexOp::create(nb, nl, 1));
  return arith::SelectOp::create(nb, nl, isBackward, backward, result);
}

SmallVector<Value>
RecurrentLayerBuilder::buildLoop(Value projected,
                                 const ProductWeights &recurrentT,
                                 Value lengths, bool withY) {
  SmallVector<Value> inits = {initialState(values.initialH)};
  if (config.cell == Cell::LSTM)
    inits.push_back(initialState(values.initialC));
  if (withY) {
    SmallVector<OpFoldResult> sizes = {seq, b.getIndexAttr(config.directions),
                                       batch, b.getIndexAttr(config.hidden)};
    inits.push_back(tensor::EmptyOp::create(b, loc, sizes, f32));
  }
  // A GRU without linear_before_reset multiplies by R[zr] and R[h]
  // separately (r must be known before R[h]).
  SmallVector<ProductWeights> recurrent = {recurrentT};
  if (config.cell == Cell::GRU && !config.linearBeforeReset) {
    int64_t h = config.hidden;
    recurrent = {recurrentT.sliceColumns(b, loc, 0, 2 * h),
                 recurrentT.sliceColumns(b, loc, 2 * h, h)};
  }

  Value lower = arith::ConstantIndexOp::create(b, loc, 0);
  Value step = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(b, loc, lower, seqLength, step, inits);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next =
        buildStep(loop.getInductionVar(), loop.getRegionIterArgs(), projected,
                  recurrent, lengths, withY);
    scf::YieldOp::create(b, loc, next);
  }
  return loop.getResults();
}

SmallVector<Value>
RecurrentLayerBuilder::buildStep(Value t, ValueRange state, Value projected,
                                 ArrayRef<ProductWeights> recurrentT,
                                 Value lengths, bool withY) {
  int64_t directions = config.directions, hidden = config.hidden;
  int64_t width = config.gates * hidden;
  auto index = [&](int64_t value) -> OpFoldResult {
    return b.getIndexAttr(value);
  };
  // This step's rows of the projected input: [D, batch, width].
  Value batchSize = getValueOrCreateConstantIndexOp(b, loc, batch);
  Value row = arith::MulIOp::create(b, loc, t, batchSize);
  Value x = tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get({directions, batchStatic, width}, f32),
      projected, ArrayRef<OpFoldResult>{index(0), row, index(0)},
      ArrayRef<OpFoldResult>{index(directions), batch, index(width)},
      ArrayRef<OpFoldResult>{index(1), index(1), index(1)});
  SmallVector<OpFoldResult> yOffsets = {t, index(0), index(0), index(0)};
  SmallVector<OpFoldResult> ySizes = {index(1), index(directions), batch,
                                      index(hidden)};
  SmallVector<OpFoldResult> yStrides(4, index(1));
  Value h = state[0];
  Value c = config.cell == Cell::LSTM ? state[1] : Value();
  Value y = withY ? state.back() : Value();

  // The step's outputs: the new state, written over the old one, and
  // Y[t]. Every step is masked by its sequence's length, which keeps the
  // state of finished sequences. The update then reads the state it
  // replaces, so it stays in place (quarc-fuse-elementwise gives an output
  // that its payload does not read a fresh tensor, i.e. a new buffer and a
  // copy per step).
  auto addOutputs = [&](StepGeneric &generic, unsigned &hOut, unsigned &cOut) {
    hOut = generic.addOutput(h);
    if (c)
      cOut = generic.addOutput(c);
    if (y)
      generic.addOutput(tensor::ExtractSliceOp::create(
          b, loc, stateType(), y, yOffsets, ySizes, yStrides));
  };
  auto masked = [&](OpBuilder &nb, Location nl, Value length, Value hNew,
                    Value hPrev, Value cNew, Value cPrev) {
    Value valid = isValidStep(nb, nl, t, length);
    SmallVector<Value> results = {
        arith::SelectOp::create(nb, nl, valid, hNew, hPrev)};
    if (cNew)
      results.push_back(arith::SelectOp::create(nb, nl, valid, cNew, cPrev));
    if (withY)
      results.push_back(arith::SelectOp::create(
          nb, nl, valid, hNew, createScalar(nb, nl, f32, 0.0)));
    return results;
  };
  auto add = [](OpBuilder &nb, Location nl, Value l, Value r) -> Value {
    return arith::AddFOp::create(nb, nl, l, r);
  };
  auto mul = [](OpBuilder &nb, Location nl, Value l, Value r) -> Value {
    return arith::MulFOp::create(nb, nl, l, r);
  };
  auto oneMinus = [&](OpBuilder &nb, Location nl, Value v) -> Value {
    return arith::SubFOp::create(nb, nl, createScalar(nb, nl, f32, 1.0), v);
  };

  ValueRange results;
  unsigned hOut = 0, cOut = 0;
  switch (config.cell) {
  case Cell::LSTM: {
    Value gates = stepProduct(h, recurrentT[0], width);
    StepGeneric generic(b, loc, hidden);
    // Gates in ONNX order: i, o, f, c.
    unsigned g[4], xp[4], p[3] = {0, 0, 0};
    for (int64_t k = 0; k < 4; ++k)
      g[k] = generic.addGate(gates, k);
    for (int64_t k = 0; k < 4; ++k)
      xp[k] = generic.addGate(x, k);
    if (values.peepholes)
      for (int64_t k = 0; k < 3; ++k)
        p[k] = generic.addVector(values.peepholes, k);
    unsigned length = generic.addLengths(lengths);
    addOutputs(generic, hOut, cOut);
    bool peepholes = bool(values.peepholes);
    results = generic.build([&](OpBuilder &nb, Location nl, ValueRange args) {
      Value hPrev = args[hOut], cPrev = args[cOut];
      auto preActivation = [&](int k, std::optional<int> peephole, Value cell) {
        Value sum = add(nb, nl, args[xp[k]], args[g[k]]);
        if (peepholes && peephole)
          sum = add(nb, nl, sum, mul(nb, nl, args[p[*peephole]], cell));
        return clip(nb, nl, sum);
      };
      Value i = activate(nb, nl, 0, preActivation(0, 0, cPrev));
      Value f = config.inputForget
                    ? oneMinus(nb, nl, i)
                    : activate(nb, nl, 0, preActivation(2, 2, cPrev));
      Value candidate = activate(nb, nl, 1, preActivation(3, std::nullopt, {}));
      Value cNew =
          add(nb, nl, mul(nb, nl, f, cPrev), mul(nb, nl, i, candidate));
      Value o = activate(nb, nl, 0, preActivation(1, 1, cNew));
      Value hNew = mul(nb, nl, o, activate(nb, nl, 2, cNew));
      return masked(nb, nl, args[length], hNew, hPrev, cNew, cPrev);
    });
    break;
  }
  case Cell::GRU: {
    if (config.linearBeforeReset) {
      // h~ = g(Xh + r * (Ht-1 Rh^T + Rbh)): one product for all gates.
      Value gates = stepProduct(h, recurrentT[0], width);
      StepGeneric generic(b, loc, hidden);
      unsigned g[3], xp[3], rbh = 0;
      for (int64_t k = 0; k < 3; ++k)
        g[k] = generic.addGate(gates, k);
      for (int64_t k = 0; k < 3; ++k)
        xp[k] = generic.addGate(x, k);
      if (values.b)
        rbh = generic.addVector(values.b, config.gates + 2);
      unsigned length = generic.addLengths(lengths);
      addOutputs(generic, hOut, cOut);
      bool withBias = bool(values.b);
      results = generic.build([&](OpBuilder &nb, Location nl, ValueRange args) {
        Value hPrev = args[hOut];
        Value z = activate(nb, nl, 0,
                           clip(nb, nl, add(nb, nl, args[xp[0]], args[g[0]])));
        Value r = activate(nb, nl, 0,
                           clip(nb, nl, add(nb, nl, args[xp[1]], args[g[1]])));
        Value linear =
            withBias ? add(nb, nl, args[g[2]], args[rbh]) : args[g[2]];
        Value candidate = activate(
            nb, nl, 1,
            clip(nb, nl, add(nb, nl, args[xp[2]], mul(nb, nl, r, linear))));
        Value hNew = add(nb, nl, mul(nb, nl, oneMinus(nb, nl, z), candidate),
                         mul(nb, nl, z, hPrev));
        return masked(nb, nl, args[length], hNew, hPrev, Value(), Value());
      });
      break;
    }
    // h~ = g(Xh + (r * Ht-1) Rh^T + Wbh + Rbh): r first, then the product.
    Value zr = stepProduct(h, recurrentT[0], 2 * hidden);
    StepGeneric reset(b, loc, hidden);
    unsigned gr = reset.addGate(zr, 1), xr = reset.addGate(x, 1),
             hs = reset.addState(h);
    reset.addOutput(tensor::EmptyOp::create(b, loc, stateSizes(), f32));
    Value resetState =
        reset.build([&](OpBuilder &nb, Location nl, ValueRange args) {
          Value r = activate(nb, nl, 0,
                             clip(nb, nl, add(nb, nl, args[xr], args[gr])));
          return SmallVector<Value>{mul(nb, nl, r, args[hs])};
        })[0];
    Value hProduct = stepProduct(resetState, recurrentT[1], hidden);
    StepGeneric generic(b, loc, hidden);
    unsigned gz = generic.addGate(zr, 0), xz = generic.addGate(x, 0),
             xh = generic.addGate(x, 2), gh = generic.addState(hProduct);
    unsigned length = generic.addLengths(lengths);
    addOutputs(generic, hOut, cOut);
    results = generic.build([&](OpBuilder &nb, Location nl, ValueRange args) {
      Value hPrev = args[hOut];
      Value z =
          activate(nb, nl, 0, clip(nb, nl, add(nb, nl, args[xz], args[gz])));
      Value candidate =
          activate(nb, nl, 1, clip(nb, nl, add(nb, nl, args[xh], args[gh])));
      Value hNew = add(nb, nl, mul(nb, nl, oneMinus(nb, nl, z), candidate),
                       mul(nb, nl, z, hPrev));
      return masked(nb, nl, args[length], hNew, hPrev, Value(), Value());
    });
    break;
  }
  case Cell::RNN: {
    Value product = stepProduct(h, recurrentT[0], hidden);
    StepGeneric generic(b, loc, hidden);
    unsigned g = generic.addGate(product, 0), xp = generic.addGate(x, 0);
    unsigned length = generic.addLengths(lengths);
    addOutputs(generic, hOut, cOut);
    results = generic.build([&](OpBuilder &nb, Location nl, ValueRange args) {
      Value hNew =
          activate(nb, nl, 0, clip(nb, nl, add(nb, nl, args[xp], args[g])));
      return masked(nb, nl, args[length], hNew, args[hOut], Value(), Value());
    });
    break;
  }
  }

  SmallVector<Value> next = {results[0]};
  if (c)
    next.push_back(results[1]);
  if (y)
    next.push_back(tensor::InsertSliceOp::create(b, loc, results.back(), y,
                                                 yOffsets, ySizes, yStrides));
  return next;
}

/// Y in the op's layout from the steps [seq, D, batch, hidden] the loop
/// wrote: reversed directions' steps back in time order, zeros past each
/// sequence's end.
Value RecurrentLayerBuilder::finalizeSteps(Value steps, Value lengths) {
  if (!config.batchFirst && !config.anyReversed())
    return steps;
  bool batchFirst = config.batchFirst;
  SmallVector<OpFoldResult> sizes = {seq, b.getIndexAttr(config.directions),
                                     batch, b.getIndexAttr(config.hidden)};
  if (batchFirst)
    sizes = {batch, seq, b.getIndexAttr(config.directions),
             b.getIndexAttr(config.hidden)};
  Value init = tensor::EmptyOp::create(b, loc, sizes, f32);
  MLIRContext *context = b.getContext();
  unsigned timeDim = batchFirst ? 1 : 0, directionDim = batchFirst ? 2 : 1,
           batchDim = batchFirst ? 0 : 2;
  SmallVector<AffineMap> maps = {
      AffineMap::get(4, 0, {getAffineDimExpr(batchDim, context)}, context),
      AffineMap::getMultiDimIdentityMap(4, context)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{lengths},
             ValueRange{init}, maps,
             SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value t = linalg::IndexOp::create(nb, nl, timeDim);
               Value d = linalg::IndexOp::create(nb, nl, directionDim);
               Value batchIndex = linalg::IndexOp::create(nb, nl, batchDim);
               Value j = linalg::IndexOp::create(nb, nl, 3);
               Value time = sourceTime(nb, nl, d, t, args[0]);
               Value element = tensor::ExtractOp::create(
                   nb, nl, steps, ValueRange{time, d, batchIndex, j});
               Value valid = isValidStep(nb, nl, t, args[0]);
               linalg::YieldOp::create(
                   nb, nl,
                   arith::SelectOp::create(nb, nl, valid, element,
                                           createScalar(nb, nl, f32, 0.0))
                       .getResult());
             })
      .getResult(0);
}

/// Y_h or Y_c in the op's layout from the final state [D, batch, hidden]:
/// zeros for sequences of length 0.
Value RecurrentLayerBuilder::finalizeLast(Value state, Value lengths) {
  bool batchFirst = config.batchFirst;
  SmallVector<OpFoldResult> sizes = stateSizes();
  if (batchFirst)
    std::swap(sizes[0], sizes[1]);
  Value init = tensor::EmptyOp::create(b, loc, sizes, f32);
  MLIRContext *context = b.getContext();
  AffineExpr d0, d1, d2;
  bindDims(context, d0, d1, d2);
  SmallVector<AffineMap> maps = {
      batchFirst ? AffineMap::get(3, 0, {d1, d0, d2}, context)
                 : AffineMap::getMultiDimIdentityMap(3, context),
      AffineMap::get(3, 0, {batchFirst ? d0 : d1}, context),
      AffineMap::getMultiDimIdentityMap(3, context)};
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{state, lengths},
             ValueRange{init}, maps,
             SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value empty = arith::CmpIOp::create(
                   nb, nl, arith::CmpIPredicate::sle, args[1],
                   createScalar(nb, nl, args[1].getType(), 0.0));
               linalg::YieldOp::create(
                   nb, nl,
                   arith::SelectOp::create(
                       nb, nl, empty, createScalar(nb, nl, f32, 0.0), args[0])
                       .getResult());
             })
      .getResult(0);
}

FailureOr<SmallVector<Value>> RecurrentLayerBuilder::build() {
  if (failed(checkOperands()))
    return failure();
  bool withY = !op->getResult(0).use_empty();
  Value lengths = createLengths();
  FailureOr<Value> projected = projectInput(lengths);
  if (failed(projected))
    return failure();
  FailureOr<ProductWeights> recurrentWeights =
      getProductWeights(values.originalR, values.r, "R");
  if (failed(recurrentWeights))
    return failure();
  SmallVector<Value> loop =
      buildLoop(*projected, *recurrentWeights, lengths, withY);

  SmallVector<Value> results(op->getNumResults());
  if (withY)
    results[0] = finalizeSteps(loop.back(), lengths);
  if (!op->getResult(1).use_empty())
    results[1] = finalizeLast(loop[0], lengths);
  if (config.cell == Cell::LSTM && !op->getResult(2).use_empty())
    results[2] = finalizeLast(loop[1], lengths);
  for (auto [result, original] : llvm::zip(results, op->getResults()))
    if (result)
      result = castToType(b, loc, result, original.getType());
  return results;
}

template <typename OpTy> struct RecurrentLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    FailureOr<LayerConfig> config = readConfig(op);
    if (failed(config))
      return failure();
    RecurrentLayerBuilder builder(rewriter, op, *config,
                                  getOperands(op, adaptor));
    FailureOr<SmallVector<Value>> results = builder.build();
    if (failed(results))
      return failure();
    rewriter.replaceOp(op, *results);
    return success();
  }
};

} // namespace

void populateRNNToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<RecurrentLowering<LSTMOp>, RecurrentLowering<GRUOp>,
               RecurrentLowering<RNNOp>>(patterns.getContext());
}

} // namespace mlir::quarc
