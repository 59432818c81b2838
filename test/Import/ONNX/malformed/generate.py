#!/usr/bin/env python3
"""Writes the malformed-ONNX corpus that test/Import/ONNX/malformed.test feeds to the importer.

Deterministic: running it again rewrites byte-identical files. Each model is a few
hundred bytes at most. Run with the project venv: .venv/bin/python <this file>.
"""

from __future__ import annotations

import random
from pathlib import Path

import onnx
from onnx import TensorProto, helper

HERE = Path(__file__).resolve().parent
OPSET = 17
FLOAT = TensorProto.FLOAT


def tensor(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, FLOAT, shape)


def model(nodes, inputs, outputs, initializers=(), opset=OPSET, extra_opsets=()):
    """A ModelProto without running the checker (the point is to be wrong)."""
    graph = helper.make_graph(nodes, "malformed", inputs, outputs, list(initializers))
    opsets = [helper.make_opsetid("", opset), *extra_opsets]
    # ir_version 8 is understood by every onnx/protobuf release the importer may link.
    return helper.make_model(graph, opset_imports=opsets, ir_version=8,
                             producer_name="quarc-malformed-corpus")


def relu_model(opset=OPSET) -> onnx.ModelProto:
    return model([helper.make_node("Relu", ["X"], ["Y"], name="relu")],
                 [tensor("X", [2, 3])], [tensor("Y", [2, 3])], opset=opset)


def conv_model() -> onnx.ModelProto:
    """A valid Conv with a 1x1x3x3 weight initializer (enough bytes to cut in half)."""
    weight = helper.make_tensor("W", FLOAT, [1, 1, 3, 3], [0.5] * 9)
    conv = helper.make_node("Conv", ["X", "W"], ["Y"], name="conv", kernel_shape=[3, 3])
    return model([conv], [tensor("X", [1, 1, 5, 5])], [tensor("Y", [1, 1, 3, 3])], [weight])


def external_initializer(location: str, offset: int = 0, length: int = 16) -> TensorProto:
    """A float[4] initializer whose bytes live in an external file."""
    init = TensorProto(name="W", data_type=FLOAT, dims=[4])
    init.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = init.external_data.add()
        entry.key, entry.value = key, value
    return init


def add_model(init: TensorProto) -> onnx.ModelProto:
    """Y = X + W with W the given initializer."""
    add = helper.make_node("Add", ["X", "W"], ["Y"], name="add")
    return model([add], [tensor("X", [4])], [tensor("Y", [4])], [init])


def cannot_parse(data: bytes) -> bool:
    """True when protobuf rejects the bytes as a ModelProto."""
    try:
        onnx.ModelProto.FromString(data)
    except Exception:  # google.protobuf.message.DecodeError
        return True
    return False


# --- the corpus ---------------------------------------------------------------

def truncated() -> bytes:
    data = conv_model().SerializeToString()
    cut = data[: len(data) // 2]
    assert cannot_parse(cut)
    return cut


def random_bytes() -> bytes:
    data = random.Random(20240601).randbytes(256)
    assert cannot_parse(data)
    return data


def empty() -> bytes:
    # Note: protobuf parses 0 bytes as an empty ModelProto (no graph, no opset),
    # so the importer must reject it explicitly.
    return b""


def cyclic() -> onnx.ModelProto:
    nodes = [helper.make_node("Relu", ["B"], ["A"], name="first"),
             helper.make_node("Relu", ["A"], ["B"], name="second")]
    return model(nodes, [tensor("X", [2])], [tensor("B", [2])])


def undefined_input() -> onnx.ModelProto:
    node = helper.make_node("Relu", ["ghost_tensor"], ["Y"], name="relu")
    return model([node], [tensor("X", [2, 3])], [tensor("Y", [2, 3])])


def wrong_attr_type() -> onnx.ModelProto:
    m = conv_model()
    conv = m.graph.node[0]
    conv.attribute.append(helper.make_attribute("strides", 1.0))  # must be INTS
    return m


def unsupported_op() -> onnx.ModelProto:
    node = helper.make_node("FooBar", ["X"], ["Y"], name="foo")
    return model([node], [tensor("X", [2, 3])], [tensor("Y", [2, 3])])


def unsupported_opset() -> onnx.ModelProto:
    return relu_model(opset=99)


def old_opset() -> onnx.ModelProto:
    return relu_model(opset=5)


def unknown_domain() -> onnx.ModelProto:
    node = helper.make_node("Relu", ["X"], ["Y"], name="custom", domain="com.example")
    return model([node], [tensor("X", [2, 3])], [tensor("Y", [2, 3])],
                 extra_opsets=[helper.make_opsetid("com.example", 1)])


def missing_external() -> onnx.ModelProto:
    return add_model(external_initializer("does_not_exist.bin"))


def escaping_external() -> onnx.ModelProto:
    return add_model(external_initializer("../../etc/passwd"))


def absolute_external() -> onnx.ModelProto:
    return add_model(external_initializer("/etc/passwd"))


SMALL_BIN = bytes(range(16))


def external_out_of_range() -> onnx.ModelProto:
    # small.bin holds 16 bytes; bytes 8..24 run past its end.
    return add_model(external_initializer("small.bin", offset=8, length=16))


def no_input_shape() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("X", FLOAT, None)  # element type, no shape
    node = helper.make_node("Relu", ["X"], ["Y"], name="relu")
    return model([node], [x], [tensor("Y", [2, 3])])


def duplicate_output() -> onnx.ModelProto:
    nodes = [helper.make_node("Relu", ["X"], ["Y"], name="first"),
             helper.make_node("Neg", ["X"], ["Y"], name="second")]
    return model(nodes, [tensor("X", [2, 3])], [tensor("Y", [2, 3])])


def bad_broadcast() -> onnx.ModelProto:
    node = helper.make_node("Add", ["A", "B"], ["C"], name="add")
    return model([node], [tensor("A", [2, 3]), tensor("B", [4, 5])], [tensor("C", [2, 3])])


def raw_data_size_mismatch() -> onnx.ModelProto:
    # dims [2, 3] of float need 24 bytes; give 8.
    init = TensorProto(name="W", data_type=FLOAT, dims=[2, 3], raw_data=bytes(8))
    add = helper.make_node("Add", ["X", "W"], ["Y"], name="add")
    return model([add], [tensor("X", [2, 3])], [tensor("Y", [2, 3])], [init])


CORPUS = {
    "truncated.onnx": truncated,
    "random_bytes.onnx": random_bytes,
    "empty.onnx": empty,
    "cyclic.onnx": cyclic,
    "undefined_input.onnx": undefined_input,
    "wrong_attr_type.onnx": wrong_attr_type,
    "unsupported_op.onnx": unsupported_op,
    "unsupported_opset.onnx": unsupported_opset,
    "old_opset.onnx": old_opset,
    "unknown_domain.onnx": unknown_domain,
    "missing_external.onnx": missing_external,
    "escaping_external.onnx": escaping_external,
    "absolute_external.onnx": absolute_external,
    "external_out_of_range.onnx": external_out_of_range,
    "no_input_shape.onnx": no_input_shape,
    "duplicate_output.onnx": duplicate_output,
    "bad_broadcast.onnx": bad_broadcast,
    "raw_data_size_mismatch.onnx": raw_data_size_mismatch,
}


def serialize(content) -> bytes:
    if isinstance(content, bytes):
        return content
    return content.SerializeToString(deterministic=True)


def main() -> None:
    for name, make in CORPUS.items():
        (HERE / name).write_bytes(serialize(make()))
    (HERE / "small.bin").write_bytes(SMALL_BIN)
    print(f"wrote {len(CORPUS)} models and small.bin to {HERE}")


if __name__ == "__main__":
    main()
