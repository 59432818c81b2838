//===- TensorNames.h - ONNX tensor names on quarc values --------*- C++ -*-===//
//
// Calibration statistics, quantization parameters and QDQ export are keyed
// by ONNX tensor name, so the names must survive import and the graph
// passes. MLIR values have no names; quarc keeps them in locations, which
// every rewrite already carries over to the ops it creates:
//
//   loc("node"(fused<"onnx.outputs">["t0"("model.onnx":0:0), ...]))
//
// is the location of the op that produces node `node`'s outputs t0, ...,
// one name per op result (an empty name for a result that is no ONNX
// tensor). A pass that replaces a named value by a new op's result puts
// the replaced op's location first in the new op's fused location
// (`fused[replaced, others...]`): the first location names the results.
// Function arguments are named by their `quarc.name` attribute.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_TENSORNAMES_H
#define QUARC_DIALECT_QUARC_IR_TENSORNAMES_H

#include "mlir/IR/Location.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <string>

namespace mlir::quarc {

/// The metadata of the fused location listing an op's output names.
constexpr llvm::StringLiteral kOnnxOutputsLocMetadata = "onnx.outputs";

/// `nodeLoc` (a NameLoc naming the ONNX node) with the tensor names of the
/// op's results attached, one per result ("" for a result with none).
Location getLocWithTensorNames(NameLoc nodeLoc,
                               ArrayRef<std::string> resultNames);

/// The ONNX tensor `value` stands for, if it has a (non-empty) name.
std::optional<StringRef> getTensorName(Value value);

/// `loc` for an op whose `numResults` results are no ONNX tensors (a value
/// a rewrite adds, such as a Concat input requantized to the Concat's
/// parameters): getTensorName finds no name for them, rather than one
/// that the location's first child would give.
Location getLocWithoutTensorNames(Location loc, unsigned numResults);

/// The ONNX node `op` was imported from (the first NameLoc of its location,
/// following the first location of fused ones), if it has a name.
std::optional<StringRef> getNodeName(Operation *op);

/// Every ONNX node `op` stands for: the node names of its location and,
/// for an op that replaced others (a Conv with a BatchNormalization folded
/// in), of every location fused into it.
SmallVector<StringRef> getNodeNames(Operation *op);

/// Where a diagnostic is, as a user of the ONNX model knows it: the model
/// file and the ONNX node (each "" when the location has none).
struct OnnxLocation {
  std::string file, node;
  /// "model.onnx: node 'conv1'", "model.onnx", "node 'conv1'" or "".
  std::string str() const;
};

/// The first file name and the first node name (NameLoc) in `loc`.
OnnxLocation describeOnnxLocation(Location loc);

} // namespace mlir::quarc

#endif // QUARC_DIALECT_QUARC_IR_TENSORNAMES_H
