//===- QuarcDialect.cpp - the quarc dialect -------------------------------===//

#include "quarc/Dialect/Quarc/IR/QuarcDialect.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

using namespace mlir;
using namespace mlir::quarc;

#include "quarc/Dialect/Quarc/IR/QuarcOpsDialect.cpp.inc"

void QuarcDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "quarc/Dialect/Quarc/IR/QuarcOps.cpp.inc"
      >();
}

Operation *QuarcDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  if (isa<NoneType>(type))
    return NoneOp::create(builder, loc, type);
  if (auto elements = dyn_cast<ElementsAttr>(value))
    if (elements.getType() == type)
      return ConstantOp::create(builder, loc, type, elements);
  return nullptr;
}
