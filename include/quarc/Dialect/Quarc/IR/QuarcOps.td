//===- QuarcOps.td - all quarc ops ----------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCOPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCOPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"
include "quarc/Dialect/Quarc/IR/QuarcTensorOps.td"
include "quarc/Dialect/Quarc/IR/QuarcElementwiseOps.td"
include "quarc/Dialect/Quarc/IR/QuarcNNOps.td"
include "quarc/Dialect/Quarc/IR/QuarcShapeOps.td"
include "quarc/Dialect/Quarc/IR/QuarcReductionOps.td"
include "quarc/Dialect/Quarc/IR/QuarcControlFlowOps.td"
include "quarc/Dialect/Quarc/IR/QuarcRNNOps.td"
include "quarc/Dialect/Quarc/IR/QuarcQuantOps.td"

#endif // QUARC_DIALECT_QUARC_IR_QUARCOPS_TD
