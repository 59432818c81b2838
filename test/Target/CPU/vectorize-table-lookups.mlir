// RUN: quarc-opt %s -split-input-file --quarc-vectorize-table-lookups=target=x86_64 | FileCheck %s --check-prefixes=CHECK,SSE
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-table-lookups=target=x86_64+avx2 | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-table-lookups=target=x86_64+avx512f | FileCheck %s --check-prefixes=CHECK,AVX512
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-table-lookups=target=x86_64+avx512vbmi | FileCheck %s --check-prefixes=CHECK,VBMI
// RUN: quarc-opt %s -split-input-file --quarc-vectorize-table-lookups=target=aarch64 | FileCheck %s --check-prefixes=CHECK,NEON

// A u8 lookup (quarc.lut's lowering, unit batch dim read at 0) over 100
// bytes: a parallel loop over registers of 16 (SSE, NEON), 32 (AVX2) or 64
// (AVX-512) bytes, the last one partial. The table is the identity, so the
// constants can be checked by hand. pshufb: row 0 holds entries 0..15, row
// t > 0 entries 16t + l XOR 16(t - 1) + l (16, 48, 16, 112, ... for every
// l), read at x - 16t; the upper half reads x ^ 0x80, and the top bit of x
// picks the half. vpermi2b reads 64-byte quarters. On AArch64, tbl, then tbx at
// x - 64, x - 128, x - 192.

memref.global "private" constant @identity : memref<256xi8> = dense<"0x000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF">
// CHECK-LABEL: func.func @u8_lookup
// CHECK-SAME: (%[[X:.*]]: memref<1x2x50xi8>, %[[Y:.*]]: memref<1x2x50xi8>)
// CHECK-DAG: %[[XF:.*]] = memref.collapse_shape %[[X]] {{\[}}[0, 1, 2]] : memref<1x2x50xi8> into memref<100xi8>
// CHECK-DAG: %[[YF:.*]] = memref.collapse_shape %[[Y]] {{\[}}[0, 1, 2]] : memref<1x2x50xi8> into memref<100xi8>
// SSE: scf.parallel (%{{.*}}) = (%c0) to (%c7) step (%c1)
// AVX2: scf.parallel (%{{.*}}) = (%c0) to (%c4) step (%c1)
// AVX512: scf.parallel (%{{.*}}) = (%c0) to (%c2) step (%c1)
// VBMI: scf.parallel (%{{.*}}) = (%c0) to (%c2) step (%c1)
// NEON: scf.parallel (%{{.*}}) = (%c0) to (%c7) step (%c1)
// CHECK: scf.if
// SSE: %[[V:.*]] = vector.load %[[XF]][%{{.*}}] : memref<100xi8>, vector<16xi8>
// SSE: %[[R0:.*]] = llvm.call_intrinsic "llvm.x86.ssse3.pshuf.b.128"(%{{.*}}, %[[V]])
// SSE: arith.constant dense<16> : vector<16xi8>
// SSE: %[[I1:.*]] = arith.subi %[[V]], %{{.*}} : vector<16xi8>
// SSE: llvm.call_intrinsic "llvm.x86.ssse3.pshuf.b.128"(%{{.*}}, %[[I1]])
// SSE: arith.xori %[[R0]]
// SSE: arith.constant dense<32> : vector<16xi8>
// SSE: arith.constant dense<48> : vector<16xi8>
// SSE-COUNT-14: llvm.call_intrinsic "llvm.x86.ssse3.pshuf.b.128"
// SSE: %[[TOP:.*]] = arith.cmpi slt, %[[V]], %{{.*}} : vector<16xi8>
// SSE: %[[R:.*]] = arith.select %[[TOP]]
// SSE: vector.store %[[R]], %[[YF]][%{{.*}}] : memref<100xi8>, vector<16xi8>
// SSE: } else {
// SSE: vector.load %[[XF]][%{{.*}}] : memref<100xi8>, vector<4xi8>
// SSE: vector.insert_strided_slice %{{.*}}, %{{.*}} {offsets = [0], strides = [1]} : vector<4xi8> into vector<16xi8>
// SSE: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [4], strides = [1]} : vector<16xi8> to vector<4xi8>
// SSE: vector.store %{{.*}}, %[[YF]][%{{.*}}] : memref<100xi8>, vector<4xi8>
// AVX2-COUNT-16: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"
// AVX2: vector.store %{{.*}}, %[[YF]][%{{.*}}] : memref<100xi8>, vector<32xi8>
// AVX2: vector.store %{{.*}}, %[[YF]][%{{.*}}] : memref<100xi8>, vector<4xi8>
// AVX512-COUNT-16: llvm.call_intrinsic "llvm.x86.avx512.pshuf.b.512"
// AVX512: vector.store %{{.*}}, %[[YF]][%{{.*}}] : memref<100xi8>, vector<64xi8>
// AVX512: vector.store %{{.*}}, %[[YF]][%{{.*}}] : memref<100xi8>, vector<36xi8>
// VBMI: %[[V:.*]] = vector.load %[[XF]][%{{.*}}] : memref<100xi8>, vector<64xi8>
// VBMI: %[[Q0:.*]] = arith.constant dense<[0, 1, 2, {{.*}}, 63]> : vector<64xi8>
// VBMI: %[[Q1:.*]] = arith.constant dense<[64, 65, {{.*}}, 127]> : vector<64xi8>
// VBMI: %[[LO:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"(%[[Q0]], %[[V]], %[[Q1]])
// VBMI: %[[Q2:.*]] = arith.constant dense<[-128, -127, {{.*}}, -65]> : vector<64xi8>
// VBMI: %[[Q3:.*]] = arith.constant dense<[-64, -63, {{.*}}, -1]> : vector<64xi8>
// VBMI: %[[HI:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"(%[[Q2]], %[[V]], %[[Q3]])
// VBMI: %[[TOP:.*]] = arith.cmpi slt, %[[V]], %{{.*}} : vector<64xi8>
// VBMI: %[[R:.*]] = arith.select %[[TOP]], %[[HI]], %[[LO]]
// VBMI: vector.store %[[R]], %[[YF]]
// VBMI-COUNT-2: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"
// VBMI: vector.store %{{.*}}, %[[YF]][%{{.*}}] : memref<100xi8>, vector<36xi8>
// NEON: %[[V:.*]] = vector.load %[[XF]][%{{.*}}] : memref<100xi8>, vector<16xi8>
// NEON: %[[T:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbl4.v16i8"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[V]])
// NEON: arith.constant dense<64> : vector<16xi8>
// NEON: %[[I1:.*]] = arith.subi %[[V]]
// NEON: %[[T1:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbx4.v16i8"(%[[T]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[I1]])
// NEON: arith.constant dense<-128> : vector<16xi8>
// NEON: %[[T2:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbx4.v16i8"(%[[T1]],
// NEON: arith.constant dense<-64> : vector<16xi8>
// NEON: %[[T3:.*]] = llvm.call_intrinsic "llvm.aarch64.neon.tbx4.v16i8"(%[[T2]],
// NEON: vector.store %[[T3]], %[[YF]]
// CHECK-NOT: linalg.generic
// CHECK-NOT: quarc.kernel
// CHECK: return
func.func @u8_lookup(%x: memref<1x2x50xi8>, %y: memref<1x2x50xi8>) {
  %table = memref.get_global @identity : memref<256xi8>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<1x2x50xi8>) outs(%y : memref<1x2x50xi8>) {
  ^bb0(%in: i8, %out: i8):
    %e = arith.extui %in : i8 to i32
    %idx = arith.index_cast %e : i32 to index
    %v = memref.load %table[%idx] : memref<256xi8>
    linalg.yield %v : i8
  }
  return
}

// -----

// An s8 input read at x - (-128): the table is re-indexed by the input's
// bits (bits b read entry int8(b) + 128 = b ^ 0x80), so the first 64 bits'
// entries are 128..191 (as i8, -128..-65). With a dynamic batch, the loop
// runs over batch and chunks of each image, on the runtime's threads.

memref.global "private" constant @identity : memref<256xi8> = dense<"0x000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF">
// CHECK-LABEL: func.func @s8_dynamic_batch
// CHECK-DAG: %[[XF:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0], [1, 2]] : memref<?x3x64xi8> into memref<?x192xi8>
// CHECK-DAG: %[[N:.*]] = memref.dim %[[XF]], %c0
// CHECK: scf.parallel (%[[B:.*]], %{{.*}}) = (%c0, %c0) to (%[[N]], %{{.*}}) step (%c1, %c1)
// VBMI: %[[V:.*]] = vector.load %[[XF]][%[[B]], %{{.*}}] : memref<?x192xi8>, vector<64xi8>
// VBMI: arith.constant dense<[-128, -127, {{.*}}, -65]> : vector<64xi8>
// VBMI: arith.constant dense<[-64, -63, {{.*}}, -1]> : vector<64xi8>
// VBMI: arith.constant dense<[0, 1, 2, {{.*}}, 63]> : vector<64xi8>
// CHECK: quarc.kernel
func.func @s8_dynamic_batch(%x: memref<?x3x64xi8>, %y: memref<?x3x64xi8>) {
  %table = memref.get_global @identity : memref<256xi8>
  %qmin = arith.constant -128 : i32
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<?x3x64xi8>) outs(%y : memref<?x3x64xi8>) {
  ^bb0(%in: i8, %out: i8):
    %e = arith.extsi %in : i8 to i32
    %i = arith.subi %e, %qmin : i32
    %idx = arith.index_cast %i : i32 to index
    %v = memref.load %table[%idx] : memref<256xi8>
    linalg.yield %v : i8
  }
  return
}

// -----

// 32 KiB and more: the loop is marked to run on the runtime's threads.

memref.global "private" constant @identity : memref<256xi8> = dense<"0x000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF">
// CHECK-LABEL: func.func @large
// CHECK: scf.parallel
// CHECK: quarc.kernel
func.func @large(%x: memref<8x64x64xi8>, %y: memref<8x64x64xi8>) {
  %table = memref.get_global @identity : memref<256xi8>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<8x64x64xi8>) outs(%y : memref<8x64x64xi8>) {
  ^bb0(%in: i8, %out: i8):
    %e = arith.extui %in : i8 to i32
    %idx = arith.index_cast %e : i32 to index
    %v = memref.load %table[%idx] : memref<256xi8>
    linalg.yield %v : i8
  }
  return
}

// -----

// Flat stretches cost nothing (pshufb): a table of 5 below 48, x up to 223
// and 224 above (an activation's clamps). The lower half's row 0 is one
// value, a splat XORed in with no shuffle; its rows 1 and 2 equal the row
// before them and are left out, so its first shuffle reads x - 48. The
// upper half leaves out its last row: 5 + 7 shuffles in all.

memref.global "private" constant @clamped : memref<256xi8> = dense<"0x050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505050505303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0E0">
// CHECK-LABEL: func.func @flat_stretches
// AVX2: %[[V:.*]] = vector.load %{{.*}} : memref<64xi8>, vector<32xi8>
// AVX2-NOT: llvm.call_intrinsic
// AVX2: %[[AT48:.*]] = arith.constant dense<48> : vector<32xi8>
// AVX2: %[[I3:.*]] = arith.subi %[[V]], %[[AT48]] : vector<32xi8>
// AVX2: %[[R3:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"(%{{.*}}, %[[I3]])
// AVX2: arith.xori %{{.*}}, %[[R3]] : vector<32xi8>
// AVX2-COUNT-11: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"
// AVX2-NOT: llvm.call_intrinsic
// AVX2: arith.select
// AVX2: vector.store
func.func @flat_stretches(%x: memref<64xi8>, %y: memref<64xi8>) {
  %table = memref.get_global @clamped : memref<256xi8>
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : memref<64xi8>) outs(%y : memref<64xi8>) {
  ^bb0(%in: i8, %out: i8):
    %idx = arith.index_castui %in : i8 to index
    %v = memref.load %table[%idx] : memref<256xi8>
    linalg.yield %v : i8
  }
  return
}

// -----

// Left alone: a table of 16-bit entries, a strided (non-contiguous) input,
// a table that is not a constant, a body that does more than look up, and a
// broadcast input (its unit dim read for every output row).

memref.global "private" constant @wide : memref<256xi16> = dense<7>
memref.global "private" constant @identity : memref<256xi8> = dense<"0x000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF">
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @not_lookups
// CHECK-NOT: scf.parallel
// CHECK-COUNT-5: linalg.generic
// CHECK-NOT: scf.parallel
func.func @not_lookups(%x: memref<4x16xi8>, %y16: memref<4x16xi16>, %xs: memref<4x16xi8, strided<[32, 1]>>, %y: memref<4x16xi8>, %t: memref<256xi8>, %xb: memref<1x16xi8>) {
  %wide = memref.get_global @wide : memref<256xi16>
  %table = memref.get_global @identity : memref<256xi8>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : memref<4x16xi8>) outs(%y16 : memref<4x16xi16>) {
  ^bb0(%in: i8, %out: i16):
    %idx = arith.index_castui %in : i8 to index
    %v = memref.load %wide[%idx] : memref<256xi16>
    linalg.yield %v : i16
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%xs : memref<4x16xi8, strided<[32, 1]>>) outs(%y : memref<4x16xi8>) {
  ^bb0(%in: i8, %out: i8):
    %idx = arith.index_castui %in : i8 to index
    %v = memref.load %table[%idx] : memref<256xi8>
    linalg.yield %v : i8
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : memref<4x16xi8>) outs(%y : memref<4x16xi8>) {
  ^bb0(%in: i8, %out: i8):
    %idx = arith.index_castui %in : i8 to index
    %v = memref.load %t[%idx] : memref<256xi8>
    linalg.yield %v : i8
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : memref<4x16xi8>) outs(%y : memref<4x16xi8>) {
  ^bb0(%in: i8, %out: i8):
    %idx = arith.index_castui %in : i8 to index
    %v = memref.load %table[%idx] : memref<256xi8>
    %w = arith.addi %v, %in : i8
    linalg.yield %w : i8
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (0, d1)>, #id], iterator_types = ["parallel", "parallel"]} ins(%xb : memref<1x16xi8>) outs(%y : memref<4x16xi8>) {
  ^bb0(%in: i8, %out: i8):
    %idx = arith.index_castui %in : i8 to index
    %v = memref.load %table[%idx] : memref<256xi8>
    linalg.yield %v : i8
  }
  return
}
