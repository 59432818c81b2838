//===- QuarcToLinalg.h - quarc to linalg lowering patterns -----*- C++ -*-===//
//
// The lowering is split by op family, one file each; the pass collects them.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_CONVERSION_QUARCTOLINALG_QUARCTOLINALG_H
#define QUARC_CONVERSION_QUARCTOLINALG_QUARCTOLINALG_H

namespace mlir {
class RewritePatternSet;
class TypeConverter;
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
/// LSTM, GRU, RNN: the input projection as one matmul, then an scf.for
/// over the time steps.
void populateRNNToLinalgPatterns(RewritePatternSet &patterns);

/// Observe (calibration) to calls of the runtime's observer.
void populateObserveToCallPatterns(RewritePatternSet &patterns);

/// All of the above.
void populateQuarcToLinalgPatterns(RewritePatternSet &patterns);

/// Tensors of !quant types become tensors of their (signless) storage type.
void populateQuantizedTypeConversion(TypeConverter &converter);
/// Quantize, Dequantize and StorageCast, which cross between float and
/// quantized tensors, with `converter` from populateQuantizedTypeConversion.
void populateQuantToLinalgPatterns(const TypeConverter &converter,
                                   RewritePatternSet &patterns);
/// QConv and QMatMul: integer contractions and the fixed-point output
/// stage, with the same `converter`.
void populateIntegerOpsToLinalgPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns);

/// quarc.qmatmul_weight_only: its weight packed two values per byte
/// (PackedNibbles.h) and one generic that unpacks it as it multiplies.
void populateWeightOnlyToLinalgPatterns(const TypeConverter &converter,
                                        RewritePatternSet &patterns);
/// Requantize, QAdd, QMul, LookupTable and QAveragePool: elementwise
/// integer arithmetic with one requantization each, with the same
/// `converter`.
void populateIntegerElementwiseToLinalgPatterns(const TypeConverter &converter,
                                                RewritePatternSet &patterns);

} // namespace quarc
} // namespace mlir

#endif // QUARC_CONVERSION_QUARCTOLINALG_QUARCTOLINALG_H
