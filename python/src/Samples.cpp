//===- Samples.cpp - calibration samples from Python ----------------------===//

#include "Samples.h"

using namespace mlir;
using namespace mlir::quarc::calibration;

namespace quarc_python {

namespace {

class StreamedSamples : public SampleSource {
public:
  explicit StreamedSamples(NextSample next) : nextSample(std::move(next)) {}
  std::optional<uint64_t> size() const override { return std::nullopt; }
  FailureOr<bool> next(std::vector<NpyArray> &arrays, std::string &name,
                       std::string &error) override {
    return nextSample(arrays, name, error);
  }
  bool rewind() override { return false; }

private:
  NextSample nextSample;
};

class ListSamples : public SampleSource {
public:
  explicit ListSamples(std::vector<std::vector<NpyArray>> samples)
      : samples(std::move(samples)) {}
  std::optional<uint64_t> size() const override { return samples.size(); }
  FailureOr<bool> next(std::vector<NpyArray> &arrays, std::string &name,
                       std::string &) override {
    if (position == samples.size())
      return false;
    name = "sample " + std::to_string(position);
    arrays = samples[position++];
    return true;
  }
  bool rewind() override {
    position = 0;
    return true;
  }

private:
  std::vector<std::vector<NpyArray>> samples;
  size_t position = 0;
};

} // namespace

std::unique_ptr<SampleSource> createStreamedSamples(NextSample next) {
  return std::make_unique<StreamedSamples>(std::move(next));
}

std::unique_ptr<SampleSource>
createListSamples(std::vector<std::vector<NpyArray>> samples) {
  return std::make_unique<ListSamples>(std::move(samples));
}

} // namespace quarc_python
