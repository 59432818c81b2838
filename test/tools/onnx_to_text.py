#!/usr/bin/env python3
"""Prints a binary .onnx model as compact lines, for FileCheck tests of the exporter.

    model ir_version=11 producer=quarc opsets=ai.onnx:23
    graph NAME
    input NAME DTYPE [D0,D1,...]      (a dim_param prints as its name)
    output NAME DTYPE [...]
    initializer NAME DTYPE [dims] raw|typed VALUES
    node NAME OpType(in0, in1, ...) -> (out0, ...) {attr=value, ...}
      subgraph ATTR { ...the same lines, indented... }

Values print all up to 16, else the first 8 and the count; floats with 9
significant digits. With --check the
model is first checked by the PyPI onnx package's full checker (which knows
every opset, unlike libonnx 1.12), and "checker: ok" is printed.

usage: onnx_to_text.py MODEL.onnx [--check]
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def dtype_name(elem_type: int) -> str:
    return onnx.TensorProto.DataType.Name(elem_type)


def shape_text(type_proto: onnx.TypeProto) -> str:
    tensor = type_proto.tensor_type
    if not tensor.HasField("shape"):
        return "?"
    dims = [d.dim_param if d.HasField("dim_param") else str(d.dim_value) for d in tensor.shape.dim]
    return "[" + ",".join(dims) + "]"


def values_text(array: np.ndarray) -> str:
    flat = array.reshape(-1)
    if flat.dtype.kind == "f":
        items = [f"{float(v):.9g}" for v in flat[:16 if flat.size <= 16 else 8]]
    else:
        items = [str(int(v)) for v in flat[:16 if flat.size <= 16 else 8]]
    if flat.size > 16:
        items.append(f"... ({flat.size} values)")
    return "[" + ",".join(items) + "]"


def attribute_text(attr: onnx.AttributeProto) -> str:
    kind = attr.type
    if kind == onnx.AttributeProto.INT:
        return str(attr.i)
    if kind == onnx.AttributeProto.FLOAT:
        return f"{attr.f:.9g}"
    if kind == onnx.AttributeProto.STRING:
        return repr(attr.s.decode())
    if kind == onnx.AttributeProto.INTS:
        return "[" + ",".join(str(i) for i in attr.ints) + "]"
    if kind == onnx.AttributeProto.FLOATS:
        return "[" + ",".join(f"{f:.9g}" for f in attr.floats) + "]"
    if kind == onnx.AttributeProto.STRINGS:
        return "[" + ",".join(repr(s.decode()) for s in attr.strings) + "]"
    if kind == onnx.AttributeProto.TENSOR:
        t = attr.t
        return f"tensor {dtype_name(t.data_type)} {list(t.dims)} {values_text(numpy_helper.to_array(t))}"
    if kind == onnx.AttributeProto.GRAPH:
        return "graph"
    return onnx.AttributeProto.AttributeType.Name(kind)


def print_graph(graph: onnx.GraphProto, indent: str) -> None:
    print(f"{indent}graph {graph.name}")
    for value in graph.input:
        print(f"{indent}input {value.name} {dtype_name(value.type.tensor_type.elem_type)} "
              f"{shape_text(value.type)}")
    for value in graph.output:
        print(f"{indent}output {value.name} {dtype_name(value.type.tensor_type.elem_type)} "
              f"{shape_text(value.type)}")
    for tensor in graph.initializer:
        storage = "raw" if tensor.HasField("raw_data") else "typed"
        print(f"{indent}initializer {tensor.name} {dtype_name(tensor.data_type)} "
              f"{list(tensor.dims)} {storage} {values_text(numpy_helper.to_array(tensor))}")
    for node in graph.node:
        op = node.op_type if not node.domain else f"{node.domain}.{node.op_type}"
        attrs = ", ".join(f"{a.name}={attribute_text(a)}" for a in node.attribute)
        attrs = f" {{{attrs}}}" if attrs else ""
        print(f"{indent}node {node.name} {op}({', '.join(node.input)}) -> "
              f"({', '.join(node.output)}){attrs}")
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                print(f"{indent}  subgraph {attr.name} {{")
                print_graph(attr.g, indent + "    ")
                print(f"{indent}  }}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    model = onnx.load(args.model)
    if args.check:
        try:
            onnx.checker.check_model(model, full_check=True)
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
            print(f"checker: {error}")
            return 1
        print("checker: ok")
    opsets = " ".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in model.opset_import)
    print(f"model ir_version={model.ir_version} producer={model.producer_name} opsets={opsets}")
    for prop in model.metadata_props:
        print(f"metadata {prop.key}={prop.value!r}")
    print_graph(model.graph, "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
