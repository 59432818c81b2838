//===- RuntimeTest.cpp - unit tests of the C runtime (sessions, npy, CLI) -===//
//
// The models here are hand-written fakes: a quarc_model_desc whose entry is
// a plain function reading and writing memref descriptors exactly as the
// generated code does, so the runtime is tested without the compiler.
//
//===----------------------------------------------------------------------===//

#include "quarc/quarc_runtime.h"

#include "buffers.h"
#include "npy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <atomic>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// Memref descriptors as the generated code sees them
//===----------------------------------------------------------------------===//

/// A view of one descriptor: { allocated, aligned, offset, sizes, strides }.
struct Memref {
  int64_t *words;
  int rank;

  void *allocated() const { return ptr(0); }
  char *aligned() const { return static_cast<char *>(ptr(1)); }
  int64_t &offset() const { return words[2]; }
  int64_t &size(int d) const { return words[3 + d]; }
  int64_t &stride(int d) const { return words[3 + rank + d]; }
  int64_t numElements() const {
    int64_t n = 1;
    for (int d = 0; d < rank; ++d)
      n *= size(d);
    return n;
  }
  template <typename T> T *data() const {
    return reinterpret_cast<T *>(aligned()) + offset();
  }
  void set(void *allocated, void *aligned, int64_t offset,
           std::vector<int64_t> sizes, std::vector<int64_t> strides) const {
    std::memcpy(&words[0], &allocated, sizeof(void *));
    std::memcpy(&words[1], &aligned, sizeof(void *));
    words[2] = offset;
    for (int d = 0; d < rank; ++d) {
      size(d) = sizes[d];
      stride(d) = strides[d];
    }
  }
  /// The descriptor that follows this one in the output buffer.
  Memref next(int nextRank) const { return {words + 3 + 2 * rank, nextRank}; }

private:
  void *ptr(int word) const {
    void *p;
    std::memcpy(&p, &words[word], sizeof(void *));
    return p;
  }
};

Memref inputArg(void **args, int index, int rank) {
  return {static_cast<int64_t *>(args[1 + index]), rank};
}
Memref outputArg(void **args, int rank) {
  return {static_cast<int64_t *>(args[0]), rank};
}

/// The allocation functions generated code calls (runtime/src/buffers.c).
extern "C" void *_mlir_memref_to_llvm_alloc(size_t size);
extern "C" void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment,
                                                     size_t size);
extern "C" void _mlir_memref_to_llvm_free(void *block);

/// Returns a dense row-major result of the given shape, allocated as the
/// generated code does; `fill` writes the elements.
template <typename T, typename Fill>
void returnDense(Memref out, std::vector<int64_t> sizes, Fill fill) {
  int64_t n = 1;
  for (int64_t s : sizes)
    n *= s;
  T *data =
      static_cast<T *>(_mlir_memref_to_llvm_alloc(n ? n * sizeof(T) : 1));
  for (int64_t i = 0; i < n; ++i)
    data[i] = fill(i);
  std::vector<int64_t> strides(sizes.size(), 1);
  for (int d = int(sizes.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * sizes[d + 1];
  out.set(data, data, 0, sizes, strides);
}

//===----------------------------------------------------------------------===//
// Fake models
//===----------------------------------------------------------------------===//

const int64_t kDynBy3[] = {-1, 3};

/// y = x + 1 on an f32 [?, 3] input.
extern "C" void addOneEntry(void **args) {
  Memref x = inputArg(args, 0, 2);
  const float *in = x.data<float>();
  returnDense<float>(outputArg(args, 2), {x.size(0), 3},
                     [&](int64_t i) { return in[i] + 1.0f; });
}

const quarc_tensor_desc kAddOneInputs[] = {{"x", QUARC_DTYPE_F32, 2, kDynBy3}};
const quarc_tensor_desc kAddOneOutputs[] = {{"y", QUARC_DTYPE_F32, 2, kDynBy3}};
const quarc_model_desc kAddOne = {
    QUARC_ABI_VERSION, 1,          1, 0, "add_one", "x86_64", kAddOneInputs,
    kAddOneOutputs,    addOneEntry,    0, 0, 0, nullptr};

/// sum = a + b and "out/diff" = a - b on i32 [4] inputs.
const int64_t kFour[] = {4};
extern "C" void sumDiffEntry(void **args) {
  const int32_t *a = inputArg(args, 0, 1).data<int32_t>();
  const int32_t *b = inputArg(args, 1, 1).data<int32_t>();
  Memref sum = outputArg(args, 1);
  returnDense<int32_t>(sum, {4}, [&](int64_t i) { return a[i] + b[i]; });
  returnDense<int32_t>(sum.next(1), {4},
                       [&](int64_t i) { return a[i] - b[i]; });
}

const quarc_tensor_desc kSumDiffInputs[] = {{"a", QUARC_DTYPE_I32, 1, kFour},
                                            {"b", QUARC_DTYPE_I32, 1, kFour}};
const quarc_tensor_desc kSumDiffOutputs[] = {
    {"sum", QUARC_DTYPE_I32, 1, kFour},
    {"out/diff", QUARC_DTYPE_I32, 1, kFour}};
/// y = x + 1 computed through the workspace: checks the descriptor the
/// session passes and that the workspace persists (is the same) across runs.
const int64_t kWorkspaceBytes = 1000;
void *lastWorkspace = nullptr;
extern "C" void workspaceEntry(void **args) {
  Memref x = inputArg(args, 0, 2);
  Memref workspace = {static_cast<int64_t *>(args[2]), 1};
  bool valid = workspace.size(0) == kWorkspaceBytes &&
               workspace.stride(0) == 1 && workspace.offset() == 0 &&
               reinterpret_cast<uintptr_t>(workspace.aligned()) % 64 == 0;
  lastWorkspace = workspace.aligned();
  // Every byte is writable (ASan checks the bounds).
  std::memset(workspace.aligned(), 0x5a, kWorkspaceBytes);
  float *scratch = reinterpret_cast<float *>(workspace.aligned());
  const float *in = x.data<float>();
  for (int64_t i = 0; i < x.size(0) * 3; ++i)
    scratch[i] = in[i] + 1.0f;
  returnDense<float>(outputArg(args, 2), {x.size(0), 3}, [&](int64_t i) {
    return valid ? scratch[i] : -1.0f;
  });
}
const quarc_model_desc kWorkspaceModel = {
    QUARC_ABI_VERSION, 1, 1, 0, "workspace", "x86_64", kAddOneInputs,
    kAddOneOutputs, workspaceEntry, kWorkspaceBytes, 0, 0, nullptr};

const quarc_model_desc kSumDiff = {
    QUARC_ABI_VERSION, 2,           2, 0, "sum_diff", "x86_64", kSumDiffInputs,
    kSumDiffOutputs,   sumDiffEntry,   0, 0, 0, nullptr};

/// y = x^T for an f32 [2, 3] input, returned as a strided view (strides
/// {1, 3}) of a row-major copy of x, as a folded transpose would be.
const int64_t k2x3[] = {2, 3}, k3x2[] = {3, 2};
extern "C" void transposeViewEntry(void **args) {
  const float *in = inputArg(args, 0, 2).data<float>();
  float *buffer =
      static_cast<float *>(_mlir_memref_to_llvm_alloc(6 * sizeof(float)));
  std::memcpy(buffer, in, 6 * sizeof(float));
  outputArg(args, 2).set(buffer, buffer, 0, {3, 2}, {1, 3});
}
const quarc_tensor_desc kTransposeInputs[] = {{"x", QUARC_DTYPE_F32, 2, k2x3}};
const quarc_tensor_desc kTransposeOutputs[] = {{"y", QUARC_DTYPE_F32, 2, k3x2}};
const quarc_model_desc kTransposeView = {QUARC_ABI_VERSION,
                                         1,
                                         1,
                                         0,
                                         "transpose",
                                         "x86_64",
                                         kTransposeInputs,
                                         kTransposeOutputs,
                                         transposeViewEntry, 0, 0, 0, nullptr};

/// Returns a constant the way memref.get_global does: `allocated` is
/// MLIR's 0xdeadbeef marker and must never be freed.
float kConstant[4] = {1, 2, 3, 4};
extern "C" void constantEntry(void **args) {
  void *marker = reinterpret_cast<void *>(uintptr_t(0xdeadbeef));
  outputArg(args, 1).set(marker, kConstant, 0, {4}, {1});
}
const quarc_tensor_desc kConstantOutputs[] = {{"c", QUARC_DTYPE_F32, 1, kFour}};
const quarc_model_desc kConstantModel = {
    QUARC_ABI_VERSION, 0, 1, 0, "const", "x86_64", nullptr, kConstantOutputs,
    constantEntry, 0, 0, 0, nullptr};

/// Returns its input unchanged: the result aliases the caller's buffer.
extern "C" void identityEntry(void **args) {
  Memref x = inputArg(args, 0, 1);
  outputArg(args, 1).set(x.allocated(), x.aligned(), 0, {4}, {1});
}
const quarc_tensor_desc kIdentityInputs[] = {{"x", QUARC_DTYPE_F32, 1, kFour}};
const quarc_tensor_desc kIdentityOutputs[] = {{"y", QUARC_DTYPE_F32, 1, kFour}};
const quarc_model_desc kIdentity = {QUARC_ABI_VERSION,
                                    1,
                                    1,
                                    0,
                                    "identity",
                                    "x86_64",
                                    kIdentityInputs,
                                    kIdentityOutputs,
                                    identityEntry, 0, 0, 0, nullptr};

/// Two outputs that are views of one allocated buffer (offsets 0 and 4):
/// the runtime must free it once.
const int64_t kTwo[] = {2};
extern "C" void splitEntry(void **args) {
  int64_t *buffer =
      static_cast<int64_t *>(_mlir_memref_to_llvm_alloc(8 * sizeof(int64_t)));
  for (int i = 0; i < 8; ++i)
    buffer[i] = 10 * i;
  Memref lo = outputArg(args, 1);
  lo.set(buffer, buffer, 0, {2}, {1});
  lo.next(1).set(buffer, buffer, 4, {2}, {1});
}
const quarc_tensor_desc kSplitOutputs[] = {{"lo", QUARC_DTYPE_I64, 1, kTwo},
                                           {"hi", QUARC_DTYPE_I64, 1, kTwo}};
const quarc_model_desc kSplit = {
    QUARC_ABI_VERSION, 0,         2, 0, "split", "x86_64", nullptr,
    kSplitOutputs,     splitEntry, 0, 0, 0, nullptr};

/// Declares y as [4] but returns 5 elements: a compiler bug to report.
extern "C" void wrongShapeEntry(void **args) {
  returnDense<float>(outputArg(args, 1), {5}, [](int64_t) { return 0.f; });
}
const quarc_model_desc kWrongShape = {
    QUARC_ABI_VERSION, 0, 1, 0, "wrong", "x86_64", nullptr, kConstantOutputs,
    wrongShapeEntry, 0, 0, 0, nullptr};

/// y = 2 * x on f64 scalars (rank-0 descriptors are 3 words).
extern "C" void doubleScalarEntry(void **args) {
  double x = *inputArg(args, 0, 0).data<double>();
  returnDense<double>(outputArg(args, 0), {}, [&](int64_t) { return 2 * x; });
}
const quarc_tensor_desc kScalarInputs[] = {{"x", QUARC_DTYPE_F64, 0, nullptr}};
const quarc_tensor_desc kScalarOutputs[] = {{"y", QUARC_DTYPE_F64, 0, nullptr}};
const quarc_model_desc kDoubleScalar = {QUARC_ABI_VERSION,
                                        1,
                                        1,
                                        0,
                                        "scalar",
                                        "x86_64",
                                        kScalarInputs,
                                        kScalarOutputs,
                                        doubleScalarEntry, 0, 0, 0, nullptr};

quarc_tensor makeTensor(void *data, quarc_dtype dtype,
                        std::vector<int64_t> dims) {
  quarc_tensor t = {};
  t.data = data;
  t.dtype = dtype;
  t.rank = int32_t(dims.size());
  for (size_t d = 0; d < dims.size(); ++d)
    t.dims[d] = dims[d];
  return t;
}

template <typename T> std::vector<T> values(const quarc_tensor &t, size_t n) {
  const T *p = static_cast<const T *>(t.data);
  return std::vector<T>(p, p + n);
}

/// Owns a session for one test.
class RuntimeSessionTest : public ::testing::Test {
protected:
  void TearDown() override { quarc_session_destroy(session); }
  void create(const quarc_model_desc &model) {
    ASSERT_EQ(quarc_session_create(&model, &session), QUARC_OK);
  }
  std::string error() const { return quarc_session_error(session); }
  quarc_session *session = nullptr;
};

//===----------------------------------------------------------------------===//
// Sessions
//===----------------------------------------------------------------------===//

TEST_F(RuntimeSessionTest, RunsAndReturnsOutputs) {
  create(kAddOne);
  std::vector<float> x = {0, 1, 2, 3, 4, 5};
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {2, 3});
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK) << error();
  EXPECT_EQ(out.dtype, QUARC_DTYPE_F32);
  EXPECT_EQ(out.rank, 2);
  EXPECT_EQ(out.dims[0], 2);
  EXPECT_EQ(out.dims[1], 3);
  EXPECT_EQ(values<float>(out, 6), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(error(), "");
  EXPECT_EQ(quarc_session_model(session), &kAddOne);
}

TEST_F(RuntimeSessionTest, RunsAgainWithAnotherDynamicSize) {
  // Each run frees the previous run's outputs (checked by ASan/LSan).
  create(kAddOne);
  std::vector<float> x(12, 1.0f);
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {2, 3});
  quarc_tensor out;
  for (int64_t rows : {2, 4, 1, 4, 0}) {
    in.dims[0] = rows;
    ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK);
    EXPECT_EQ(out.dims[0], rows);
    EXPECT_EQ(values<float>(out, 3 * rows), std::vector<float>(3 * rows, 2.0f));
  }
}

TEST_F(RuntimeSessionTest, PassesOneWorkspaceForAllRuns) {
  create(kWorkspaceModel);
  std::vector<float> x = {0, 1, 2, 3, 4, 5};
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {2, 3});
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK) << error();
  EXPECT_EQ(values<float>(out, 6), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  void *first = lastWorkspace;
  ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK) << error();
  EXPECT_EQ(lastWorkspace, first);
}

/// y[i] = i for a [n, 3] input, written by quarc_parallel_for chunks, each
/// iteration counted, as generated code with a parallel loop does.
std::atomic<int> parallelCalls{0};
extern "C" void fillIndexChunk(void *context, int64_t begin, int64_t end) {
  parallelCalls.fetch_add(1);
  float *y = static_cast<float *>(context);
  for (int64_t i = begin; i < end; ++i)
    y[i] += static_cast<float>(i) + 1.0f; // += catches a repeated iteration
}
/// The output of the parallel models: x's shape, every element -1 (the
/// chunks add i + 1 to element i); returns its data.
float *returnMinusOnes(void **args) {
  Memref x = inputArg(args, 0, 2);
  returnDense<float>(outputArg(args, 2), {x.size(0), 3},
                     [](int64_t) { return -1.0f; });
  return outputArg(args, 2).data<float>();
}
extern "C" void parallelEntry(void **args) {
  int64_t n = inputArg(args, 0, 2).size(0) * 3;
  quarc_parallel_for(fillIndexChunk, returnMinusOnes(args), n);
}
const quarc_model_desc kParallelModel = {
    QUARC_ABI_VERSION, 1, 1, 0, "parallel", "x86_64", kAddOneInputs,
    kAddOneOutputs, parallelEntry, 0, 0, 0, nullptr};

TEST_F(RuntimeSessionTest, ParallelLoopsCoverEveryIterationOnce) {
  create(kParallelModel);
  for (int32_t threads : {1, 2, 3, 8}) {
    ASSERT_EQ(quarc_session_set_threads(session, threads), QUARC_OK)
        << error();
    for (int64_t rows : {1, 2, 7, 1000}) {
      std::vector<float> x(rows * 3, 0.0f);
      quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {rows, 3});
      quarc_tensor out;
      parallelCalls = 0;
      ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK)
          << error();
      std::vector<float> want(rows * 3);
      for (int64_t i = 0; i < rows * 3; ++i)
        want[i] = static_cast<float>(i);
      EXPECT_EQ(values<float>(out, rows * 3), want)
          << threads << " threads, " << rows << " rows";
      // One call on one thread; else a few chunks per thread
      // (QUARC_CHUNKS_PER_THREAD), each one call.
      EXPECT_EQ(parallelCalls.load(),
                threads == 1 ? 1 : std::min<int64_t>(threads * 4, rows * 3));
    }
  }
}

/// Many loops in a row whose chunk counts alternate, as in a model run: a
/// worker without a chunk in one loop must not take part in the next one
/// with the first loop's view of it (it once ran a chunk twice and let the
/// caller return before another chunk had run).
extern "C" void alternatingEntry(void **args) {
  int64_t n = inputArg(args, 0, 2).size(0) * 3;
  float *y = returnMinusOnes(args);
  for (int64_t loop = 0; loop < 400; ++loop) {
    // 2 chunks, then all of them; each adds i + 1 to y[i] once.
    int64_t iterations = loop % 2 == 0 ? 2 : n;
    quarc_parallel_for(fillIndexChunk, y, iterations);
    for (int64_t i = 0; i < iterations; ++i)
      y[i] -= static_cast<float>(i) + 1.0f;
  }
  quarc_parallel_for(fillIndexChunk, y, n);
}
const quarc_model_desc kAlternatingModel = {
    QUARC_ABI_VERSION, 1, 1, 0, "alternating", "x86_64", kAddOneInputs,
    kAddOneOutputs, alternatingEntry, 0, 0, 0, nullptr};

TEST_F(RuntimeSessionTest, LoopsOfAlternatingWidthRunEachChunkOnce) {
  create(kAlternatingModel);
  ASSERT_EQ(quarc_session_set_threads(session, 8), QUARC_OK) << error();
  int64_t rows = 7;
  std::vector<float> x(rows * 3, 0.0f);
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {rows, 3});
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK) << error();
  std::vector<float> want(rows * 3);
  for (int64_t i = 0; i < rows * 3; ++i)
    want[i] = static_cast<float>(i);
  EXPECT_EQ(values<float>(out, rows * 3), want);
}

/// A temporary of x's size, allocated and freed by the entry as generated
/// code does for a dynamic batch; its address is recorded.
void *lastTemporary = nullptr;
extern "C" void temporaryEntry(void **args) {
  Memref x = inputArg(args, 0, 2);
  int64_t n = x.size(0) * 3;
  float *temporary = static_cast<float *>(
      _mlir_memref_to_llvm_aligned_alloc(64, n * sizeof(float)));
  lastTemporary = temporary;
  const float *in = x.data<float>();
  for (int64_t i = 0; i < n; ++i)
    temporary[i] = in[i] * 2.0f;
  returnDense<float>(outputArg(args, 2), {x.size(0), 3},
                     [&](int64_t i) { return temporary[i] + 1.0f; });
  _mlir_memref_to_llvm_free(temporary);
}
const quarc_model_desc kTemporaryModel = {
    QUARC_ABI_VERSION, 1, 1, 0, "temporary", "x86_64", kAddOneInputs,
    kAddOneOutputs, temporaryEntry, 0, 0, 0, nullptr};

TEST_F(RuntimeSessionTest, DynamicBuffersAreReusedByTheNextRuns) {
  create(kTemporaryModel);
  auto run = [&](int64_t rows) {
    std::vector<float> x(rows * 3);
    for (int64_t i = 0; i < rows * 3; ++i)
      x[i] = float(i);
    quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {rows, 3});
    quarc_tensor out;
    EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK)
        << error();
    std::vector<float> want(rows * 3);
    for (int64_t i = 0; i < rows * 3; ++i)
      want[i] = 2.0f * float(i) + 1.0f;
    EXPECT_EQ(values<float>(out, rows * 3), want);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(lastTemporary) % 64, 0u);
    return lastTemporary;
  };
  void *first = run(5);
  EXPECT_EQ(run(5), first); // the same size: the cached block
  void *other = run(9);     // another size: another block
  EXPECT_NE(other, first);
  EXPECT_EQ(run(5), first); // both kept
  EXPECT_EQ(run(9), other);
}

TEST(RuntimeBuffersTest, CacheKeepsAtMost256MiB) {
  quarc_buffer_cache *cache = quarc_buffer_cache_create();
  ASSERT_NE(cache, nullptr);
  quarc_buffer_cache *previous = quarc_buffer_cache_enter(cache);
  const size_t size = size_t(100) << 20;
  void *blocks[3];
  for (void *&block : blocks)
    ASSERT_NE(block = quarc_buffer_alloc(size, 64), nullptr);
  for (void *block : blocks)
    quarc_buffer_free(block); // the third evicts the first (300 > 256 MiB)
  // The two newest come back, newest first; then a fresh block.
  EXPECT_EQ(quarc_buffer_alloc(size, 64), blocks[2]);
  EXPECT_EQ(quarc_buffer_alloc(size, 64), blocks[1]);
  void *fresh = quarc_buffer_alloc(size, 64);
  EXPECT_NE(fresh, blocks[1]);
  EXPECT_NE(fresh, blocks[2]);
  // Another alignment is another block.
  quarc_buffer_free(fresh);
  void *other = quarc_buffer_alloc(size, 128);
  EXPECT_NE(other, fresh);
  for (void *block : {blocks[1], blocks[2], other})
    quarc_buffer_free(block);
  quarc_buffer_cache_enter(previous);
  quarc_buffer_cache_destroy(cache); // frees what it holds
}

TEST(RuntimeBuffersTest, CacheKeepsTheBlocksOfAWholeRun) {
  // A run of ResNet-50 with a dynamic batch frees 212 blocks of many sizes;
  // the next run must find each of them (at 64 blocks the oldest were
  // released and allocated again every run).
  quarc_buffer_cache *cache = quarc_buffer_cache_create();
  ASSERT_NE(cache, nullptr);
  quarc_buffer_cache *previous = quarc_buffer_cache_enter(cache);
  constexpr size_t kBlocks = 300;
  std::vector<void *> blocks(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i)
    ASSERT_NE(blocks[i] = quarc_buffer_alloc(1024 * (i + 1), 64), nullptr);
  for (void *block : blocks)
    quarc_buffer_free(block);
  for (size_t i = 0; i < kBlocks; ++i)
    EXPECT_EQ(quarc_buffer_alloc(1024 * (i + 1), 64), blocks[i]) << i;
  for (void *block : blocks)
    quarc_buffer_free(block);
  quarc_buffer_cache_enter(previous);
  quarc_buffer_cache_destroy(cache);
}

TEST(RuntimeBuffersTest, AlignedBlocksOutsideARunAreFreedAtOnce) {
  for (size_t alignment : {16, 64, 256, 4096}) {
    void *block = _mlir_memref_to_llvm_aligned_alloc(alignment, 100);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % alignment, 0u);
    std::memset(block, 1, 100);
    _mlir_memref_to_llvm_free(block); // no session: back to the system
  }
  _mlir_memref_to_llvm_free(nullptr);
  EXPECT_EQ(_mlir_memref_to_llvm_alloc(SIZE_MAX - 8), nullptr);
}

TEST_F(RuntimeSessionTest, ThreadCountOutOfRange) {
  create(kAddOne);
  EXPECT_EQ(quarc_session_set_threads(session, 0),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(error().find("between 1 and 4096"), std::string::npos) << error();
  EXPECT_EQ(quarc_session_set_threads(session, 5000),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(quarc_session_set_threads(nullptr, 2),
            QUARC_ERROR_INVALID_ARGUMENT);
}

TEST(RuntimeParallelFor, WithoutASessionRunsOnTheCaller) {
  std::vector<float> y(10, -1.0f);
  parallelCalls = 0;
  quarc_parallel_for(fillIndexChunk, y.data(), 10);
  EXPECT_EQ(parallelCalls.load(), 1);
  EXPECT_EQ(y[9], 9.0f);
}

TEST_F(RuntimeSessionTest, EmptyInputMayHaveNullData) {
  create(kAddOne);
  quarc_tensor in = makeTensor(nullptr, QUARC_DTYPE_F32, {0, 3});
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK) << error();
  EXPECT_EQ(out.dims[0], 0);
  EXPECT_EQ(out.dims[1], 3);
}

TEST_F(RuntimeSessionTest, TwoOutputsInDeclarationOrder) {
  create(kSumDiff);
  std::vector<int32_t> a = {1, 2, 3, 4}, b = {10, 20, 30, 40};
  quarc_tensor in[2] = {makeTensor(a.data(), QUARC_DTYPE_I32, {4}),
                        makeTensor(b.data(), QUARC_DTYPE_I32, {4})};
  quarc_tensor out[2];
  ASSERT_EQ(quarc_session_run(session, in, 2, out, 2), QUARC_OK) << error();
  EXPECT_EQ(values<int32_t>(out[0], 4), (std::vector<int32_t>{11, 22, 33, 44}));
  EXPECT_EQ(values<int32_t>(out[1], 4),
            (std::vector<int32_t>{-9, -18, -27, -36}));
}

TEST_F(RuntimeSessionTest, ScalarInputAndOutput) {
  create(kDoubleScalar);
  double x = 21;
  quarc_tensor in = makeTensor(&x, QUARC_DTYPE_F64, {});
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK) << error();
  EXPECT_EQ(out.rank, 0);
  EXPECT_EQ(*static_cast<double *>(out.data), 42.0);
}

TEST_F(RuntimeSessionTest, StridedOutputIsCopiedRowMajor) {
  create(kTransposeView);
  std::vector<float> x = {0, 1, 2, 3, 4, 5}; // [[0,1,2],[3,4,5]]
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {2, 3});
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK) << error();
  EXPECT_EQ(out.dims[0], 3);
  EXPECT_EQ(out.dims[1], 2);
  EXPECT_EQ(values<float>(out, 6), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST_F(RuntimeSessionTest, ConstantOutputIsCopiedNotFreed) {
  create(kConstantModel);
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, nullptr, 0, &out, 1), QUARC_OK)
      << error();
  EXPECT_NE(out.data, static_cast<void *>(kConstant));
  EXPECT_EQ(values<float>(out, 4), (std::vector<float>{1, 2, 3, 4}));
}

TEST_F(RuntimeSessionTest, OutputAliasingAnInputIsCopiedNotFreed) {
  create(kIdentity);
  float *x = static_cast<float *>(std::malloc(4 * sizeof(float)));
  for (int i = 0; i < 4; ++i)
    x[i] = float(i);
  quarc_tensor in = makeTensor(x, QUARC_DTYPE_F32, {4});
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK) << error();
  EXPECT_NE(out.data, static_cast<void *>(x));
  EXPECT_EQ(values<float>(out, 4), (std::vector<float>{0, 1, 2, 3}));
  quarc_session_destroy(session); // must not free x
  session = nullptr;
  x[0] = 7; // still ours (ASan reports a use-after-free otherwise)
  std::free(x);
}

TEST_F(RuntimeSessionTest, OutputsSharingABufferAreFreedOnce) {
  create(kSplit);
  quarc_tensor out[2];
  ASSERT_EQ(quarc_session_run(session, nullptr, 0, out, 2), QUARC_OK)
      << error();
  EXPECT_EQ(values<int64_t>(out[0], 2), (std::vector<int64_t>{0, 10}));
  EXPECT_EQ(values<int64_t>(out[1], 2), (std::vector<int64_t>{40, 50}));
  // A second run and destroy free the buffer once each time (a double free
  // aborts in glibc and is reported by ASan).
  ASSERT_EQ(quarc_session_run(session, nullptr, 0, out, 2), QUARC_OK);
}

TEST_F(RuntimeSessionTest, ReturnedShapeMismatchIsAnInternalError) {
  create(kWrongShape);
  quarc_tensor out;
  EXPECT_EQ(quarc_session_run(session, nullptr, 0, &out, 1),
            QUARC_ERROR_SHAPE_MISMATCH);
  EXPECT_NE(error().find("internal error: output 'c'"), std::string::npos)
      << error();
  EXPECT_EQ(out.data, nullptr); // no pointer into freed memory
}

TEST_F(RuntimeSessionTest, DtypeMismatchNamesTheInput) {
  create(kAddOne);
  std::vector<int32_t> x(6);
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_I32, {2, 3});
  quarc_tensor out;
  EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1),
            QUARC_ERROR_DTYPE_MISMATCH);
  EXPECT_EQ(error(),
            "input 'x': element type is i32 but the model expects f32");
}

TEST_F(RuntimeSessionTest, RankMismatchNamesTheInput) {
  create(kAddOne);
  std::vector<float> x(6);
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {1, 2, 3});
  quarc_tensor out;
  EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1),
            QUARC_ERROR_SHAPE_MISMATCH);
  EXPECT_EQ(error(), "input 'x': rank is 3 but the model expects rank 2 "
                     "(shape [?, 3])");
}

TEST_F(RuntimeSessionTest, StaticDimMismatchNamesTheInput) {
  create(kAddOne);
  std::vector<float> x(8);
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {2, 4});
  quarc_tensor out;
  EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1),
            QUARC_ERROR_SHAPE_MISMATCH);
  EXPECT_EQ(error(), "input 'x': dimension 1 is 4 but the model was compiled "
                     "for 3 (shape [?, 3])");
}

TEST_F(RuntimeSessionTest, NegativeDimIsRejected) {
  create(kAddOne);
  std::vector<float> x(6);
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {-2, 3});
  quarc_tensor out;
  EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1),
            QUARC_ERROR_SHAPE_MISMATCH);
  EXPECT_NE(error().find("input 'x': dimension 0 is -2"), std::string::npos);
}

TEST_F(RuntimeSessionTest, OverflowingShapeIsRejected) {
  create(kAddOne);
  float x = 0;
  quarc_tensor in =
      makeTensor(&x, QUARC_DTYPE_F32, {INT64_MAX / 2, 3}); // bytes overflow
  quarc_tensor out;
  EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1),
            QUARC_ERROR_SHAPE_MISMATCH);
  EXPECT_NE(error().find("input 'x'"), std::string::npos) << error();
}

TEST_F(RuntimeSessionTest, WrongInputOrOutputCount) {
  create(kAddOne);
  std::vector<float> x(6);
  quarc_tensor in[2] = {makeTensor(x.data(), QUARC_DTYPE_F32, {2, 3}),
                        makeTensor(x.data(), QUARC_DTYPE_F32, {2, 3})};
  quarc_tensor out[2];
  EXPECT_EQ(quarc_session_run(session, in, 2, out, 1),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "model 'add_one' takes 1 input(s) but 2 were given");
  EXPECT_EQ(quarc_session_run(session, in, 1, out, 2),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(error().find("1 output(s)"), std::string::npos);
}

TEST_F(RuntimeSessionTest, NullPointers) {
  create(kAddOne);
  quarc_tensor in = makeTensor(nullptr, QUARC_DTYPE_F32, {2, 3});
  quarc_tensor out;
  EXPECT_EQ(quarc_session_run(nullptr, &in, 1, &out, 1),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(quarc_session_run(session, nullptr, 1, &out, 1),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "inputs is NULL");
  EXPECT_EQ(quarc_session_run(session, &in, 1, nullptr, 1),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "outputs is NULL");
  EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(error(), "input 'x': data is NULL but the tensor is not empty");
}

TEST_F(RuntimeSessionTest, ErrorIsClearedBySuccess) {
  create(kAddOne);
  std::vector<float> x(6);
  quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_I32, {2, 3});
  quarc_tensor out;
  EXPECT_NE(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK);
  EXPECT_NE(error(), "");
  in.dtype = QUARC_DTYPE_F32;
  EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK);
  EXPECT_EQ(error(), "");
}

TEST(RuntimeCreateTest, AbiMismatchIsRejected) {
  quarc_model_desc model = kAddOne;
  model.abi_version = QUARC_ABI_VERSION + 1;
  quarc_session *session = reinterpret_cast<quarc_session *>(&model);
  EXPECT_EQ(quarc_session_create(&model, &session), QUARC_ERROR_ABI_MISMATCH);
  EXPECT_EQ(session, nullptr);
}

TEST(RuntimeCreateTest, MalformedModelsAreRejected) {
  quarc_session *session = nullptr;
  EXPECT_EQ(quarc_session_create(nullptr, &session),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(quarc_session_create(&kAddOne, nullptr),
            QUARC_ERROR_INVALID_ARGUMENT);

  quarc_model_desc noEntry = kAddOne;
  noEntry.entry = nullptr;
  EXPECT_EQ(quarc_session_create(&noEntry, &session),
            QUARC_ERROR_INVALID_ARGUMENT);

  const int64_t nineDims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  quarc_tensor_desc tooDeep[] = {{"x", QUARC_DTYPE_F32, 9, nineDims}};
  quarc_model_desc deep = kAddOne;
  deep.inputs = tooDeep;
  EXPECT_EQ(quarc_session_create(&deep, &session),
            QUARC_ERROR_INVALID_ARGUMENT);

  quarc_tensor_desc badType[] = {{"x", 42, 2, kDynBy3}};
  quarc_model_desc typed = kAddOne;
  typed.outputs = badType;
  EXPECT_EQ(quarc_session_create(&typed, &session),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(session, nullptr);
}

TEST(RuntimeCreateTest, StatusStringsAndDtypeSizes) {
  EXPECT_STREQ(quarc_status_string(QUARC_OK), "QUARC_OK");
  EXPECT_STREQ(quarc_status_string(QUARC_ERROR_SHAPE_MISMATCH),
               "QUARC_ERROR_SHAPE_MISMATCH");
  EXPECT_STREQ(quarc_status_string(QUARC_ERROR_IO), "QUARC_ERROR_IO");
  EXPECT_STREQ(quarc_status_string(static_cast<quarc_status>(99)),
               "QUARC_ERROR_UNKNOWN");
  EXPECT_EQ(quarc_dtype_size(QUARC_DTYPE_F32), 4u);
  EXPECT_EQ(quarc_dtype_size(QUARC_DTYPE_F16), 2u);
  EXPECT_EQ(quarc_dtype_size(QUARC_DTYPE_BOOL), 1u);
  EXPECT_EQ(quarc_dtype_size(QUARC_DTYPE_I64), 8u);
  EXPECT_EQ(quarc_dtype_size(0), 0u);
  EXPECT_STREQ(quarc_session_error(nullptr), "no session (NULL)");
  EXPECT_EQ(quarc_session_model(nullptr), nullptr);
  quarc_session_destroy(nullptr); // a no-op, like free(NULL)
}

//===----------------------------------------------------------------------===//
// .npy files
//===----------------------------------------------------------------------===//

/// A fresh temporary directory per test, removed afterwards.
class TempDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::temp_directory_path() / "quarc-runtime-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path(const std::string &name) const {
    return (dir / name).string();
  }
  void writeBytes(const std::string &name, const std::string &bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  std::string readBytes(const std::string &name) const {
    std::ifstream in(path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  fs::path dir;
};

/// A .npy file with the given version, header text and data (the length
/// field is computed; the header is not padded).
std::string npyFile(int major, const std::string &header,
                    const std::string &data = "") {
  std::string bytes("\x93NUMPY", 6);
  bytes += char(major);
  bytes += char(0);
  size_t len = header.size();
  int lenBytes = major == 1 ? 2 : 4;
  for (int i = 0; i < lenBytes; ++i)
    bytes += char((len >> (8 * i)) & 0xff);
  return bytes + header + data;
}

class NpyTest : public TempDirTest {
protected:
  /// Reads `name`; returns the status, keeps the tensor and message.
  quarc_status read(const std::string &name) {
    std::free(tensor.data);
    tensor.data = nullptr;
    return quarc_npy_read(path(name).c_str(), &tensor, err, sizeof err);
  }
  /// Expects reading `bytes` to fail with a message containing `what`.
  void expectReadError(const std::string &bytes, const std::string &what) {
    writeBytes("bad.npy", bytes);
    EXPECT_EQ(read("bad.npy"), QUARC_ERROR_IO);
    EXPECT_EQ(tensor.data, nullptr);
    EXPECT_NE(std::string(err).find(what), std::string::npos) << err;
    EXPECT_NE(std::string(err).find("bad.npy"), std::string::npos) << err;
  }
  void TearDown() override {
    std::free(tensor.data);
    TempDirTest::TearDown();
  }
  quarc_tensor tensor = {};
  char err[1024] = "";
};

TEST_F(NpyTest, RoundTripsEveryDtypeAndShape) {
  const quarc_dtype dtypes[] = {
      QUARC_DTYPE_F32,  QUARC_DTYPE_U8,  QUARC_DTYPE_I8,
      QUARC_DTYPE_I16,  QUARC_DTYPE_I32, QUARC_DTYPE_I64,
      QUARC_DTYPE_BOOL, QUARC_DTYPE_F16, QUARC_DTYPE_F64};
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {2, 3}};
  for (quarc_dtype dtype : dtypes) {
    for (const auto &shape : shapes) {
      SCOPED_TRACE("dtype " + std::to_string(dtype) + " rank " +
                   std::to_string(shape.size()));
      int64_t n = 1;
      for (int64_t d : shape)
        n *= d;
      size_t bytes = size_t(n) * quarc_dtype_size(dtype);
      std::vector<unsigned char> data(bytes);
      for (size_t i = 0; i < bytes; ++i)
        data[i] =
            dtype == QUARC_DTYPE_BOOL ? i % 2 : (unsigned char)(7 * i + 1);
      quarc_tensor t = makeTensor(data.data(), dtype, shape);
      ASSERT_EQ(quarc_npy_write(path("a.npy").c_str(), &t, err, sizeof err),
                QUARC_OK)
          << err;
      ASSERT_EQ(read("a.npy"), QUARC_OK) << err;
      EXPECT_EQ(tensor.dtype, dtype);
      ASSERT_EQ(tensor.rank, int32_t(shape.size()));
      for (size_t d = 0; d < shape.size(); ++d)
        EXPECT_EQ(tensor.dims[d], shape[d]);
      EXPECT_NE(tensor.data, nullptr);
      if (bytes)
        EXPECT_EQ(std::memcmp(tensor.data, data.data(), bytes), 0);
    }
  }
}

TEST_F(NpyTest, WritesTheHeaderNumpyWrites) {
  std::vector<float> data = {1, 2, 3, 4, 5, 6};
  quarc_tensor t = makeTensor(data.data(), QUARC_DTYPE_F32, {2, 3});
  ASSERT_EQ(quarc_npy_write(path("a.npy").c_str(), &t, err, sizeof err),
            QUARC_OK);
  std::string bytes = readBytes("a.npy");
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  size_t headerLen = (unsigned char)bytes[8] | (unsigned char)bytes[9] << 8;
  EXPECT_EQ((10 + headerLen) % 64, 0u) << "data must be 64-byte aligned";
  std::string header = bytes.substr(10, headerLen);
  EXPECT_EQ(
      header.rfind(
          "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0),
      0u)
      << header;
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(bytes.size(), 10 + headerLen + 24);

  quarc_tensor vec = makeTensor(data.data(), QUARC_DTYPE_F32, {6});
  ASSERT_EQ(quarc_npy_write(path("v.npy").c_str(), &vec, err, sizeof err),
            QUARC_OK);
  EXPECT_NE(readBytes("v.npy").find("'shape': (6,), }"), std::string::npos);
}

TEST_F(NpyTest, WriteLeavesNoTemporaryFiles) {
  float x = 1;
  quarc_tensor t = makeTensor(&x, QUARC_DTYPE_F32, {});
  ASSERT_EQ(quarc_npy_write(path("a.npy").c_str(), &t, err, sizeof err),
            QUARC_OK);
  // Overwriting replaces the file atomically, also without leftovers.
  ASSERT_EQ(quarc_npy_write(path("a.npy").c_str(), &t, err, sizeof err),
            QUARC_OK);
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"a.npy"});
}

TEST_F(NpyTest, WriteIntoAMissingDirectoryFails) {
  float x = 1;
  quarc_tensor t = makeTensor(&x, QUARC_DTYPE_F32, {});
  EXPECT_EQ(
      quarc_npy_write(path("no/such/dir/a.npy").c_str(), &t, err, sizeof err),
      QUARC_ERROR_IO);
  EXPECT_NE(std::string(err).find("cannot create"), std::string::npos) << err;
}

TEST_F(NpyTest, ReadsVersions2And3AndOtherSpellings) {
  std::string four(16, '\0');
  writeBytes("v2.npy", npyFile(2,
                               "{'descr': '<i4', 'fortran_order': False, "
                               "'shape': (4,)}\n",
                               four));
  ASSERT_EQ(read("v2.npy"), QUARC_OK) << err;
  EXPECT_EQ(tensor.dtype, QUARC_DTYPE_I32);
  EXPECT_EQ(tensor.dims[0], 4);

  // Version 3.0, '=' byte order, double quotes, key order, Python 2 'L'.
  writeBytes("v3.npy", npyFile(3,
                               "{\"shape\": (2L, 2L,), \"descr\": '=i4', "
                               "'fortran_order': False}   \n",
                               four));
  ASSERT_EQ(read("v3.npy"), QUARC_OK) << err;
  EXPECT_EQ(tensor.rank, 2);
  EXPECT_EQ(tensor.dims[1], 2);

  writeBytes("b.npy", npyFile(1,
                              "{'descr': '|b1', 'fortran_order': False, "
                              "'shape': ()}\n",
                              std::string(1, '\1')));
  ASSERT_EQ(read("b.npy"), QUARC_OK) << err;
  EXPECT_EQ(tensor.dtype, QUARC_DTYPE_BOOL);
  EXPECT_EQ(tensor.rank, 0);
}

const char kGoodHeader[] =
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";

TEST_F(NpyTest, RejectsBadMagic) {
  std::string bytes = npyFile(1, kGoodHeader, std::string(24, '\0'));
  bytes[1] = 'X';
  expectReadError(bytes, "bad magic");
  expectReadError("", "too short");
  EXPECT_EQ(read("missing.npy"), QUARC_ERROR_IO);
  EXPECT_NE(std::string(err).find("cannot open"), std::string::npos) << err;
}

TEST_F(NpyTest, RejectsUnknownVersion) {
  expectReadError(npyFile(4, kGoodHeader, std::string(24, '\0')),
                  "unsupported .npy version 4.0");
}

TEST_F(NpyTest, RejectsTruncatedHeaderAndData) {
  std::string bytes = npyFile(1, kGoodHeader, std::string(24, '\0'));
  expectReadError(bytes.substr(0, 9), "truncated .npy header");
  expectReadError(bytes.substr(0, 30), "truncated .npy header");
  expectReadError(bytes.substr(0, bytes.size() - 1),
                  "truncated data: 23 bytes, but shape [2, 3] of f32 needs 24");
  expectReadError(bytes + "x", "more data than shape [2, 3]");
}

TEST_F(NpyTest, RejectsFortranOrder) {
  expectReadError(
      npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}",
              std::string(24, '\0')),
      "fortran_order True is not supported");
}

TEST_F(NpyTest, RejectsUnknownDescr) {
  expectReadError(npyFile(1,
                          "{'descr': '<c8', 'fortran_order': False, "
                          "'shape': (1,)}",
                          std::string(8, '\0')),
                  "unsupported dtype '<c8'");
  expectReadError(npyFile(1,
                          "{'descr': '>f4', 'fortran_order': False, "
                          "'shape': (1,)}",
                          std::string(4, '\0')),
                  "unsupported dtype '>f4'");
  expectReadError(npyFile(1,
                          "{'descr': [('a', '<f4')], 'fortran_order': "
                          "False, 'shape': (1,)}",
                          std::string(4, '\0')),
                  "structured dtypes");
}

TEST_F(NpyTest, RejectsHugeHeaderLength) {
  std::string bytes("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12);
  expectReadError(bytes, "header too long");
}

TEST_F(NpyTest, RejectsMalformedHeaders) {
  const std::pair<const char *, const char *> cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3)}",
       "shape is not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}",
       "non-negative integer"},
      {"{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}",
       "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'shape': ()}", "duplicate key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': ()} junk",
       "unexpected text"},
      {"{'descr': '<f4', 'fortran_order': 0, 'shape': ()}",
       "fortran_order must be"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(1,1,1,1,1,1,1,1,1)}",
       "rank exceeds"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(99999999999999999999,)}",
       "dimension too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,", "expected"},
      {"{'descr: '<f4'}", "expected ':'"},
  };
  for (const auto &[header, message] : cases) {
    SCOPED_TRACE(header);
    expectReadError(npyFile(1, header, std::string(4, '\0')), message);
  }
}

TEST_F(NpyTest, RejectsAForgedHugeShapeBeforeAllocating) {
  // 2^40 f64 elements (8 TiB) claimed by a file of a few bytes.
  expectReadError(npyFile(1,
                          "{'descr': '<f8', 'fortran_order': False, 'shape': "
                          "(1099511627776,)}",
                          std::string(8, '\0')),
                  "truncated data: 8 bytes, but shape [1099511627776] of f64 "
                  "needs 8796093022208");
}

TEST_F(NpyTest, RejectsShapesWhoseSizeOverflows) {
  expectReadError(npyFile(1,
                          "{'descr': '<f8', 'fortran_order': False, 'shape': "
                          "(4294967296, 4294967296)}"),
                  "is too large");
}

//===----------------------------------------------------------------------===//
// The command line
//===----------------------------------------------------------------------===//

class CliTest : public TempDirTest {
protected:
  /// Runs quarc_cli_main with argv = {"model", args...}, capturing the
  /// streams into out and err.
  int run(const quarc_model_desc &model, std::vector<std::string> args) {
    args.insert(args.begin(), "model");
    std::vector<char *> argv;
    for (std::string &arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int rc = quarc_cli_main(&model, int(args.size()), argv.data());
    out = testing::internal::GetCapturedStdout();
    err = testing::internal::GetCapturedStderr();
    return rc;
  }
  /// Writes an f32 array to dir/name.
  void writeF32(const std::string &name, std::vector<float> data,
                std::vector<int64_t> dims) {
    quarc_tensor t = makeTensor(data.data(), QUARC_DTYPE_F32, dims);
    char message[256];
    ASSERT_EQ(quarc_npy_write(path(name).c_str(), &t, message, sizeof message),
              QUARC_OK);
  }
  /// Expects exactly one "error: " line on stderr, containing `what`.
  void expectError(const std::string &what) {
    EXPECT_EQ(err.rfind("error: ", 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_NE(err.find(what), std::string::npos) << err;
  }
  std::string out, err;
};

TEST_F(CliTest, WritesOutputsToADirectory) {
  writeF32("a.npy", {0, 1, 2, 3, 4, 5}, {2, 3});
  ASSERT_EQ(run(kAddOne,
                {"--input", "x=" + path("a.npy"), "--output-dir", path("d")}),
            0)
      << err;
  EXPECT_EQ(err, "");
  quarc_tensor y;
  char message[256];
  ASSERT_EQ(
      quarc_npy_read(path("d/y.npy").c_str(), &y, message, sizeof message),
      QUARC_OK)
      << message;
  EXPECT_EQ(y.rank, 2);
  EXPECT_EQ(values<float>(y, 6), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  std::free(y.data);
}

TEST_F(CliTest, BarePositionalAndEqualsForms) {
  writeF32("a.npy", {0, 1, 2}, {1, 3});
  EXPECT_EQ(run(kAddOne, {path("a.npy")}), 0) << err;
  EXPECT_EQ(out, "y: f32 [1, 3] = [1, 2, 3]\n");
  EXPECT_EQ(run(kAddOne, {"--input=x=" + path("a.npy"), "--threads=4"}), 0)
      << err;
  EXPECT_EQ(run(kAddOne, {"--input", path("a.npy")}), 0) << err;
}

TEST_F(CliTest, PrintsTheFirstValues) {
  writeF32("a.npy", std::vector<float>(30, 0.5f), {10, 3});
  ASSERT_EQ(run(kAddOne, {"--input", "x=" + path("a.npy")}), 0) << err;
  EXPECT_EQ(out, "y: f32 [10, 3] = [1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, "
                 "...]\n");
}

TEST_F(CliTest, SanitizesOutputFileNames) {
  std::vector<int32_t> a = {1, 2, 3, 4}, b = {4, 3, 2, 1};
  quarc_tensor ta = makeTensor(a.data(), QUARC_DTYPE_I32, {4});
  quarc_tensor tb = makeTensor(b.data(), QUARC_DTYPE_I32, {4});
  char message[256];
  ASSERT_EQ(quarc_npy_write(path("a.npy").c_str(), &ta, message, 256),
            QUARC_OK);
  ASSERT_EQ(quarc_npy_write(path("b.npy").c_str(), &tb, message, 256),
            QUARC_OK);
  ASSERT_EQ(run(kSumDiff, {"--input", "b=" + path("b.npy"), "--input",
                           "a=" + path("a.npy"), "--output-dir", path("d")}),
            0)
      << err;
  EXPECT_TRUE(fs::exists(path("d/sum.npy")));
  EXPECT_TRUE(fs::exists(path("d/out_diff.npy")));
}

TEST_F(CliTest, MissingInput) {
  writeF32("a.npy", {0, 1, 2, 3}, {4});
  EXPECT_EQ(run(kSumDiff, {"--input", "a=" + path("a.npy")}), 2);
  expectError("missing input 'b'");
}

TEST_F(CliTest, UnknownInputNameListsTheInputs) {
  writeF32("a.npy", {0, 1, 2}, {1, 3});
  EXPECT_EQ(run(kSumDiff, {"--input", "z=" + path("a.npy")}), 2);
  expectError("unknown input 'z'; the model's inputs are: 'a', 'b'");
  EXPECT_EQ(run(kSumDiff, {path("a.npy")}), 2);
  expectError("unexpected argument");
}

TEST_F(CliTest, InputGivenTwice) {
  writeF32("a.npy", {0, 1, 2}, {1, 3});
  EXPECT_EQ(run(kAddOne, {path("a.npy"), "--input", "x=" + path("a.npy")}), 2);
  expectError("input 'x' is given twice");
}

TEST_F(CliTest, BadNpyFile) {
  writeBytes("bad.npy", "this is not numpy");
  EXPECT_EQ(run(kAddOne, {"--input", "x=" + path("bad.npy")}), 1);
  expectError("input 'x': ");
  EXPECT_NE(err.find("bad magic"), std::string::npos) << err;
}

TEST_F(CliTest, InputOfTheWrongShape) {
  writeF32("a.npy", {0, 1, 2, 3}, {1, 4});
  EXPECT_EQ(run(kAddOne, {"--input", "x=" + path("a.npy")}), 1);
  expectError("input 'x': dimension 1 is 4 but the model was compiled for 3");
}

TEST_F(CliTest, Benchmark) {
  writeF32("a.npy", {0, 1, 2}, {1, 3});
  ASSERT_EQ(run(kAddOne, {"--input", "x=" + path("a.npy"), "--benchmark", "3"}),
            0)
      << err;
  EXPECT_EQ(out.rfind("median ", 0), 0u) << out;
  EXPECT_NE(out.find(" ms, p90 "), std::string::npos) << out;
  EXPECT_NE(out.find(" ms over 3 runs\n"), std::string::npos) << out;
}

TEST_F(CliTest, UsageErrors) {
  EXPECT_EQ(run(kAddOne, {"--benchmark", "0"}), 2);
  expectError("--benchmark expects a whole number");
  EXPECT_EQ(run(kAddOne, {"--threads", "many"}), 2);
  expectError("--threads expects a whole number");
  EXPECT_EQ(run(kAddOne, {"--output-dir"}), 2);
  expectError("--output-dir needs a value");
  EXPECT_EQ(run(kAddOne, {"--frobnicate"}), 2);
  expectError("unknown option '--frobnicate'");
  EXPECT_EQ(run(kAddOne, {}), 2);
  expectError("missing input 'x'");
}

TEST_F(CliTest, PrintSignature) {
  EXPECT_EQ(run(kAddOne, {"--print-signature"}), 0) << err;
  EXPECT_EQ(out, "inputs:\n  x: f32 [?, 3]\noutputs:\n  y: f32 [?, 3]\n"
                 "workspace: 0 bytes\n");
}

TEST_F(CliTest, HelpNamesTheModelAndItsTensors) {
  EXPECT_EQ(run(kSumDiff, {"--help"}), 0) << err;
  EXPECT_EQ(out.rfind("usage: model ", 0), 0u) << out;
  EXPECT_NE(out.find("'sum_diff'"), std::string::npos) << out;
  EXPECT_NE(out.find("  a: i32 [4]"), std::string::npos) << out;
  EXPECT_NE(out.find("  out/diff: i32 [4]"), std::string::npos) << out;
  EXPECT_NE(out.find("--threads N"), std::string::npos) << out;
}

TEST_F(CliTest, AbiMismatch) {
  quarc_model_desc model = kAddOne;
  model.abi_version = 99;
  EXPECT_EQ(run(model, {"--help"}), 1);
  expectError("compiled for runtime ABI version 99");
}

//===----------------------------------------------------------------------===//
// Weights files (models compiled with `quarc compile --weights`)
//===----------------------------------------------------------------------===//

/// FNV-1a 64, the hash the compiler writes.
uint64_t fnv1a64(const std::string &data) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/// The 16 bytes of weights of the fake models below: 4 floats.
const float kWeightValues[4] = {10, 20, 30, 40};
const std::string kWeights(reinterpret_cast<const char *>(kWeightValues),
                           sizeof kWeightValues);

/// A weights file: the header of quarc_runtime.h (little-endian fields),
/// then `weights`.
std::string weightsFile(const std::string &weights, uint64_t hash,
                        uint32_t version = QUARC_WEIGHTS_VERSION,
                        uint32_t headerBytes = QUARC_WEIGHTS_HEADER_BYTES) {
  std::string file(headerBytes, '\0');
  auto put = [&](size_t at, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i)
      file[at + i] = char(value >> (8 * i));
  };
  std::memcpy(file.data(), QUARC_WEIGHTS_MAGIC, 8);
  put(8, version, 4);
  put(12, headerBytes, 4);
  put(16, weights.size(), 8);
  put(24, hash, 8);
  return file + weights;
}

/// Whether a rank-1 byte buffer's descriptor is { p, p' (64-byte aligned),
/// 0, bytes, 1 }.
bool isByteBuffer(void *arg, int64_t bytes) {
  Memref buffer = {static_cast<int64_t *>(arg), 1};
  return buffer.size(0) == bytes && buffer.stride(0) == 1 &&
         buffer.offset() == 0 &&
         reinterpret_cast<uintptr_t>(buffer.aligned()) % 64 == 0;
}

/// y = x + w[j] for an f32 [?, 3] input, w the weights as floats; the
/// weights' descriptor is args[2] (no workspace). A wrong descriptor gives
/// -1s.
extern "C" void addWeightsEntry(void **args) {
  Memref x = inputArg(args, 0, 2);
  bool valid = isByteBuffer(args[2], int64_t(kWeights.size()));
  const float *w = Memref{static_cast<int64_t *>(args[2]), 1}.data<float>();
  const float *in = x.data<float>();
  returnDense<float>(outputArg(args, 2), {x.size(0), 3}, [&](int64_t i) {
    return valid ? in[i] + w[i % 3] : -1.0f;
  });
}

/// The same with a workspace: the weights come after it, in args[3].
extern "C" void workspaceAndWeightsEntry(void **args) {
  Memref x = inputArg(args, 0, 2);
  bool valid = isByteBuffer(args[2], kWorkspaceBytes) &&
               isByteBuffer(args[3], int64_t(kWeights.size()));
  const float *w = Memref{static_cast<int64_t *>(args[3]), 1}.data<float>();
  const float *in = x.data<float>();
  returnDense<float>(outputArg(args, 2), {x.size(0), 3}, [&](int64_t i) {
    return valid ? in[i] + w[i % 3] : -1.0f;
  });
}

/// Returns the weights themselves (a constant output): a view of the
/// mapped file, which the runtime must copy and never free.
extern "C" void returnWeightsEntry(void **args) {
  Memref weights = {static_cast<int64_t *>(args[1]), 1};
  outputArg(args, 1).set(weights.allocated(), weights.aligned(), 0, {4}, {1});
}

quarc_model_desc withWeights(quarc_model_desc model) {
  model.weights_bytes = kWeights.size();
  model.weights_hash = fnv1a64(kWeights);
  model.weights_file = "model.weights";
  return model;
}

const quarc_model_desc kAddWeights = withWeights(
    {QUARC_ABI_VERSION, 1, 1, 0, "add_weights", "x86_64", kAddOneInputs,
     kAddOneOutputs, addWeightsEntry, 0, 0, 0, nullptr});
const quarc_model_desc kWorkspaceAndWeights = withWeights(
    {QUARC_ABI_VERSION, 1, 1, 0, "both", "x86_64", kAddOneInputs,
     kAddOneOutputs, workspaceAndWeightsEntry, kWorkspaceBytes, 0, 0,
     nullptr});
const quarc_model_desc kReturnWeights = withWeights(
    {QUARC_ABI_VERSION, 0, 1, 0, "return_weights", "x86_64", nullptr,
     kConstantOutputs, returnWeightsEntry, 0, 0, 0, nullptr});

class WeightsTest : public TempDirTest {
protected:
  void TearDown() override {
    quarc_session_destroy(session);
    TempDirTest::TearDown();
  }
  /// Creates the session with the weights file `name`; its status, with the
  /// message in `error`.
  quarc_status create(const quarc_model_desc &model, const std::string &name) {
    error[0] = 'x'; // must be overwritten
    return quarc_session_create_with_weights(&model, path(name).c_str(),
                                             &session, error, sizeof error);
  }
  /// Runs a session on x = {0..5} ([2, 3]) and returns y.
  std::vector<float> runOnRange() {
    std::vector<float> x = {0, 1, 2, 3, 4, 5};
    quarc_tensor in = makeTensor(x.data(), QUARC_DTYPE_F32, {2, 3});
    quarc_tensor out;
    EXPECT_EQ(quarc_session_run(session, &in, 1, &out, 1), QUARC_OK)
        << quarc_session_error(session);
    return values<float>(out, 6);
  }
  /// Expects a failed create: `status`, no session, and a message that names
  /// the file and says `what`.
  void expectFailure(quarc_status got, quarc_status status,
                     const std::string &name, const std::string &what) {
    EXPECT_EQ(got, status) << quarc_status_string(got) << ": " << error;
    EXPECT_EQ(session, nullptr);
    std::string message = error;
    EXPECT_NE(message.find("'" + path(name) + "'"), std::string::npos)
        << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }
  quarc_session *session = nullptr;
  char error[1024] = {};
};

TEST_F(WeightsTest, MapsTheFileAndPassesTheWeights) {
  writeBytes("model.weights", weightsFile(kWeights, fnv1a64(kWeights)));
  ASSERT_EQ(create(kAddWeights, "model.weights"), QUARC_OK) << error;
  EXPECT_STREQ(error, "");
  EXPECT_EQ(runOnRange(), (std::vector<float>{10, 21, 32, 13, 24, 35}));
  // The file may go away once mapped: the mapping keeps its pages.
  fs::remove(path("model.weights"));
  EXPECT_EQ(runOnRange(), (std::vector<float>{10, 21, 32, 13, 24, 35}));
}

TEST_F(WeightsTest, WeightsFollowTheWorkspace) {
  writeBytes("model.weights", weightsFile(kWeights, fnv1a64(kWeights)));
  ASSERT_EQ(create(kWorkspaceAndWeights, "model.weights"), QUARC_OK) << error;
  EXPECT_EQ(runOnRange(), (std::vector<float>{10, 21, 32, 13, 24, 35}));
}

TEST_F(WeightsTest, ALargerHeaderKeepsTheWeightsAligned) {
  writeBytes("model.weights",
             weightsFile(kWeights, fnv1a64(kWeights), QUARC_WEIGHTS_VERSION,
                         128));
  ASSERT_EQ(create(kAddWeights, "model.weights"), QUARC_OK) << error;
  EXPECT_EQ(runOnRange(), (std::vector<float>{10, 21, 32, 13, 24, 35}));
}

TEST_F(WeightsTest, OutputViewingTheWeightsIsCopiedNotFreed) {
  writeBytes("model.weights", weightsFile(kWeights, fnv1a64(kWeights)));
  ASSERT_EQ(create(kReturnWeights, "model.weights"), QUARC_OK) << error;
  quarc_tensor out;
  ASSERT_EQ(quarc_session_run(session, nullptr, 0, &out, 1), QUARC_OK)
      << quarc_session_error(session);
  EXPECT_EQ(values<float>(out, 4), (std::vector<float>{10, 20, 30, 40}));
  // Freeing the mapping would abort in glibc (and is reported by ASan).
  ASSERT_EQ(quarc_session_run(session, nullptr, 0, &out, 1), QUARC_OK);
}

TEST_F(WeightsTest, WeightsOfAnotherCompileAreRejected) {
  std::string other = kWeights;
  other[0] ^= 1; // same size, other contents: another hash
  writeBytes("other.weights", weightsFile(other, fnv1a64(other)));
  expectFailure(create(kAddWeights, "other.weights"), QUARC_ERROR_WEIGHTS,
                "other.weights", "does not belong to the model 'add_weights'");
  std::string bigger = kWeights + kWeights;
  writeBytes("bigger.weights", weightsFile(bigger, fnv1a64(bigger)));
  expectFailure(create(kAddWeights, "bigger.weights"), QUARC_ERROR_WEIGHTS,
                "bigger.weights", "holds 32 bytes of weights");
}

TEST_F(WeightsTest, TruncatedFilesAreRejected) {
  std::string file = weightsFile(kWeights, fnv1a64(kWeights));
  writeBytes("short.weights", file.substr(0, file.size() - 1));
  expectFailure(create(kAddWeights, "short.weights"), QUARC_ERROR_WEIGHTS,
                "short.weights", "is truncated: 79 bytes, its header says 80");
  writeBytes("header.weights", file.substr(0, 40));
  expectFailure(create(kAddWeights, "header.weights"), QUARC_ERROR_WEIGHTS,
                "header.weights", "shorter than its 64-byte header");
}

TEST_F(WeightsTest, OtherFilesAndFormatsAreRejected) {
  writeBytes("empty.weights", "");
  expectFailure(create(kAddWeights, "empty.weights"), QUARC_ERROR_WEIGHTS,
                "empty.weights", "is not a quarc weights file");
  writeBytes("npy.weights", std::string("\x93NUMPY", 6) + std::string(90, ' '));
  expectFailure(create(kAddWeights, "npy.weights"), QUARC_ERROR_WEIGHTS,
                "npy.weights", "is not a quarc weights file");
  writeBytes("v2.weights", weightsFile(kWeights, fnv1a64(kWeights), 2));
  expectFailure(create(kAddWeights, "v2.weights"), QUARC_ERROR_WEIGHTS,
                "v2.weights", "format version 2");
  writeBytes("odd.weights", weightsFile(kWeights, fnv1a64(kWeights),
                                        QUARC_WEIGHTS_VERSION, 96));
  expectFailure(create(kAddWeights, "odd.weights"), QUARC_ERROR_WEIGHTS,
                "odd.weights", "header size 96 is not a multiple of 64");
  fs::create_directory(dir / "folder.weights");
  expectFailure(create(kAddWeights, "folder.weights"), QUARC_ERROR_IO,
                "folder.weights", "is not a regular file");
}

TEST_F(WeightsTest, MissingFileIsAnIoError) {
  expectFailure(create(kAddWeights, "absent.weights"), QUARC_ERROR_IO,
                "absent.weights", "cannot open the weights file");
}

TEST_F(WeightsTest, TheWeightsFileIsRequiredExactlyWhenTheModelHasOne) {
  quarc_session *s = nullptr;
  EXPECT_EQ(quarc_session_create(&kAddWeights, &s), QUARC_ERROR_WEIGHTS);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(quarc_session_create_with_weights(&kAddWeights, nullptr, &s, error,
                                              sizeof error),
            QUARC_ERROR_WEIGHTS);
  EXPECT_NE(std::string(error).find("separate file ('model.weights')"),
            std::string::npos)
      << error;
  EXPECT_EQ(quarc_session_create_with_weights(&kAddOne, "x.weights", &s,
                                              error, sizeof error),
            QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error).find("has its weights embedded"),
            std::string::npos)
      << error;
  // An embedded model without a path is quarc_session_create.
  ASSERT_EQ(quarc_session_create_with_weights(&kAddOne, nullptr, &s, nullptr,
                                              0),
            QUARC_OK);
  quarc_session_destroy(s);
  // A descriptor with weights but no file to take them from is malformed.
  quarc_model_desc noFile = kAddWeights;
  noFile.weights_file = nullptr;
  EXPECT_EQ(quarc_session_create(&noFile, &s), QUARC_ERROR_INVALID_ARGUMENT);
  EXPECT_STREQ(quarc_status_string(QUARC_ERROR_WEIGHTS),
               "QUARC_ERROR_WEIGHTS");
}

TEST_F(CliTest, WeightsOption) {
  writeF32("a.npy", {0, 1, 2, 3, 4, 5}, {2, 3});
  writeBytes("w.bin", weightsFile(kWeights, fnv1a64(kWeights)));
  ASSERT_EQ(run(kAddWeights, {"--weights", path("w.bin"), path("a.npy"),
                              "--output-dir", path("d")}),
            0)
      << err;
  quarc_tensor y;
  char message[256];
  ASSERT_EQ(
      quarc_npy_read(path("d/y.npy").c_str(), &y, message, sizeof message),
      QUARC_OK)
      << message;
  EXPECT_EQ(values<float>(y, 6), (std::vector<float>{10, 21, 32, 13, 24, 35}));
  std::free(y.data);

  EXPECT_EQ(run(kAddWeights, {"--weights=" + path("none.bin"), path("a.npy")}),
            1);
  expectError("cannot open the weights file '" + path("none.bin") + "'");
  // The default is the name the compiler wrote, next to the executable
  // (this test binary), where there is none.
  EXPECT_EQ(run(kAddWeights, {path("a.npy")}), 1);
  expectError("/model.weights': No such file or directory (the default, "
              "next to the executable; give --weights FILE)");
  EXPECT_EQ(run(kAddOne, {"--weights", path("w.bin"), path("a.npy")}), 2);
  expectError("the model's weights are embedded; it takes no --weights");
}

TEST_F(CliTest, SignatureAndHelpWithoutTheWeightsFile) {
  EXPECT_EQ(run(kAddWeights, {"--print-signature"}), 0) << err;
  EXPECT_NE(out.find("weights: 16 bytes in a separate file (model.weights)"),
            std::string::npos)
      << out;
  EXPECT_EQ(run(kAddWeights, {"--help"}), 0) << err;
  EXPECT_NE(out.find("--weights FILE"), std::string::npos) << out;
  EXPECT_EQ(run(kAddOne, {"--help"}), 0) << err;
  EXPECT_EQ(out.find("--weights"), std::string::npos) << out;
}

} // namespace
