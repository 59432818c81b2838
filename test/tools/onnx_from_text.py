#!/usr/bin/env python3
"""Writes a binary .onnx model from an ONNX ModelProto in protobuf text format.

lit tests of the importer keep their models readable: the test file holds the
model as text (lines starting with '#' are comments, so RUN and CHECK lines
live there too), and this tool serializes it for quarc-translate.

usage: onnx_from_text.py INPUT.onnxtxt -o OUTPUT.onnx
"""
import argparse
import sys

import onnx
from google.protobuf import text_format


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    with open(args.input, encoding="utf-8") as f:
        text = f.read()
    model = onnx.ModelProto()
    try:
        text_format.Parse(text, model)
    except text_format.ParseError as error:
        print(f"{args.input}: {error}", file=sys.stderr)
        return 1
    with open(args.output, "wb") as f:
        f.write(model.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
