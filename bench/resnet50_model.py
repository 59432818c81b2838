#!/usr/bin/env python3
"""Builds a ResNet-50 ONNX model (the real topology and weight shapes, about
25.5M parameters = 102 MB of float32 weights) with seeded random weights.

Used to measure how quarc scales with model size; the weights are random
because no pretrained ResNet-50 ships in a package this project may install.

usage: resnet50_model.py OUT.onnx [--batch N] [--external-data]
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count}"

    def weight(self, prefix: str, shape) -> str:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        data = self.rng.standard_normal(shape).astype(np.float32)
        data *= np.float32(np.sqrt(2.0 / fan_in))
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(data, name))
        return name

    def conv_bn(self, x, cin, cout, k, stride=1, relu=True):
        w = self.weight("w", (cout, cin, k, k))
        y = self.name("conv")
        self.nodes.append(helper.make_node(
            "Conv", [x, w], [y], name=y, kernel_shape=[k, k],
            strides=[stride, stride], pads=[k // 2] * 4))
        params = []
        for p, fill in (("scale", 1.0), ("bias", 0.0), ("mean", 0.0), ("var", 1.0)):
            n = self.name(p)
            self.inits.append(numpy_helper.from_array(
                np.full((cout,), fill, np.float32), n))
            params.append(n)
        z = self.name("bn")
        self.nodes.append(helper.make_node(
            "BatchNormalization", [y] + params, [z], name=z))
        if not relu:
            return z
        r = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [z], [r], name=r))
        return r

    def bottleneck(self, x, cin, width, stride):
        cout = width * 4
        y = self.conv_bn(x, cin, width, 1)
        y = self.conv_bn(y, width, width, 3, stride)
        y = self.conv_bn(y, width, cout, 1, relu=False)
        shortcut = x
        if stride != 1 or cin != cout:
            shortcut = self.conv_bn(x, cin, cout, 1, stride, relu=False)
        s = self.name("add")
        self.nodes.append(helper.make_node("Add", [y, shortcut], [s], name=s))
        r = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [s], [r], name=r))
        return r


def build(batch) -> onnx.ModelProto:
    b = Builder()
    x = b.conv_bn("input", 3, 64, 7, 2)
    p = b.name("pool")
    b.nodes.append(helper.make_node("MaxPool", [x], [p], name=p,
                                    kernel_shape=[3, 3], strides=[2, 2],
                                    pads=[1, 1, 1, 1]))
    x, cin = p, 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            x = b.bottleneck(x, cin, width, stride if i == 0 else 1)
            cin = width * 4
    g = b.name("gap")
    b.nodes.append(helper.make_node("GlobalAveragePool", [x], [g], name=g))
    f = b.name("flatten")
    b.nodes.append(helper.make_node("Flatten", [g], [f], name=f))
    fc_w = b.weight("fc_w", (1000, 2048))
    fc_b = b.name("fc_b")
    b.inits.append(numpy_helper.from_array(np.zeros(1000, np.float32), fc_b))
    b.nodes.append(helper.make_node("Gemm", [f, fc_w, fc_b], ["logits"],
                                    name="fc", transB=1))
    graph = helper.make_graph(
        b.nodes, "resnet50",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       [batch, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       [batch, 1000])],
        b.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--batch", default="N",
                        help="batch dim: a number, or a symbolic name (default N)")
    parser.add_argument("--external-data", action="store_true",
                        help="store the weights in OUTPUT.data beside the model")
    args = parser.parse_args()
    batch = int(args.batch) if args.batch.isdigit() else args.batch
    model = build(batch)
    if args.external_data:
        import os
        onnx.save_model(model, args.output, save_as_external_data=True,
                        all_tensors_to_one_file=True,
                        location=os.path.basename(args.output) + ".data")
    else:
        onnx.save_model(model, args.output)


if __name__ == "__main__":
    main()
