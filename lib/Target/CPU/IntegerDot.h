//===- IntegerDot.h - u8 x s8 dot products in groups of four -*- C++ -*-===//
//
// The step of the integer kernels: every i32 lane of an accumulator adds
// the dot product of four unsigned bytes with four signed bytes, the lane's
// group of four consecutive k. x86 has it as one instruction with AVX-512
// VNNI (`vpdpbusd`); with AVX2 (or AVX-512 without VNNI) it takes
// `vpmaddubsw`, which adds pairs of products into i16 and saturates, then
// `vpmaddwd` against ones, which adds pairs of those into i32. Upstream
// MLIR has neither (its x86vector dot is AVX-VNNI-INT8's `vpdpbssd`), so
// they are called as LLVM intrinsics. AArch64 has `usdot` with i8mm and
// `sdot` (both operands signed) with dotprod; i8mm also has `usmmla`,
// which multiplies 2 x 8 bytes by 8 x 2 into a 2 x 2 block of i32 lanes
// (buildInt8MatrixMultiply), what the kernels use where k is packed in
// groups of eight.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_TARGET_CPU_INTEGERDOT_H
#define QUARC_LIB_TARGET_CPU_INTEGERDOT_H

#include "quarc/Target/TargetInfo.h"

#include "mlir/IR/Builders.h"

namespace mlir::quarc {

/// acc[l] + sum_{q<4} u8[4l + q] * s8[4l + q] for `acc` a vector<L x i32>
/// (L x 32 bits = 128, 256 or 512; 128 on NEON) and `u8`, `s8` vector<4L x
/// i8>. For `NeonSdot`, `u8` holds the activations shifted to s8 (x ^ 0x80
/// = x - 128): the caller compensates (see quarc-pack-integer-weights).
///
/// With `vpmaddubsw`, a pair of products can pass the i16 range (255 *
/// (127 + 127) > 32767). Unless `pairsFitI16` (every pair of adjacent
/// weights within k's groups is known to stay in range, as the default
/// scheme's `reduce-range=pairs` scales and 7-bit `reduce-range` weights
/// make them), the bytes are widened to 16 bits in place
/// (even and odd bytes of each word apart) and multiplied by two
/// `vpmaddwd`: exact for every s8 weight.
Value buildIntegerDot(OpBuilder &b, Location loc, TargetInfo::Int8Dot kind,
                      Value acc, Value u8, Value s8, bool pairsFitI16);

/// acc + the 2 x 2 block of products of `u8` (vector<16 x i8>: two rows of
/// eight k, unsigned) with `s8` (two columns of eight k, signed): acc[2 i
/// + j] += sum_q u8[8 i + q] * s8[8 j + q], for `acc` a vector<4 x i32>
/// holding [r c, r c+1, r+1 c, r+1 c+1]. AArch64 i8mm's `usmmla`.
Value buildInt8MatrixMultiply(OpBuilder &b, Location loc, Value acc, Value u8,
                              Value s8);

/// acc + the dot products of `u8` with weights widened to i16 at packing
/// time, on `vpmaddwd` (x86): each i32 lane's four bytes in `u8` hold k = 0,
/// 2, 1, 3 of its group (so that each 16-bit word's even bytes are k = 0,
/// 1 and its odd bytes k = 2, 3), `pair01` and `pair23` the group's weights
/// (w0, w1) and (w2, w3) as vector<2L x i16> with every i32 lane alike.
/// Exact, with no widening of the weights in the kernel.
Value buildWideWeightDot(OpBuilder &b, Location loc, Value acc, Value u8,
                         Value pair01, Value pair23);

/// acc + `vpmaddwd` of `lhs` and `rhs` (vector<2L x i16>, x86): each i32
/// lane of `acc` (vector<L x i32>) adds the products of its two words.
Value buildWordPairDot(OpBuilder &b, Location loc, Value acc, Value lhs,
                       Value rhs);

/// Whether `vpmaddubsw` of any u8 values with the s8 `weights`, grouped
/// by fours along their innermost dim, stays within i16.
bool weightPairsFitI16(llvm::ArrayRef<int8_t> weights);

/// Whether quarc-vectorize-integer-matmul has the pixel-rows convolution
/// kernel for `target`, so that quarc-pack-integer-weights may pack filters
/// for it: vpdpbusd on 512-bit vectors (two 16 x 8 register blocks take 16
/// of the 32 registers) and vpmaddubsw on 256-bit ones (one 8 x 8 block,
/// half of the 16 registers; for filters whose pairs fit i16 only).
bool hasPixelRowsKernel(const TargetInfo &target);

/// The width L of the filter map quarc-pack-integer-weights gives the
/// pixel-rows kernel, (n, f, y, i, j, c1, x, c0) -> (f floordiv L, c1, i, j,
/// f mod L, c0) (a convolution's loop dims), if `map` is one.
std::optional<int64_t> matchPixelRowsFilterMap(AffineMap map);

/// The input bytes of one row that `pixels` consecutive output pixels of a
/// depthwise convolution read: a row of `kernelWidth` taps at `stride` and
/// `dilation`, from the first pixel's first tap to the last one's last.
int64_t getDepthwiseRowSpan(int64_t pixels, int64_t kernelWidth, int64_t stride,
                            int64_t dilation);

/// Whether quarc-vectorize-depthwise has, for `target`, the integer
/// depthwise kernel that takes four taps of a filter row per dot product
/// step (the filter packed [C, KH, ceil(KW/4), 4] by
/// quarc-pack-integer-weights), for a row of `kernelWidth` taps at
/// `stride` and `dilation`: each pixel's four input bytes are picked out of
/// one load of the strip a register of pixels reads, by a byte permute
/// across the whole register (AVX-512 VBMI's `vpermb`) that feeds
/// `vpdpbusd` (AVX-512 VNNI); that strip must fit one register.
bool hasDepthwiseQuadKernel(const TargetInfo &target, int64_t kernelWidth,
                            int64_t stride, int64_t dilation);

/// Whether quarc-vectorize-depthwise has, for `target`, the integer
/// depthwise kernel that takes two taps of a filter row per step (when it
/// has no quad kernel): x86 with 256-bit or wider in-lane byte shuffles
/// (`vpshufb`) and `vpmaddwd`, each 128-bit lane holding four pixels whose
/// input bytes (at `stride` and `dilation` along a row of `kernelWidth`
/// taps) fit its 16 bytes. The filter is packed as sign-extended i16 with
/// rows of an even number of taps, [C, KH, ceil(KW/2) * 2] (zeros past KW),
/// so that each pair of weights is one i32 word in memory.
bool hasDepthwisePairKernel(const TargetInfo &target, int64_t kernelWidth,
                            int64_t stride, int64_t dilation);

/// Pixels per 128-bit lane of the tap-pair depthwise kernel (i32 results),
/// and the bytes of input that lane's byte shuffle can pick from.
constexpr int64_t kDepthwisePairLanePixels = 4;
constexpr int64_t kDepthwisePairLaneBytes = 16;

} // namespace mlir::quarc

#endif // QUARC_LIB_TARGET_CPU_INTEGERDOT_H
