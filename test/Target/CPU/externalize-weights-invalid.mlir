// RUN: quarc-opt %s --quarc-externalize-weights=min-bytes=4 -verify-diagnostics

// A constant whose data is not at hand (a resource blob the file does not
// contain) cannot be written to the weights: an error at the global.

// expected-error @+1 {{cannot read the initial value of this constant to move it into the weights}}
memref.global "private" constant @missing : memref<16xf32> = dense_resource<missing_blob>
func.func @entry(%out: memref<16xf32>) {
  %0 = memref.get_global @missing : memref<16xf32>
  linalg.copy ins(%0 : memref<16xf32>) outs(%out : memref<16xf32>)
  return
}
