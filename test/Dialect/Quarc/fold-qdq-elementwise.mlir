// RUN: quarc-opt %s -split-input-file --quarc-fold-qdq | FileCheck %s

// Add of two dequantized 8-bit tensors into a quantize, through a Relu:
// quarc.qadd, clamped at the output's zero point; Mul without activation:
// quarc.qmul. The float ops and their pairs are gone.

!a = !quant.uniform<u8:f32, 0.5:10>
!b = !quant.uniform<i8:f32, 0.25:-3>
!y = !quant.uniform<u8:f32, 1.0:5>
// CHECK-LABEL: func.func @add_relu_and_mul
// CHECK: %[[A:.*]] = quarc.quantize %arg0
// CHECK: %[[B:.*]] = quarc.quantize %arg1
// CHECK: %[[S:.*]] = quarc.qadd %[[A]], %[[B]] {clamp_min = 5 : i64} : (tensor<4x!quant.uniform<u8:f32, 5.000000e-01:10>>, tensor<1x!quant.uniform<i8:f32, 2.500000e-01:-3>>) -> tensor<4x!quant.uniform<u8:f32, 1.000000e+00:5>>
// CHECK: %[[P:.*]] = quarc.qmul %[[S]], %[[B]] : {{.*}} -> tensor<4x!quant.uniform<u8:f32, 1.000000e+00:5>>
// CHECK-NOT: quarc.add
// CHECK-NOT: quarc.relu
// CHECK-NOT: quarc.mul
func.func @add_relu_and_mul(%arg0: tensor<4xf32>, %arg1: tensor<1xf32>) -> tensor<4xf32> {
  %aq = quarc.quantize %arg0 : tensor<4xf32> -> tensor<4x!a>
  %a = quarc.dequantize %aq : tensor<4x!a> -> tensor<4xf32>
  %bq = quarc.quantize %arg1 : tensor<1xf32> -> tensor<1x!b>
  %b = quarc.dequantize %bq : tensor<1x!b> -> tensor<1xf32>
  %s = quarc.add %a, %b : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
  %r = quarc.relu %s : (tensor<4xf32>) -> tensor<4xf32>
  %rq = quarc.quantize %r : tensor<4xf32> -> tensor<4x!y>
  %rd = quarc.dequantize %rq : tensor<4x!y> -> tensor<4xf32>
  %p = quarc.mul %rd, %b : (tensor<4xf32>, tensor<1xf32>) -> tensor<4xf32>
  %pq = quarc.quantize %p : tensor<4xf32> -> tensor<4x!y>
  %pd = quarc.dequantize %pq : tensor<4x!y> -> tensor<4xf32>
  return %pd : tensor<4xf32>
}

// -----

// An Add whose result is not quantized stays float; so does an Add of a
// 16-bit tensor.

!a = !quant.uniform<u8:f32, 0.5:10>
!w = !quant.uniform<i16:f32, 0.001>
// CHECK-LABEL: func.func @add_left_float
// CHECK: %[[S:.*]] = quarc.add
// CHECK: %[[T:.*]] = quarc.add
// CHECK: quarc.quantize %[[T]]
// CHECK-NOT: quarc.qadd
func.func @add_left_float(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %aq = quarc.quantize %arg0 : tensor<4xf32> -> tensor<4x!a>
  %a = quarc.dequantize %aq : tensor<4x!a> -> tensor<4xf32>
  %s = quarc.add %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %wq = quarc.quantize %arg0 : tensor<4xf32> -> tensor<4x!w>
  %w = quarc.dequantize %wq : tensor<4x!w> -> tensor<4xf32>
  %t = quarc.add %a, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %tq = quarc.quantize %t : tensor<4xf32> -> tensor<4x!a>
  %td = quarc.dequantize %tq : tensor<4x!a> -> tensor<4xf32>
  return %s, %td : tensor<4xf32>, tensor<4xf32>
}

// -----

// AveragePool keeps its window; GlobalAveragePool is a window of the
// whole (static) image.

!q = !quant.uniform<u8:f32, 0.1:128>
!o = !quant.uniform<u8:f32, 0.05:100>
// CHECK-LABEL: func.func @pools
// CHECK: quarc.qaverage_pool %{{.*}} {count_include_pad = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x2x6x6x!quant.uniform<u8:f32, 1.000000e-01:128>> -> tensor<1x2x6x6x!quant.uniform<u8:f32, 5.000000e-02:100>>
// CHECK: quarc.qaverage_pool %{{.*}} {kernel_shape = array<i64: 6, 6>} : tensor<1x2x6x6x!quant.uniform<u8:f32, 1.000000e-01:128>> -> tensor<1x2x1x1x!quant.uniform<u8:f32, 5.000000e-02:100>>
// CHECK-NOT: quarc.average_pool
// CHECK-NOT: quarc.global_average_pool
func.func @pools(%arg0: tensor<1x2x6x6xf32>) -> (tensor<1x2x6x6xf32>, tensor<1x2x1x1xf32>) {
  %xq = quarc.quantize %arg0 : tensor<1x2x6x6xf32> -> tensor<1x2x6x6x!q>
  %x = quarc.dequantize %xq : tensor<1x2x6x6x!q> -> tensor<1x2x6x6xf32>
  %p = quarc.average_pool %x {count_include_pad = 1 : i64, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  %pq = quarc.quantize %p : tensor<1x2x6x6xf32> -> tensor<1x2x6x6x!o>
  %pd = quarc.dequantize %pq : tensor<1x2x6x6x!o> -> tensor<1x2x6x6xf32>
  %g = quarc.global_average_pool %x : (tensor<1x2x6x6xf32>) -> tensor<1x2x1x1xf32>
  %gq = quarc.quantize %g : tensor<1x2x1x1xf32> -> tensor<1x2x1x1x!o>
  %gd = quarc.dequantize %gq : tensor<1x2x1x1x!o> -> tensor<1x2x1x1xf32>
  return %pd, %gd : tensor<1x2x6x6xf32>, tensor<1x2x1x1xf32>
}

// -----

// 2 * relu(x) on u8 x = (q - 128) * 0.5 into u8 at scale 1: entry q is
// max(q - 128, 0), so the table is 128 zeros, then 0, 1, ..., 127. One
// table for the chain.

!x = !quant.uniform<u8:f32, 0.5:128>
!y = !quant.uniform<u8:f32, 1.0>
// CHECK-LABEL: func.func @table
// CHECK: %[[X:.*]] = quarc.quantize %arg0
// CHECK: %[[T:.*]] = quarc.lut %[[X]] {table = array<i32: 0, 0, {{(0, )+}}0, 1, 2, 3, {{.*}}, 126, 127>} : tensor<8x!quant.uniform<u8:f32, 5.000000e-01:128>> -> tensor<8x!quant.uniform<u8:f32, 1.000000e+00>>
// CHECK: quarc.dequantize %[[T]]
// CHECK-NOT: quarc.relu
// CHECK-NOT: quarc.mul
func.func @table(%arg0: tensor<8xf32>) -> tensor<8xf32> {
  %xq = quarc.quantize %arg0 : tensor<8xf32> -> tensor<8x!x>
  %x = quarc.dequantize %xq : tensor<8x!x> -> tensor<8xf32>
  %r = quarc.relu %x : (tensor<8xf32>) -> tensor<8xf32>
  %two = quarc.constant dense<2.0> : tensor<1xf32>
  %y = quarc.mul %r, %two : (tensor<8xf32>, tensor<1xf32>) -> tensor<8xf32>
  %yq = quarc.quantize %y : tensor<8xf32> -> tensor<8x!y>
  %yd = quarc.dequantize %yq : tensor<8x!y> -> tensor<8xf32>
  return %yd : tensor<8xf32>
}

// -----

// x * sigmoid(x) reads x twice: still one table of x.

!x = !quant.uniform<i8:f32, 0.05>
!y = !quant.uniform<u8:f32, 0.03:10>
// CHECK-LABEL: func.func @swish_table
// CHECK: %[[X:.*]] = quarc.quantize %arg0
// CHECK: quarc.lut %[[X]]
// CHECK-NOT: quarc.sigmoid
// CHECK-NOT: quarc.mul
func.func @swish_table(%arg0: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %xq = quarc.quantize %arg0 : tensor<1x4xf32> -> tensor<1x4x!x>
  %x = quarc.dequantize %xq : tensor<1x4x!x> -> tensor<1x4xf32>
  %s = quarc.sigmoid %x : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = quarc.mul %x, %s : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %yq = quarc.quantize %y : tensor<1x4xf32> -> tensor<1x4x!y>
  %yd = quarc.dequantize %yq : tensor<1x4x!y> -> tensor<1x4xf32>
  return %yd : tensor<1x4xf32>
}

// -----

// A chain of two different quantized tensors is no table (here a product,
// with a per-channel constant that is no scalar: left float).

!x = !quant.uniform<u8:f32, 0.05:3>
// CHECK-LABEL: func.func @no_table
// CHECK: quarc.sigmoid
// CHECK: quarc.mul
// CHECK-NOT: quarc.lut
func.func @no_table(%arg0: tensor<2xf32>) -> tensor<2xf32> {
  %xq = quarc.quantize %arg0 : tensor<2xf32> -> tensor<2x!x>
  %x = quarc.dequantize %xq : tensor<2x!x> -> tensor<2xf32>
  %s = quarc.sigmoid %x : (tensor<2xf32>) -> tensor<2xf32>
  %c = quarc.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = quarc.mul %s, %c : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %yq = quarc.quantize %y : tensor<2xf32> -> tensor<2x!x>
  %yd = quarc.dequantize %yq : tensor<2x!x> -> tensor<2xf32>
  return %yd : tensor<2xf32>
}

// -----

// A Concat into a quantize: the input of another type is requantized, the
// one of the result's type is taken as it is.

!a = !quant.uniform<u8:f32, 0.1:5>
!b = !quant.uniform<u8:f32, 0.2:7>
// CHECK-LABEL: func.func @concat
// CHECK: %[[A:.*]] = quarc.quantize %arg0
// CHECK: %[[B:.*]] = quarc.quantize %arg1
// CHECK: %[[R:.*]] = quarc.requantize %[[B]] : tensor<1x3x!quant.uniform<u8:f32, 2.000000e-01:7>> -> tensor<1x3x!quant.uniform<u8:f32, 1.000000e-01:5>>
// CHECK: quarc.concat %[[A]], %[[R]] {axis = 1 : i64} : {{.*}} -> tensor<1x5x!quant.uniform<u8:f32, 1.000000e-01:5>>
func.func @concat(%arg0: tensor<1x2xf32>, %arg1: tensor<1x3xf32>) -> tensor<1x5xf32> {
  %aq = quarc.quantize %arg0 : tensor<1x2xf32> -> tensor<1x2x!a>
  %a = quarc.dequantize %aq : tensor<1x2x!a> -> tensor<1x2xf32>
  %bq = quarc.quantize %arg1 : tensor<1x3xf32> -> tensor<1x3x!b>
  %b = quarc.dequantize %bq : tensor<1x3x!b> -> tensor<1x3xf32>
  %c = quarc.concat %a, %b {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
  %cq = quarc.quantize %c : tensor<1x5xf32> -> tensor<1x5x!a>
  %cd = quarc.dequantize %cq : tensor<1x5x!a> -> tensor<1x5xf32>
  return %cd : tensor<1x5xf32>
}

// -----

// Pass-through ops run on the quantized tensor: the quantize after the
// MaxPool has its input's type and disappears; the one after the Reshape
// has other parameters and becomes a requantize; a float user (the
// return) reads the dequantized result.

!a = !quant.uniform<u8:f32, 0.1:5>
!b = !quant.uniform<u8:f32, 0.2:7>
// CHECK-LABEL: func.func @pass_through
// CHECK: %[[X:.*]] = quarc.quantize %arg0
// CHECK: %[[P:.*]], %{{.*}} = quarc.max_pool %[[X]] {{.*}} -> (tensor<1x1x2x2x!quant.uniform<u8:f32, 1.000000e-01:5>>, tensor<1x1x2x2xi64>)
// CHECK: %[[R:.*]] = quarc.reshape %[[P]], %{{.*}} : (tensor<1x1x2x2x!quant.uniform<u8:f32, 1.000000e-01:5>>, tensor<2xi64>) -> tensor<1x4x!quant.uniform<u8:f32, 1.000000e-01:5>>
// CHECK: %[[D:.*]] = quarc.dequantize %[[R]]
// CHECK: %[[Q:.*]] = quarc.requantize %[[R]] : {{.*}} -> tensor<1x4x!quant.uniform<u8:f32, 2.000000e-01:7>>
// CHECK: %[[DQ:.*]] = quarc.dequantize %[[Q]]
// CHECK: return %[[D]], %[[DQ]]
func.func @pass_through(%arg0: tensor<1x1x4x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %xq = quarc.quantize %arg0 : tensor<1x1x4x4xf32> -> tensor<1x1x4x4x!a>
  %x = quarc.dequantize %xq : tensor<1x1x4x4x!a> -> tensor<1x1x4x4xf32>
  %p, %i = quarc.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x1x4x4xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi64>)
  %pq = quarc.quantize %p : tensor<1x1x2x2xf32> -> tensor<1x1x2x2x!a>
  %pd = quarc.dequantize %pq : tensor<1x1x2x2x!a> -> tensor<1x1x2x2xf32>
  %shape = quarc.constant dense<[1, 4]> : tensor<2xi64>
  %r = quarc.reshape %pd, %shape : (tensor<1x1x2x2xf32>, tensor<2xi64>) -> tensor<1x4xf32>
  %rq = quarc.quantize %r : tensor<1x4xf32> -> tensor<1x4x!b>
  %rd = quarc.dequantize %rq : tensor<1x4x!b> -> tensor<1x4xf32>
  return %r, %rd : tensor<1x4xf32>, tensor<1x4xf32>
}
