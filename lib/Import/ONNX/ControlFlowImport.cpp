//===- ControlFlowImport.cpp - ONNX If and Loop subgraphs to regions ------===//

#include "GraphImporter.h"
#include "OpTable.h"

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::onnx_import;

LogicalResult onnx_import::importIf(NodeContext &context) {
  SmallVector<std::unique_ptr<Region>> regions;
  for (StringRef branch : {"then_branch", "else_branch"}) {
    FailureOr<std::unique_ptr<Region>> region =
        context.importSubgraph(branch, {});
    if (failed(region))
      return failure();
    regions.push_back(std::move(*region));
  }
  FailureOr<Operation *> op =
      context.create("quarc.if", context.operands, context.attributes, regions);
  if (failed(op))
    return failure();
  context.results.assign((*op)->result_begin(), (*op)->result_end());
  return success();
}

LogicalResult onnx_import::importLoop(NodeContext &context) {
  while (context.operands.size() < 2)
    context.operands.push_back(context.none());
  // The body takes (iteration number, condition, carried values...).
  OpBuilder &b = context.builder;
  SmallVector<Type> argumentTypes = {RankedTensorType::get({}, b.getI64Type()),
                                     RankedTensorType::get({}, b.getI1Type())};
  for (Value carried : ArrayRef(context.operands).drop_front(2)) {
    if (isNone(carried))
      return context.error() << "loop-carried inputs must not be empty";
    argumentTypes.push_back(carried.getType());
  }
  FailureOr<std::unique_ptr<Region>> body =
      context.importSubgraph("body", argumentTypes);
  if (failed(body))
    return failure();
  SmallVector<std::unique_ptr<Region>> regions;
  regions.push_back(std::move(*body));
  FailureOr<Operation *> op = context.create("quarc.loop", context.operands,
                                             context.attributes, regions);
  if (failed(op))
    return failure();
  context.results.assign((*op)->result_begin(), (*op)->result_end());
  return success();
}
