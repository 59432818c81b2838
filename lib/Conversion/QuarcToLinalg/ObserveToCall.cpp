//===- ObserveToCall.cpp - quarc.observe to the runtime callback ----------===//
//
// `quarc.observe %t` becomes
//
//   %b = bufferization.to_buffer %t read_only : memref<?x?xf32, strided<[?, ?], offset: ?>>
//   %u = memref.cast %b : ... to memref<*xf32>
//   func.call @quarc_observe(%index, %u)
//
// The fully dynamic layout accepts whatever buffer bufferization gives the
// tensor (a view of a larger buffer included), so nothing is copied; the
// callback reads the strides from the descriptor.
//
//===----------------------------------------------------------------------===//

#include "quarc/Conversion/QuarcToLinalg/QuarcToLinalg.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::quarc {
namespace {

struct ObserveLowering : OpConversionPattern<ObserveOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ObserveOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto module = op->getParentOfType<ModuleOp>();
    if (!module || !module.lookupSymbol<func::FuncOp>(kObserveCallback))
      return op.emitError() << "'quarc.observe' needs the declaration of @"
                            << kObserveCallback
                            << " in its module (quarc-insert-observers adds "
                               "it)";
    auto type = cast<RankedTensorType>(adaptor.getInput().getType());
    auto layout = StridedLayoutAttr::get(
        op.getContext(), ShapedType::kDynamic,
        SmallVector<int64_t>(type.getRank(), ShapedType::kDynamic));
    auto bufferType =
        MemRefType::get(type.getShape(), type.getElementType(), layout);
    Location loc = op.getLoc();
    Value buffer = bufferization::ToBufferOp::create(
        rewriter, loc, bufferType, adaptor.getInput(), /*readOnly=*/true);
    Value unranked = memref::CastOp::create(
        rewriter, loc,
        UnrankedMemRefType::get(type.getElementType(), /*memorySpace=*/0),
        buffer);
    Value index = arith::ConstantIntOp::create(rewriter, loc, op.getIndex(),
                                               /*width=*/64);
    rewriter.replaceOpWithNewOp<func::CallOp>(
        op, kObserveCallback, TypeRange{}, ValueRange{index, unranked});
    return success();
  }
};

} // namespace

void populateObserveToCallPatterns(RewritePatternSet &patterns) {
  patterns.add<ObserveLowering>(patterns.getContext());
}

} // namespace mlir::quarc
