//===- ObservedRun.cpp - run a model in memory with observers -------------===//

#include "quarc/Compiler/ObservedRun.h"
#include "quarc/Dialect/Quarc/IR/QuarcOps.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::quarc;
using namespace mlir::quarc::calibration;

FailureOr<SmallVector<ModelInputSpec>>
mlir::quarc::readModelInputs(MLIRContext &context, StringRef modelPath) {
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

//===----------------------------------------------------------------------===//
// The observer callback
//===----------------------------------------------------------------------===//

namespace {

/// Where the generated code's observations go during one run. The
/// `quarc.observe` calls are in the model's entry function, never in a
/// parallel region, so they run on the thread that called
/// quarc_session_run: a thread-local sink is enough.
struct ObserverSink {
  ArrayRef<std::string> names;
  ObservationHandler handler;
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
  if (failed(sink->handler(sink->names[index], values, error)))
    sink->error = error;
}

std::string shapeKey(ArrayRef<NpyArray> arrays) {
  std::string key;
  for (const NpyArray &array : arrays) {
    for (int64_t dim : array.shape)
      key += std::to_string(dim) + "x";
    key += ";";
  }
  return key;
}

} // namespace

//===----------------------------------------------------------------------===//
// ObservedModel
//===----------------------------------------------------------------------===//

/// The model compiled for one set of input shapes (samples of a model with
/// dynamic dims may differ; static shapes get the fast kernels).
struct ObservedModel::Variant {
  LoweredModel lowered;
  std::unique_ptr<JitModel> jit;
  quarc_session *session = nullptr;
  ~Variant() {
    if (session)
      quarc_session_destroy(session);
  }
};

ObservedModel::ObservedModel(
    MLIRContext &context, StringRef modelPath, PipelineOptions pipeline,
    int threads, std::function<LogicalResult(ModuleOp)> inspectGraph)
    : context(context), modelPath(modelPath.str()),
      pipeline(std::move(pipeline)), threads(threads),
      inspectGraph(std::move(inspectGraph)) {}

ObservedModel::~ObservedModel() = default;

FailureOr<std::unique_ptr<ObservedModel::Variant>>
ObservedModel::compile(ArrayRef<NpyArray> arrays,
                       ArrayRef<ModelInputSpec> inputs, std::string &error) {
  auto shapeOf = [&](StringRef name, ArrayRef<std::string>)
      -> std::optional<SmallVector<int64_t>> {
    for (auto [input, array] : llvm::zip(inputs, arrays))
      if (input.name == name)
        return array.shape;
    return std::nullopt;
  };
  auto variant = std::make_unique<Variant>();
  FailureOr<LoweredModel> lowered =
      lowerModel(context, modelPath, pipeline, "quarc_observed", shapeOf,
                 inspectGraph ? GraphInspector(inspectGraph) : nullptr);
  if (failed(lowered)) {
    error = "compiling the model failed";
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
  if (threads > 1)
    if (quarc_status status =
            quarc_session_set_threads(variant->session, threads)) {
      error = std::string("cannot start ") + std::to_string(threads) +
              " threads: " + quarc_status_string(status);
      return failure();
    }
  return variant;
}

LogicalResult ObservedModel::run(ArrayRef<NpyArray> arrays,
                                 ArrayRef<ModelInputSpec> inputs,
                                 ObservationHandler handler,
                                 std::vector<quarc_tensor> &outputs,
                                 std::string &error) {
  std::unique_ptr<Variant> &variant = variants[shapeKey(arrays)];
  if (!variant) {
    FailureOr<std::unique_ptr<Variant>> compiled =
        compile(arrays, inputs, error);
    if (failed(compiled))
      return failure();
    variant = std::move(*compiled);
  }
  last = variant.get();

  SmallVector<quarc_tensor> tensors;
  for (const NpyArray &array : arrays) {
    quarc_tensor tensor{};
    tensor.data = const_cast<char *>(array.bytes.data());
    tensor.dtype = array.dtype;
    tensor.rank = array.shape.size();
    llvm::copy(array.shape, tensor.dims);
    tensors.push_back(tensor);
  }
  outputs.assign(variant->jit->descriptor()->num_outputs, quarc_tensor{});
  ObserverSink sink{variant->lowered.observedTensors, handler, {}, {}};
  currentSink = &sink;
  quarc_status status =
      quarc_session_run(variant->session, tensors.data(), tensors.size(),
                        outputs.data(), outputs.size());
  currentSink = nullptr;
  if (status != QUARC_OK) {
    error = quarc_session_error(variant->session);
    return failure();
  }
  if (!sink.error.empty()) {
    error = sink.error;
    return failure();
  }
  return success();
}

ArrayRef<std::string> ObservedModel::getObservedTensors() const {
  if (!last)
    return {};
  return last->lowered.observedTensors;
}

void ProgressLine::update(uint64_t done) {
  if (!enabled)
    return;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  double rate = seconds > 0 ? done / seconds : 0;
  llvm::errs() << llvm::formatv("\r{0}: {1}/{2} samples, {3:f1} samples/s, "
                                "ETA {4:f0} s   ",
                                what, done, total, rate,
                                rate > 0 ? (total - done) / rate : 0.0);
  if (done == total)
    llvm::errs() << "\n";
}
