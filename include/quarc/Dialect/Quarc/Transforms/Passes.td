//===- Passes.td - graph-level passes on the quarc dialect ---------------===//
//
// docs/passes.md is generated from the descriptions below.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_TD
#define QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QuarcSpecializeShapes : Pass<"quarc-specialize-shapes", "func::FuncOp"> {
  let summary = "Fix input shapes and propagate static shapes through the graph";
  let description = [{
    Gives the function's inputs the shapes named by `input-shapes` (a list
    of `NAME=D0xD1x...`, where NAME is the ONNX input name kept in the
    argument's `quarc.name` attribute and a `?` keeps a dimension dynamic),
    then re-runs every op's shape inference in order and refines result
    types wherever the inferred type is more static than the declared one.
    Shape computations that become constant (`Shape` of a now-static
    tensor, arithmetic on it) fold, and inference runs again, until nothing
    changes. The function's result types are updated to match.

    With no `input-shapes` it only refines: useful after an import whose
    declared intermediate shapes were left dynamic.

    Errors: an unknown input name, a rank that differs from the model's, a
    static dimension that contradicts the model's, or an op whose shape
    inference fails on the new shapes (reported with its ONNX node name).
  }];
  let options = [
    ListOption<"inputShapes", "input-shapes", "std::string",
               "Input shapes, NAME=D0xD1x... (a `?` keeps a dim dynamic)">,
  ];
}

def QuarcFoldConstants : Pass<"quarc-fold-constants", "func::FuncOp"> {
  let summary = "Evaluate ops whose operands are all constants";
  let description = [{
    Replaces an op whose operands are all `quarc.constant` by a constant
    holding its result, for the ops that compute shapes and small
    parameter tensors: Cast, Concat, Slice, Gather, Squeeze, Unsqueeze,
    Reshape, Flatten, Identity, Expand, ConstantOfShape, Shape of a static
    tensor, Add/Sub/Mul/Div, Equal/Less/Greater, Where, Min/Max, Neg and
    Abs. Results larger
    than `max-elements` are left alone so weights are not duplicated.

    Together with `quarc-specialize-shapes` this turns the
    Shape→Gather→Concat→Reshape chains of exported models into static
    reshapes.
  }];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", "65536",
           "Largest result (in elements) to evaluate">,
  ];
}

def QuarcFoldBatchNorm : Pass<"quarc-fold-batchnorm", "func::FuncOp"> {
  let summary = "Fold inference BatchNormalization into the preceding "
                "convolution or matrix product";
  let description = [{
    An inference `quarc.batch_normalization` is a per-channel affine map,
    `y = x * m[c] + o[c]` with `m = scale / sqrt(var + epsilon)` and
    `o = B - mean * m`. When its four parameters are constants and its
    input is produced by a single-use op with constant weights, the map
    moves into those weights and the BatchNormalization disappears:

    - `quarc.conv`: the weights of output channel `c` (dim 0 of `W`) are
      scaled by `m[c]`, and the bias (absent means zero) becomes
      `B'[c] = B[c] * m[c] + o[c]`. Any `group`, including depthwise.
    - `quarc.conv_transpose`: the same, where output channel `c` of group
      `g` is dim 1 of `W` (`C x M/group x k...`) in the rows of group `g`.
    - A 2-D `quarc.gemm`, `quarc.matmul`, or `quarc.matmul` followed by a
      `quarc.add` of a constant, whose B is a constant: the channels are
      the columns, the result is one `quarc.gemm` with the columns of B
      scaled and `C' = beta * C * m + o` (C must be one value per column or
      one value in all; `beta` becomes 1).

    Arithmetic is in double, rounded once to the weights' element type
    (f32 in practice). New weights are stored like the importer stores
    them (a `dense_resource` blob above 64 elements).

    Left alone, for the lowering to compute at run time: a BatchNormalization
    whose parameters are not all constants, whose input is anything else
    (a block argument, a pooling, an elementwise op), a convolution or
    product with other uses (folding would change them too) or with a
    non-constant weight or bias, a MatMul with batch dims, and parameters
    that give a non-finite multiplier (negative variance).

    Run it after constant folding (`quarc-specialize-shapes` folds, and so
    does `canonicalize`), so weights computed from constants are visible.
  }];
}

def QuarcSimplifyLayout : Pass<"quarc-simplify-layout", "func::FuncOp"> {
  let summary = "Remove the copies layout ops would cost: compile-time "
                "transposes of constants, transpose-free Gemms, reshape "
                "chains";
  let description = [{
    After lowering, a `quarc.transpose` is a copy, and a Gemm that reads B
    transposed does not have B contiguous along n, which the CPU matmul
    kernel needs (nn.Linear exports use `transB = 1`). This pass rewrites
    the graph so that fewer of them remain:

    - `transpose(constant)` becomes a new constant, transposed at compile
      time. This covers a MatMul whose B is a transposed weight.
    - A `quarc.gemm` with `transA`/`transB` on a 2-D constant reads a
      transposed copy of the constant instead and the flag is cleared;
      every Gemm that reads the same constant transposed shares the copy.
    - A `quarc.gemm` with `transA`/`transB` on `transpose(X)` (2-D) reads X
      and the flag is cleared.
    - A transpose that keeps the order of the dims larger than 1 (it only
      moves size-1 dims) becomes a `quarc.reshape`, which lowers to a view.
    - A static `quarc.flatten`, `quarc.squeeze` or `quarc.unsqueeze` whose
      input comes from another of these or a `quarc.reshape` becomes one
      reshape of the chain's input; one that changes nothing is removed.
    - The canonicalizations of the same ops run too: `transpose(transpose(x))`
      composes into one transpose (or none for the identity),
      `reshape(reshape-like(x))` keeps the outer reshape.

    A constant larger than 65536 elements is copied only when the
    transposed copy replaces all its uses, so a weight that is also used
    untransposed (tied embeddings) is not stored twice. Transposes with
    dynamic shapes, and transposes that move data of non-constant tensors
    are left alone.
  }];
}

def QuarcInsertObservers : Pass<"quarc-insert-observers", "ModuleOp"> {
  let summary = "Observe float tensors for calibration";
  let description = [{
    Inserts a `quarc.observe` after every float (f32) tensor of the
    functions' top-level blocks that has an ONNX tensor name (see
    TensorNames.h): the inputs and the results of every op except
    constants. With `tensors`, only the named ones, and a name that is not
    found is an error. Values inside subgraphs (If, Loop) are not
    observed.

    Observation `i` is named by entry `i` of the module attribute
    `quarc.observed_tensors`, which lists the names in the order of the
    `index` attributes. The pass declares the runtime's callback
    `func.func private @quarc_observe(i64, memref<*xf32>)`, which the
    observe ops lower to.

    Run it after the graph passes, so that the observed tensors are those
    that will be quantized (after BatchNorm folding, for instance), and
    compile the result in memory: `quarc calibrate` provides the callback.

    With `quantized`, it observes what the integer code writes instead, for
    `quarc report` to compare with the float model's tensors of the same
    name: run after `quarc-fold-qdq`, it observes every named result of
    `!quant.uniform` element type (per tensor or per axis) through a
    `quarc.dequantize` inserted after it, and every named f32 result of an
    op with a quantized operand (an integer op that writes float from its
    accumulators), except `quarc.dequantize` itself (its value is the
    quantized tensor's, observed already). Quantized weights (constants
    and their `quarc.storage_cast`) are not observed, and f32 tensors
    computed in float are not either.
  }];
  let options = [
    ListOption<"tensors", "tensors", "std::string",
               "Observe only these tensors (all named f32 tensors if empty)">,
    Option<"quantized", "quantized", "bool", "false",
           "Observe the tensors integer ops write (their dequantized values) "
           "instead of the float ones">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def QuarcQuantize : Pass<"quarc-quantize", "ModuleOp"> {
  let summary = "Quantize a float graph from calibration stats (QDQ form)";
  let description = [{
    Rewrites the graph into the QDQ form that `quarc-fold-qdq` folds into
    integer ops, with parameters from a calibration stats file (`quarc
    calibrate`) and a scheme (`--scheme` syntax of
    Quantization/QuantScheme.h; the default CPU scheme when empty). Which
    ops run as integer code is decided first (QuantizationPlan.h), by what
    each op can do with quantized tensors (QuantBehavior.h):

    - Convolutions (any group), Gemm (transA 0) and MatMul whose weight is
      a constant: always. The weight is quantized at compile time with the
      scheme's weight type and granularity (per output channel: dim 0 of
      a Conv's W, the column dim of B), stored as an integer constant and
      read through `quarc.storage_cast` + `quarc.dequantize`; biases stay
      f32 (the fold makes them int32). The activation input is quantized;
      the output too when an integer op reads it (otherwise the integer
      op writes f32 from its accumulators, which is more exact).
    - Add and Mul of two activations, AveragePool and GlobalAveragePool
      (static spatial dims), Concat: when one input comes from an integer
      op and the output feeds one. Anywhere else their quantize/dequantize
      pairs would only add rounding, so they stay float.
    - Chains of elementwise ops on one activation (Sigmoid, Tanh,
      HardSwish, HardSigmoid, Gelu, LeakyRelu, Clip, x * sigmoid(x),
      arithmetic with scalar constants, ...): each chain's exit becomes one
      table (quarc.lut) of its input, under the same rule.
    - Pass-through ops (Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
      Slice, Split, Gather, Expand, Tile, Identity, MaxPool,
      GlobalMaxPool, nearest Resize): when their input is quantized
      anyway. Their outputs take their input's parameters, so nothing is
      requantized.
    - A Relu, or a Clip with constant bounds, that is the only user of a
      convolution, matrix product, Add or Mul is applied by the integer op
      as a clamp: its output is the one quantized (its range has no room
      for the values the activation drops). A bias written as a separate
      Add of a constant along a contraction's output channels (MatMul
      exports, PaddlePaddle's convolutions) goes into the integer op's
      bias, and the Relu/Clip after it into its clamp.

    Each quantized activation gets one `quarc.quantize` /
    `quarc.dequantize` pair right after its producer, which all its
    consumers read; the model's outputs keep the float value. Parameters
    come from the tensor's histogram with the scheme's calibration method,
    except a pass-through op's output (its input's) and a Concat input
    that only the Concat reads and an integer op writes (the Concat's:
    the producer requantizes straight into the shared scale).

    An op is left in float when a tensor it would quantize has no stats
    (no ONNX name, or not observed), when its ONNX node is listed in
    `exclude-nodes`, when its op name is listed in `float-ops`
    (`quarc.add`; the driver's `--keep-float=Add` names ONNX op types), or
    when it carries the unit attribute `quarc.keep_float` (which a pass
    plugin's rule can set: examples/plugin).
    With 16-bit activations only the contractions are quantized. When the
    module has a `quarc.model_hash` attribute (the driver sets it from the
    model file), stats made for another model are an error.
  }];
  let options = [
    Option<"statsFile", "stats", "std::string", "",
           "Calibration stats file (quarc calibrate)">,
    Option<"scheme", "scheme", "std::string", "",
           "Quantization scheme (--scheme syntax); the default CPU scheme "
           "when empty">,
    ListOption<"excludeNodes", "exclude-nodes", "std::string",
               "ONNX node names to keep in float">,
    ListOption<"floatOps", "float-ops", "std::string",
               "quarc op names (quarc.add) to keep in float">,
  ];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
}

def QuarcQuantizeDynamic : Pass<"quarc-quantize-dynamic", "ModuleOp"> {
  let summary = "Quantize matrix products dynamically: weights at compile "
                "time, activations at run time";
  let description = [{
    Replaces every `quarc.matmul` (B a constant matrix) and `quarc.gemm`
    (transA 0, B a constant, C absent or a constant of one value per column
    or one in all) with `quarc.qmatmul_dynamic`: the weight (a Gemm's B^T
    transposed and scaled by alpha at compile time) is quantized with the
    scheme's weight type and granularity along its columns, beta * C is an
    f32 bias, and the activation is quantized to uint8 on every run from
    its own range, as onnxruntime's dynamic quantization does. No
    calibration is needed.

    Recurrent layers (`quarc.lstm`, `quarc.gru`, `quarc.rnn`) whose W and R
    are constants get both quantized to 8 bits (one scale per output
    channel of each direction; one per tensor with a per-tensor weight
    scheme, and per output channel too with a per-group one) behind
    `quarc.dequantize`, and the `dynamic_quantization` attribute, with
    which their products lower to integer code that quantizes X and each
    step's hidden state as the model runs (onnxruntime's
    DynamicQuantizeLSTM).

    Ops listed in `exclude-nodes` (ONNX node names) or `float-ops` (quarc
    op names), or carrying the unit attribute `quarc.keep_float`, stay
    float, and so does any product whose weight is not a
    constant. Convolutions are left alone: static quantization suits them.
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", "",
           "Quantization scheme (--scheme syntax; only the weights part "
           "applies); the default CPU scheme when empty">,
    ListOption<"excludeNodes", "exclude-nodes", "std::string",
               "ONNX node names to keep in float">,
    ListOption<"floatOps", "float-ops", "std::string",
               "quarc op names (quarc.gemm) to keep in float">,
  ];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
}

def QuarcDecomposeMatMulNBits
    : Pass<"quarc-decompose-matmul-nbits", "func::FuncOp"> {
  let summary = "Unpack com.microsoft MatMulNBits into a product of a "
                "per-group quantized weight";
  let description = [{
    Rewrites every `quarc.matmul_nbits` (an imported MatMulNBits) as

        matmul(A, dequantize(storage_cast(constant K x N)))  [+ bias]

    unpacking its transposed, bit-packed weight at compile time into a
    K x N constant of unsigned `bits`-bit integers whose type is quantized
    per group of `block_size` along k, with the scales and the (unpacked)
    zero points of each group; absent zero points are 2^(bits-1).
    `quarc-fold-qdq` then makes the product a `quarc.qmatmul_weight_only`
    (with `int8_activations` at accuracy level 4; levels 1 to 3 compute in
    f32).
    The dequantized weights are exactly onnxruntime's: a negative scale
    (onnxruntime's symmetric quantizer writes max / -8) is made positive by
    mirroring the group's integers (q -> 2^bits - 1 - q, the zero point
    too), and the group of a zero scale holds zeros.

    Errors, naming the node: B, scales or zero points that are not
    constants, `g_idx`, zero points that are not packed uint8 (float zero
    points), non-f32 activations, sizes that disagree with K, N and
    block_size.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
}

def QuarcQuantizeWeights : Pass<"quarc-quantize-weights", "ModuleOp"> {
  let summary = "Weight-only quantization of matrix products (int4 "
                "weights, float activations)";
  let description = [{
    Replaces the constant weight of every `quarc.matmul` (B a constant
    matrix) and `quarc.gemm` (transA 0, B a constant, C absent or a
    constant of one value per column or one in all) by its quantized
    values behind `quarc.dequantize`: the weight (a Gemm's B^T transposed
    and scaled by alpha at compile time) is quantized at compile time with
    the scheme's weight type, per group of `per-group=N` consecutive k of
    each column (the default scheme for this pass is
    `weights=u4:asymmetric:per-group=32`), and beta * C is added after the
    product. The activations stay f32; `quarc-fold-qdq` makes each product
    a `quarc.qmatmul_weight_only`, whose weights stay packed two per byte.
    This is what onnxruntime's MatMulNBits quantizer does (round to
    nearest, per block), with quarc's parameter choice
    (Quantization/ChooseQuantParams.h).

    With `int8-activations` (`--quantize=w4a8`) each product is marked
    (the discardable `quarc.int8_activations`) so that its activation is
    quantized to s8 per row and group of k on every run and the products
    run as integer dot products, as onnxruntime's MatMulNBits does at
    accuracy level 4.

    The weight type must have 2 to 4 bits and a per-group granularity.
    Ops listed in `exclude-nodes` (ONNX node names) or `float-ops` (quarc
    op names), or carrying the unit attribute `quarc.keep_float`, stay
    float, and so does any product whose weight is not a
    constant. Convolutions are left alone.
  }];
  let options = [
    Option<"scheme", "scheme", "std::string", "",
           "Quantization scheme (--scheme syntax; only the weights part "
           "applies); weights=u4:asymmetric:per-group=32 when empty">,
    ListOption<"excludeNodes", "exclude-nodes", "std::string",
               "ONNX node names to keep in float">,
    ListOption<"floatOps", "float-ops", "std::string",
               "quarc op names (quarc.gemm) to keep in float">,
    Option<"int8Activations", "int8-activations", "bool", "false",
           "Quantize the activations to s8 per row and group on every run "
           "(W4A8: quarc.qmatmul_weight_only's int8_activations)">,
  ];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
}

def QuarcFoldQDQ : Pass<"quarc-fold-qdq", "func::FuncOp"> {
  let summary = "Fold quantize/dequantize pairs into integer ops";
  let description = [{
    Turns the QDQ form (from `quarc-quantize`, or imported from an ONNX QDQ
    model such as onnxruntime's `quantize_static` writes) into integer
    compute. It visits the ops in program order, so each op sees its
    operands already folded, and gives each the integer form that matches:

    - Contractions: `quarc.conv` becomes `quarc.qconv`, and `quarc.matmul`
      (A of rank >= 2, B 2-D) and `quarc.gemm` (transA 0, alpha > 0)
      become `quarc.qmatmul`, when the activation input is a
      `quarc.dequantize` of 8-bit per-tensor values and the weight is a
      `quarc.dequantize` of a constant of 8-bit values, per tensor or per
      output channel (symmetric weights, or asymmetric ones with their zero
      points). A Gemm's transposed B is
      transposed at compile time and alpha is folded into the weight
      scales; beta * C (a constant of N values) is its bias. The bias (f32,
      or int32 dequantized as onnxruntime writes it) becomes int32 at the
      scale input scale x weight scale, minus the input zero point times
      each channel's weight sum (the zero-point compensation,
      Quantization/IntegerContraction.h). When the op's only user is a
      per-tensor `quarc.quantize`, the integer op produces the quantized
      result itself (fixed-point requantization); otherwise it produces
      f32 directly from its accumulators.
    - `quarc.add` / `quarc.mul` of two dequantized 8-bit tensors whose
      result is quantized become `quarc.qadd` / `quarc.qmul`;
      `quarc.average_pool` and `quarc.global_average_pool` of a
      dequantized 8-bit tensor with static spatial dims whose result is
      quantized become `quarc.qaverage_pool`.
    - A Relu, or a Clip with constant bounds, between a contraction, Add or
      Mul and the quantize of its result (its only user, the quantize the
      activation's only user) is fused: the quantized result is clamped to
      [quantize(low), quantize(high)], which is exact because quantization
      is monotonic. An Add of a constant of one value per output channel
      (or one in all) that is a contraction's only user is its bias: added
      to the op's own bias before it becomes int32.
    - A quantize of a chain of elementwise ops (Sigmoid, HardSwish, Gelu,
      arithmetic with scalar constants, ...; TableFunctions.h) whose only
      non-constant input is one dequantized 8-bit tensor becomes
      `quarc.lut` of that tensor: the chain is evaluated at compile time at
      each of the 256 stored values (rounded to f32 after each op, as the
      float code rounds), and the results quantized.
    - A Concat of dequantized tensors whose result is quantized becomes a
      Concat of the quantized tensors, each requantized to the result's
      parameters where they differ.
    - A pass-through op (QuantBehavior.h: Reshape, Transpose, Slice,
      MaxPool, nearest Resize, ...) whose data operands are dequantized
      tensors of one per-tensor type runs on the quantized tensors, and
      its users read its dequantized result. Then a quantize of a
      dequantize (here, or imported) becomes the quantized tensor itself
      when the types are equal, else `quarc.requantize`.

    Anything else (non-constant weights, per-axis
    activations, 16-bit inputs of Add/Mul/pools/tables, ops with no
    integer form) is left as it is and runs in float between its quantize
    and dequantize pairs. The float ops that folded, and the pairs and
    constants only they read, are erased.
  }];
}

#endif // QUARC_DIALECT_QUARC_TRANSFORMS_PASSES_TD
