//===- PackIntegerWeights.cpp - int8 weights in the kernels' layout -------===//
//
// The integer kernels (quarc-vectorize-integer-matmul) multiply bytes four
// at a time along k: `vpdpbusd`, `vpmaddubsw`, `usdot` and `sdot` read 4
// consecutive k of one column as one 32-bit lane (`usmmla`, eight: see
// below). This
// pass rewrites the integer contractions the linalg lowering builds (the
// i32 generic of quarc.qconv and quarc.qmatmul) so that their constant
// weights are stored that way, at compile time:
//
//  - a convolution's filter [G, F, C, KH, KW] becomes [G, F, C4/4, KH, KW,
//    4] ([F, C4/4, KH, KW, 4] without groups): the input channels in groups
//    of four (C padded to C4 with zero weights), each group's taps one
//    after the other, the order of the kernel's k steps, so that it reads
//    an output channel's weights as one sequence. The weights are the
//    kernel's broadcast operand; its vector operand, the input, is
//    interleaved at run time.
//  - a matrix product's weight [K, N] becomes [N/n0, K4/4, n0, 4]: panels
//    of n0 columns (a vector register of i32 lanes), each a sequence of
//    groups of four k per column. The kernel loads one panel row per k
//    step as it is.
//
// With i8mm's `usmmla` (AArch64), which multiplies two rows' eight k by two
// columns' eight k, the groups are of eight: [N/n0, K8/8, n0, 8] (each 16
// bytes of a panel row one instruction's pair of columns; not for a product
// of one row, which would use half of each: `usdot` there) and [G, F, C8/8,
// KH, KW, 8] for convolutions of at least eight input channels.
//
// A depthwise convolution becomes the integer form quarc-vectorize-depthwise
// takes instead, and a pointwise one views its pixels as one row.
//
// Zero points of asymmetric weights are subtracted here, so the packed
// bytes are the centered weights (which must fit s8). Activations of the
// other signedness than the target's dot product enter shifted by 128, the
// compensation added to the accumulators' initial values. The rewritten op is
// the same product as a linalg.generic (k split into k1 x 4, or k1 x 8), valid
// on any target; only the kernel pass cares about its shape.
//
//===----------------------------------------------------------------------===//

#include "IntegerDot.h"
#include "VectorCodegen.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"
#include "quarc/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <cstring>

namespace mlir::quarc {

#define GEN_PASS_DEF_QUARCPACKINTEGERWEIGHTS
#include "quarc/Target/CPU/Passes.h.inc"

namespace {

/// The scalar body `acc + ext(input) * (ext(weight) - zw)` of an integer
/// contraction, as IntegerProducts.cpp builds it.
struct ProductBody {
  Operation *inputExtension; // arith.extui or arith.extsi of the input
  bool weightSigned;
  /// The weight's zero point: none, a constant, or per output channel (the
  /// generic's third input).
  std::optional<int64_t> scalarZeroPoint;
  bool zeroPointOperand = false;
};

std::optional<ProductBody> matchProductBody(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Value acc = body.getArguments().back();
  auto add = yield.getValues()[0].getDefiningOp<arith::AddIOp>();
  if (!add || add.getLhs() != acc)
    return std::nullopt;
  auto mul = add.getRhs().getDefiningOp<arith::MulIOp>();
  if (!mul || !mul.getType().isInteger(32))
    return std::nullopt;
  ProductBody result;
  Operation *input = mul.getLhs().getDefiningOp();
  if (!input || !isa<arith::ExtUIOp, arith::ExtSIOp>(input) ||
      input->getOperand(0) != body.getArgument(0))
    return std::nullopt;
  result.inputExtension = input;
  Value weight = mul.getRhs();
  if (auto sub = weight.getDefiningOp<arith::SubIOp>()) {
    weight = sub.getLhs();
    IntegerAttr constant;
    if (sub.getRhs() == body.getArgument(2) && op.getNumDpsInputs() == 3)
      result.zeroPointOperand = true;
    else if (matchPattern(sub.getRhs(), m_Constant(&constant)))
      result.scalarZeroPoint = constant.getInt();
    else
      return std::nullopt;
  }
  Operation *weightExtension = weight.getDefiningOp();
  if (!weightExtension ||
      !isa<arith::ExtUIOp, arith::ExtSIOp>(weightExtension) ||
      weightExtension->getOperand(0) != body.getArgument(1))
    return std::nullopt;
  result.weightSigned = isa<arith::ExtSIOp>(weightExtension);
  if (op.getNumDpsInputs() != (result.zeroPointOperand ? 3u : 2u))
    return std::nullopt;
  return result;
}

/// The values of a constant integer tensor (through reshapes of it), of
/// one or four bytes per element.
std::optional<SmallVector<int64_t>> getConstantIntegers(Value value,
                                                        bool isSigned) {
  if (auto expand = value.getDefiningOp<tensor::ExpandShapeOp>())
    return getConstantIntegers(expand.getSrc(), isSigned);
  // An unsigned constant seen as its signless storage (the bits are the
  // same).
  if (auto cast = value.getDefiningOp<UnrealizedConversionCastOp>())
    if (cast->getNumOperands() == 1)
      return getConstantIntegers(cast->getOperand(0), isSigned);
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  auto type = dyn_cast<RankedTensorType>(value.getType());
  auto attr = constant ? dyn_cast<ElementsAttr>(constant.getValue()) : nullptr;
  if (!attr || !type)
    return std::nullopt;
  std::optional<SmallVector<char>> bytes = getElementsBytes(attr, type);
  if (!bytes)
    return std::nullopt;
  SmallVector<int64_t> values;
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  if (width == 8) {
    for (char byte : *bytes)
      values.push_back(isSigned ? int64_t(int8_t(byte)) : int64_t(uint8_t(byte)));
  } else if (width == 32) {
    for (size_t i = 0; i < bytes->size(); i += 4) {
      int32_t word;
      std::memcpy(&word, bytes->data() + i, 4);
      values.push_back(word);
    }
  } else {
    return std::nullopt;
  }
  return values;
}

bool isI8Tensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getElementType().isInteger(8);
}

/// `value` padded at the end of dim `dim` to `size` (with zeros: the
/// packed weights there are zero, so any value would do, and accumulators
/// there are dropped).
Value padDimTo(OpBuilder &b, Location loc, Value value, int64_t dim,
               int64_t size) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getDimSize(dim) == size)
    return value;
  SmallVector<OpFoldResult> low(type.getRank(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> high = low;
  high[dim] = b.getIndexAttr(size - type.getDimSize(dim));
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = size;
  Value zero = arith::ConstantOp::create(
      b, loc, cast<TypedAttr>(b.getZeroAttr(type.getElementType())));
  return tensor::PadOp::create(b, loc, type.clone(shape), value, low, high,
                               zero);
}

/// [..., H, W] viewed as [..., 1, H * W].
Value flattenPixels(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  SmallVector<ReassociationIndices> leading;
  for (int64_t d = 0; d < rank - 2; ++d)
    leading.push_back({d});
  SmallVector<ReassociationIndices> collapse = leading, expand = leading;
  collapse.push_back({rank - 2, rank - 1});
  expand.push_back({rank - 2, rank - 1});
  Value row = tensor::CollapseShapeOp::create(b, loc, value, collapse);
  SmallVector<int64_t> shape(type.getShape().drop_back(2));
  shape.append({1, type.getDimSize(rank - 2) * type.getDimSize(rank - 1)});
  return tensor::ExpandShapeOp::create(b, loc, type.clone(shape), row, expand);
}

/// The inverse of flattenPixels, back to `type`.
Value unflattenPixels(OpBuilder &b, Location loc, Value value,
                      RankedTensorType type) {
  int64_t rank = type.getRank();
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < rank - 2; ++d)
    groups.push_back({d});
  groups.push_back({rank - 2, rank - 1});
  Value row = tensor::CollapseShapeOp::create(b, loc, value, groups);
  return tensor::ExpandShapeOp::create(b, loc, type, row, groups);
}

/// The body of the packed product: acc + ext(input) * sext(packed weight).
/// With `shifted`, inputs enter with their other signedness: u8 as x - 128
/// (for s8 x s8 dot products), s8 as x + 128 (for u8 x s8 ones); the
/// accumulators' initial values carry the compensation.
void buildPackedBody(OpBuilder &b, Location loc, ValueRange args,
                     Operation *inputExtension, bool shifted = false) {
  Type i32 = b.getI32Type();
  bool isSigned = isa<arith::ExtSIOp>(inputExtension);
  Value input = isSigned
                    ? arith::ExtSIOp::create(b, loc, i32, args[0]).getResult()
                    : arith::ExtUIOp::create(b, loc, i32, args[0]).getResult();
  if (shifted) {
    Value half = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(128));
    input = isSigned ? arith::AddIOp::create(b, loc, input, half).getResult()
                     : arith::SubIOp::create(b, loc, input, half).getResult();
  }
  Value weight = arith::ExtSIOp::create(b, loc, i32, args[1]);
  Value product = arith::MulIOp::create(b, loc, input, weight);
  linalg::YieldOp::create(b, loc,
                          Value(arith::AddIOp::create(b, loc, args[2], product)));
}

/// The packed weight: dense when small, a resource blob otherwise (as the
/// importer stores weights).
Value createPackedConstant(OpBuilder &b, Location loc, RankedTensorType type,
                           ArrayRef<char> bytes) {
  return arith::ConstantOp::create(
      b, loc, cast<TypedAttr>(createElementsAttr(type, bytes, "packed_weight")));
}

/// `init` plus `values` along its dims `channelDims` (a constant of their
/// sizes), elementwise.
Value addChannelConstant(OpBuilder &b, Location loc, Value init,
                         ArrayRef<int64_t> channelDims,
                         ArrayRef<int32_t> values) {
  auto type = cast<RankedTensorType>(init.getType());
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> exprs;
  for (int64_t d : channelDims) {
    shape.push_back(type.getDimSize(d));
    exprs.push_back(getAffineDimExpr(d, ctx));
  }
  Value constant = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get(shape, b.getI32Type()),
                             values));
  AffineMap identity = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
  AffineMap channel = AffineMap::get(type.getRank(), 0, exprs, ctx);
  Value empty = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, init), type.getElementType());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{init, constant}, empty,
             ArrayRef<AffineMap>{identity, channel, identity}, iterators,
             [](OpBuilder &nb, Location nl, ValueRange args) {
               linalg::YieldOp::create(
                   nb, nl,
                   Value(arith::AddIOp::create(nb, nl, args[0], args[1])));
             })
      .getResult(0);
}

/// `shift` times the sum of each run of `run` packed weights: what
/// shifting the inputs by -`shift` takes from each output channel's dot
/// product.
SmallVector<int32_t> getShiftCompensation(ArrayRef<char> packed, int64_t run,
                                          int32_t shift) {
  SmallVector<int32_t> sums;
  for (size_t start = 0; start < packed.size(); start += run) {
    int32_t sum = 0;
    for (int64_t i = 0; i < run; ++i)
      sum += int8_t(packed[start + i]);
    sums.push_back(shift * sum);
  }
  return sums;
}

/// The output pixels up to which a pointwise convolution takes the
/// pixel-rows kernel (quarc-vectorize-integer-matmul) with AVX-512 VNNI:
/// 7 x 7 and 14 x 14 images, where vectors of pixels would leave lanes idle
/// at the end of each tile. Larger ones run as fast on the broadcast-rows
/// kernel, whose output needs no transposition; a convolution with a
/// window takes the pixel-rows kernel at every size (its panels are read
/// by more k steps; ResNet-50's 3 x 3 layers at 56 x 56 and 28 x 28 run
/// 8-10% faster).
constexpr int64_t kPixelRowsMaxPointwisePixels = 256;

/// The output pixels up to which any convolution takes the pixel-rows
/// kernel on vpmaddubsw targets (AVX2): images of one column tile (7 x 7),
/// where vectors of pixels leave lanes idle in every tile (49 pixels in 56
/// lanes). With its 16 registers the kernel computes one panel of 8
/// channels x 8 pixels per k loop, a broadcast per dot product; on Zen 3 it
/// ran 9-18% faster than broadcast rows on ResNet-50's layers with 7 x 7
/// outputs, as fast at 14 x 14 and 28 x 28, 2-7% slower at 56 x 56 and
/// larger.
constexpr int64_t kPixelRowsMaxPixelsMaddUbsw = 64;

/// `packed` ([F, C4/4, taps, 4], the broadcast-rows layout) as panels of
/// `lanes` output channels: [F/lanes, C4/4, taps, lanes, 4].
SmallVector<char> toChannelPanels(ArrayRef<char> packed, int64_t features,
                                  int64_t taps, int64_t groups,
                                  int64_t lanes) {
  SmallVector<char> panels;
  panels.reserve(packed.size());
  for (int64_t f1 = 0; f1 < features / lanes; ++f1)
    for (int64_t c1 = 0; c1 < groups; ++c1)
      for (int64_t tap = 0; tap < taps; ++tap)
        for (int64_t f0 = 0; f0 < lanes; ++f0) {
          const char *group =
              &packed[(((f1 * lanes + f0) * groups + c1) * taps + tap) * 4];
          panels.append(group, group + 4);
        }
  return panels;
}

/// s8 bytes as little-endian i16, sign-extended.
SmallVector<char> widenToWords(ArrayRef<char> bytes) {
  SmallVector<char> words;
  words.reserve(2 * bytes.size());
  for (char byte : bytes) {
    auto word = uint16_t(int16_t(int8_t(byte)));
    words.push_back(char(word & 0xFF));
    words.push_back(char(word >> 8));
  }
  return words;
}

class Packer {
public:
  /// `signedDot`: the target multiplies s8 by s8 (dotprod's sdot), not u8
  /// by s8. Inputs of the other signedness enter the products shifted (u8
  /// as x - 128, s8 as x + 128), compensated in the accumulators' initial
  /// values.
  Packer(linalg::GenericOp op, const ProductBody &body, int64_t panelLanes,
         bool signedDot, const TargetInfo &target)
      : op(op), body(body), target(target), panelLanes(panelLanes),
        pixelRowsKernel(hasPixelRowsKernel(target)),
        shifted(signedDot == isa<arith::ExtUIOp>(body.inputExtension)),
        shift(isa<arith::ExtUIOp>(body.inputExtension) ? 128 : -128) {}

  /// The centered weight at `flat` (an index into the original weight) of
  /// output channel `channel` (an index into the zero points), or nullopt
  /// if it does not fit s8.
  std::optional<int8_t> centered(int64_t flat, int64_t channel) const {
    int64_t value = weights[flat];
    if (body.scalarZeroPoint)
      value -= *body.scalarZeroPoint;
    if (body.zeroPointOperand)
      value -= zeroPoints[channel];
    if (value < -128 || value > 127)
      return std::nullopt;
    return int8_t(value);
  }

  bool readConstants() {
    std::optional<SmallVector<int64_t>> weight =
        getConstantIntegers(op.getDpsInputs()[1], body.weightSigned);
    if (!weight)
      return false;
    weights = std::move(*weight);
    if (body.zeroPointOperand) {
      std::optional<SmallVector<int64_t>> points =
          getConstantIntegers(op.getDpsInputs()[2], /*isSigned=*/true);
      if (!points)
        return false;
      zeroPoints = std::move(*points);
    }
    return true;
  }

  /// quarc.qconv's generic: loops (n, g, f, y, c, i, j, x) by its maps;
  /// input [N, G, C, H, W] (padded), filter [G, F, C, KH, KW], output
  /// [N, G, F, OH, OW].
  LogicalResult packConvolution(OpBuilder &b) {
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    AffineMap inMap = maps[0], filterMap = maps[1], outMap = maps.back();
    if (op.getNumLoops() != 8 || outMap.getNumResults() != 5 ||
        !outMap.isProjectedPermutation() || filterMap.getNumResults() != 5 ||
        !filterMap.isProjectedPermutation() || inMap.getNumResults() != 5)
      return failure();
    unsigned n = outMap.getDimPosition(0), g = outMap.getDimPosition(1),
             f = outMap.getDimPosition(2), y = outMap.getDimPosition(3),
             x = outMap.getDimPosition(4), c = filterMap.getDimPosition(2),
             i = filterMap.getDimPosition(3), j = filterMap.getDimPosition(4);
    MLIRContext *ctx = op.getContext();
    auto dim = [&](unsigned d) { return getAffineDimExpr(d, ctx); };
    if (filterMap.getResult(0) != dim(g) || filterMap.getResult(1) != dim(f) ||
        inMap.getResult(0) != dim(n) || inMap.getResult(1) != dim(g) ||
        inMap.getResult(2) != dim(c))
      return failure();
    auto filterType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
    if (!filterType.hasStaticShape())
      return failure();
    int64_t groups = filterType.getDimSize(0), features = filterType.getDimSize(1),
            channels = filterType.getDimSize(2), kh = filterType.getDimSize(3),
            kw = filterType.getDimSize(4);
    // A depthwise convolution (one channel per group) would be three
    // quarters padding; two or three channels (an RGB image) pad to four.
    if (channels < 2 || !readConstants())
      return failure();
    // Groups of eight channels for usmmla (i8mm), when there are eight to
    // group (an RGB image keeps groups of four: usdot).
    int64_t group = target.hasInt8MatrixMultiply() && channels >= 8 ? 8 : 4;
    int64_t padded = llvm::alignTo(channels, group);

    // W'[g, f, c1, i, j, c0] = w[g, f, group c1 + c0, i, j] - zw[g, f]:
    // each output channel's weights in the order of the kernel's k steps.
    SmallVector<char> packed;
    packed.reserve(groups * features * kh * kw * padded);
    for (int64_t gi = 0; gi < groups; ++gi)
      for (int64_t fi = 0; fi < features; ++fi)
        for (int64_t c1 = 0; c1 < padded / group; ++c1)
          for (int64_t ii = 0; ii < kh; ++ii)
            for (int64_t ji = 0; ji < kw; ++ji)
              for (int64_t ci = group * c1; ci < group * (c1 + 1); ++ci) {
                if (ci >= channels) {
                  packed.push_back(0);
                  continue;
                }
                int64_t flat =
                    (((gi * features + fi) * channels + ci) * kh + ii) * kw +
                    ji;
                std::optional<int8_t> value =
                    centered(flat, gi * features + fi);
                if (!value)
                  return failure();
                packed.push_back(*value);
              }
    Location loc = op.getLoc();
    Value input = padDimTo(b, loc, op.getDpsInputs()[0], 2, padded);
    Value init = op.getDpsInits()[0];
    // A pointwise convolution (1x1, unit strides, no padding) reads its
    // input at its output's pixels: both are viewed as one row of H * W
    // pixels, so the kernel's tiles span whole rows of a small image (7 x 7
    // would otherwise give tiles 7 pixels wide).
    auto inputType = cast<RankedTensorType>(input.getType());
    auto initType = cast<RankedTensorType>(init.getType());
    bool pointwise =
        kh == 1 && kw == 1 && inputType.getShape().take_back(2) ==
                                  initType.getShape().take_back(2);
    for (auto [result, dim] : {std::pair{3u, y}, {4u, x}}) {
      SmallVector<AffineExpr> zeros(8, getAffineConstantExpr(0, ctx));
      zeros[dim] = getAffineDimExpr(0, ctx);
      pointwise = pointwise &&
                  simplifyAffineExpr(inMap.getResult(result).replaceDims(zeros),
                                     1, 0) == getAffineDimExpr(0, ctx);
    }
    if (pointwise && !initType.isDynamicDim(3) && !initType.isDynamicDim(4)) {
      input = flattenPixels(b, loc, input);
      init = flattenPixels(b, loc, init);
    }
    Type groupedInitType = init.getType();

    // Loops (n, g, f, y, i, j, c1, x, c0): the input's channel is group c1 +
    // c0. Without groups, g and the unit dims it indexes are left out, so that
    // the product writes the accumulators' own buffer (the kernel fuses the
    // bias and the requantization around it, which read that buffer).
    bool grouped = groups != 1;
    enum { N, G, F, Y, I, J, C1, X, C0, Loops };
    SmallVector<unsigned> position = {N, G, F, Y, I, J, C1, X, C0};
    if (!grouped)
      for (unsigned d = G + 1; d < Loops; ++d)
        --position[d];
    unsigned loops = grouped ? Loops : Loops - 1;
    auto loop = [&](unsigned d) { return dim(position[d]); };
    auto map = [&](std::initializer_list<unsigned> dims) {
      SmallVector<AffineExpr> exprs;
      for (unsigned d : dims)
        if (grouped || d != G)
          exprs.push_back(loop(d));
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> renamed(8, AffineExpr());
    renamed[n] = loop(N);
    renamed[g] = grouped ? loop(G) : getAffineConstantExpr(0, ctx);
    renamed[f] = loop(F);
    renamed[y] = loop(Y);
    renamed[i] = loop(I);
    renamed[j] = loop(J);
    renamed[x] = loop(X);
    renamed[c] = loop(C1) * group + loop(C0);
    AffineMap newIn = inMap.replaceDimsAndSymbols(renamed, {}, loops, 0);
    SmallVector<int64_t> filterShape = {groups, features, padded / group,
                                        kh,     kw,       group};
    // [N, 1, C, H, W] and [N, 1, F, OH, OW] without their unit group dim.
    SmallVector<ReassociationIndices> ungroup = {{0}, {1, 2}, {3}, {4}};
    if (!grouped) {
      newIn = newIn.dropResult(1);
      filterShape.erase(filterShape.begin());
      input = tensor::CollapseShapeOp::create(b, loc, input, ungroup);
      init = tensor::CollapseShapeOp::create(b, loc, init, ungroup);
    }
    if (shifted) {
      SmallVector<int64_t> channelDims =
          grouped ? SmallVector<int64_t>{1, 2} : SmallVector<int64_t>{1};
      init = addChannelConstant(
          b, loc, init, channelDims,
          getShiftCompensation(packed, kh * kw * padded, shift));
    }
    AffineMap newFilter = map({G, F, C1, I, J, C0});
    // Convolutions with a window, and pointwise ones on small images, take
    // the pixel-rows kernel: the filter in panels of `panelLanes` output
    // channels, [F/L, C4/4, KH, KW, L, 4], read at (f floordiv L, c1, i, j,
    // f mod L, c0). On vpmaddubsw targets only filters whose pairs fit i16
    // do (the kernel has no exact 16-bit path).
    auto outType = cast<RankedTensorType>(op.getDpsInits()[0].getType());
    // (Only vpmaddubsw's i16 pairs can saturate: other targets skip the
    // scan of every weight.)
    bool maddUbsw = target.int8Dot() == TargetInfo::Int8Dot::MaddUbsw;
    bool pairsFitI16 =
        maddUbsw && weightPairsFitI16(ArrayRef<int8_t>(
                        reinterpret_cast<const int8_t *>(packed.data()),
                        packed.size()));
    bool pixelRows = pixelRowsKernel && !grouped && group == 4 &&
                     features % panelLanes == 0 && !outType.isDynamicDim(3) &&
                     !outType.isDynamicDim(4);
    if (pixelRows) {
      int64_t pixels = outType.getDimSize(3) * outType.getDimSize(4);
      if (maddUbsw)
        pixelRows = pixels <= kPixelRowsMaxPixelsMaddUbsw && pairsFitI16;
      else
        pixelRows = kh * kw > 1 || pixels <= kPixelRowsMaxPointwisePixels;
    }
    if (pixelRows) {
      packed = toChannelPanels(packed, features, kh * kw, padded / 4,
                               panelLanes);
      filterShape = {features / panelLanes, padded / 4, kh, kw, panelLanes, 4};
      newFilter = AffineMap::get(
          loops, 0,
          {loop(F).floorDiv(panelLanes), loop(C1), loop(I), loop(J),
           loop(F) % panelLanes, loop(C0)},
          ctx);
    }
    // For vpmaddubsw targets, weights whose pairs could saturate i16 are
    // stored as i16, for the kernel's exact vpmaddwd path to broadcast as
    // they are (widening them in the kernel costs three shifts per weight
    // row and k step; the filter doubles, still half of f32's).
    Type weightType = b.getI8Type();
    if (!pixelRows && maddUbsw && !pairsFitI16) {
      packed = widenToWords(packed);
      weightType = b.getI16Type();
    }
    Value filter = createPackedConstant(
        b, loc, RankedTensorType::get(filterShape, weightType), packed);
    AffineMap newOut = map({N, G, F, Y, X});
    using utils::IteratorType;
    SmallVector<IteratorType> iterators(loops, IteratorType::parallel);
    for (unsigned d : {I, J, C1, C0})
      iterators[position[d]] = IteratorType::reduction;
    auto packedOp = linalg::GenericOp::create(
        b, loc, TypeRange{init.getType()}, ValueRange{input, filter}, init,
        ArrayRef<AffineMap>{newIn, newFilter, newOut}, iterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          buildPackedBody(nb, nl, args, body.inputExtension, shifted);
        });
    Value result = packedOp.getResult(0);
    if (!grouped)
      result = tensor::ExpandShapeOp::create(b, loc, groupedInitType, result,
                                             ungroup);
    if (result.getType() != op.getDpsInits()[0].getType())
      result = unflattenPixels(b, loc, result, initType);
    op->replaceAllUsesWith(ValueRange{result});
    return success();
  }

  /// A depthwise quarc.qconv (one input and one output channel per group)
  /// as the integer form quarc-vectorize-depthwise takes: input [N, C, H,
  /// W], filter [C, KH, KW] (centered s8), output [N, C, OH, OW], loops
  /// (n, c, y, x, i, j).
  LogicalResult packDepthwise(OpBuilder &b) {
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    AffineMap inMap = maps[0], filterMap = maps[1], outMap = maps.back();
    if (op.getNumLoops() != 8 || op.getNumDpsInputs() != 2 ||
        outMap.getNumResults() != 5 || !outMap.isProjectedPermutation() ||
        filterMap.getNumResults() != 5 || !filterMap.isProjectedPermutation() ||
        inMap.getNumResults() != 5)
      return failure();
    auto filterType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
    if (!filterType.hasStaticShape() || filterType.getDimSize(1) != 1 ||
        filterType.getDimSize(2) != 1 || body.zeroPointOperand ||
        !readConstants())
      return failure();
    unsigned n = outMap.getDimPosition(0), g = outMap.getDimPosition(1),
             y = outMap.getDimPosition(3), x = outMap.getDimPosition(4),
             c = filterMap.getDimPosition(2), i = filterMap.getDimPosition(3),
             j = filterMap.getDimPosition(4);
    MLIRContext *ctx = op.getContext();
    auto dim = [&](unsigned d) { return getAffineDimExpr(d, ctx); };
    if (inMap.getResult(0) != dim(n) || inMap.getResult(1) != dim(g) ||
        inMap.getResult(2) != dim(c))
      return failure();
    // The filter as [C, KH, KW] s8; for the kernel that takes four taps per
    // step, its rows padded with zeros to a multiple of four taps, [C, KH,
    // KW4], and for the kernel that takes two, sign-extended to i16 with
    // rows of an even number of taps, [C, KH, KW2] (each pair of weights one
    // i32 word). The product reads the first KW of a padded row (a slice:
    // the kernel reads the whole quads or pairs of the padded constant).
    int64_t channels = filterType.getDimSize(0);
    int64_t kh = filterType.getDimSize(3), kw = filterType.getDimSize(4);
    std::optional<std::pair<int64_t, int64_t>> columnWindow =
        matchWindowIndex(inMap.getResult(4), x, j, op.getNumLoops());
    bool quads = columnWindow &&
                 hasDepthwiseQuadKernel(target, kw, columnWindow->first,
                                        columnWindow->second);
    bool pairs = columnWindow &&
                 hasDepthwisePairKernel(target, kw, columnWindow->first,
                                        columnWindow->second);
    int64_t rowLength = quads   ? llvm::alignTo(kw, 4)
                        : pairs ? llvm::alignTo(kw, 2)
                                : kw;
    SmallVector<char> packed(channels * kh * rowLength, 0);
    for (int64_t index = 0; index < int64_t(weights.size()); ++index) {
      std::optional<int8_t> value = centered(index, 0);
      if (!value)
        return failure();
      packed[index / kw * rowLength + index % kw] = *value;
    }
    Type element = b.getI8Type();
    if (pairs) {
      packed = widenToWords(packed);
      element = b.getI16Type();
    }
    Location loc = op.getLoc();
    Value filter = createPackedConstant(
        b, loc, RankedTensorType::get({channels, kh, rowLength}, element),
        packed);
    if (rowLength != kw) {
      SmallVector<OpFoldResult> zeros(3, b.getIndexAttr(0)),
          ones(3, b.getIndexAttr(1)),
          sizes = {b.getIndexAttr(channels), b.getIndexAttr(kh),
                   b.getIndexAttr(kw)};
      filter = tensor::ExtractSliceOp::create(b, loc, filter, zeros, sizes,
                                              ones);
    }
    // [N, C, 1, H, W] <-> [N, C, H, W].
    SmallVector<ReassociationIndices> unitChannel = {{0}, {1, 2}, {3}, {4}};
    Value input = tensor::CollapseShapeOp::create(b, loc, op.getDpsInputs()[0],
                                                  unitChannel);
    Value init = op.getDpsInits()[0];
    Value flatInit = tensor::CollapseShapeOp::create(b, loc, init, unitChannel);

    enum { N, C, Y, X, I, J, Loops };
    SmallVector<AffineExpr> renamed(8, getAffineConstantExpr(0, ctx));
    renamed[n] = dim(N);
    renamed[g] = dim(C);
    renamed[y] = dim(Y);
    renamed[x] = dim(X);
    renamed[i] = dim(I);
    renamed[j] = dim(J);
    AffineMap spatial = inMap.replaceDimsAndSymbols(renamed, {}, Loops, 0);
    AffineMap newIn = AffineMap::get(
        Loops, 0,
        {dim(N), dim(C), spatial.getResult(3), spatial.getResult(4)}, ctx);
    AffineMap newFilter = AffineMap::get(Loops, 0, {dim(C), dim(I), dim(J)}, ctx);
    AffineMap newOut =
        AffineMap::get(Loops, 0, {dim(N), dim(C), dim(Y), dim(X)}, ctx);
    using utils::IteratorType;
    SmallVector<IteratorType> iterators(Loops, IteratorType::parallel);
    iterators[I] = iterators[J] = IteratorType::reduction;
    auto depthwise = linalg::GenericOp::create(
        b, loc, TypeRange{flatInit.getType()}, ValueRange{input, filter},
        flatInit, ArrayRef<AffineMap>{newIn, newFilter, newOut}, iterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          buildPackedBody(nb, nl, args, body.inputExtension);
        });
    Value result = tensor::ExpandShapeOp::create(
        b, loc, init.getType(), depthwise.getResult(0), unitChannel);
    op->replaceAllUsesWith(ValueRange{result});
    return success();
  }

  /// quarc.qmatmul's generic: loops (batch..., m, k, n); a [.., M, K],
  /// the weight [K, N] shared by the batch, the output [.., M, N].
  LogicalResult packMatMul(OpBuilder &b) {
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    AffineMap aMap = maps[0], wMap = maps[1], outMap = maps.back();
    unsigned loops = op.getNumLoops();
    if (loops < 3 || wMap.getNumResults() != 2 ||
        !wMap.isProjectedPermutation() || !aMap.isProjectedPermutation() ||
        !outMap.isProjectedPermutation() ||
        aMap.getNumResults() != loops - 1 ||
        outMap.getNumResults() != loops - 1)
      return failure();
    unsigned k = wMap.getDimPosition(0), n = wMap.getDimPosition(1);
    unsigned m = loops - 3;
    if (k != loops - 2 || n != loops - 1 || aMap.getDimPosition(loops - 2) != k ||
        aMap.getDimPosition(loops - 3) != m ||
        outMap.getDimPosition(loops - 3) != m ||
        outMap.getDimPosition(loops - 2) != n ||
        op.getNumReductionLoops() != 1 ||
        op.getIteratorTypesArray()[k] != utils::IteratorType::reduction)
      return failure();
    for (unsigned d = 0; d < m; ++d)
      if (aMap.getDimPosition(d) != d || outMap.getDimPosition(d) != d)
        return failure();
    auto wType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
    if (!wType.hasStaticShape())
      return failure();
    int64_t depth = wType.getDimSize(0), columns = wType.getDimSize(1);
    // Panels as wide as a vector register of i32 lanes, or a half or a
    // quarter of one, whichever divides the columns.
    int64_t width = panelLanes;
    while (width > 4 && columns % width != 0)
      width /= 2;
    // Columns that no panel width divides (6625 classes) are padded to
    // whole panels of zero weights; C too, and its first N columns are the
    // result.
    if (columns % width != 0)
      width = panelLanes;
    int64_t paddedColumns = llvm::alignTo(columns, width);
    if (!readConstants())
      return failure();
    auto aType = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
    int64_t rank = aType.getRank();
    int64_t group =
        target.hasInt8MatrixMultiply() && aType.getDimSize(rank - 2) != 1 ? 8
                                                                          : 4;
    int64_t padded = llvm::alignTo(depth, group);

    // W'[n1, k1, n0, k0] = w[group k1 + k0, n0 + width n1] - zw[n].
    SmallVector<char> packed;
    packed.reserve(padded * paddedColumns);
    for (int64_t n1 = 0; n1 < paddedColumns / width; ++n1)
      for (int64_t k1 = 0; k1 < padded / group; ++k1)
        for (int64_t n0 = 0; n0 < width; ++n0)
          for (int64_t k0 = 0; k0 < group; ++k0) {
            int64_t row = group * k1 + k0, column = n1 * width + n0;
            if (row >= depth || column >= columns) {
              packed.push_back(0);
              continue;
            }
            std::optional<int8_t> value = centered(row * columns + column, column);
            if (!value)
              return failure();
            packed.push_back(*value);
          }
    Location loc = op.getLoc();
    auto packedType = RankedTensorType::get(
        {paddedColumns / width, padded / group, width, group}, b.getI8Type());
    Value weight = createPackedConstant(b, loc, packedType, packed);

    // a [.., M, K'] viewed as [.., M, K'/group, group]; C [.., M, N] as
    // [.., M, N/n0, n0].
    Value a = op.getDpsInputs()[0];
    a = padDimTo(b, loc, a, rank - 1, padded);
    auto split = [&](Value value, int64_t outer, int64_t inner) -> Value {
      auto type = cast<RankedTensorType>(value.getType());
      SmallVector<int64_t> shape(type.getShape().drop_back());
      shape.append({outer, inner});
      SmallVector<ReassociationIndices> groups;
      for (int64_t d = 0; d < rank - 1; ++d)
        groups.push_back({d});
      groups.push_back({rank - 1, rank});
      return tensor::ExpandShapeOp::create(b, loc, type.clone(shape), value,
                                           groups);
    };
    Value packedA = split(a, padded / group, group);
    Value init = op.getDpsInits()[0];
    Value paddedInit = padDimTo(b, loc, init, rank - 1, paddedColumns);
    if (shifted) {
      // Per column n = n1 * width + n0: the sum over [n1, :, n0, :].
      SmallVector<int32_t> sums(paddedColumns, 0);
      int64_t groups = padded / group;
      for (int64_t n1 = 0; n1 < paddedColumns / width; ++n1)
        for (int64_t k1 = 0; k1 < groups; ++k1)
          for (int64_t n0 = 0; n0 < width; ++n0)
            for (int64_t k0 = 0; k0 < group; ++k0)
              sums[n1 * width + n0] +=
                  shift *
                  int8_t(
                      packed[((n1 * groups + k1) * width + n0) * group + k0]);
      paddedInit = addChannelConstant(b, loc, paddedInit, {rank - 1}, sums);
    }
    Value packedInit = split(paddedInit, paddedColumns / width, width);

    // Loops (batch..., m, n1, k1, n0, k0).
    MLIRContext *ctx = op.getContext();
    unsigned newLoops = loops + 2;
    SmallVector<AffineExpr> prefix;
    for (unsigned d = 0; d <= m; ++d)
      prefix.push_back(getAffineDimExpr(d, ctx));
    AffineExpr n1 = getAffineDimExpr(m + 1, ctx), k1 = getAffineDimExpr(m + 2, ctx),
               n0 = getAffineDimExpr(m + 3, ctx), k0 = getAffineDimExpr(m + 4, ctx);
    auto withPrefix = [&](std::initializer_list<AffineExpr> tail) {
      SmallVector<AffineExpr> exprs = prefix;
      exprs.append(tail.begin(), tail.end());
      return AffineMap::get(newLoops, 0, exprs, ctx);
    };
    SmallVector<AffineMap> newMaps = {
        withPrefix({k1, k0}), AffineMap::get(newLoops, 0, {n1, k1, n0, k0}, ctx),
        withPrefix({n1, n0})};
    using utils::IteratorType;
    SmallVector<IteratorType> iterators(newLoops, IteratorType::parallel);
    iterators[m + 2] = iterators[m + 4] = IteratorType::reduction;
    auto packedOp = linalg::GenericOp::create(
        b, loc, TypeRange{packedInit.getType()}, ValueRange{packedA, weight},
        packedInit, newMaps, iterators,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          buildPackedBody(nb, nl, args, body.inputExtension, shifted);
        });
    SmallVector<ReassociationIndices> groups;
    for (int64_t d = 0; d < rank - 1; ++d)
      groups.push_back({d});
    groups.push_back({rank - 1, rank});
    auto initType = cast<RankedTensorType>(init.getType());
    SmallVector<int64_t> paddedShape(initType.getShape());
    paddedShape.back() = paddedColumns;
    Value result = tensor::CollapseShapeOp::create(
        b, loc, initType.clone(paddedShape), packedOp.getResult(0), groups);
    if (paddedColumns != columns) {
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
      SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
      result = tensor::ExtractSliceOp::create(
          b, loc, initType, result, offsets,
          tensor::getMixedSizes(b, loc, init), strides);
    }
    op->replaceAllUsesWith(ValueRange{result});
    return success();
  }

private:
  linalg::GenericOp op;
  const ProductBody &body;
  const TargetInfo &target;
  int64_t panelLanes;
  bool pixelRowsKernel; // the target has the pixel-rows convolution kernel
  bool shifted;
  int32_t shift; // x - shift is what enters the products when shifted
  SmallVector<int64_t> weights, zeroPoints;
};

struct QuarcPackIntegerWeights
    : impl::QuarcPackIntegerWeightsBase<QuarcPackIntegerWeights> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *context) override {
    return parsePassTarget(target, context, parsed);
  }

  void runOnOperation() override {
    // Without an integer kernel, the padding would only cost.
    if (parsed.int8Dot() == TargetInfo::Int8Dot::None)
      return;
    int64_t lanes = parsed.vectorBits() / 32;
    SmallVector<linalg::GenericOp> candidates;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.getNumDpsInits() == 1 && op.getNumDpsInputs() >= 2 &&
          isI8Tensor(op.getDpsInputs()[0]) && isI8Tensor(op.getDpsInputs()[1]) &&
          op.getResultTypes().size() == 1 &&
          cast<RankedTensorType>(op.getResultTypes()[0])
              .getElementType()
              .isInteger(32))
        candidates.push_back(op);
    });
    for (linalg::GenericOp op : candidates) {
      std::optional<ProductBody> body = matchProductBody(op);
      if (!body)
        continue;
      OpBuilder b(op);
      Packer packer(op, *body, lanes,
                    parsed.int8Dot() == TargetInfo::Int8Dot::NeonSdot, parsed);
      if (succeeded(packer.packConvolution(b)) ||
          succeeded(packer.packDepthwise(b)) ||
          succeeded(packer.packMatMul(b)))
        op->erase();
    }
  }

  TargetInfo parsed;
};

} // namespace
} // namespace mlir::quarc
