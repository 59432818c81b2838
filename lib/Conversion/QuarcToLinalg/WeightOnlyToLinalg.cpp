//===- WeightOnlyToLinalg.cpp - quarc.qmatmul_weight_only to linalg -------===//
//
// A weight-only product keeps its weight quantized in the compiled code:
// the constant is packed here, two values per byte in panels of 16
// columns, with its per-group scales and zero points beside it
// (Conversion/QuarcToLinalg/PackedNibbles.h), and one linalg.generic
// unpacks, dequantizes and multiplies as it goes. The activation's leading
// dims are one row dim M of the generic.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "quarc/Conversion/QuarcToLinalg/PackedNibbles.h"
#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"
#include "quarc/Quantization/QuantizedTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quarc {
namespace {

/// The packed constants of a K x N weight (PackedNibbles.h).
struct PackedWeight {
  SmallVector<int8_t> bytes;  // [panels, ceil(K / 2), 16]
  SmallVector<float> scales;  // [panels, groups, 16]
  SmallVector<int8_t> zeros;  // [panels, groups, 16], unsigned values
  int64_t panels, groups, groupSize;
};

PackedWeight pack(ArrayRef<int64_t> values, const QuantParams &params,
                  int64_t k, int64_t n) {
  PackedWeight packed;
  packed.panels = llvm::divideCeil(n, kNibblePanel);
  packed.groupSize = params.groupSize;
  packed.groups = llvm::divideCeil(k, params.groupSize);
  // Signed storage is offset so that every stored value is a nibble in
  // [0, 2^bits); the zero point moves with it, so q - z is unchanged.
  int64_t offset = params.isSigned ? int64_t(1) << (params.storageBits - 1) : 0;
  int64_t pairs = llvm::divideCeil(k, 2);
  packed.bytes.assign(packed.panels * pairs * kNibblePanel, 0);
  packed.scales.assign(packed.panels * packed.groups * kNibblePanel, 0.0f);
  packed.zeros.assign(packed.scales.size(), 0);
  for (int64_t column = 0; column < n; ++column) {
    int64_t panel = column / kNibblePanel, lane = column % kNibblePanel;
    for (int64_t row = 0; row < k; ++row) {
      auto nibble = uint8_t(values[row * n + column] + offset);
      int8_t &byte =
          packed.bytes[(panel * pairs + row / 2) * kNibblePanel + lane];
      byte = int8_t(uint8_t(byte) | (row % 2 == 0 ? nibble : nibble << 4));
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
    PackedWeight packed = pack(*values, *params, k, n);

    Type f32 = rewriter.getF32Type(), i8 = rewriter.getI8Type();
    auto bytesType = RankedTensorType::get(
        {packed.panels, int64_t(llvm::divideCeil(k, 2)), kNibblePanel}, i8);
    auto scaleType =
        RankedTensorType::get({packed.panels, packed.groups, kNibblePanel}, f32);
    auto zeroType = scaleType.clone(i8);
    Value bytes = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(bytesType, ArrayRef(packed.bytes)));
    Value scales = arith::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(scaleType, ArrayRef(packed.scales)));
    Value zeros = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(zeroType, ArrayRef(packed.zeros)));

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
    SmallVector<Value> dynamicRows;
    if (outType.isDynamicDim(0))
      dynamicRows.push_back(tensor::DimOp::create(rewriter, loc, a, 0));
    Value init;
    if (isNone(op.getBias())) {
      init = createFilled(rewriter, loc, outType, dynamicRows,
                          createScalar(rewriter, loc, f32, 0.0));
    } else {
      // The bias broadcast along the rows.
      Value empty = createEmpty(rewriter, loc, outType, dynamicRows);
      SmallVector<AffineMap> maps = {
          AffineMap::get(2, 0, {getAffineDimExpr(1, context)}, context),
          AffineMap::getMultiDimIdentityMap(2, context)};
      init = linalg::GenericOp::create(
                 rewriter, loc, TypeRange{outType}, adaptor.getBias(), empty,
                 maps,
                 SmallVector<utils::IteratorType>(
                     2, utils::IteratorType::parallel),
                 [](OpBuilder &nb, Location nl, ValueRange args) {
                   linalg::YieldOp::create(nb, nl, args[0]);
                 })
                 .getResult(0);
    }

    AffineExpr m = getAffineDimExpr(0, context), col = getAffineDimExpr(1, context),
               row = getAffineDimExpr(2, context);
    AffineExpr panel = col.floorDiv(kNibblePanel);
    SmallVector<AffineMap> maps = {
        AffineMap::get(3, 0, {m, row}, context),
        AffineMap::get(3, 0, {panel, row.floorDiv(2), col % kNibblePanel},
                       context),
        AffineMap::get(
            3, 0, {panel, row.floorDiv(packed.groupSize), col % kNibblePanel},
            context),
        AffineMap::get(
            3, 0, {panel, row.floorDiv(packed.groupSize), col % kNibblePanel},
            context),
        AffineMap::get(3, 0, {m, col}, context)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    Value product =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{outType}, ValueRange{a, bytes, scales, zeros},
            init, maps, iterators,
            [&](OpBuilder &nb, Location nl, ValueRange args) {
              // The nibble of row k: high for odd k.
              Type i32 = nb.getI32Type();
              Value row = linalg::IndexOp::create(nb, nl, 2);
              Value odd = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::ne,
                  arith::RemUIOp::create(
                      nb, nl, row, arith::ConstantIndexOp::create(nb, nl, 2)),
                  arith::ConstantIndexOp::create(nb, nl, 0));
              Value shift = arith::SelectOp::create(
                  nb, nl, odd, arith::ConstantIntOp::create(nb, nl, i32, 4),
                  arith::ConstantIntOp::create(nb, nl, i32, 0));
              Value byte = arith::ExtUIOp::create(nb, nl, i32, args[1]);
              Value nibble = arith::AndIOp::create(
                  nb, nl, arith::ShRUIOp::create(nb, nl, byte, shift),
                  arith::ConstantIntOp::create(nb, nl, i32, 15));
              // w = (q - z) * s, exactly onnxruntime's dequantized weight.
              Type f32 = nb.getF32Type();
              Value zero = arith::UIToFPOp::create(
                  nb, nl, f32, arith::ExtUIOp::create(nb, nl, i32, args[3]));
              Value weight = arith::MulFOp::create(
                  nb, nl,
                  arith::SubFOp::create(
                      nb, nl, arith::UIToFPOp::create(nb, nl, f32, nibble),
                      zero),
                  args[2]);
              Value sum = arith::AddFOp::create(
                  nb, nl, args[4], arith::MulFOp::create(nb, nl, args[0], weight));
              linalg::YieldOp::create(nb, nl, sum);
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
