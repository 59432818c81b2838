//===- ReportWriter.cpp - quarc report as Markdown, JSON and a chart ------===//

#include "quarc/Compiler/Report.h"
#include "quarc/Compiler/Session.h"
#include "quarc/Support/PendingOutput.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdlib>

using namespace mlir;
using namespace mlir::quarc;

namespace {

/// How many of the lowest-SQNR tensors the summary names and the table
/// marks.
constexpr size_t kWorstShown = 5;

/// Indices of the measured tensors with the lowest SQNR, lowest first.
SmallVector<size_t> worstTensors(const QuantizationReport &report) {
  SmallVector<size_t> indices;
  for (auto [i, tensor] : llvm::enumerate(report.tensors))
    if (tensor.error.count > 0 && tensor.error.sqnrDb() != INFINITY)
      indices.push_back(i);
  llvm::sort(indices, [&](size_t a, size_t b) {
    double sqnrA = report.tensors[a].error.sqnrDb();
    double sqnrB = report.tensors[b].error.sqnrDb();
    return sqnrA != sqnrB ? sqnrA < sqnrB : a < b;
  });
  if (indices.size() > kWorstShown)
    indices.resize(kWorstShown);
  return indices;
}

int64_t totalWeightBytes(const QuantizationReport &report,
                         int64_t WeightReport::*field) {
  int64_t total = 0;
  for (const WeightReport &weight : report.weights)
    total += weight.*field;
  return total;
}

//===----------------------------------------------------------------------===//
// Markdown
//===----------------------------------------------------------------------===//

std::string sqnrText(const ErrorStats &error) {
  if (error.count == 0)
    return "n/a";
  double sqnr = error.sqnrDb();
  if (sqnr == INFINITY)
    return "inf (exact)";
  if (sqnr == -INFINITY)
    return "-inf";
  return llvm::formatv("{0:f1}", sqnr);
}

std::string number(double value) {
  return llvm::formatv("{0}", llvm::format("%.4g", value)).str();
}

std::string bytesText(int64_t bytes) {
  if (bytes < 10 * 1024)
    return std::to_string(bytes) + " B";
  if (bytes < 10 * 1024 * 1024)
    return llvm::formatv("{0:f1} KiB", bytes / 1024.0);
  return llvm::formatv("{0:f2} MiB", bytes / (1024.0 * 1024.0));
}

/// A table cell: '|' escaped, "-" for nothing.
std::string cell(StringRef text) {
  if (text.empty())
    return "-";
  std::string escaped;
  for (char c : text) {
    if (c == '|')
      escaped += '\\';
    escaped += c;
  }
  return escaped;
}

std::string rangeText(const std::optional<std::pair<double, double>> &range) {
  if (!range)
    return "-";
  return "[" + number(range->first) + ", " + number(range->second) + "]";
}

} // namespace

std::string
mlir::quarc::formatReportMarkdown(const QuantizationReport &report) {
  std::string text;
  llvm::raw_string_ostream os(text);
  SmallVector<size_t> worst = worstTensors(report);
  unsigned integerOps = 0, floatOps = 0;
  for (const OpTypeCount &count : report.opTypes) {
    integerOps += count.integer;
    floatOps += count.floating;
  }
  int64_t weightsBefore = totalWeightBytes(report, &WeightReport::floatBytes);
  int64_t weightsAfter =
      totalWeightBytes(report, &WeightReport::quantizedBytes) +
      totalWeightBytes(report, &WeightReport::scaleBytes) +
      totalWeightBytes(report, &WeightReport::zeroPointBytes);

  os << "# Quantization report: " << llvm::sys::path::filename(report.modelPath)
     << "\n\n";
  os << "- Model: `" << report.modelPath << "` (" << report.modelHash << ")\n";
  os << "- Scheme: `" << report.scheme << "`\n";
  os << "- Ranges: "
     << (report.statsPath.empty()
             ? std::string("calibrated on the measured samples")
             : "`" + report.statsPath + "`")
     << " (" << report.calibrationSamples << " samples)\n";
  os << "- Measured on: `" << report.dataDir << "`, " << report.samples
     << " samples; the integer code compiled for " << report.target
     << " against the float model, both compiled by quarc\n";
  os << "- Ops: " << integerOps << " of " << integerOps + floatOps
     << " run as integer code\n";
  os << "- Contraction weights: " << bytesText(weightsBefore) << " f32 -> "
     << bytesText(weightsAfter)
     << " (integers, scales and zero points); all constants: "
     << bytesText(report.floatConstantBytes) << " -> "
     << bytesText(report.quantizedConstantBytes) << "\n";
  os << "- Tensors written by integer code: " << report.tensors.size() << "\n";
  if (!worst.empty()) {
    os << "- Lowest SQNR:";
    for (auto [n, i] : llvm::enumerate(worst))
      os << (n ? ", " : " ") << "`" << report.tensors[i].name << "` "
         << sqnrText(report.tensors[i].error) << " dB";
    os << "\n";
  }

  os << "\n## Model outputs\n\n"
        "| output | SQNR (dB) | max abs error | mean abs error | cosine |\n"
        "| --- | ---: | ---: | ---: | ---: |\n";
  for (const OutputReport &output : report.outputs) {
    if (output.error.count == 0) {
      os << "| " << cell(output.name) << " | not compared | | | |\n";
      continue;
    }
    os << "| " << cell(output.name) << " | " << sqnrText(output.error) << " | "
       << number(output.error.maxAbsError) << " | "
       << number(output.error.meanAbsError()) << " | "
       << llvm::format("%.6f", output.error.cosine()) << " |\n";
  }

  os << "\n## Ops\n\nONNX nodes after graph cleanup (a BatchNormalization "
        "folded into a Conv counts as that Conv), by op type: run as integer "
        "code (alone or folded into an integer op) or in float.\n\n"
        "| op type | integer | float |\n| --- | ---: | ---: |\n";
  for (const OpTypeCount &count : report.opTypes)
    os << "| " << cell(count.opType) << " | " << count.integer << " | "
       << count.floating << " |\n";

  os << "\n## Weights\n\n"
        "| node | op | type | elements | scales | f32 bytes | "
        "quantized bytes | scale bytes | zero point bytes |\n"
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const WeightReport &weight : report.weights)
    os << "| " << cell(weight.node) << " | " << weight.op << " | "
       << weight.type << " | " << weight.elements << " | " << weight.channels
       << " | " << weight.floatBytes << " | " << weight.quantizedBytes << " | "
       << weight.scaleBytes << " | " << weight.zeroPointBytes << " |\n";
  os << "| **total** | | | | | " << weightsBefore << " | "
     << totalWeightBytes(report, &WeightReport::quantizedBytes) << " | "
     << totalWeightBytes(report, &WeightReport::scaleBytes) << " | "
     << totalWeightBytes(report, &WeightReport::zeroPointBytes) << " |\n";

  os << "\n## Tensors\n\n"
        "Every tensor the integer code writes, in program order, against the "
        "float model's tensor of the same name; the "
     << kWorstShown
     << " lowest SQNR in bold. `clipped`: float values outside the type's "
        "range by more than half a step.\n\n"
        "| # | tensor | node | op | type | scale | zero point | "
        "calibrated range | SQNR (dB) | max abs error | clipped |\n"
        "| ---: | --- | --- | --- | --- | ---: | ---: | --- | ---: | ---: | "
        "---: |\n";
  for (auto [i, tensor] : llvm::enumerate(report.tensors)) {
    bool isWorst = llvm::is_contained(worst, i);
    std::string sqnr = sqnrText(tensor.error);
    os << "| " << i << " | " << cell(tensor.name) << " | " << cell(tensor.node)
       << " | " << tensor.op << " | " << tensor.type << " | "
       << (tensor.scale ? number(*tensor.scale) : "-") << " | "
       << (tensor.zeroPoint ? std::to_string(*tensor.zeroPoint) : "-")
       << " | " << rangeText(tensor.calibratedRange) << " | "
       << (isWorst ? "**" + sqnr + "**" : sqnr) << " | "
       << (tensor.error.count ? number(tensor.error.maxAbsError) : "-")
       << " | "
       << (tensor.representable && tensor.error.count
               ? std::string(llvm::formatv(
                     "{0:f2}%", 100.0 * tensor.error.clipped /
                                    tensor.error.count))
               : "-")
       << " |\n";
  }
  return text;
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

namespace {

/// A finite number, or null (JSON has no infinities).
llvm::json::Value finite(double value) {
  if (!std::isfinite(value))
    return nullptr;
  return value;
}

void writeError(llvm::json::OStream &json, const ErrorStats &error) {
  json.attribute("count", int64_t(error.count));
  json.attribute("sqnr_db", error.count ? finite(error.sqnrDb()) : nullptr);
  json.attribute("exact", error.count > 0 && error.sumError == 0);
  json.attribute("max_abs_error", error.count ? finite(error.maxAbsError)
                                              : llvm::json::Value(nullptr));
  json.attribute("mean_abs_error", error.count
                                       ? finite(error.meanAbsError())
                                       : llvm::json::Value(nullptr));
  json.attribute("cosine", error.count ? finite(error.cosine())
                                       : llvm::json::Value(nullptr));
}

llvm::json::Value
pairOrNull(const std::optional<std::pair<double, double>> &range) {
  if (!range)
    return nullptr;
  return llvm::json::Array{range->first, range->second};
}

} // namespace

std::string mlir::quarc::formatReportJson(const QuantizationReport &report) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::json::OStream json(os, /*IndentSize=*/1);
  json.object([&] {
    json.attribute("format", "quarc-report");
    json.attribute("version", 1);
    json.attribute("model", report.modelPath);
    json.attribute("model_hash", report.modelHash);
    json.attribute("scheme", report.scheme);
    json.attribute("stats", report.statsPath.empty()
                                ? llvm::json::Value(nullptr)
                                : llvm::json::Value(report.statsPath));
    json.attribute("calibration_samples", int64_t(report.calibrationSamples));
    json.attribute("data", report.dataDir);
    json.attribute("samples", int64_t(report.samples));
    json.attribute("target", report.target);
    json.attributeObject("constant_bytes", [&] {
      json.attribute("float", report.floatConstantBytes);
      json.attribute("quantized", report.quantizedConstantBytes);
    });
    json.attributeObject("weight_bytes", [&] {
      json.attribute("float",
                     totalWeightBytes(report, &WeightReport::floatBytes));
      json.attribute("quantized",
                     totalWeightBytes(report, &WeightReport::quantizedBytes));
      json.attribute("scales",
                     totalWeightBytes(report, &WeightReport::scaleBytes));
      json.attribute("zero_points",
                     totalWeightBytes(report, &WeightReport::zeroPointBytes));
    });
    json.attributeArray("ops", [&] {
      for (const OpTypeCount &count : report.opTypes)
        json.object([&] {
          json.attribute("op_type", count.opType);
          json.attribute("integer", int64_t(count.integer));
          json.attribute("float", int64_t(count.floating));
        });
    });
    json.attributeArray("outputs", [&] {
      for (const OutputReport &output : report.outputs)
        json.object([&] {
          json.attribute("name", output.name);
          writeError(json, output.error);
        });
    });
    json.attributeArray("weights", [&] {
      for (const WeightReport &weight : report.weights)
        json.object([&] {
          json.attribute("node", weight.node);
          json.attribute("op", weight.op);
          json.attribute("type", weight.type);
          json.attribute("elements", weight.elements);
          json.attribute("channels", weight.channels);
          json.attribute("float_bytes", weight.floatBytes);
          json.attribute("quantized_bytes", weight.quantizedBytes);
          json.attribute("scale_bytes", weight.scaleBytes);
          json.attribute("zero_point_bytes", weight.zeroPointBytes);
        });
    });
    json.attributeArray("tensors", [&] {
      for (const TensorReport &tensor : report.tensors)
        json.object([&] {
          json.attribute("name", tensor.name);
          json.attribute("node", tensor.node);
          json.attribute("op", tensor.op);
          json.attribute("type", tensor.type);
          json.attribute("scale", tensor.scale
                                      ? llvm::json::Value(*tensor.scale)
                                      : llvm::json::Value(nullptr));
          json.attribute("zero_point",
                         tensor.zeroPoint ? llvm::json::Value(*tensor.zeroPoint)
                                          : llvm::json::Value(nullptr));
          json.attribute("representable", pairOrNull(tensor.representable));
          json.attribute("calibrated_range",
                         pairOrNull(tensor.calibratedRange));
          writeError(json, tensor.error);
          json.attribute("clipped",
                         tensor.representable
                             ? llvm::json::Value(int64_t(tensor.error.clipped))
                             : llvm::json::Value(nullptr));
        });
    });
  });
  os << "\n";
  return text;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

namespace {

/// The chart script, installed next to quarc: <prefix>/share/quarc/.
std::string findChartScript() {
  SmallString<256> path(getResourceRoot());
  llvm::sys::path::append(path, "share", "quarc", "report_chart.py");
  return path.str().str();
}

/// $QUARC_PYTHON, else the Python quarc was configured with, else python3.
std::string findPython() {
  if (const char *python = std::getenv("QUARC_PYTHON"); python && *python)
    return python;
#ifdef QUARC_PYTHON
  if (llvm::sys::fs::can_execute(QUARC_PYTHON))
    return QUARC_PYTHON;
#endif
  if (llvm::ErrorOr<std::string> python =
          llvm::sys::findProgramByName("python3"))
    return *python;
  return "";
}

/// Runs the chart script with `args`; on failure, `error` has what it
/// printed.
LogicalResult runChartScript(ArrayRef<StringRef> args, std::string &error) {
  std::string script = findChartScript();
  if (!llvm::sys::fs::exists(script)) {
    error = "--png: the chart script is not installed (" + script + ")";
    return failure();
  }
  std::string python = findPython();
  if (python.empty()) {
    error = "--png needs Python 3 with matplotlib to draw the chart, and no "
            "python3 was found (set QUARC_PYTHON to one)";
    return failure();
  }
  SmallString<128> log;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("quarc-chart", "log", log)) {
    error = "cannot create a temporary file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeLog(log);
  SmallVector<StringRef> argv = {python, script};
  argv.append(args.begin(), args.end());
  std::optional<StringRef> redirects[] = {StringRef(""), StringRef(log),
                                          StringRef(log)};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(python, argv, std::nullopt, redirects,
                                     /*SecondsToWait=*/300, 0, &message);
  if (rc == 0)
    return success();
  std::string output;
  if (auto buffer = llvm::MemoryBuffer::getFile(log))
    output = StringRef((*buffer)->getBuffer()).trim().str();
  error = "--png: drawing the chart with " + python + " failed: " +
          (!output.empty() ? output
           : !message.empty()
               ? message
               : "exit status " + std::to_string(rc));
  return failure();
}

} // namespace

LogicalResult mlir::quarc::checkReportOutputs(StringRef markdownPath,
                                              StringRef jsonPath,
                                              StringRef pngPath,
                                              std::string &error) {
  SmallVector<StringRef> paths = {markdownPath};
  for (StringRef path : {jsonPath, pngPath})
    if (!path.empty()) {
      if (llvm::is_contained(paths, path)) {
        error = "the report's outputs must be different files ('" +
                path.str() + "' is given twice)";
        return failure();
      }
      paths.push_back(path);
    }
  for (StringRef path : paths) {
    if (llvm::sys::fs::is_directory(path)) {
      error = "cannot write " + path.str() + ": it is a folder";
      return failure();
    }
    StringRef folder = llvm::sys::path::parent_path(path);
    if (folder.empty())
      folder = ".";
    if (!llvm::sys::fs::is_directory(folder)) {
      error = "cannot write " + path.str() + ": no folder '" + folder.str() +
              "'";
      return failure();
    }
    if (llvm::sys::fs::access(folder, llvm::sys::fs::AccessMode::Write)) {
      error = "cannot write " + path.str() + ": the folder '" + folder.str() +
              "' is not writable";
      return failure();
    }
  }
  if (!pngPath.empty())
    return runChartScript({"--check"}, error);
  return success();
}

LogicalResult mlir::quarc::writeReport(const QuantizationReport &report,
                                       StringRef markdownPath,
                                       StringRef jsonPath, StringRef pngPath,
                                       std::string &error) {
  std::string json = formatReportJson(report);
  PendingOutput markdown, jsonFile, png;
  if (failed(markdown.create(markdownPath, formatReportMarkdown(report),
                             error)) ||
      (!jsonPath.empty() && failed(jsonFile.create(jsonPath, json, error))))
    return failure();
  if (!pngPath.empty()) {
    // The script reads the JSON: the pending file, or a temporary one.
    PendingOutput scratch;
    std::string input;
    if (!jsonPath.empty()) {
      input = jsonFile.tempPath().str();
    } else {
      if (failed(scratch.create(pngPath.str() + ".json", json, error)))
        return failure();
      input = scratch.tempPath().str();
    }
    if (failed(png.create(pngPath, "", error)) ||
        failed(runChartScript({input, png.tempPath()}, error)))
      return failure();
  }
  if (failed(markdown.keep(error)) ||
      (!jsonPath.empty() && failed(jsonFile.keep(error))) ||
      (!pngPath.empty() && failed(png.keep(error))))
    return failure();
  return success();
}
