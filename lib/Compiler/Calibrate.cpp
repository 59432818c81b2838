//===- Calibrate.cpp - run a model on calibration samples -----------------===//

#include "quarc/Compiler/Calibrate.h"
#include "quarc/Calibration/CalibrationData.h"
#include "quarc/Compiler/Session.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"
#include "quarc/quarc_runtime.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <map>

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::calibration;

FailureOr<std::string> mlir::quarc::hashModelFile(StringRef path,
                                                  std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = path.str() + ": " + buffer.getError().message();
    return failure();
  }
  std::array<uint8_t, 32> digest =
      llvm::SHA256::hash(llvm::arrayRefFromStringRef((*buffer)->getBuffer()));
  return "sha256:" + llvm::toHex(digest, /*LowerCase=*/true);
}

//===----------------------------------------------------------------------===//
// The observer callback
//===----------------------------------------------------------------------===//

namespace {

/// Where the generated code's observations go during one run. The
/// `quarc.observe` calls are in the model's entry function, never in a
/// parallel region, so they run on the thread that called
/// quarc_session_run: a thread-local sink is enough.
struct ObserverSink {
  CalibrationStats *stats;
  ArrayRef<std::string> names;
  uint64_t sample;
  /// The first error; later observations of the run are ignored.
  std::string error;
  std::vector<float> gathered;
};

thread_local ObserverSink *currentSink = nullptr;

/// The values of a strided f32 buffer, in row-major order: the buffer
/// itself when it is dense, else a copy in `scratch`.
ArrayRef<float> denseValues(const float *base, ArrayRef<int64_t> sizes,
                            ArrayRef<int64_t> strides,
                            std::vector<float> &scratch) {
  int64_t count = 1;
  for (int64_t size : sizes)
    count *= size;
  if (count == 0)
    return {};
  bool dense = true;
  for (int64_t dim = sizes.size() - 1, expected = 1; dim >= 0; --dim) {
    if (sizes[dim] != 1 && strides[dim] != expected)
      dense = false;
    expected *= sizes[dim];
  }
  if (dense)
    return ArrayRef<float>(base, count);
  scratch.resize(count);
  SmallVector<int64_t> index(sizes.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    int64_t offset = 0;
    for (size_t dim = 0; dim < sizes.size(); ++dim)
      offset += index[dim] * strides[dim];
    scratch[i] = base[offset];
    for (int64_t dim = sizes.size() - 1; dim >= 0; --dim) {
      if (++index[dim] < sizes[dim])
        break;
      index[dim] = 0;
    }
  }
  return scratch;
}

/// `quarc_observe(index, memref<*xf32>)` as the LLVM lowering passes it:
/// the rank and a pointer to the ranked descriptor
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
extern "C" void quarcObserve(int64_t index, int64_t rank, void *descriptor) {
  ObserverSink *sink = currentSink;
  if (!sink || !sink->error.empty())
    return;
  if (index < 0 || size_t(index) >= sink->names.size()) {
    sink->error = "observation " + std::to_string(index) +
                  " is not one the compiler listed";
    return;
  }
  struct Header {
    float *allocated;
    float *aligned;
    int64_t offset;
  };
  auto *header = static_cast<Header *>(descriptor);
  auto *sizes = reinterpret_cast<int64_t *>(header + 1);
  ArrayRef<float> values =
      denseValues(header->aligned + header->offset, ArrayRef(sizes, rank),
                  ArrayRef(sizes + rank, rank), sink->gathered);
  std::string error;
  if (failed(sink->stats->record(sink->sample, sink->names[index], values,
                                 error)))
    sink->error = error;
}

//===----------------------------------------------------------------------===//
// Compiled variants
//===----------------------------------------------------------------------===//

/// The model compiled for one set of input shapes (samples of a model with
/// dynamic dims may differ; static shapes get the fast kernels).
struct Variant {
  LoweredModel lowered;
  std::unique_ptr<JitModel> jit;
  quarc_session *session = nullptr;
  ~Variant() {
    if (session)
      quarc_session_destroy(session);
  }
};

std::string shapeKey(ArrayRef<NpyArray> arrays) {
  std::string key;
  for (const NpyArray &array : arrays) {
    for (int64_t dim : array.shape)
      key += std::to_string(dim) + "x";
    key += ";";
  }
  return key;
}

FailureOr<std::unique_ptr<Variant>>
compileVariant(MLIRContext &context, StringRef modelPath,
               const CalibrateOptions &options, ArrayRef<NpyArray> arrays,
               ArrayRef<ModelInputSpec> inputs, std::string &error) {
  PipelineOptions pipeline = options.pipeline;
  pipeline.observe = true;
  auto shapeOf = [&](StringRef name, ArrayRef<std::string>)
      -> std::optional<SmallVector<int64_t>> {
    for (auto [input, array] : llvm::zip(inputs, arrays))
      if (input.name == name)
        return array.shape;
    return std::nullopt;
  };
  auto variant = std::make_unique<Variant>();
  FailureOr<LoweredModel> lowered =
      lowerModel(context, modelPath, pipeline, "quarc_calibrate", shapeOf);
  if (failed(lowered)) {
    error = "compiling the model for calibration failed";
    return failure();
  }
  variant->lowered = std::move(*lowered);
  FailureOr<std::unique_ptr<JitModel>> jit =
      JitModel::create(variant->lowered, error,
                       {{kObserveCallback, (void *)&quarcObserve}});
  if (failed(jit))
    return failure();
  variant->jit = std::move(*jit);
  if (quarc_status status =
          quarc_session_create(variant->jit->descriptor(), &variant->session)) {
    error = std::string("cannot create a session: ") +
            quarc_status_string(status);
    return failure();
  }
  if (options.threads > 1)
    if (quarc_status status =
            quarc_session_set_threads(variant->session, options.threads)) {
      error = std::string("cannot start ") + std::to_string(options.threads) +
              " threads: " + quarc_status_string(status);
      return failure();
    }
  return variant;
}

/// Signature of the model as imported: the inputs the samples must hold.
FailureOr<SmallVector<ModelInputSpec>> readInputs(MLIRContext &context,
                                                  StringRef modelPath) {
  FailureOr<ModelSignature> signature = importModelSignature(context, modelPath);
  if (failed(signature))
    return failure();
  SmallVector<ModelInputSpec> inputs;
  for (const TensorSignature &input : signature->inputs) {
    ModelInputSpec spec;
    spec.name = input.name;
    spec.dtype = quarc_dtype(input.dtype);
    spec.shape.assign(input.dims.begin(), input.dims.end());
    inputs.push_back(std::move(spec));
  }
  return inputs;
}

/// One line on stderr, rewritten as samples finish.
class ProgressLine {
public:
  ProgressLine(bool enabled, uint64_t total)
      : enabled(enabled), total(total),
        start(std::chrono::steady_clock::now()) {}
  void update(uint64_t done) {
    if (!enabled)
      return;
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    double rate = seconds > 0 ? done / seconds : 0;
    llvm::errs() << llvm::formatv("\rcalibrating: {0}/{1} samples, {2:f1} "
                                  "samples/s, ETA {3:f0} s   ",
                                  done, total, rate,
                                  rate > 0 ? (total - done) / rate : 0.0);
    if (done == total)
      llvm::errs() << "\n";
  }

private:
  bool enabled;
  uint64_t total;
  std::chrono::steady_clock::time_point start;
};

} // namespace

FailureOr<CalibrationStats>
mlir::quarc::calibrateModel(MLIRContext &context, StringRef modelPath,
                            const CalibrateOptions &options,
                            std::string &error) {
  if (!options.pipeline.target.runsOnHost()) {
    error = "calibration runs the model on this machine; --target must be "
            "the host's (" +
            TargetInfo::host().name() + ")";
    return failure();
  }
  FailureOr<std::string> hash = hashModelFile(modelPath, error);
  if (failed(hash))
    return failure();
  FailureOr<SmallVector<ModelInputSpec>> inputs =
      readInputs(context, modelPath);
  if (failed(inputs)) {
    error = "cannot read the model's inputs";
    return failure();
  }
  std::optional<CalibrationData> data =
      CalibrationData::open(options.dataDir, *inputs, error);
  if (!data)
    return failure();
  uint64_t first = 0, last = data->size() - 1;
  if (options.sampleRange) {
    std::tie(first, last) = *options.sampleRange;
    if (first > last || last >= data->size()) {
      error = llvm::formatv("samples {0}:{1} are not in '{2}', which has {3} "
                            "(0:{4})",
                            first, last, options.dataDir, data->size(),
                            data->size() - 1);
      return failure();
    }
  }

  CalibrationStats stats(*hash, options.numBins);
  std::map<std::string, std::unique_ptr<Variant>> variants;
  ProgressLine progress(options.progress, last - first + 1);
  std::vector<NpyArray> arrays;
  for (uint64_t sample = first; sample <= last; ++sample) {
    std::string sampleName = data->sampleName(sample).str();
    if (!data->load(sample, arrays, error))
      return failure();
    std::unique_ptr<Variant> &variant = variants[shapeKey(arrays)];
    if (!variant) {
      FailureOr<std::unique_ptr<Variant>> compiled = compileVariant(
          context, modelPath, options, arrays, *inputs, error);
      if (failed(compiled))
        return failure();
      variant = std::move(*compiled);
      for (const std::string &name : variant->lowered.observedTensors)
        if (failed(stats.declareTensor(name, error)))
          return failure();
    }

    SmallVector<quarc_tensor> tensors;
    for (NpyArray &array : arrays) {
      quarc_tensor tensor{};
      tensor.data = array.bytes.data();
      tensor.dtype = array.dtype;
      tensor.rank = array.shape.size();
      llvm::copy(array.shape, tensor.dims);
      tensors.push_back(tensor);
    }
    std::vector<quarc_tensor> outputs(
        variant->jit->descriptor()->num_outputs);
    ObserverSink sink{&stats, variant->lowered.observedTensors, sample, {}, {}};
    currentSink = &sink;
    quarc_status status =
        quarc_session_run(variant->session, tensors.data(), tensors.size(),
                          outputs.data(), outputs.size());
    currentSink = nullptr;
    if (status != QUARC_OK) {
      error = "sample '" + sampleName +
              "': " + quarc_session_error(variant->session);
      return failure();
    }
    if (!sink.error.empty()) {
      error = "sample '" + sampleName + "': " + sink.error;
      return failure();
    }
    progress.update(sample - first + 1);
  }
  return stats;
}
