//===- QuarcToLinalg.h - quarc to linalg lowering patterns -----*- C++ -*-===//
//
// The lowering is split by op family, one file each; the pass collects them.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CONVERSION_QUARCTOLINALG_QUARCTOLINALG_H
#define QUARC_CONVERSION_QUARCTOLINALG_QUARCTOLINALG_H

namespace mlir {
class RewritePatternSet;
namespace quarc {

/// Unary, binary (broadcasting), variadic, compare, where, clip, cast.
void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns);
/// Conv, ConvTranspose, pooling, normalization.
void populateNNToLinalgPatterns(RewritePatternSet &patterns);
/// MatMul, Gemm.
void populateMatMulToLinalgPatterns(RewritePatternSet &patterns);
/// Constants, reshapes, transpose, concat, slice, gather, pad, resize.
void populateTensorOpsToLinalgPatterns(RewritePatternSet &patterns);
/// Reduce*, Softmax, LogSoftmax, ArgMax/ArgMin.
void populateReductionToLinalgPatterns(RewritePatternSet &patterns);

/// All of the above.
void populateQuarcToLinalgPatterns(RewritePatternSet &patterns);

} // namespace quarc
} // namespace mlir

#endif // QUARC_CONVERSION_QUARCTOLINALG_QUARCTOLINALG_H
