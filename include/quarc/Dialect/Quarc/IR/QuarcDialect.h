//===- QuarcDialect.h - the quarc dialect -----------------------*- C++ -*-===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCDIALECT_H
#define QUARC_DIALECT_QUARC_IR_QUARCDIALECT_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Dialect.h"

#include "quarc/Dialect/Quarc/IR/QuarcOpsDialect.h.inc"

#endif // QUARC_DIALECT_QUARC_IR_QUARCDIALECT_H
