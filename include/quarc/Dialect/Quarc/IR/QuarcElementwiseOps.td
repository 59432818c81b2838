//===- QuarcElementwiseOps.td - elementwise arithmetic and math ----------===//
//
// The many look-alike ONNX elementwise ops come from a few classes: unary
// same-type ops, broadcasting binary and variadic ops, and predicates.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCELEMENTWISEOPS_TD
#define QUARC_DIALECT_QUARC_IR_QUARCELEMENTWISEOPS_TD

include "quarc/Dialect/Quarc/IR/QuarcBase.td"

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

class Quarc_UnaryOp<string mnemonic, string onnxName, Type operandType,
                    dag extraAttrs = (ins)>
    : Quarc_SameTypeOp<mnemonic, [Pure]> {
  let summary = "ONNX " # onnxName;
  let description = "Elementwise ONNX `" # onnxName # "`; the result has the "
                    "type of the input.";
  let arguments = !con((ins operandType:$X), extraAttrs);
  let results = (outs operandType:$Y);
}

class Quarc_FloatUnaryOp<string mnemonic, string onnxName,
                         dag extraAttrs = (ins)>
    : Quarc_UnaryOp<mnemonic, onnxName, Quarc_FloatTensor, extraAttrs>;

def Quarc_SqrtOp : Quarc_FloatUnaryOp<"sqrt", "Sqrt">;
def Quarc_ExpOp : Quarc_FloatUnaryOp<"exp", "Exp">;
def Quarc_LogOp : Quarc_FloatUnaryOp<"log", "Log">;
def Quarc_ErfOp : Quarc_FloatUnaryOp<"erf", "Erf">;
def Quarc_TanhOp : Quarc_FloatUnaryOp<"tanh", "Tanh">;
def Quarc_SigmoidOp : Quarc_FloatUnaryOp<"sigmoid", "Sigmoid">;
def Quarc_SinOp : Quarc_FloatUnaryOp<"sin", "Sin">;
def Quarc_CosOp : Quarc_FloatUnaryOp<"cos", "Cos">;
def Quarc_FloorOp : Quarc_FloatUnaryOp<"floor", "Floor">;
def Quarc_CeilOp : Quarc_FloatUnaryOp<"ceil", "Ceil">;
def Quarc_RoundOp : Quarc_FloatUnaryOp<"round", "Round">;
def Quarc_ReciprocalOp : Quarc_FloatUnaryOp<"reciprocal", "Reciprocal">;
def Quarc_SoftplusOp : Quarc_FloatUnaryOp<"softplus", "Softplus">;
def Quarc_HardSwishOp : Quarc_FloatUnaryOp<"hard_swish", "HardSwish">;
def Quarc_NegOp : Quarc_UnaryOp<"neg", "Neg", Quarc_NumericTensor>;
def Quarc_AbsOp : Quarc_UnaryOp<"abs", "Abs", Quarc_NumericTensor>;
def Quarc_SignOp : Quarc_UnaryOp<"sign", "Sign", Quarc_NumericTensor>;
def Quarc_ReluOp : Quarc_UnaryOp<"relu", "Relu", Quarc_NumericTensor>;
def Quarc_NotOp : Quarc_UnaryOp<"not", "Not", Quarc_BoolTensor>;

def Quarc_LeakyReluOp : Quarc_FloatUnaryOp<"leaky_relu", "LeakyRelu",
    (ins DefaultValuedAttr<F32Attr, "0.01">:$alpha)>;
def Quarc_EluOp : Quarc_FloatUnaryOp<"elu", "Elu",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def Quarc_HardSigmoidOp : Quarc_FloatUnaryOp<"hard_sigmoid", "HardSigmoid",
    (ins DefaultValuedAttr<F32Attr, "0.2">:$alpha,
         DefaultValuedAttr<F32Attr, "0.5">:$beta)>;
def Quarc_GeluOp : Quarc_FloatUnaryOp<"gelu", "Gelu",
    (ins DefaultValuedAttr<StrAttr, "\"none\"">:$approximate)> {
  let hasVerifier = 1;
}
def Quarc_SoftmaxOp : Quarc_FloatUnaryOp<"softmax", "Softmax",
    (ins DefaultValuedAttr<I64Attr, "-1">:$axis)> {
  let description = [{
    ONNX `Softmax` (opset 13 semantics: along one axis). The importer rewrites
    the opset < 13 form, which flattens to 2-D at `axis`, into
    reshape + softmax + reshape.
  }];
  let hasVerifier = 1;
}
def Quarc_LogSoftmaxOp : Quarc_FloatUnaryOp<"log_softmax", "LogSoftmax",
    (ins DefaultValuedAttr<I64Attr, "-1">:$axis)> {
  let hasVerifier = 1;
}

def Quarc_ClipOp : Quarc_SameTypeOp<"clip", [Pure]> {
  let summary = "ONNX Clip";
  let description = [{
    Clamps `input` to [`min`, `max`]; either bound may be absent (`none`).
    The importer turns the opset < 11 `min`/`max` attributes into constants.
  }];
  let arguments = (ins Quarc_NumericTensor:$input, Quarc_OptTensor:$min,
                       Quarc_OptTensor:$max);
  let results = (outs Quarc_NumericTensor:$output);
  let hasVerifier = 1;
}

def Quarc_PReluOp : Quarc_SameTypeOp<"prelu", [Pure]> {
  let summary = "ONNX PRelu";
  let description = [{
    `slope` broadcasts unidirectionally to `X`; the result has the type of `X`.
  }];
  let arguments = (ins Quarc_FloatTensor:$X, Quarc_FloatTensor:$slope);
  let results = (outs Quarc_FloatTensor:$Y);
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Broadcasting binary and variadic ops
//===----------------------------------------------------------------------===//

class Quarc_BinaryOp<string mnemonic, string onnxName, Type operandType,
                     string resultElement = "", list<Trait> traits = []>
    : Quarc_BroadcastOp<mnemonic, resultElement, !listconcat([Pure], traits)> {
  let summary = "ONNX " # onnxName;
  let description = "Elementwise ONNX `" # onnxName # "` with multidirectional "
                    "(numpy) broadcasting.";
  let arguments = (ins operandType:$A, operandType:$B);
  let results = (outs Quarc_Tensor:$C);
}

class Quarc_ArithOp<string mnemonic, string onnxName, list<Trait> traits = []>
    : Quarc_BinaryOp<mnemonic, onnxName, Quarc_NumericTensor, "",
                     !listconcat([SameOperandsElementType], traits)>;

def Quarc_AddOp : Quarc_ArithOp<"add", "Add", [Commutative]>;
def Quarc_SubOp : Quarc_ArithOp<"sub", "Sub">;
def Quarc_MulOp : Quarc_ArithOp<"mul", "Mul", [Commutative]>;
def Quarc_DivOp : Quarc_ArithOp<"div", "Div">;
def Quarc_PowOp : Quarc_BinaryOp<"pow", "Pow", Quarc_NumericTensor> {
  let description = [{
    ONNX `Pow`: `X` to the power `Y`, broadcast; the result has `X`'s element
    type (the exponent may have another numeric type).
  }];
  let arguments = (ins Quarc_NumericTensor:$X, Quarc_NumericTensor:$Y);
  let results = (outs Quarc_NumericTensor:$Z);
}

class Quarc_LogicOp<string mnemonic, string onnxName, list<Trait> traits = []>
    : Quarc_BinaryOp<mnemonic, onnxName, Quarc_BoolTensor, "", traits>;
def Quarc_AndOp : Quarc_LogicOp<"and", "And", [Commutative]>;
def Quarc_OrOp : Quarc_LogicOp<"or", "Or", [Commutative]>;
def Quarc_XorOp : Quarc_LogicOp<"xor", "Xor", [Commutative]>;

class Quarc_CompareOp<string mnemonic, string onnxName,
                      list<Trait> traits = []>
    : Quarc_BinaryOp<mnemonic, onnxName, Quarc_NumericTensor, "i1",
                     !listconcat([SameOperandsElementType], traits)> {
  let results = (outs Quarc_BoolTensor:$C);
}
def Quarc_EqualOp : Quarc_CompareOp<"equal", "Equal", [Commutative]>;
def Quarc_LessOp : Quarc_CompareOp<"less", "Less">;
def Quarc_LessOrEqualOp : Quarc_CompareOp<"less_or_equal", "LessOrEqual">;
def Quarc_GreaterOp : Quarc_CompareOp<"greater", "Greater">;
def Quarc_GreaterOrEqualOp
    : Quarc_CompareOp<"greater_or_equal", "GreaterOrEqual">;

class Quarc_VariadicOp<string mnemonic, string onnxName>
    : Quarc_BroadcastOp<mnemonic, "", [Pure, SameOperandsElementType]> {
  let summary = "ONNX " # onnxName;
  let description = "ONNX `" # onnxName # "` of one or more inputs, "
                    "broadcast multidirectionally.";
  let arguments = (ins Variadic<Quarc_NumericTensor>:$data_0);
  let results = (outs Quarc_NumericTensor:$result);
  let hasVerifier = 1;
}
def Quarc_MaxOp : Quarc_VariadicOp<"max", "Max">;
def Quarc_MinOp : Quarc_VariadicOp<"min", "Min">;
def Quarc_SumOp : Quarc_VariadicOp<"sum", "Sum">;
def Quarc_MeanOp : Quarc_VariadicOp<"mean", "Mean">;

def Quarc_WhereOp : Quarc_BroadcastOp<"where", "", [Pure]> {
  let summary = "ONNX Where";
  let description = [{
    Selects `X` where `condition` is true and `Y` elsewhere, broadcasting all
    three. The result element type is that of `X`.
  }];
  let arguments = (ins Quarc_BoolTensor:$condition, Quarc_Tensor:$X,
                       Quarc_Tensor:$Y);
  let results = (outs Quarc_Tensor:$output);
  let hasVerifier = 1;
  // The element type of the result is X's, not the condition's.
  let quarcDefinitions = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      auto element = ::llvm::cast<::mlir::ShapedType>(adaptor.getX().getType())
                         .getElementType();
      return ::mlir::quarc::inferBroadcastResult(loc, adaptor.getOperands(),
                                                 element, types);
    }
  }];
}

#endif // QUARC_DIALECT_QUARC_IR_QUARCELEMENTWISEOPS_TD
