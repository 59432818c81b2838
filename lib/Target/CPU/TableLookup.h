//===- TableLookup.h - 256-entry byte tables looked up in registers -*- C++ -*-===//
//
// An 8-bit activation function (quarc.lut) is a table of 256 bytes indexed
// by the stored input byte. A scalar loop does a load, a dependent load and
// a store per byte; vector byte shuffles look up a whole register at once:
//
// - AVX-512 VBMI: `vpermi2b` selects among 128 bytes held in two registers,
//   so two of them and a blend on the index's top bit cover the table;
// - SSSE3, AVX2, AVX-512BW: `pshufb` selects among 16 bytes (per 128-bit
//   lane) and gives 0 where the index byte has its top bit set. Each half of
//   the table takes eight of them, one per 16-byte row t, at index x - 16t:
//   for rows t <= x's row the index stays in [0, 128) and reads row t, for
//   rows above it wraps past 128 and reads 0. With row t's entries stored
//   XORed with row t - 1's, the XOR of the eight results is x's own entry
//   (the earlier rows cancel). A blend on x's top bit picks the half. Rows
//   equal to the row before them are left out (their XOR is zero);
// - NEON: `tbl` with four registers reads 64 entries (0 past them), `tbx`
//   the next 64 at x - 64, x - 128 and x - 192 (leaving other lanes alone).
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_LIB_TARGET_CPU_TABLELOOKUP_H
#define QUARC_LIB_TARGET_CPU_TABLELOOKUP_H

#include "quarc/Target/TargetInfo.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <array>

namespace mlir::quarc {

using ByteTable = std::array<uint8_t, 256>;

/// The table of an elementwise generic whose body reads a constant table of
/// bytes at an index computed from its one byte input (quarc.lut's
/// lowering, on tensors or on buffers): the table re-indexed by the
/// input's bits, so that its zero point and signedness are folded in.
std::optional<ByteTable> matchTableLookup(linalg::GenericOp op);

/// How many bytes `target` looks up in one step: a 512-bit register with
/// AVX-512, 256 bits with AVX2, 128 with SSSE3 (any x86-64 target here) and
/// NEON.
int64_t byteTableLookupLanes(const TargetInfo &target);

/// `table[x]` for every byte x of `indices`, a vector<byteTableLookupLanes
/// x i8> (its bytes taken as unsigned), with the table's constants in
/// registers.
Value buildByteTableLookup(OpBuilder &b, Location loc,
                           const TargetInfo &target, const ByteTable &table,
                           Value indices);

} // namespace mlir::quarc

#endif // QUARC_LIB_TARGET_CPU_TABLELOOKUP_H
