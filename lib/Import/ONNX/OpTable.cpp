//===- OpTable.cpp - the ONNX ops the importer supports -------------------===//
//
// One row per ONNX op: the quarc op it becomes, the opsets it is imported
// from (at least kMinOnnxOpset: the op's introduction, or a form change that
// quarc does not import), its operand count and an optional hook. This table
// is the single source of `quarc-translate --list-onnx-ops` and docs/ops.md.
//
//===----------------------------------------------------------------------===//

#include "OpTable.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <vector>

using namespace mlir;
using namespace mlir::quarc::onnx_import;

namespace {
const StringRef kOnnx = "ai.onnx";
const StringRef kMicrosoft = "com.microsoft";
constexpr int64_t kLast = kMaxOnnxOpset;

OnnxOpInfo op(StringRef type, StringRef quarc, int64_t first, int inputs,
              ImportHook hook = nullptr, int64_t last = kLast) {
  return {kOnnx, type, quarc, std::max(first, kMinOnnxOpset), last, inputs,
          hook};
}

std::vector<OnnxOpInfo> buildTable() {
  std::vector<OnnxOpInfo> table = {
      // Elementwise math.
      op("Abs", "quarc.abs", 1, 1), op("Ceil", "quarc.ceil", 1, 1),
      op("Cos", "quarc.cos", 7, 1), op("Elu", "quarc.elu", 1, 1),
      op("Erf", "quarc.erf", 9, 1), op("Exp", "quarc.exp", 1, 1),
      op("Floor", "quarc.floor", 1, 1), op("Gelu", "quarc.gelu", 20, 1),
      op("HardSigmoid", "quarc.hard_sigmoid", 1, 1),
      op("HardSwish", "quarc.hard_swish", 14, 1),
      op("LeakyRelu", "quarc.leaky_relu", 1, 1), op("Log", "quarc.log", 1, 1),
      op("Neg", "quarc.neg", 1, 1), op("Not", "quarc.not", 1, 1),
      op("Reciprocal", "quarc.reciprocal", 1, 1),
      op("Relu", "quarc.relu", 1, 1), op("Round", "quarc.round", 11, 1),
      op("Sigmoid", "quarc.sigmoid", 1, 1), op("Sign", "quarc.sign", 9, 1),
      op("Sin", "quarc.sin", 7, 1), op("Softplus", "quarc.softplus", 1, 1),
      op("Sqrt", "quarc.sqrt", 1, 1), op("Tanh", "quarc.tanh", 1, 1),
      op("Softmax", "quarc.softmax", 1, 1, importSoftmaxLike),
      op("LogSoftmax", "quarc.log_softmax", 1, 1, importSoftmaxLike),
      op("Clip", "quarc.clip", 1, 3, importClip),
      op("PRelu", "quarc.prelu", 1, 2),
      // Broadcasting binary, variadic and comparison ops.
      op("Add", "quarc.add", 7, 2), op("Sub", "quarc.sub", 7, 2),
      op("Mul", "quarc.mul", 7, 2), op("Div", "quarc.div", 7, 2),
      op("Pow", "quarc.pow", 7, 2), op("And", "quarc.and", 7, 2),
      op("Or", "quarc.or", 7, 2), op("Xor", "quarc.xor", 7, 2),
      op("Equal", "quarc.equal", 7, 2), op("Less", "quarc.less", 7, 2),
      op("LessOrEqual", "quarc.less_or_equal", 12, 2),
      op("Greater", "quarc.greater", 7, 2),
      op("GreaterOrEqual", "quarc.greater_or_equal", 12, 2),
      op("Max", "quarc.max", 1, kVariadic), op("Min", "quarc.min", 1, kVariadic),
      op("Sum", "quarc.sum", 1, kVariadic),
      op("Mean", "quarc.mean", 1, kVariadic),
      op("Where", "quarc.where", 9, 3),
      // Convolution, pooling, normalization, matmul.
      op("Conv", "quarc.conv", 1, 3),
      op("ConvTranspose", "quarc.conv_transpose", 1, 3),
      op("MaxPool", "quarc.max_pool", 1, 1),
      op("AveragePool", "quarc.average_pool", 7, 1),
      op("GlobalAveragePool", "quarc.global_average_pool", 1, 1),
      op("GlobalMaxPool", "quarc.global_max_pool", 1, 1),
      op("BatchNormalization", "quarc.batch_normalization", 7, 5,
         importBatchNormalization),
      op("LayerNormalization", "quarc.layer_normalization", 17, 3),
      op("InstanceNormalization", "quarc.instance_normalization", 6, 3),
      op("LRN", "quarc.lrn", 1, 1),
      op("Gemm", "quarc.gemm", 7, 3), op("MatMul", "quarc.matmul", 1, 2),
      // Shape ops.
      op("Reshape", "quarc.reshape", 5, 2), op("Flatten", "quarc.flatten", 1, 1),
      op("Transpose", "quarc.transpose", 1, 1),
      op("Squeeze", "quarc.squeeze", 1, 2, importAxesAttrAsInput),
      op("Unsqueeze", "quarc.unsqueeze", 1, 2, importAxesAttrAsInput),
      op("Concat", "quarc.concat", 4, kVariadic),
      op("Split", "quarc.split", 2, 2, importSplit),
      op("Slice", "quarc.slice", 1, 5, importSlice),
      op("Gather", "quarc.gather", 1, 2), op("Expand", "quarc.expand", 8, 2),
      op("Tile", "quarc.tile", 6, 2), op("Pad", "quarc.pad", 2, 4, importPad),
      op("Resize", "quarc.resize", 10, 4, importResize),
      op("Upsample", "quarc.resize", 7, 4, importUpsample, 9),
      op("Shape", "quarc.shape", 1, 1),
      // Reductions.
      op("ReduceMean", "quarc.reduce_mean", 1, 2, importReduce),
      op("ReduceSum", "quarc.reduce_sum", 1, 2, importReduce),
      op("ReduceMax", "quarc.reduce_max", 1, 2, importReduce),
      op("ReduceMin", "quarc.reduce_min", 1, 2, importReduce),
      op("ReduceProd", "quarc.reduce_prod", 1, 2, importReduce),
      op("ReduceL2", "quarc.reduce_l2", 1, 2, importReduce),
      op("ArgMax", "quarc.arg_max", 1, 1), op("ArgMin", "quarc.arg_min", 1, 1),
      // Constants, casts and utilities.
      op("Constant", "quarc.constant", 1, 0, importConstant),
      op("ConstantOfShape", "quarc.constant_of_shape", 9, 1),
      op("Cast", "quarc.cast", 6, 1), op("Identity", "quarc.identity", 1, 1),
      op("Dropout", "quarc.dropout", 7, 3, importDropout),
      op("Range", "quarc.range", 11, 3),
      // Control flow and recurrent layers.
      op("If", "quarc.if", 1, 1, importIf),
      op("Loop", "quarc.loop", 1, kVariadic, importLoop),
      op("LSTM", "quarc.lstm", 7, 8), op("GRU", "quarc.gru", 7, 6),
      op("RNN", "quarc.rnn", 7, 6),
      // Quantization.
      op("QuantizeLinear", "quarc.quantize_linear", 10, 3),
      op("DequantizeLinear", "quarc.dequantize_linear", 10, 3),
      op("DynamicQuantizeLinear", "quarc.dynamic_quantize_linear", 11, 1),
      op("QLinearConv", "quarc.qlinear_conv", 10, 9),
      op("QLinearMatMul", "quarc.qlinear_matmul", 10, 8),
      op("MatMulInteger", "quarc.matmul_integer", 10, 4),
      op("ConvInteger", "quarc.conv_integer", 10, 4),
  };
  table.push_back({kMicrosoft, "MatMulNBits", "quarc.matmul_nbits", 1, 1, 6,
                   nullptr});
  llvm::sort(table, [](const OnnxOpInfo &a, const OnnxOpInfo &b) {
    return std::make_pair(a.domain, a.opType) <
           std::make_pair(b.domain, b.opType);
  });
  return table;
}
} // namespace

ArrayRef<OnnxOpInfo> mlir::quarc::onnx_import::getOnnxOpTable() {
  static const std::vector<OnnxOpInfo> table = buildTable();
  return table;
}

const OnnxOpInfo *mlir::quarc::onnx_import::lookupOnnxOp(StringRef domain,
                                                        StringRef opType) {
  ArrayRef<OnnxOpInfo> table = getOnnxOpTable();
  const OnnxOpInfo *it = llvm::lower_bound(
      table, std::make_pair(domain, opType),
      [](const OnnxOpInfo &entry, std::pair<StringRef, StringRef> key) {
        return std::make_pair(entry.domain, entry.opType) < key;
      });
  if (it != table.end() && it->domain == domain && it->opType == opType)
    return it;
  return nullptr;
}
