//===- TargetInfo.h - what quarc knows about a compilation target -*- C++ -*-===//
//
// A target is data: an architecture, the CPU features code may use, and
// what the code generator derives from them (LLVM triple and feature
// string, vector width). It is named on the command line as
// `<arch>[+feature...]`, e.g. `x86_64+avx2` or `aarch64+i8mm`, or `host`.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_TARGET_TARGETINFO_H
#define QUARC_TARGET_TARGETINFO_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include <string>

namespace mlir::quarc {

struct TargetInfo {
  /// "x86_64" or "aarch64".
  std::string arch;
  /// quarc feature names, implied ones included, sorted: e.g. {"avx2"}.
  llvm::SmallVector<std::string> features;
  /// LLVM CPU name: the host's for `host`, a generic one otherwise.
  std::string cpu;

  /// Parses `host`, `x86_64`, `x86_64+avx2`, `aarch64+dotprod+i8mm`, ...
  /// On failure `error` lists the known architectures and features.
  static bool parse(llvm::StringRef spec, TargetInfo &target,
                    std::string &error);
  /// The machine quarc runs on, with the features it detects.
  static TargetInfo host();

  bool has(llvm::StringRef feature) const;
  /// Canonical name, e.g. "x86_64+avx2+fma".
  std::string name() const;
  /// LLVM target triple, e.g. "x86_64-unknown-linux-gnu".
  std::string triple() const;
  /// LLVM subtarget features, e.g. "+avx2,+fma,+avx".
  std::string llvmFeatures() const;
  /// Widest vector register in bits (128 for NEON and SSE, 256 for AVX2,
  /// 512 for AVX-512).
  unsigned vectorBits() const;
  /// Architectural vector registers: 16 for SSE/AVX2, 32 for AVX-512 and
  /// NEON.
  unsigned vectorRegisters() const;
  /// Whether vector fused multiply-add is native (AVX2's FMA3 on x86, always
  /// on AArch64). Without it an fma would become a libm call per element.
  bool hasVectorFMA() const;
  /// The f32 matmul microkernel's register tile: `rows` rows of C, each
  /// `columns` elements (a whole number of vector registers) wide, chosen
  /// so that the accumulators, one row of B and one broadcast fit in the
  /// vector registers.
  struct RegisterTile {
    unsigned rows;
    unsigned columns;
  };
  RegisterTile f32MatmulTile() const;
  /// The tile for a product with only `rows` rows (fewer than the default
  /// tile's, e.g. a batch-1 matmul or a recurrent layer's step): the
  /// registers of the missing rows hold more columns instead, so that
  /// enough independent accumulators still hide the FMA latency.
  RegisterTile f32MatmulTile(unsigned rows) const;
  /// How the integer kernels multiply u8 by s8 and sum groups of four
  /// products along k into i32 lanes: AVX-512 VNNI's `vpdpbusd`, or
  /// `vpmaddubsw` (pairs into i16, which saturates) then `vpmaddwd` (pairs
  /// of those into i32) on AVX2 and AVX-512 without VNNI; on AArch64,
  /// i8mm's `usdot` (u8 x s8), or dotprod's `sdot` (s8 x s8: the u8
  /// activations are shifted by -128 and the products' sum compensated).
  /// None elsewhere: the integer products stay generic loops.
  enum class Int8Dot { None, VNNI, MaddUbsw, NeonUsdot, NeonSdot };
  Int8Dot int8Dot() const;
  /// Whether the target multiplies 2 x 8 blocks of u8 by 8 x 2 blocks of
  /// s8 into 2 x 2 blocks of i32 in one instruction (AArch64 i8mm's
  /// `usmmla`: twice the products of a `usdot`), which the integer matrix
  /// products use for their k steps (weights packed in groups of eight k).
  bool hasInt8MatrixMultiply() const;
  /// The integer kernels' register tile: `rows` rows of i32 accumulators,
  /// each `columns` lanes (a whole number of vector registers) wide,
  /// leaving registers for one vector of packed k groups per column
  /// vector, the broadcast and the temporaries of the target's dot.
  RegisterTile int8MatmulTile() const;
  /// Whether code for this target can run on the machine quarc runs on.
  bool runsOnHost() const;
};

/// Known architectures and their features, for --help and errors.
std::string describeKnownTargets();

} // namespace mlir::quarc

#endif // QUARC_TARGET_TARGETINFO_H
