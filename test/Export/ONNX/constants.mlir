// RUN: quarc-translate --export-onnx %s -o %t.onnx
// RUN: %onnx-to-text %t.onnx --check | FileCheck %s
// RUN: quarc-translate --import-onnx %t.onnx | FileCheck %s --check-prefix=IMPORT

// Constants become initializers with the ONNX data type of their element
// type: up to 16 elements in the typed fields, more (and 4-bit types) as
// raw_data; splats are expanded, bool is one byte an element, int4 two a
// byte, dense_resource blobs are copied. Imported back, the values are the
// same.

// CHECK: checker: ok
// CHECK-DAG: initializer flag BOOL [3] typed [1,0,1]
// CHECK-DAG: initializer nibbles INT4 [3] raw [-8,7,-1]
// CHECK-DAG: initializer unibbles UINT4 [2] raw [15,3]
// CHECK-DAG: initializer half FLOAT16 [2] raw [1.5,-2]
// CHECK-DAG: initializer splat INT64 [2, 3] typed [7,7,7,7,7,7]
// CHECK-DAG: initializer bytes UINT8 [17] raw [9,9,9,9,9,9,9,9,... (17 values)]
// CHECK-DAG: initializer blob FLOAT [4, 5] raw [0,1,2,3,4,5,6,7,... (20 values)]
// CHECK-DAG: initializer i16 INT16 [2] typed [-300,300]
// CHECK-DAG: initializer f64 DOUBLE [1] typed [0.1]

// IMPORT-DAG: quarc.constant dense<[true, false, true]> : tensor<3xi1>
// IMPORT-DAG: quarc.constant dense<[-8, 7, -1]> : tensor<3xi4>
// IMPORT-DAG: quarc.constant dense<[15, 3]> : tensor<2xui4>
// IMPORT-DAG: quarc.constant dense<[1.500000e+00, -2.000000e+00]> : tensor<2xf16>
// IMPORT-DAG: quarc.constant dense<7> : tensor<2x3xi64>
// IMPORT-DAG: quarc.constant dense<9> : tensor<17xui8>
// IMPORT-DAG: quarc.constant dense<{{\[}}[0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00], [5.000000e+00
// IMPORT-DAG: quarc.constant dense<[-300, 300]> : tensor<2xi16>
// IMPORT-DAG: quarc.constant dense<1.000000e-01> : tensor<1xf64>

module {
  func.func @main_graph() -> (tensor<3xi1> {quarc.name = "o1"}, tensor<3xi4> {quarc.name = "o2"},
                              tensor<2xui4> {quarc.name = "o3"}, tensor<2xf16> {quarc.name = "o4"},
                              tensor<2x3xi64> {quarc.name = "o5"}, tensor<17xui8> {quarc.name = "o6"},
                              tensor<4x5xf32> {quarc.name = "o7"}, tensor<2xi16> {quarc.name = "o8"},
                              tensor<1xf64> {quarc.name = "o9"}) {
    %0 = quarc.constant dense<[true, false, true]> : tensor<3xi1> loc("flag")
    %1 = quarc.constant dense<[-8, 7, -1]> : tensor<3xi4> loc("nibbles")
    %2 = quarc.constant dense<[15, 3]> : tensor<2xui4> loc("unibbles")
    %3 = quarc.constant dense<[1.5, -2.0]> : tensor<2xf16> loc("half")
    %4 = quarc.constant dense<7> : tensor<2x3xi64> loc("splat")
    %5 = quarc.constant dense<9> : tensor<17xui8> loc("bytes")
    %6 = quarc.constant dense_resource<blob> : tensor<4x5xf32> loc("blob")
    %7 = quarc.constant dense<[-300, 300]> : tensor<2xi16> loc("i16")
    %8 = quarc.constant dense<0.1> : tensor<1xf64> loc("f64")
    return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<3xi1>, tensor<3xi4>, tensor<2xui4>, tensor<2xf16>, tensor<2x3xi64>, tensor<17xui8>, tensor<4x5xf32>, tensor<2xi16>, tensor<1xf64>
  }
}

{-#
  dialect_resources: {
    builtin: {
      blob: "0x04000000000000000000803F0000004000004040000080400000A0400000C0400000E040000000410000104100002041000030410000404100005041000060410000704100008041000088410000904100009841"
    }
  }
#-}
