//===- WeightOnlyToLinalg.cpp - quarc.qmatmul_weight_only to linalg -------===//
//
// A weight-only product keeps its weight quantized in the compiled code:
// the constant is packed here, two values per byte in panels of 16
// columns, with its per-group scales and zero points beside it
// (Conversion/QuarcToLinalg/PackedNibbles.h), and one linalg.generic
// unpacks, dequantizes and multiplies as it goes. The activation's leading
// dims are one row dim M of the generic.
//
// With int8 activations the rows of a are quantized first, per group of
// k, to s8 (max |a| / 127, onnxruntime's MatMulNBits accuracy level 4),
// and the weight is packed in quads of k (the layout of the integer dot
// products) instead of pairs.
//
//===----------------------------------------------------------------------===//

#include "IntegerProducts.h"
#include "LoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/PackedNibbles.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quarc {
namespace {

/// The packed constants of a K x N weight (PackedNibbles.h).
struct PackedWeight {
  NibbleLayout layout;
  SmallVector<int8_t> bytes;  // [panels, byte rows, bytes per row]
  SmallVector<float> scales;  // [panels, groups, 16]
  SmallVector<int8_t> zeros;  // [panels, groups, 16], unsigned values
  int64_t k, panels, groups, groupSize;

  RankedTensorType getBytesType(Type i8) const {
    return RankedTensorType::get(
        {panels, int64_t(llvm::divideCeil(k, getRowsPerByteRow(layout))),
         getBytesPerRow(layout)},
        i8);
  }
};

PackedWeight pack(ArrayRef<int64_t> values, const QuantParams &params,
                  int64_t k, int64_t n, NibbleLayout layout) {
  PackedWeight packed;
  packed.layout = layout;
  packed.k = k;
  packed.panels = llvm::divideCeil(n, kNibblePanel);
  packed.groupSize = params.groupSize;
  packed.groups = llvm::divideCeil(k, params.groupSize);
  // Signed storage is offset so that every stored value is a nibble in
  // [0, 2^bits); the zero point moves with it, so q - z is unchanged.
  int64_t offset = params.isSigned ? int64_t(1) << (params.storageBits - 1) : 0;
  int64_t rowsPerByteRow = getRowsPerByteRow(layout);
  int64_t bytesPerRow = getBytesPerRow(layout);
  int64_t byteRows = llvm::divideCeil(k, rowsPerByteRow);
  packed.bytes.assign(packed.panels * byteRows * bytesPerRow, 0);
  packed.scales.assign(packed.panels * packed.groups * kNibblePanel, 0.0f);
  packed.zeros.assign(packed.scales.size(), 0);
  for (int64_t column = 0; column < n; ++column) {
    int64_t panel = column / kNibblePanel, lane = column % kNibblePanel;
    for (int64_t row = 0; row < k; ++row) {
      auto nibble = uint8_t(values[row * n + column] + offset);
      NibblePosition at = getNibblePosition(layout, row, lane);
      int8_t &byte = packed.bytes[(panel * byteRows + row / rowsPerByteRow) *
                                      bytesPerRow +
                                  at.byte];
      byte = int8_t(uint8_t(byte) | (at.high ? nibble << 4 : nibble));
    }
    for (int64_t group = 0; group < packed.groups; ++group) {
      int64_t at = (panel * packed.groups + group) * kNibblePanel + lane;
      packed.scales[at] = float(params.scales[group * n + column]);
      packed.zeros[at] =
          int8_t(uint8_t(params.zeroPoints[group * n + column] + offset));
    }
  }
  return packed;
}

/// The nibble of (row k, column n) as an i32 in [0, 16), from its byte: the
/// high one where the layout says so.
Value extractNibble(OpBuilder &b, Location loc, NibbleLayout layout, Value byte) {
  Type i32 = b.getI32Type();
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value row = linalg::IndexOp::create(b, loc, 2);
  int64_t rows = getRowsPerByteRow(layout);
  // Pairs: odd k is high; quads: k mod 8 >= 4 is high.
  Value high = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::uge, arith::RemUIOp::create(b, loc, row, index(rows)),
      index(rows / 2));
  Value shift = arith::SelectOp::create(b, loc, high,
                                        arith::ConstantIntOp::create(b, loc, i32, 4),
                                        arith::ConstantIntOp::create(b, loc, i32, 0));
  return arith::AndIOp::create(
      b, loc,
      arith::ShRUIOp::create(b, loc, arith::ExtUIOp::create(b, loc, i32, byte),
                             shift),
      arith::ConstantIntOp::create(b, loc, i32, 15));
}

/// Rows of a quantized as onnxruntime's MatMulNBits does at accuracy level
/// 4: per group j of g consecutive k, sa = max |a| / 127 (f32) and aq =
/// roundHalfEven(a * (127 / max |a|)) in [-127, 127] (0 for an all-zero
/// group; NaN gives -127).
/// Returns aq as M x K i8 and sa as M x G.
std::pair<Value, Value> quantizeRows(OpBuilder &b, Location loc, Value a,
                                     int64_t groups, int64_t groupSize) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type(), i8 = b.getI8Type();
  auto aType = cast<RankedTensorType>(a.getType());
  int64_t k = aType.getDimSize(1), padded = groups * groupSize;
  if (padded != k)
    a = padTensor(b, loc, a, {0, 0}, {0, padded - k}, createScalar(b, loc, f32, 0));
  SmallVector<OpFoldResult> sizes = {
      aType.isDynamicDim(0)
          ? OpFoldResult(tensor::DimOp::create(b, loc, a, 0).getResult())
          : OpFoldResult(b.getIndexAttr(aType.getDimSize(0))),
      b.getIndexAttr(groups), b.getIndexAttr(groupSize)};
  auto groupedType =
      RankedTensorType::get({aType.getDimSize(0), groups, groupSize}, f32);
  Value grouped = tensor::ExpandShapeOp::create(
      b, loc, groupedType, a, SmallVector<ReassociationIndices>{{0}, {1, 2}},
      sizes);
  SmallVector<Value> dynamicRows;
  if (aType.isDynamicDim(0))
    dynamicRows.push_back(tensor::DimOp::create(b, loc, a, 0));

  // max |a| per row and group.
  auto scaleType = RankedTensorType::get({aType.getDimSize(0), groups}, f32);
  Value zero = createFilled(b, loc, scaleType, dynamicRows, createScalar(b, loc, f32, 0));
  AffineMap identity3 = AffineMap::getMultiDimIdentityMap(3, context);
  AffineMap perGroup = AffineMap::get(
      3, 0, {getAffineDimExpr(0, context), getAffineDimExpr(1, context)}, context);
  Value largest =
      linalg::GenericOp::create(
          b, loc, TypeRange{scaleType}, grouped, zero,
          SmallVector<AffineMap>{identity3, perGroup},
          {utils::IteratorType::parallel, utils::IteratorType::parallel,
           utils::IteratorType::reduction},
          [](OpBuilder &nb, Location nl, ValueRange args) {
            linalg::YieldOp::create(
                nb, nl,
                arith::MaxNumFOp::create(nb, nl, args[1],
                                          math::AbsFOp::create(nb, nl, args[0]))
                    .getResult());
          })
          .getResult(0);
  Value scale = buildElementwise(
      b, loc, scaleType, largest, [&](OpBuilder &nb, Location nl, ValueRange args) {
        return arith::DivFOp::create(nb, nl, args[0],
                                     createScalar(nb, nl, f32, 127.0))
            .getResult();
      });

  // aq = round(a * (127 / max |a|)), as i8: the inverse scale as
  // onnxruntime computes it (not 1 / sa, which can differ by an ulp).
  auto quantizedType = groupedType.clone(i8);
  Value empty = createEmpty(b, loc, quantizedType, dynamicRows);
  Value quantized =
      linalg::GenericOp::create(
          b, loc, TypeRange{quantizedType}, ValueRange{grouped, largest}, empty,
          SmallVector<AffineMap>{identity3, perGroup, identity3},
          SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value allZero = arith::CmpFOp::create(
                nb, nl, arith::CmpFPredicate::OEQ, args[1],
                createScalar(nb, nl, f32, 0));
            Value inverse = arith::SelectOp::create(
                nb, nl, allZero, createScalar(nb, nl, f32, 0),
                arith::DivFOp::create(nb, nl, createScalar(nb, nl, f32, 127),
                                      args[1]));
            Value rounded = math::RoundEvenOp::create(
                nb, nl, arith::MulFOp::create(nb, nl, args[0], inverse));
            Value clamped = arith::MinNumFOp::create(
                nb, nl,
                arith::MaxNumFOp::create(nb, nl, rounded,
                                          createScalar(nb, nl, f32, -127)),
                createScalar(nb, nl, f32, 127));
            linalg::YieldOp::create(
                nb, nl,
                arith::FPToSIOp::create(nb, nl, nb.getI8Type(), clamped).getResult());
          })
          .getResult(0);
  Value rows = tensor::CollapseShapeOp::create(
      b, loc, quantized, SmallVector<ReassociationIndices>{{0}, {1, 2}});
  // The product runs over the K columns only.
  if (padded != k) {
    SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0));
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    SmallVector<OpFoldResult> slice = {sizes[0], b.getIndexAttr(k)};
    rows = tensor::ExtractSliceOp::create(b, loc, rows, offsets, slice, strides);
  }
  return {rows, scale};
}

struct QMatMulWeightOnlyLowering
    : OpConversionPattern<QMatMulWeightOnlyOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QMatMulWeightOnlyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = op.getContext();
    auto storageCast = op.getB().getDefiningOp<StorageCastOp>();
    std::optional<SmallVector<int64_t>> values =
        storageCast ? getConstantIntValues(storageCast.getInput())
                    : std::nullopt;
    if (!values)
      return rewriter.notifyMatchFailure(op, "the weight is not a constant");
    FailureOr<QuantParams> params = getQuantParams(
        loc, cast<quant::QuantizedType>(op.getB().getType().getElementType()));
    if (failed(params) || params->granularity != Granularity::PerGroup ||
        params->axis != 0)
      return rewriter.notifyMatchFailure(op, "not grouped along k");
    int64_t k = op.getB().getType().getDimSize(0);
    int64_t n = op.getB().getType().getDimSize(1);
    bool int8Activations = op.getInt8Activations();
    PackedWeight packed =
        pack(*values, *params, k, n,
             int8Activations ? NibbleLayout::RowQuads : NibbleLayout::RowPairs);

    Type f32 = rewriter.getF32Type(), i8 = rewriter.getI8Type();
    auto scaleType =
        RankedTensorType::get({packed.panels, packed.groups, kNibblePanel}, f32);
    Value bytes = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(packed.getBytesType(i8), ArrayRef(packed.bytes)));
    Value scales = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(scaleType, ArrayRef(packed.scales)));
    Value zeros = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(scaleType.clone(i8), ArrayRef(packed.zeros)));

    // a as M x K: its leading dims merged (a vector is one row).
    Value a = adaptor.getA();
    auto aType = cast<RankedTensorType>(a.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = aType.getRank();
    if (rank == 1)
      a = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({1, k}, f32), a,
          SmallVector<ReassociationIndices>{{0, 1}});
    else if (rank > 2)
      a = collapseLeading(rewriter, loc, a, rank - 1);
    auto rowsType = cast<RankedTensorType>(a.getType());
    auto outType = RankedTensorType::get({rowsType.getDimSize(0), n}, f32);
    SmallVector<Value> dynamicRows =
        getMatMulAccumulatorSizes(rewriter, loc, outType, a);
    Value init = isNone(op.getBias())
                     ? createFilled(rewriter, loc, outType, dynamicRows,
                                    createScalar(rewriter, loc, f32, 0.0))
                     : broadcastBias(rewriter, loc, outType, dynamicRows,
                                     adaptor.getBias(), 1);

    // One generic: acc + a * ((q - z) * s), or with int8 activations acc +
    // (sa * s) * f32(aq * (q - z)), whose integer product is exact.
    PackedProductMaps maps =
        getPackedProductMaps(context, packed.layout, packed.groupSize);
    SmallVector<Value> inputs = {a};
    SmallVector<AffineMap> indexing = {maps.rows};
    if (int8Activations) {
      auto [quantized, rowScales] =
          quantizeRows(rewriter, loc, a, packed.groups, packed.groupSize);
      inputs = {quantized, rowScales};
      indexing.push_back(maps.rowScales);
    }
    unsigned bytesIndex = inputs.size();
    inputs.append({bytes, scales, zeros});
    indexing.append({maps.bytes, maps.params, maps.params, maps.out});
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    Value product =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{outType}, inputs, init, indexing,
            iterators,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              Type i32 = nb.getI32Type(), f32 = nb.getF32Type();
              Value nibble =
                  extractNibble(nb, nl, packed.layout, args[bytesIndex]);
              Value zero =
                  arith::ExtUIOp::create(nb, nl, i32, args[bytesIndex + 2]);
              Value scale = args[bytesIndex + 1];
              Value term;
              if (int8Activations) {
                Value integer = arith::MulIOp::create(
                    nb, nl, arith::ExtSIOp::create(nb, nl, i32, args[0]),
                    arith::SubIOp::create(nb, nl, nibble, zero));
                term = arith::MulFOp::create(
                    nb, nl, arith::MulFOp::create(nb, nl, args[1], scale),
                    arith::SIToFPOp::create(nb, nl, f32, integer));
              } else {
                // (q - z) * s: exactly onnxruntime's dequantized weight.
                Value weight = arith::MulFOp::create(
                    nb, nl,
                    arith::SubFOp::create(
                        nb, nl, arith::UIToFPOp::create(nb, nl, f32, nibble),
                        arith::UIToFPOp::create(nb, nl, f32, zero)),
                    scale);
                term = arith::MulFOp::create(nb, nl, args[0], weight);
              }
              linalg::YieldOp::create(
                  nb, nl,
                  arith::AddFOp::create(nb, nl, args.back(), term).getResult());
            })
            .getResult(0);

    // Back to the result's shape.
    Value result = product;
    if (rank == 1) {
      result = tensor::CollapseShapeOp::create(
          rewriter, loc, resultType, product,
          SmallVector<ReassociationIndices>{{0, 1}});
    } else if (rank > 2) {
      SmallVector<OpFoldResult> sizes;
      for (int64_t d = 0; d < rank - 1; ++d)
        sizes.push_back(
            resultType.isDynamicDim(d)
                ? OpFoldResult(
                      tensor::DimOp::create(rewriter, loc, adaptor.getA(), d)
                          .getResult())
                : OpFoldResult(rewriter.getIndexAttr(resultType.getDimSize(d))));
      sizes.push_back(rewriter.getIndexAttr(n));
      result = expandLeading(rewriter, loc, product, resultType, sizes);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void populateWeightOnlyToLinalgPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns) {
  patterns.add<QMatMulWeightOnlyLowering>(converter, patterns.getContext());
}

} // namespace mlir::quarc
