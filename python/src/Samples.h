//===- Samples.h - calibration samples from Python -------------*- C++ -*-===//
//
// The SampleSource implementations of the Python module, compiled in their
// own file without RTTI: they derive from quarc's SampleSource, which (like
// all of quarc and LLVM) is built without it, while nanobind's module needs
// RTTI. The module hands them plain callbacks.
//
//===----------------------------------------------------------------------===//

#ifndef QUARC_PYTHON_SAMPLES_H
#define QUARC_PYTHON_SAMPLES_H

#include "quarc/Calibration/CalibrationData.h"

#include <functional>
#include <memory>

namespace quarc_python {

/// Produces the next sample (as SampleSource::next), e.g. by calling a
/// Python iterator.
using NextSample = std::function<mlir::FailureOr<bool>(
    std::vector<mlir::quarc::calibration::NpyArray> &arrays, std::string &name,
    std::string &error)>;

/// Samples read once, in order, from `next` (a generator's): size unknown,
/// no rewind.
std::unique_ptr<mlir::quarc::calibration::SampleSource>
createStreamedSamples(NextSample next);

/// Samples held in memory, read as often as asked (quarc.report's).
std::unique_ptr<mlir::quarc::calibration::SampleSource> createListSamples(
    std::vector<std::vector<mlir::quarc::calibration::NpyArray>> samples);

} // namespace quarc_python

#endif // QUARC_PYTHON_SAMPLES_H
