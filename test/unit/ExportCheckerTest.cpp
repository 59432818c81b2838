//===- ExportCheckerTest.cpp - libonnx's checker on opset-23 models -------===//
//
// The exporter checks its models with libonnx 1.12, which knows opsets up to
// 17 and IR versions up to 8 (lib/Export/ONNX/ModelChecker.cpp). These cases
// check that the bridge accepts the opset-18+ forms quarc writes, still
// rejects what is wrong, and turns libonnx's exceptions into messages.
//
//===----------------------------------------------------------------------===//

#include "ModelChecker.h"

#include <gtest/gtest.h>

using mlir::quarc::onnx_export::checkOnnxModel;

namespace {

/// A model of one graph with a float input `x` of shape [2, 3] and the
/// nodes `addNodes` makes; `y` is its output.
template <typename AddNodes>
onnx::ModelProto makeModel(int64_t opset, AddNodes addNodes) {
  onnx::ModelProto model;
  model.set_ir_version(11);
  onnx::OperatorSetIdProto *import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  onnx::GraphProto *graph = model.mutable_graph();
  graph->set_name("g");
  for (const char *name : {"x", "y"}) {
    onnx::ValueInfoProto *info =
        std::string(name) == "x" ? graph->add_input() : graph->add_output();
    info->set_name(name);
    onnx::TypeProto::Tensor *tensor =
        info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    tensor->mutable_shape()->add_dim()->set_dim_value(2);
    tensor->mutable_shape()->add_dim()->set_dim_value(3);
  }
  addNodes(*graph);
  return model;
}

onnx::NodeProto *addNode(onnx::GraphProto &graph, const char *opType,
                         std::initializer_list<const char *> inputs,
                         std::initializer_list<const char *> outputs) {
  onnx::NodeProto *node = graph.add_node();
  node->set_op_type(opType);
  node->set_name(opType);
  for (const char *input : inputs)
    node->add_input(input);
  for (const char *output : outputs)
    node->add_output(output);
  return node;
}

void addIntAttribute(onnx::NodeProto *node, const char *name, int64_t value) {
  onnx::AttributeProto *attribute = node->add_attribute();
  attribute->set_name(name);
  attribute->set_type(onnx::AttributeProto::INT);
  attribute->set_i(value);
}

void addAxes(onnx::GraphProto &graph) {
  onnx::TensorProto *axes = graph.add_initializer();
  axes->set_name("axes");
  axes->set_data_type(onnx::TensorProto::INT64);
  axes->add_dims(1);
  axes->add_int64_data(1);
}

TEST(ExportChecker, AcceptsReduceWithAxesInputAtOpset18) {
  onnx::ModelProto model = makeModel(23, [](onnx::GraphProto &graph) {
    addAxes(graph);
    addNode(graph, "ReduceMean", {"x", "axes"}, {"y"});
  });
  EXPECT_EQ(checkOnnxModel(model), "");
}

TEST(ExportChecker, RejectsReduceWithAxesInputAtOpset17) {
  // The registry adds the opset-18 form only from opset 18 on.
  onnx::ModelProto model = makeModel(17, [](onnx::GraphProto &graph) {
    addAxes(graph);
    addNode(graph, "ReduceMean", {"x", "axes"}, {"y"});
  });
  EXPECT_NE(checkOnnxModel(model).find("has input size 2 not in range"),
            std::string::npos)
      << checkOnnxModel(model);
}

TEST(ExportChecker, AcceptsQuantizeLinearAttributesOfOpset23) {
  onnx::ModelProto model = makeModel(23, [](onnx::GraphProto &graph) {
    onnx::TensorProto *scale = graph.add_initializer();
    scale->set_name("scale");
    scale->set_data_type(onnx::TensorProto::FLOAT);
    scale->add_float_data(0.5f);
    onnx::NodeProto *quantize =
        addNode(graph, "QuantizeLinear", {"x", "scale"}, {"q"});
    addIntAttribute(quantize, "saturate", 1);
    addIntAttribute(quantize, "output_dtype", onnx::TensorProto::INT8);
    addNode(graph, "DequantizeLinear", {"q", "scale"}, {"y"});
  });
  EXPECT_EQ(checkOnnxModel(model), "");
}

TEST(ExportChecker, AcceptsGeluAtOpset20) {
  onnx::ModelProto model = makeModel(23, [](onnx::GraphProto &graph) {
    addNode(graph, "Gelu", {"x"}, {"y"});
  });
  EXPECT_EQ(checkOnnxModel(model), "");
}

TEST(ExportChecker, RejectsUnknownAttribute) {
  onnx::ModelProto model = makeModel(23, [](onnx::GraphProto &graph) {
    addIntAttribute(addNode(graph, "Relu", {"x"}, {"y"}), "alpha", 1);
  });
  EXPECT_NE(checkOnnxModel(model).find("Unrecognized attribute: alpha"),
            std::string::npos)
      << checkOnnxModel(model);
}

TEST(ExportChecker, RejectsUnknownOp) {
  onnx::ModelProto model = makeModel(23, [](onnx::GraphProto &graph) {
    addNode(graph, "NoSuchOp", {"x"}, {"y"});
  });
  EXPECT_NE(checkOnnxModel(model).find("No Op registered for NoSuchOp"),
            std::string::npos)
      << checkOnnxModel(model);
}

TEST(ExportChecker, RejectsNodesOutOfOrder) {
  onnx::ModelProto model = makeModel(23, [](onnx::GraphProto &graph) {
    addNode(graph, "Relu", {"t"}, {"y"});
    addNode(graph, "Neg", {"x"}, {"t"});
  });
  EXPECT_NE(checkOnnxModel(model).find("topologically sorted"),
            std::string::npos)
      << checkOnnxModel(model);
}

TEST(ExportChecker, RejectsTensorNamedTwice) {
  onnx::ModelProto model = makeModel(23, [](onnx::GraphProto &graph) {
    addNode(graph, "Neg", {"x"}, {"y"});
    addNode(graph, "Relu", {"x"}, {"y"});
  });
  EXPECT_NE(checkOnnxModel(model).find("single static assignment"),
            std::string::npos)
      << checkOnnxModel(model);
}

TEST(ExportChecker, RejectsMissingOpsetImport) {
  onnx::ModelProto model = makeModel(
      23, [](onnx::GraphProto &graph) { addNode(graph, "Neg", {"x"}, {"y"}); });
  model.clear_opset_import();
  EXPECT_EQ(checkOnnxModel(model), "the model imports no opset");
}

} // namespace
