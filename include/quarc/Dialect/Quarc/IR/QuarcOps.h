//===- QuarcOps.h - quarc ops -----------------------------------*- C++ -*-===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCOPS_H
#define QUARC_DIALECT_QUARC_IR_QUARCOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "quarc/Dialect/Quarc/IR/QuarcDialect.h"
#include "quarc/Dialect/Quarc/IR/ShapeInference.h"

#define GET_OP_CLASSES
#include "quarc/Dialect/Quarc/IR/QuarcOps.h.inc"

#endif // QUARC_DIALECT_QUARC_IR_QUARCOPS_H
