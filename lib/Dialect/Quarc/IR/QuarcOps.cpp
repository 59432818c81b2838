//===- QuarcOps.cpp - the ODS-generated op definitions --------------------===//
//
// The hand-written parts of each op family live in <Family>Ops.cpp beside
// this file.
//
//===----------------------------------------------------------------------===//

#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::quarc;

#define GET_OP_CLASSES
#include "quarc/Dialect/Quarc/IR/QuarcOps.cpp.inc"
