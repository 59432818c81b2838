//===- QuarcRNNOps.td - ONNX LSTM, GRU and RNN --------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCRNNOPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCRNNOPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"

defvar Quarc_RNNAttrs = (ins
    OptionalAttr<DenseF32ArrayAttr>:$activation_alpha,
    OptionalAttr<DenseF32ArrayAttr>:$activation_beta,
    OptionalAttr<StrArrayAttr>:$activations,
    OptionalAttr<F32Attr>:$clip,
    DefaultValuedAttr<StrAttr, "\"forward\"">:$direction,
    I64Attr:$hidden_size,
    DefaultValuedAttr<I64Attr, "0">:$layout,
    UnitAttr:$dynamic_quantization);

// The description part every recurrent op shares.
defvar Quarc_RNNDynamicQuantizationDoc = [{

    With `dynamic_quantization` (set by `quarc-quantize-dynamic`), W and R
    are 8-bit constants read through `quarc.dequantize` (one scale per
    output channel of each direction, or one per tensor) and the layer's
    matrix products run in integers, their activations quantized as the
    model runs as ONNX DynamicQuantizeLinear does (uint8, per tensor): X
    once for the input projection of all time steps, the hidden state once
    per step (all directions together). Each product is
    `f32(acc) * f32(sx * sw[n])`, acc the i32 sum of
    `(xq - zx) * (w - zw[n])`; the gate arithmetic stays f32. This is
    onnxruntime's DynamicQuantizeLSTM, for the three layers.
}];

def Quarc_LSTMOp : Quarc_CustomInferOp<"lstm", [Pure]> {
  let summary = "ONNX LSTM";
  let description = [{
    A one-layer LSTM over the sequence `X` (forward, reverse or
    bidirectional). Results: all hidden states `Y`, the last hidden state
    `Y_h` and the last cell state `Y_c`.
  }] # Quarc_RNNDynamicQuantizationDoc;
  let arguments = !con((ins Quarc_FloatTensor:$X, Quarc_FloatTensor:$W,
                            Quarc_FloatTensor:$R, Quarc_OptFloatTensor:$B,
                            Quarc_OptIntTensor:$sequence_lens,
                            Quarc_OptFloatTensor:$initial_h,
                            Quarc_OptFloatTensor:$initial_c,
                            Quarc_OptFloatTensor:$P,
                            DefaultValuedAttr<I64Attr, "0">:$input_forget),
                       Quarc_RNNAttrs);
  let results = (outs Quarc_FloatTensor:$Y, Quarc_FloatTensor:$Y_h,
                      Quarc_FloatTensor:$Y_c);
}

def Quarc_GRUOp : Quarc_CustomInferOp<"gru", [Pure]> {
  let summary = "ONNX GRU";
  let description = [{
    A one-layer GRU over the sequence `X`. Results: all hidden states `Y` and
    the last hidden state `Y_h`.
  }] # Quarc_RNNDynamicQuantizationDoc;
  let arguments = !con((ins Quarc_FloatTensor:$X, Quarc_FloatTensor:$W,
                            Quarc_FloatTensor:$R, Quarc_OptFloatTensor:$B,
                            Quarc_OptIntTensor:$sequence_lens,
                            Quarc_OptFloatTensor:$initial_h,
                            DefaultValuedAttr<I64Attr, "0">:$linear_before_reset),
                       Quarc_RNNAttrs);
  let results = (outs Quarc_FloatTensor:$Y, Quarc_FloatTensor:$Y_h);
}

def Quarc_RNNOp : Quarc_CustomInferOp<"rnn", [Pure]> {
  let summary = "ONNX RNN";
  let description = [{
    A one-layer simple RNN over the sequence `X`: each step is
    `Ht = f(Xt * W^T + Ht-1 * R^T + Wb + Rb)`. Results: all hidden states
    `Y` and the last hidden state `Y_h`.
  }];
  let arguments = !con((ins Quarc_FloatTensor:$X, Quarc_FloatTensor:$W,
                            Quarc_FloatTensor:$R, Quarc_OptFloatTensor:$B,
                            Quarc_OptIntTensor:$sequence_lens,
                            Quarc_OptFloatTensor:$initial_h),
                       Quarc_RNNAttrs);
  let results = (outs Quarc_FloatTensor:$Y, Quarc_FloatTensor:$Y_h);
}

#endif // QUARC_DIALECT_QUARC_IR_QUARCRNNOPS_TD
