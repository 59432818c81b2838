//===- TensorNames.cpp - ONNX tensor names on quarc values ----------------===//

#include "quarc/Dialect/Quarc/IR/TensorNames.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::quarc;

Location mlir::quarc::getLocWithTensorNames(NameLoc nodeLoc,
                                            ArrayRef<std::string> resultNames) {
  MLIRContext *context = nodeLoc.getContext();
  SmallVector<Location> names;
  for (const std::string &name : resultNames)
    names.push_back(NameLoc::get(StringAttr::get(context, name),
                                 nodeLoc.getChildLoc()));
  // FusedLoc::get would drop duplicates (two results of the same name
  // cannot exist, but two unnamed results can), so build it uniqued
  // directly.
  Location outputs = FusedLoc::get(
      context, names, StringAttr::get(context, kOnnxOutputsLocMetadata));
  return NameLoc::get(nodeLoc.getName(), outputs);
}

/// The names `loc` gives its op's results, following the first location of
/// fused locations (the one a rewrite replaced).
static std::optional<ArrayRef<Location>> getResultNameLocs(Location loc) {
  while (true) {
    if (auto fused = dyn_cast<FusedLoc>(loc)) {
      auto metadata = dyn_cast_or_null<StringAttr>(fused.getMetadata());
      if (metadata && metadata.getValue() == kOnnxOutputsLocMetadata)
        return fused.getLocations();
      if (fused.getLocations().empty())
        return std::nullopt;
      loc = fused.getLocations().front();
      continue;
    }
    if (auto name = dyn_cast<NameLoc>(loc)) {
      loc = name.getChildLoc();
      continue;
    }
    return std::nullopt;
  }
}

std::optional<StringRef> mlir::quarc::getTensorName(Value value) {
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    auto function =
        dyn_cast_or_null<func::FuncOp>(argument.getOwner()->getParentOp());
    if (!function || argument.getOwner() != &function.getBody().front())
      return std::nullopt;
    auto name = function.getArgAttrOfType<StringAttr>(argument.getArgNumber(),
                                                      "quarc.name");
    if (!name || name.getValue().empty())
      return std::nullopt;
    return name.getValue();
  }
  Operation *op = value.getDefiningOp();
  std::optional<ArrayRef<Location>> names = getResultNameLocs(op->getLoc());
  if (!names || names->size() != op->getNumResults())
    return std::nullopt;
  auto name = dyn_cast<NameLoc>((*names)[cast<OpResult>(value).getResultNumber()]);
  if (!name || name.getName().getValue().empty())
    return std::nullopt;
  return name.getName().getValue();
}

std::optional<StringRef> mlir::quarc::getNodeName(Operation *op) {
  Location loc = op->getLoc();
  while (auto fused = dyn_cast<FusedLoc>(loc)) {
    if (fused.getLocations().empty())
      return std::nullopt;
    loc = fused.getLocations().front();
  }
  auto name = dyn_cast<NameLoc>(loc);
  if (!name || name.getName().getValue().empty())
    return std::nullopt;
  return name.getName().getValue();
}

Location mlir::quarc::getLocWithoutTensorNames(Location loc,
                                               unsigned numResults) {
  MLIRContext *context = loc.getContext();
  SmallVector<Location> unnamed(
      numResults, NameLoc::get(StringAttr::get(context, ""), loc));
  return FusedLoc::get(context, unnamed,
                       StringAttr::get(context, kOnnxOutputsLocMetadata));
}

SmallVector<StringRef> mlir::quarc::getNodeNames(Operation *op) {
  SmallVector<StringRef> names;
  SmallVector<Location> worklist = {op->getLoc()};
  while (!worklist.empty()) {
    Location loc = worklist.pop_back_val();
    if (auto fused = dyn_cast<FusedLoc>(loc)) {
      // The tensor names of a node's outputs are no node names.
      auto metadata = dyn_cast_or_null<StringAttr>(fused.getMetadata());
      if (!metadata || metadata.getValue() != kOnnxOutputsLocMetadata)
        llvm::append_range(worklist, fused.getLocations());
    } else if (auto name = dyn_cast<NameLoc>(loc)) {
      if (!name.getName().getValue().empty() &&
          !llvm::is_contained(names, name.getName().getValue()))
        names.push_back(name.getName().getValue());
    }
  }
  return names;
}

std::string mlir::quarc::OnnxLocation::str() const {
  std::string text = file;
  if (!node.empty())
    text += (text.empty() ? "" : ": ") + ("node '" + node + "'");
  return text;
}

mlir::quarc::OnnxLocation mlir::quarc::describeOnnxLocation(Location loc) {
  OnnxLocation where;
  loc->walk([&](Location inner) {
    if (auto name = dyn_cast<NameLoc>(inner); name && where.node.empty())
      where.node = name.getName().str();
    if (auto line = dyn_cast<FileLineColLoc>(inner); line && where.file.empty())
      where.file = line.getFilename().str();
    return WalkResult::advance();
  });
  return where;
}
