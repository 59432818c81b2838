//===- ModelChecker.cpp - libonnx's checker on exported models -----------===//
//
// libonnx 1.12's check_model() refuses IR versions above 8, and its schema
// registry stops at opset 17: for an opset-23 node it returns the op's
// newest schema it knows, which is the right one only where the op's form
// (inputs, outputs, attribute names and types) has not changed since. So
// the model-level checks of check_model() are done here and the graph goes
// to libonnx's check_graph(), with a registry that adds the opset 18-23
// forms of the ops quarc imports whose form changed after opset 17 (found
// by comparing each op's schemas at opsets 17 and 23 with the PyPI onnx
// package). Data types are not part of a form: the checker does not look
// at them (opset 22 and 23 mostly widened type lists).
//
//===----------------------------------------------------------------------===//

#include "ModelChecker.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>

#include <exception>
#include <map>
#include <set>

namespace {

using onnx::AttributeProto;
using onnx::OpSchema;

/// The schemas libonnx 1.12 lacks, transcribed from the ONNX operator
/// specification (Operators.md), forms only: inputs and outputs with their
/// optionality, attributes with their types. Type constraints accept
/// every tensor type.
class NewerFormsRegistry final : public onnx::ISchemaRegistry {
public:
  NewerFormsRegistry() {
    const AttributeProto::AttributeType kInt = AttributeProto::INT;
    const AttributeProto::AttributeType kInts = AttributeProto::INTS;
    const AttributeProto::AttributeType kFloat = AttributeProto::FLOAT;
    const AttributeProto::AttributeType kString = AttributeProto::STRING;
    constexpr bool kOptional = false;

    // Opset 18: Reduce* take `axes` as an input (ReduceMax/Min 20 only
    // widened the types).
    for (const char *reduce :
         {"ReduceL2", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd"})
      add(reduce, 18)
          .Input(0, "data", "", "T")
          .Input(1, "axes", "", "tensor(int64)", OpSchema::Optional)
          .Output(0, "reduced", "", "T")
          .Attr("keepdims", "", kInt, kOptional)
          .Attr("noop_with_empty_axes", "", kInt, kOptional);
    // Opset 18: Split's `num_outputs`.
    add("Split", 18)
        .Input(0, "input", "", "T")
        .Input(1, "split", "", "tensor(int64)", OpSchema::Optional)
        .Output(0, "outputs", "", "T", OpSchema::Variadic)
        .Attr("axis", "", kInt, kOptional)
        .Attr("num_outputs", "", kInt, kOptional);
    // Opset 18: Pad's `axes` input (19: the `wrap` mode; 21, 23: types).
    add("Pad", 18)
        .Input(0, "data", "", "T")
        .Input(1, "pads", "", "tensor(int64)")
        .Input(2, "constant_value", "", "T", OpSchema::Optional)
        .Input(3, "axes", "", "Tind", OpSchema::Optional)
        .Output(0, "output", "", "T")
        .Attr("mode", "", kString, kOptional);
    // Opset 18: Resize's antialias, axes and keep_aspect_ratio_policy (19:
    // the half_pixel_symmetric mode).
    add("Resize", 18)
        .Input(0, "X", "", "T1")
        .Input(1, "roi", "", "T2", OpSchema::Optional)
        .Input(2, "scales", "", "tensor(float)", OpSchema::Optional)
        .Input(3, "sizes", "", "tensor(int64)", OpSchema::Optional)
        .Output(0, "Y", "", "T1")
        .Attr("antialias", "", kInt, kOptional)
        .Attr("axes", "", kInts, kOptional)
        .Attr("coordinate_transformation_mode", "", kString, kOptional)
        .Attr("cubic_coeff_a", "", kFloat, kOptional)
        .Attr("exclude_outside", "", kInt, kOptional)
        .Attr("extrapolation_value", "", kFloat, kOptional)
        .Attr("keep_aspect_ratio_policy", "", kString, kOptional)
        .Attr("mode", "", kString, kOptional)
        .Attr("nearest_mode", "", kString, kOptional);
    // Opset 19: AveragePool's `dilations`.
    add("AveragePool", 19)
        .Input(0, "X", "", "T")
        .Output(0, "Y", "", "T")
        .Attr("auto_pad", "", kString, kOptional)
        .Attr("ceil_mode", "", kInt, kOptional)
        .Attr("count_include_pad", "", kInt, kOptional)
        .Attr("dilations", "", kInts, kOptional)
        .Attr("kernel_shape", "", kInts)
        .Attr("pads", "", kInts, kOptional)
        .Attr("strides", "", kInts, kOptional);
    // Opset 19: Cast's `saturate` (for float8).
    add("Cast", 19)
        .Input(0, "input", "", "T1")
        .Output(0, "output", "", "T2")
        .Attr("saturate", "", kInt, kOptional)
        .Attr("to", "", kInt);
    // Opset 20: Gelu is new.
    add("Gelu", 20)
        .Input(0, "X", "", "T")
        .Output(0, "Y", "", "T")
        .Attr("approximate", "", kString, kOptional);
    // Opsets 19, 21, 23: QuantizeLinear's saturate, block_size,
    // output_dtype and precision; DequantizeLinear's block_size and
    // output_dtype.
    add("QuantizeLinear", 23)
        .Input(0, "x", "", "T1")
        .Input(1, "y_scale", "", "T2")
        .Input(2, "y_zero_point", "", "T3", OpSchema::Optional)
        .Output(0, "y", "", "T3")
        .Attr("axis", "", kInt, kOptional)
        .Attr("block_size", "", kInt, kOptional)
        .Attr("output_dtype", "", kInt, kOptional)
        .Attr("precision", "", kInt, kOptional)
        .Attr("saturate", "", kInt, kOptional);
    add("DequantizeLinear", 23)
        .Input(0, "x", "", "T1")
        .Input(1, "x_scale", "", "T2")
        .Input(2, "x_zero_point", "", "T1", OpSchema::Optional)
        .Output(0, "y", "", "T3")
        .Attr("axis", "", kInt, kOptional)
        .Attr("block_size", "", kInt, kOptional)
        .Attr("output_dtype", "", kInt, kOptional);

    for (auto &[name, schema] : schemas) {
      for (const OpSchema::FormalParameter &parameter : schema.inputs())
        addAnyTensorConstraint(schema, parameter.GetTypeStr());
      for (const OpSchema::FormalParameter &parameter : schema.outputs())
        addAnyTensorConstraint(schema, parameter.GetTypeStr());
      schema.Finalize();
    }
  }

  const OpSchema *GetSchema(const std::string &key,
                            const int maxInclusiveVersion,
                            const std::string &domain) const override {
    if (domain.empty() || domain == "ai.onnx") {
      auto it = schemas.find(key);
      if (it != schemas.end() &&
          it->second.SinceVersion() <= maxInclusiveVersion)
        return &it->second;
    }
    return onnx::OpSchemaRegistry::Schema(key, maxInclusiveVersion, domain);
  }

private:
  std::map<std::string, OpSchema> schemas;

  OpSchema &add(const char *name, int sinceVersion) {
    OpSchema &schema = schemas[name];
    schema.SetName(name).SetDomain("").SinceVersion(sinceVersion);
    return schema;
  }

  /// Lets a type parameter ("T", "T1") stand for any tensor type, once.
  static void addAnyTensorConstraint(OpSchema &schema,
                                     const std::string &typeStr) {
    if (typeStr.rfind("tensor(", 0) == 0)
      return;
    for (const OpSchema::TypeConstraintParam &constraint :
         schema.typeConstraintParams())
      if (constraint.type_param_str == typeStr)
        return;
    schema.TypeConstraint(typeStr, OpSchema::all_tensor_types_with_bfloat(),
                          "");
  }
};

std::string check(const onnx::ModelProto &model) {
  // check_model()'s own checks, less the IR version ceiling.
  if (!model.ir_version())
    return "the model has no ir_version";
  std::set<std::string> keys;
  for (const onnx::StringStringEntryProto &entry : model.metadata_props())
    if (!keys.insert(entry.key()).second)
      return "metadata_props has the key '" + entry.key() + "' twice";
  std::unordered_map<std::string, int> opsets;
  for (const onnx::OperatorSetIdProto &opset : model.opset_import())
    opsets[opset.domain()] = static_cast<int>(opset.version());
  if (opsets.empty())
    return "the model imports no opset";

  static const NewerFormsRegistry registry;
  onnx::checker::CheckerContext context;
  context.set_ir_version(static_cast<int>(model.ir_version()));
  context.set_opset_imports(opsets);
  context.set_schema_registry(&registry);
  onnx::checker::LexicalScopeContext scope;
  onnx::checker::check_graph(model.graph(), context, scope);
  return "";
}

} // namespace

std::string
mlir::quarc::onnx_export::checkOnnxModel(const onnx::ModelProto &model) {
  try {
    return check(model);
  } catch (const std::exception &error) {
    std::string message = error.what();
    return message.empty() ? "the ONNX checker failed" : message;
  } catch (...) {
    return "the ONNX checker failed with an unknown exception";
  }
}
