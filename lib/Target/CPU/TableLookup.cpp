//===- TableLookup.cpp - 256-entry byte tables looked up in registers -----===//

#include "TableLookup.h"
#include "VectorCodegen.h"
#include "quarc/Dialect/Quarc/Transforms/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::quarc {
namespace {

/// A vector<lanes x i8> constant: `bytes` repeated to fill it.
Value byteConstant(OpBuilder &b, Location loc, int64_t lanes,
                   ArrayRef<uint8_t> bytes) {
  auto type = VectorType::get({lanes}, b.getI8Type());
  SmallVector<int8_t> values;
  for (int64_t i = 0; i < lanes; ++i)
    values.push_back(int8_t(bytes[i % bytes.size()]));
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, ArrayRef(values)));
}

Value splatByte(OpBuilder &b, Location loc, int64_t lanes, uint8_t value) {
  return byteConstant(b, loc, lanes, {value});
}

/// Where the index byte has its top bit set (x >= 128 unsigned).
Value isUpperHalf(OpBuilder &b, Location loc, Value indices, int64_t lanes) {
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, indices,
                               splatByte(b, loc, lanes, 0));
}

/// AVX-512 VBMI: each half of the table in two registers, `vpermi2b`
/// reading the index's low 7 bits.
Value lookUpWithPermutes(OpBuilder &b, Location loc, const ByteTable &table,
                         Value indices) {
  constexpr int64_t lanes = 64;
  Type type = indices.getType();
  auto quarter = [&](int q) {
    return byteConstant(b, loc, lanes, ArrayRef(table).slice(q * lanes, lanes));
  };
  auto half = [&](int h) {
    return callIntrinsic(b, loc, type, "llvm.x86.avx512.vpermi2var.qi.512",
                         {quarter(2 * h), indices, quarter(2 * h + 1)});
  };
  // (Built in sequence: the order of a call's arguments is unspecified.)
  Value lower = half(0);
  Value upper = half(1);
  Value isUpper = isUpperHalf(b, loc, indices, lanes);
  return arith::SelectOp::create(b, loc, isUpper, upper, lower);
}

/// SSSE3 / AVX2 / AVX-512BW: up to eight `pshufb` per half of the table
/// (see the header for why the XOR of their results is the entry). A row
/// equal to the one before it XORs to zeros and is left out; a half's first
/// row that holds one value is that value, splat, with no shuffle (an
/// activation's flat stretches, as HardSwish's below -3, cost nothing).
Value lookUpWithShuffles(OpBuilder &b, Location loc, const ByteTable &table,
                         Value indices, int64_t lanes) {
  const char *name = lanes == 64   ? "llvm.x86.avx512.pshuf.b.512"
                     : lanes == 32 ? "llvm.x86.avx2.pshuf.b"
                                   : "llvm.x86.ssse3.pshuf.b.128";
  Type type = indices.getType();
  auto lookUpHalf = [&](unsigned half, Value x) {
    Value sum;
    auto accumulate = [&](Value part) {
      sum = sum ? arith::XOrIOp::create(b, loc, sum, part).getResult() : part;
    };
    for (unsigned row = 0; row < 8; ++row) {
      std::array<uint8_t, 16> entries;
      for (unsigned l = 0; l < 16; ++l) {
        unsigned at = 128 * half + 16 * row + l;
        entries[l] = table[at] ^ (row > 0 ? table[at - 16] : 0);
      }
      bool isSplat = llvm::all_equal(entries);
      if (row > 0 && isSplat && entries[0] == 0)
        continue;
      if (row == 0 && isSplat) {
        accumulate(splatByte(b, loc, lanes, entries[0]));
        continue;
      }
      Value index = x;
      if (row > 0)
        index = arith::SubIOp::create(b, loc, x,
                                      splatByte(b, loc, lanes, 16 * row));
      Value rowEntries = byteConstant(b, loc, lanes, entries);
      accumulate(callIntrinsic(b, loc, type, name, {rowEntries, index}));
    }
    return sum;
  };
  Value lower = lookUpHalf(0, indices);
  Value flipped =
      arith::XOrIOp::create(b, loc, indices, splatByte(b, loc, lanes, 0x80));
  Value upper = lookUpHalf(1, flipped);
  Value isUpper = isUpperHalf(b, loc, indices, lanes);
  return arith::SelectOp::create(b, loc, isUpper, upper, lower);
}

/// NEON: `tbl` over the first 64 entries, `tbx` over each next 64.
Value lookUpWithTbl(OpBuilder &b, Location loc, const ByteTable &table,
                    Value indices) {
  constexpr int64_t lanes = 16;
  Type type = indices.getType();
  Value result;
  for (unsigned quarter = 0; quarter < 4; ++quarter) {
    SmallVector<Value> args;
    if (result)
      args.push_back(result);
    for (unsigned r = 0; r < 4; ++r)
      args.push_back(byteConstant(
          b, loc, lanes, ArrayRef(table).slice(64 * quarter + 16 * r, 16)));
    Value index = indices;
    if (quarter > 0)
      index = arith::SubIOp::create(b, loc, indices,
                                    splatByte(b, loc, lanes, 64 * quarter));
    args.push_back(index);
    result = callIntrinsic(b, loc, type,
                           result ? "llvm.aarch64.neon.tbx4.v16i8"
                                  : "llvm.aarch64.neon.tbl4.v16i8",
                           args);
  }
  return result;
}

/// Whether `value` is a tensor or buffer of bytes.
bool holdsBytes(Value value) {
  auto type = dyn_cast<ShapedType>(value.getType());
  return type && type.getElementType().isInteger(8);
}

/// Whether `map` reads `operand` elementwise: dim i at result i, or 0 for a
/// dim of size 1 (how quarc's lowerings write a unit batch dim).
bool isElementwiseMap(AffineMap map, Value operand) {
  auto type = cast<ShapedType>(operand.getType());
  if (map.getNumResults() != map.getNumDims() ||
      map.getNumResults() != unsigned(type.getRank()))
    return false;
  for (auto [i, result] : llvm::enumerate(map.getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(result);
    auto constant = dyn_cast<AffineConstantExpr>(result);
    bool readsDim = dim && dim.getPosition() == i;
    bool readsUnitDim =
        constant && constant.getValue() == 0 && type.getDimSize(i) == 1;
    if (!readsDim && !readsUnitDim)
      return false;
  }
  return true;
}

/// The bytes of a constant table: a constant tensor (before
/// bufferization) or a constant global (after).
std::optional<SmallVector<int8_t>> getTableBytes(Value table) {
  if (!holdsBytes(table))
    return std::nullopt;
  if (table.getDefiningOp<memref::GetGlobalOp>())
    return getGlobalBytes(table);
  ElementsAttr data;
  auto type = dyn_cast<RankedTensorType>(table.getType());
  if (!type || !matchPattern(table, m_Constant(&data)))
    return std::nullopt;
  std::optional<SmallVector<char>> bytes = getElementsBytes(data, type);
  if (!bytes)
    return std::nullopt;
  return SmallVector<int8_t>(bytes->begin(), bytes->end());
}

/// The bits of `value` (computed from the block argument `byte` by
/// extensions, additions and subtractions of constants, and an index cast,
/// each at its own width as the hardware does it) when `byte` holds
/// `bits`; nullopt for anything else.
std::optional<APInt> evaluateIndex(Value value, BlockArgument byte,
                                   uint8_t bits) {
  if (value == byte)
    return APInt(8, bits);
  Operation *op = value.getDefiningOp();
  if (!op || op->getNumOperands() == 0)
    return std::nullopt;
  std::optional<APInt> operand = evaluateIndex(op->getOperand(0), byte, bits);
  if (!operand)
    return std::nullopt;
  unsigned width = isa<IndexType>(value.getType())
                       ? 64
                       : value.getType().getIntOrFloatBitWidth();
  if (isa<arith::ExtUIOp, arith::IndexCastUIOp>(op))
    return operand->zextOrTrunc(width);
  if (isa<arith::ExtSIOp, arith::IndexCastOp>(op))
    return operand->sextOrTrunc(width);
  if (isa<arith::AddIOp, arith::SubIOp>(op)) {
    APInt constant;
    if (!matchPattern(op->getOperand(1), m_ConstantInt(&constant)))
      return std::nullopt;
    return isa<arith::AddIOp>(op) ? *operand + constant : *operand - constant;
  }
  return std::nullopt;
}

} // namespace

std::optional<ByteTable> matchTableLookup(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumParallelLoops() != op.getNumLoops())
    return std::nullopt;
  Value input = op.getDpsInputs()[0], output = op.getDpsInits()[0];
  if (!holdsBytes(input) || !holdsBytes(output) ||
      cast<ShapedType>(input.getType()).getShape() !=
          cast<ShapedType>(output.getType()).getShape() ||
      !isElementwiseMap(op.getIndexingMapsArray()[0], input) ||
      !isElementwiseMap(op.getIndexingMapsArray()[1], output))
    return std::nullopt;
  Block &body = op.getRegion().front();
  Value looked = cast<linalg::YieldOp>(body.getTerminator()).getValues()[0];
  Operation *read = looked.getDefiningOp();
  if (!read || read->getBlock() != &body)
    return std::nullopt;
  Value table, index;
  if (auto extract = dyn_cast<tensor::ExtractOp>(read)) {
    table = extract.getTensor();
    if (extract.getIndices().size() == 1)
      index = extract.getIndices()[0];
  } else if (auto load = dyn_cast<memref::LoadOp>(read)) {
    table = load.getMemRef();
    if (load.getIndices().size() == 1)
      index = load.getIndices()[0];
  }
  if (!index)
    return std::nullopt;
  // Nothing else in the body: the index's arithmetic and the read.
  for (Operation &nested : body.without_terminator())
    if (&nested != read &&
        !isa<arith::ExtUIOp, arith::ExtSIOp, arith::AddIOp, arith::SubIOp,
             arith::IndexCastOp, arith::IndexCastUIOp, arith::ConstantOp>(
            nested))
      return std::nullopt;
  std::optional<SmallVector<int8_t>> entries = getTableBytes(table);
  if (!entries)
    return std::nullopt;
  ByteTable result;
  for (unsigned bits = 0; bits < 256; ++bits) {
    std::optional<APInt> at = evaluateIndex(index, body.getArgument(0), bits);
    if (!at || at->isNegative() ||
        at->getSExtValue() >= int64_t(entries->size()))
      return std::nullopt;
    result[bits] = uint8_t((*entries)[at->getSExtValue()]);
  }
  return result;
}

int64_t byteTableLookupLanes(const TargetInfo &target) {
  return target.vectorBits() / 8;
}

Value buildByteTableLookup(OpBuilder &b, Location loc,
                           const TargetInfo &target, const ByteTable &table,
                           Value indices) {
  if (target.arch == "aarch64")
    return lookUpWithTbl(b, loc, table, indices);
  if (target.has("avx512vbmi"))
    return lookUpWithPermutes(b, loc, table, indices);
  return lookUpWithShuffles(b, loc, table, indices,
                            byteTableLookupLanes(target));
}

} // namespace mlir::quarc
