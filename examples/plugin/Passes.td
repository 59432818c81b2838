//===- Passes.td - the example plugin's pass -----------------*- tablegen -*-===//

#ifndef QUARC_EXAMPLE_PLUGIN_PASSES
#define QUARC_EXAMPLE_PLUGIN_PASSES

include "mlir/Pass/PassBase.td"

def KeepNoisyWeightsFloat
    : Pass<"keep-noisy-weights-float", "::mlir::func::FuncOp"> {
  let summary = "Keep in float the layers whose weights quantize badly";
  let description = [{
    For every Conv, Gemm and MatMul with a constant weight, estimates the
    signal-to-quantization-noise ratio of that weight under quarc's default
    weight quantization (symmetric, per output channel, `weight-bits`
    bits): each channel's step is max|w| / (2^(bits-1) - 1), its noise
    power step^2 / 12, and the layer's SQNR is 10 log10(sum of w^2 / sum of
    noise). A layer whose SQNR is below `min-sqnr` dB (its weights dominated
    by a few outliers) gets the `quarc.keep_float` attribute, which
    quarc-quantize, quarc-quantize-dynamic and quarc-quantize-weights
    honour, and a remark saying why. Run it before quantization:
    `quarc compile --load-pass-plugin=... --graph-passes=
    'func.func(keep-noisy-weights-float{min-sqnr=30})' --quantize=int8 ...`.
  }];
  let options = [
    Option<"minSqnr", "min-sqnr", "double", "30.0",
           "Layers whose estimated weight SQNR (dB) is below this stay float">,
    Option<"weightBits", "weight-bits", "unsigned", "8",
           "Bits of the weights the estimate assumes (2 to 16)">,
  ];
}

#endif // QUARC_EXAMPLE_PLUGIN_PASSES
