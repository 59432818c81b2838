//===- QuarcBase.td - the quarc dialect and its op base classes -----------===//
//
// Every quarc op infers its result types from its operands and attributes
// (InferTypeOpInterface). The generated verifier checks the declared result
// types against the inferred ones, allowing a declared type to be more static
// than the inferred one (a `?` dim may be refined to a number, never changed).
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_DIALECT_QUARC_IR_QUARCBASE_TD
#define QUARC_DIALECT_QUARC_IR_QUARCBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def Quarc_Dialect : Dialect {
  let name = "quarc";
  let cppNamespace = "::mlir::quarc";
  let summary = "Graph-level ops of ONNX models, and quarc's integer compute ops";
  let description = [{
    The quarc dialect holds an imported ONNX graph on ranked tensors (static or
    dynamic dims). Op names are the ONNX op types in snake_case and attribute
    names are the ONNX attribute names, so an ONNX user can read the IR. An
    optional ONNX input that is absent is a `none` value from `quarc.none`.

    Quantization state lives in types: tensors carry upstream `!quant.uniform`
    element types (per-tensor, per-axis or sub-channel). `quarc.quantize` and
    `quarc.dequantize` are the boundaries; they are quarc's own ops so that
    canonicalization never folds an imported quantize/dequantize pair away.
  }];
  // Attributes live in the attribute dictionary, not in properties: the ONNX
  // importer builds every op generically from (name, operands, attributes).
  let usePropertiesForAttributes = 0;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::quant::QuantDialect"];
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Quarc_Tensor : RankedTensorOf<[AnyType]>;
def Quarc_OptTensor : AnyTypeOf<[RankedTensorOf<[AnyType]>, NoneType],
                                 "ranked tensor or none (absent input)">;
def Quarc_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Quarc_OptFloatTensor : AnyTypeOf<[RankedTensorOf<[AnyFloat]>, NoneType],
                                     "ranked tensor of floats or none">;
def Quarc_BoolTensor : RankedTensorOf<[I1]>;
def Quarc_IntTensor : RankedTensorOf<[AnyInteger]>;
def Quarc_OptIntTensor : AnyTypeOf<[RankedTensorOf<[AnyInteger]>, NoneType],
                                   "ranked tensor of integers or none">;
def Quarc_NumericTensor : RankedTensorOf<[AnyFloat, AnyInteger]>;
def Quarc_I64Tensor : RankedTensorOf<[I64]>;
// Upstream `!quant.uniform` (or other quant) element types.
def Quarc_QuantizedElement
    : Type<CPred<"::llvm::isa<::mlir::quant::QuantizedType>($_self)">,
           "quantized type">;
def Quarc_QuantizedTensor : RankedTensorOf<[Quarc_QuantizedElement]>;
// Ops that pass quantization parameters through (max pooling) also take
// quantized tensors.
def Quarc_NumericOrQuantizedTensor
    : RankedTensorOf<[AnyFloat, AnyInteger, Quarc_QuantizedElement]>;
def Quarc_FloatOrQuantizedTensor
    : RankedTensorOf<[AnyFloat, Quarc_QuantizedElement]>;
def Quarc_OptI64Tensor : AnyTypeOf<[RankedTensorOf<[I64]>, NoneType],
                                   "ranked tensor of i64 or none">;

// The window attributes shared by convolution and pooling. Absent lists take
// the ONNX defaults (strides and dilations of 1, pads of 0).
defvar Quarc_WindowAttrs = (ins
    DefaultValuedAttr<StrAttr, "\"NOTSET\"">:$auto_pad,
    OptionalAttr<DenseI64ArrayAttr>:$dilations,
    OptionalAttr<DenseI64ArrayAttr>:$kernel_shape,
    OptionalAttr<DenseI64ArrayAttr>:$pads,
    OptionalAttr<DenseI64ArrayAttr>:$strides);

//===----------------------------------------------------------------------===//
// Op base classes
//===----------------------------------------------------------------------===//

// `quarcDefinitions` is where a class or op adds C++ definitions (for example
// a shared inferReturnTypes); the compatibility rule is added to every op.
class Quarc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Quarc_Dialect, mnemonic,
         !listconcat(traits, [InferTypeOpAdaptorWithIsCompatible])> {
  code quarcDefinitions = "";
  let extraClassDefinition = !strconcat([{
    bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange inferred,
                                            ::mlir::TypeRange actual) {
      return ::mlir::quarc::areCompatibleReturnTypes(inferred, actual);
    }
  }], quarcDefinitions);
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
}

// An op whose one result has the type of its first operand.
class Quarc_SameTypeOp<string mnemonic, list<Trait> traits = []>
    : Quarc_Op<mnemonic, traits> {
  let quarcDefinitions = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location>,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      types.push_back(adaptor.getOperands().front().getType());
      return ::mlir::success();
    }
  }];
}

// An op whose result is the multidirectional (numpy) broadcast of all its
// operands; `resultElement` says the element type: "" for the first operand's,
// "i1" for a predicate.
class Quarc_BroadcastOp<string mnemonic, string resultElement = "",
                        list<Trait> traits = []>
    : Quarc_Op<mnemonic, traits> {
  let quarcDefinitions = !strconcat([{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      ::mlir::Type element = }],
      !if(!eq(resultElement, "i1"), "::mlir::IntegerType::get(context, 1)",
          "nullptr"), [{;
      return ::mlir::quarc::inferBroadcastResult(loc, adaptor.getOperands(),
                                                 element, types);
    }
  }]);
}

// An op with a C++ inferReturnTypes written in lib/Dialect/Quarc/IR.
class Quarc_CustomInferOp<string mnemonic, list<Trait> traits = []>
    : Quarc_Op<mnemonic, traits>;

#endif // QUARC_DIALECT_QUARC_IR_QUARCBASE_TD
