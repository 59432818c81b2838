// The pipeline's `target` option picks the kernels' register tiles, as
// `quarc compile --target` does: 8-lane FMAs for AVX2, 16-lane for
// AVX-512, 4-lane for AArch64 NEON. An unknown target is an error that
// lists the known ones.
// RUN: quarc-opt %S/Inputs/matmul.mlir --quarc-compile-to-llvm='target=x86_64+avx2' | FileCheck %s --check-prefix=AVX2
// RUN: quarc-opt %S/Inputs/matmul.mlir --quarc-compile-to-llvm='target=x86_64+avx512f' | FileCheck %s --check-prefix=AVX512
// RUN: quarc-opt %S/Inputs/matmul.mlir --quarc-compile-to-llvm='target=aarch64' | FileCheck %s --check-prefix=NEON
// RUN: not quarc-opt %S/Inputs/matmul.mlir --quarc-compile-to-llvm='target=mips' 2>&1 | FileCheck %s --check-prefix=BAD

// AVX2: llvm.func @main_graph
// AVX2: llvm.intr.fmuladd({{.+}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// AVX2-NOT: vector<16xf32>

// AVX512: llvm.func @main_graph
// AVX512: llvm.intr.fmuladd({{.+}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>

// NEON: llvm.func @main_graph
// NEON: llvm.intr.fmuladd({{.+}}) : (vector<4xf32>, vector<4xf32>, vector<4xf32>) -> vector<4xf32>
// NEON-NOT: vector<8xf32>

// BAD: unknown target architecture 'mips'; known targets: host (detected), x86_64
