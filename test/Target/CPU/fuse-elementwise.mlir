// RUN: quarc-opt %s -split-input-file --quarc-fuse-elementwise | FileCheck %s

// linalg-fuse-elementwise-ops, except that nothing is fused into a
// contraction (a matmul-like multiply-add generic) and a contraction is not
// reshaped by propagating an expand_shape / collapse_shape through it.

#id = affine_map<(d0, d1) -> (d0, d1)>

// An elementwise chain, (a + b) * c, becomes one generic.
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @elementwise_chain(
// CHECK-SAME:      %[[A:[^:]+]]: tensor<4x8xf32>, %[[B:[^:]+]]: tensor<4x8xf32>, %[[C:[^:]+]]: tensor<4x8xf32>)
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<4x8xf32>
// CHECK-NEXT:    %[[R:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:        ins(%[[A]], %[[B]], %[[C]] : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%[[E]] : tensor<4x8xf32>)
// CHECK-NEXT:    ^bb0(%[[X:[^:]+]]: f32, %[[Y:[^:]+]]: f32, %[[Z:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT:      %[[S:.+]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK-NEXT:      %[[P:.+]] = arith.mulf %[[S]], %[[Z]] : f32
// CHECK-NEXT:      linalg.yield %[[P]] : f32
// CHECK-NEXT:    } -> tensor<4x8xf32>
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[R]]
func.func @elementwise_chain(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  %1 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%0, %c : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.mulf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// An elementwise producer (a scale) of a contraction's left-hand side is
// not fused: it stays its own generic and the contraction's body is still
// exactly a multiply and an add (upstream would put the scale's mulf inside).
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[LHS:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG:   #[[RHS:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG:   #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @not_into_contraction(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<4x16xf32>, %[[S:[^:]+]]: tensor<4x16xf32>, %[[W:[^:]+]]: tensor<16x24xf32>, %[[ACC:[^:]+]]: tensor<4x24xf32>)
// CHECK:         %[[SCALED:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME:        ins(%[[X]], %[[S]] : tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK-NEXT:    ^bb0(%[[P:[^:]+]]: f32, %[[Q:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT:      %[[PQ:.+]] = arith.mulf %[[P]], %[[Q]] : f32
// CHECK-NEXT:      linalg.yield %[[PQ]] : f32
// CHECK-NEXT:    } -> tensor<4x16xf32>
// CHECK-NEXT:    %[[R:.+]] = linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[SCALED]], %[[W]] : tensor<4x16xf32>, tensor<16x24xf32>) outs(%[[ACC]] : tensor<4x24xf32>)
// CHECK-NEXT:    ^bb0(%[[L:[^:]+]]: f32, %[[RR:[^:]+]]: f32, %[[O:[^:]+]]: f32):
// CHECK-NEXT:      %[[M:.+]] = arith.mulf %[[L]], %[[RR]] : f32
// CHECK-NEXT:      %[[SUM:.+]] = arith.addf %[[O]], %[[M]] : f32
// CHECK-NEXT:      linalg.yield %[[SUM]] : f32
// CHECK-NEXT:    } -> tensor<4x24xf32>
// CHECK-NEXT:    return %[[R]]
func.func @not_into_contraction(%x: tensor<4x16xf32>, %scale: tensor<4x16xf32>, %w: tensor<16x24xf32>, %acc: tensor<4x24xf32>) -> tensor<4x24xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %scale : tensor<4x16xf32>, tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.mulf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%0, %w : tensor<4x16xf32>, tensor<16x24xf32>) outs(%acc : tensor<4x24xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x24xf32>
  return %1 : tensor<4x24xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#r = affine_map<(d0, d1) -> (d0)>

// A reduction that is not a contraction (a sum of squares: one input, no
// multiply-add of two operands) takes its elementwise producer as upstream.
// CHECK-DAG:   #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG:   #[[ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @into_reduction(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<4x16xf32>, %[[ACC:[^:]+]]: tensor<4xf32>)
// CHECK-NEXT:    %[[R:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME:        ins(%[[X]] : tensor<4x16xf32>) outs(%[[ACC]] : tensor<4xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:[^:]+]]: f32, %[[O:[^:]+]]: f32):
// CHECK-NEXT:      %[[SQ:.+]] = arith.mulf %[[IN]], %[[IN]] : f32
// CHECK-NEXT:      %[[SUM:.+]] = arith.addf %[[O]], %[[SQ]] : f32
// CHECK-NEXT:      linalg.yield %[[SUM]] : f32
// CHECK-NEXT:    } -> tensor<4xf32>
// CHECK-NEXT:    return %[[R]]
func.func @into_reduction(%x: tensor<4x16xf32>, %acc: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%p: f32, %o: f32):
    %s = arith.mulf %p, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #r], iterator_types = ["parallel", "reduction"]}
      ins(%0 : tensor<4x16xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// An expand_shape of a contraction's result is not propagated through it
// (upstream would turn it into a 2x2x4x6 contraction with five dims): the
// contraction keeps its three dims and the expand_shape stays after it.
// CHECK-LABEL: func.func @contraction_then_expand(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<4x16xf32>, %[[W:[^:]+]]: tensor<16x24xf32>, %[[ACC:[^:]+]]: tensor<4x24xf32>)
// CHECK-NOT:     tensor.expand_shape
// CHECK:         %[[R:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[X]], %[[W]] : tensor<4x16xf32>, tensor<16x24xf32>) outs(%[[ACC]] : tensor<4x24xf32>)
// CHECK:         } -> tensor<4x24xf32>
// CHECK-NEXT:    %[[E:.+]] = tensor.expand_shape %[[R]] {{\[}}[0, 1], [2, 3]] output_shape [2, 2, 4, 6] : tensor<4x24xf32> into tensor<2x2x4x6xf32>
// CHECK-NEXT:    return %[[E]]
func.func @contraction_then_expand(%x: tensor<4x16xf32>, %w: tensor<16x24xf32>, %acc: tensor<4x24xf32>) -> tensor<2x2x4x6xf32> {
  %0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<4x16xf32>, tensor<16x24xf32>) outs(%acc : tensor<4x24xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x24xf32>
  %1 = tensor.expand_shape %0 [[0, 1], [2, 3]] output_shape [2, 2, 4, 6] : tensor<4x24xf32> into tensor<2x2x4x6xf32>
  return %1 : tensor<2x2x4x6xf32>
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>

// Nor is a collapse_shape of a contraction's operand propagated through it.
// CHECK-LABEL: func.func @collapse_then_contraction(
// CHECK-SAME:      %[[X:[^:]+]]: tensor<2x2x16xf32>, %[[W:[^:]+]]: tensor<16x24xf32>, %[[ACC:[^:]+]]: tensor<4x24xf32>)
// CHECK-NEXT:    %[[X2:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x2x16xf32> into tensor<4x16xf32>
// CHECK-NEXT:    %[[R:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME:        ins(%[[X2]], %[[W]] : tensor<4x16xf32>, tensor<16x24xf32>) outs(%[[ACC]] : tensor<4x24xf32>)
// CHECK:         } -> tensor<4x24xf32>
// CHECK-NEXT:    return %[[R]]
func.func @collapse_then_contraction(%x: tensor<2x2x16xf32>, %w: tensor<16x24xf32>, %acc: tensor<4x24xf32>) -> tensor<4x24xf32> {
  %x2 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x2x16xf32> into tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x2, %w : tensor<4x16xf32>, tensor<16x24xf32>) outs(%acc : tensor<4x24xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x24xf32>
  return %0 : tensor<4x24xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// An expand_shape of an elementwise result is still propagated, as upstream:
// the generic runs on the expanded shape and reads the expanded inputs.
// CHECK-LABEL: func.func @elementwise_then_expand(
// CHECK-SAME:      %[[A:[^:]+]]: tensor<4x24xf32>, %[[B:[^:]+]]: tensor<4x24xf32>)
// CHECK-DAG:     %[[EA:.+]] = tensor.expand_shape %[[A]] {{\[}}[0, 1], [2, 3]] output_shape [2, 2, 4, 6] : tensor<4x24xf32> into tensor<2x2x4x6xf32>
// CHECK-DAG:     %[[EB:.+]] = tensor.expand_shape %[[B]] {{\[}}[0, 1], [2, 3]] output_shape [2, 2, 4, 6] : tensor<4x24xf32> into tensor<2x2x4x6xf32>
// CHECK:         %[[R:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME:        ins(%[[EA]], %[[EB]] : tensor<2x2x4x6xf32>, tensor<2x2x4x6xf32>)
// CHECK:           arith.addf
// CHECK:         } -> tensor<2x2x4x6xf32>
// CHECK-NEXT:    return %[[R]]
func.func @elementwise_then_expand(%a: tensor<4x24xf32>, %b: tensor<4x24xf32>) -> tensor<2x2x4x6xf32> {
  %e = tensor.empty() : tensor<4x24xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<4x24xf32>, tensor<4x24xf32>) outs(%e : tensor<4x24xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x24xf32>
  %1 = tensor.expand_shape %0 [[0, 1], [2, 3]] output_shape [2, 2, 4, 6] : tensor<4x24xf32> into tensor<2x2x4x6xf32>
  return %1 : tensor<2x2x4x6xf32>
}

// -----

// An integer matrix product whose body subtracts a zero point is no
// contraction to upstream, but fusing the quantization of A into it would
// run the division once per (m, n, k) instead of once per (m, k): a
// producer is not fused into a reduction whose loops its map leaves out.

#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @no_fusion_into_reduction
// CHECK: %[[Q:.+]] = linalg.generic
// CHECK: arith.divf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-SAME: ins(%[[Q]], %{{.*}} : tensor<4x8xi8>, tensor<8x6xi8>)
// CHECK-NOT: arith.divf
// CHECK: return
func.func @no_fusion_into_reduction(%a: tensor<4x8xf32>, %b: tensor<8x6xi8>, %s: f32, %init: tensor<4x6xi32>) -> tensor<4x6xi32> {
  %e = tensor.empty() : tensor<4x8xi8>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x8xf32>) outs(%e : tensor<4x8xi8>) {
  ^bb0(%x: f32, %o: i8):
    %d = arith.divf %x, %s : f32
    %i = arith.fptosi %d : f32 to i8
    linalg.yield %i : i8
  } -> tensor<4x8xi8>
  %r = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%q, %b : tensor<4x8xi8>, tensor<8x6xi8>) outs(%init : tensor<4x6xi32>) {
  ^bb0(%x: i8, %w: i8, %acc: i32):
    %xe = arith.extui %x : i8 to i32
    %z = arith.constant 3 : i32
    %xc = arith.subi %xe, %z : i32
    %we = arith.extsi %w : i8 to i32
    %p = arith.muli %xc, %we : i32
    %sum = arith.addi %acc, %p : i32
    linalg.yield %sum : i32
  } -> tensor<4x6xi32>
  return %r : tensor<4x6xi32>
}

// -----

// A producer that looks values up in a table (quarc.lut's lowering) is not
// fused into an elementwise consumer that reads it broadcast (a per-channel
// gate times a feature map): the lookup would run per element of the map, a
// gather that keeps the consumer's loop scalar. Broadcast arithmetic without
// lookups still fuses.

#channel = affine_map<(d0, d1, d2) -> (d0, 0, 0)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#vec = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @table_gate
// CHECK: %[[GATE:.*]] = linalg.generic
// CHECK: tensor.extract
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[GATE]] :
// CHECK-NOT: tensor.extract
// CHECK: return
func.func @table_gate(%x: tensor<8x16x16xi8>, %g: tensor<8x1x1xi8>, %table: tensor<256xi8>) -> tensor<8x16x16xi8> {
  %e = tensor.empty() : tensor<8x1x1xi8>
  %gate = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g : tensor<8x1x1xi8>) outs(%e : tensor<8x1x1xi8>) {
  ^bb0(%v: i8, %o: i8):
    %i = arith.index_castui %v : i8 to index
    %t = tensor.extract %table[%i] : tensor<256xi8>
    linalg.yield %t : i8
  } -> tensor<8x1x1xi8>
  %e2 = tensor.empty() : tensor<8x16x16xi8>
  %y = linalg.generic {indexing_maps = [#id, #channel, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %gate : tensor<8x16x16xi8>, tensor<8x1x1xi8>) outs(%e2 : tensor<8x16x16xi8>) {
  ^bb0(%a: i8, %b: i8, %o: i8):
    %m = arith.muli %a, %b : i8
    linalg.yield %m : i8
  } -> tensor<8x16x16xi8>
  return %y : tensor<8x16x16xi8>
}

// -----

// A lookup in a constant byte table (quarc.lut's lowering) stays alone:
// neither its elementwise producer nor its consumer fuses with it, so that
// quarc-vectorize-table-lookups can look it up a register at a time.

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @table_alone
// CHECK: %[[Q:.*]] = linalg.generic
// CHECK: arith.trunci
// CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[Q]] :
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.index_castui
// CHECK-NEXT: tensor.extract
// CHECK-NEXT: linalg.yield
// CHECK: linalg.generic {{.*}} ins(%[[L]] :
// CHECK: arith.addi
func.func @table_alone(%x: tensor<4x16xi32>) -> tensor<4x16xi8> {
  %table = arith.constant dense<"0x000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"> : tensor<256xi8>
  %one = arith.constant 1 : i8
  %e = tensor.empty() : tensor<4x16xi8>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xi32>) outs(%e : tensor<4x16xi8>) {
  ^bb0(%v: i32, %o: i8):
    %t = arith.trunci %v : i32 to i8
    linalg.yield %t : i8
  } -> tensor<4x16xi8>
  %l = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%q : tensor<4x16xi8>) outs(%e : tensor<4x16xi8>) {
  ^bb0(%v: i8, %o: i8):
    %i = arith.index_castui %v : i8 to index
    %t = tensor.extract %table[%i] : tensor<256xi8>
    linalg.yield %t : i8
  } -> tensor<4x16xi8>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%l : tensor<4x16xi8>) outs(%e : tensor<4x16xi8>) {
  ^bb0(%v: i8, %o: i8):
    %s = arith.addi %v, %one : i8
    linalg.yield %s : i8
  } -> tensor<4x16xi8>
  return %y : tensor<4x16xi8>
}

// -----

// A producer is not fused into a consumer that only copies it out
// broadcast (a nearest 2x upsampling): fused, its arithmetic would run for
// every copy.

#in = affine_map<(d0, d1, d2, d3) -> (d0, d2)>
#out = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @upsample_copy
// CHECK: %[[P:.*]] = linalg.generic
// CHECK: arith.muli
// CHECK: linalg.generic {{.*}} ins(%[[P]] :
// CHECK-NEXT: ^bb0(%[[V:.*]]: i32, %{{.*}}: i32):
// CHECK-NEXT: linalg.yield %[[V]]
func.func @upsample_copy(%x: tensor<4x8xi32>) -> tensor<4x2x8x2xi32> {
  %c3 = arith.constant 3 : i32
  %e = tensor.empty() : tensor<4x8xi32>
  %p = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xi32>) outs(%e : tensor<4x8xi32>) {
  ^bb0(%v: i32, %o: i32):
    %m = arith.muli %v, %c3 : i32
    %a = arith.addi %m, %c3 : i32
    linalg.yield %a : i32
  } -> tensor<4x8xi32>
  %e2 = tensor.empty() : tensor<4x2x8x2xi32>
  %y = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%p : tensor<4x8xi32>) outs(%e2 : tensor<4x2x8x2xi32>) {
  ^bb0(%v: i32, %o: i32):
    linalg.yield %v : i32
  } -> tensor<4x2x8x2xi32>
  return %y : tensor<4x2x8x2xi32>
}

// -----

#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// A residual add of two products' output stages (requantizations: here a
// shift each). The kernel generators fuse the op right after a product into
// its kernel: the second product's output stage, right before the add, goes
// into the add (which then runs on that kernel's accumulators); the first
// one's stays where it is, after its own product: moved into the add, past
// the second product, the first product would store its i32 accumulators.
// CHECK-LABEL: func.func @residual_add_of_two_products(
// CHECK:         %[[P1:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:         %[[SHORTCUT:.+]] = linalg.generic {{.*}} ins(%[[P1]] : tensor<4x24xi32>)
// CHECK:           arith.shrsi
// CHECK:         %[[P2:.+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.extsi
// CHECK-NEXT:      arith.extsi
// CHECK-NEXT:      arith.muli
// CHECK-NEXT:      arith.addi
// CHECK-NEXT:      linalg.yield
// CHECK-NEXT:    } -> tensor<4x24xi32>
// CHECK-NEXT:    %[[SUM:.+]] = linalg.generic {{.*}} ins(%[[SHORTCUT]], %[[P2]] : tensor<4x24xi32>, tensor<4x24xi32>)
// CHECK-NEXT:    ^bb0(%[[S:[^:]+]]: i32, %[[ACC:[^:]+]]: i32, %{{[^:]+}}: i32):
// CHECK-NEXT:      %[[REQ:.+]] = arith.shrsi %[[ACC]]
// CHECK-NEXT:      %[[ADD:.+]] = arith.addi %[[S]], %[[REQ]] : i32
// CHECK-NEXT:      linalg.yield %[[ADD]] : i32
// CHECK-NEXT:    } -> tensor<4x24xi32>
// CHECK-NEXT:    return %[[SUM]]
func.func @residual_add_of_two_products(%x: tensor<4x16xi8>, %w1: tensor<16x24xi8>, %w2: tensor<16x24xi8>, %acc: tensor<4x24xi32>) -> tensor<4x24xi32> {
  %c4 = arith.constant 4 : i32
  %e = tensor.empty() : tensor<4x24xi32>
  %p1 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w1 : tensor<4x16xi8>, tensor<16x24xi8>) outs(%acc : tensor<4x24xi32>) {
  ^bb0(%p: i8, %q: i8, %o: i32):
    %pe = arith.extsi %p : i8 to i32
    %qe = arith.extsi %q : i8 to i32
    %m = arith.muli %pe, %qe : i32
    %s = arith.addi %o, %m : i32
    linalg.yield %s : i32
  } -> tensor<4x24xi32>
  %r1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p1 : tensor<4x24xi32>) outs(%e : tensor<4x24xi32>) {
  ^bb0(%v: i32, %o: i32):
    %s = arith.shrsi %v, %c4 : i32
    linalg.yield %s : i32
  } -> tensor<4x24xi32>
  %p2 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w2 : tensor<4x16xi8>, tensor<16x24xi8>) outs(%acc : tensor<4x24xi32>) {
  ^bb0(%p: i8, %q: i8, %o: i32):
    %pe = arith.extsi %p : i8 to i32
    %qe = arith.extsi %q : i8 to i32
    %m = arith.muli %pe, %qe : i32
    %s = arith.addi %o, %m : i32
    linalg.yield %s : i32
  } -> tensor<4x24xi32>
  %r2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p2 : tensor<4x24xi32>) outs(%e : tensor<4x24xi32>) {
  ^bb0(%v: i32, %o: i32):
    %s = arith.shrsi %v, %c4 : i32
    linalg.yield %s : i32
  } -> tensor<4x24xi32>
  %sum = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%r1, %r2 : tensor<4x24xi32>, tensor<4x24xi32>) outs(%e : tensor<4x24xi32>) {
  ^bb0(%u: i32, %v: i32, %o: i32):
    %s = arith.addi %u, %v : i32
    linalg.yield %s : i32
  } -> tensor<4x24xi32>
  return %sum : tensor<4x24xi32>
}
