/*===- quarc_runtime.h - C API of models compiled by quarc -----------------===*
 *
 * A model compiled by `quarc compile` exports one constant descriptor,
 * `const quarc_model_desc <name>_model`, that says what the model takes and
 * returns and where its code is. Everything else is this small, generic
 * runtime: create a session for a model, run it on input tensors, read the
 * output tensors, destroy it. The runtime checks every input's element type,
 * rank and static dimensions before the generated code runs, so a wrong
 * input is an error code and a message, never an out-of-bounds read.
 *
 * A model compiled with `quarc compile --weights=FILE` keeps its large
 * constants in that file instead of in its code: the session maps the file
 * read-only (quarc_session_create_with_weights), after checking that it is
 * the file written by the same compile.
 *
 * The generated `<name>.h` contains this header verbatim, so a user needs
 * nothing else to call the model. docs/runtime.md documents it with an
 * example.
 *===----------------------------------------------------------------------===*/

#ifndef QUARC_RUNTIME_H
#define QUARC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the descriptor layout below; a model compiled for another
 * version is rejected by quarc_session_create. */
#define QUARC_ABI_VERSION 4
/* The largest tensor rank the runtime handles. */
#define QUARC_MAX_RANK 8

/* Status codes. quarc_status_string() names them; a session's last error
 * message (quarc_session_error) says what exactly was wrong. */
typedef enum quarc_status {
  QUARC_OK = 0,
  QUARC_ERROR_INVALID_ARGUMENT = 1, /* null pointer, wrong input count */
  QUARC_ERROR_DTYPE_MISMATCH = 2,   /* input element type differs */
  QUARC_ERROR_SHAPE_MISMATCH = 3,   /* input rank or a static dim differs */
  QUARC_ERROR_OUT_OF_MEMORY = 4,
  QUARC_ERROR_ABI_MISMATCH = 5,     /* model built for another runtime */
  QUARC_ERROR_IO = 6,               /* a file cannot be read or written */
  QUARC_ERROR_WEIGHTS = 7           /* weights file missing, or not its own */
} quarc_status;

/* Element types, numbered like ONNX's TensorProto.DataType. */
typedef enum quarc_dtype {
  QUARC_DTYPE_F32 = 1,
  QUARC_DTYPE_U8 = 2,
  QUARC_DTYPE_I8 = 3,
  QUARC_DTYPE_I16 = 5,
  QUARC_DTYPE_I32 = 6,
  QUARC_DTYPE_I64 = 7,
  QUARC_DTYPE_BOOL = 9,
  QUARC_DTYPE_F16 = 10,
  QUARC_DTYPE_F64 = 11
} quarc_dtype;

/* One input or output of a model, as declared. A dim of -1 is dynamic
 * (for example a symbolic batch size). */
typedef struct quarc_tensor_desc {
  const char *name;
  int32_t dtype; /* a quarc_dtype */
  int32_t rank;
  const int64_t *dims;
} quarc_tensor_desc;

/* What `quarc compile` emits for a model. `entry` is the generated code:
 * args[0] points to the output memref descriptors, args[1 + i] to input i's,
 * and, when workspace_bytes > 0, args[1 + num_inputs] to the descriptor of
 * the workspace (a rank-1 byte buffer, 64-byte aligned, that holds every
 * intermediate tensor; its contents need not survive between runs). When
 * weights_bytes > 0, the next argument (args[1 + num_inputs] without a
 * workspace, args[2 + num_inputs] with one) is the descriptor of the
 * weights: a read-only rank-1 byte buffer, 64-byte aligned, holding the
 * contents of the weights file after its header.
 * A memref descriptor is { void *allocated; void *aligned; int64_t offset;
 * int64_t sizes[rank]; int64_t strides[rank]; }, laid out back to back.
 * Outputs are allocated by the generated code with malloc and owned by the
 * caller. Use the session API rather than calling `entry` directly: a
 * session allocates the workspace once. */
typedef struct quarc_model_desc {
  uint32_t abi_version;
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t reserved;
  const char *name;   /* the ONNX graph name */
  const char *target; /* e.g. "x86_64+avx2" */
  const quarc_tensor_desc *inputs;
  const quarc_tensor_desc *outputs;
  void (*entry)(void **args);
  /* Bytes of intermediate tensors (the compile-time memory plan). */
  uint64_t workspace_bytes;
  /* Since ABI version 3: the weights file of a model compiled with
   * `quarc compile --weights=FILE`. weights_file is the name (without
   * folders) the compiler wrote, NULL for a model whose weights are all
   * embedded; weights_bytes and weights_hash are what the file's header
   * must say. */
  uint64_t weights_bytes;
  uint64_t weights_hash;
  const char *weights_file;
} quarc_model_desc;

/* A weights file is this header followed by the weights (header_bytes from
 * the start of the file, so that they stay 64-byte aligned when the file
 * is mapped). All fields are little-endian. weights_hash is the 64-bit
 * FNV-1a hash of the weights_bytes bytes of weights: a model accepts only a
 * file whose header has its size and hash (the contents are not hashed
 * again when the file is loaded). */
#define QUARC_WEIGHTS_MAGIC "QUARCWTS" /* 8 bytes, no terminating NUL */
#define QUARC_WEIGHTS_VERSION 1
#define QUARC_WEIGHTS_HEADER_BYTES 64
typedef struct quarc_weights_header {
  char magic[8];          /* QUARC_WEIGHTS_MAGIC */
  uint32_t version;       /* QUARC_WEIGHTS_VERSION */
  uint32_t header_bytes;  /* a multiple of 64, at least 64 */
  uint64_t weights_bytes;
  uint64_t weights_hash;  /* FNV-1a 64 of the weights */
  uint8_t reserved[32];   /* zero */
} quarc_weights_header;

/* A tensor passed to or returned by a session: dense, row-major. */
typedef struct quarc_tensor {
  void *data;
  int32_t dtype;
  int32_t rank;
  int64_t dims[QUARC_MAX_RANK];
} quarc_tensor;

typedef struct quarc_session quarc_session;

/* Creates a session for `model`, which must outlive it. Returns
 * QUARC_ABI_MISMATCH for a model built for another runtime version,
 * QUARC_ERROR_INVALID_ARGUMENT for a malformed descriptor and
 * QUARC_ERROR_WEIGHTS for a model that needs its weights file (use
 * quarc_session_create_with_weights); on failure *session is NULL (there
 * is no session to hold a message). */
quarc_status quarc_session_create(const quarc_model_desc *model,
                                  quarc_session **session);

/* Creates a session for a model compiled with `quarc compile --weights`:
 * maps the file `weights_path` read-only for the session's lifetime, after
 * checking its header against the model (magic, version, size and hash)
 * and that the file holds all the weights. For a model with embedded
 * weights (model->weights_file is NULL) `weights_path` must be NULL. On
 * failure *session is NULL, the status is QUARC_ERROR_IO (the file cannot
 * be opened or mapped) or QUARC_ERROR_WEIGHTS (no path, or a file that is
 * truncated, not a weights file, or written by another compile), and when
 * `error` is not NULL it receives a message naming the file (at most
 * error_size bytes, NUL-terminated). The file must not be truncated or
 * rewritten while the session exists. */
quarc_status quarc_session_create_with_weights(const quarc_model_desc *model,
                                               const char *weights_path,
                                               quarc_session **session,
                                               char *error, size_t error_size);

/* Runs the model. `inputs` holds the model's inputs in declaration order
 * (model->inputs); each must have the declared dtype, rank and static dims,
 * and may have NULL data only if it has no elements. On success `outputs`
 * (num_outputs entries) describes the results, dense and row-major; their
 * data belongs to the session and stays valid until the next run or
 * quarc_session_destroy. On failure `outputs` is zeroed and
 * quarc_session_error says what was wrong, naming the input. A session runs
 * one call at a time; use one session per thread. */
quarc_status quarc_session_run(quarc_session *session,
                               const quarc_tensor *inputs, size_t num_inputs,
                               quarc_tensor *outputs, size_t num_outputs);

/* Runs the session's models on `threads` threads (the caller and
 * threads - 1 workers the session starts now; 1, the default, starts none).
 * QUARC_ERROR_INVALID_ARGUMENT for threads < 1 or > 4096,
 * QUARC_ERROR_OUT_OF_MEMORY if the threads cannot be started (the session
 * keeps its previous setting). */
quarc_status quarc_session_set_threads(quarc_session *session,
                                       int32_t threads);

/* The message of the last failed call on `session` ("" if none). */
const char *quarc_session_error(const quarc_session *session);

/* The model a session runs. */
const quarc_model_desc *quarc_session_model(const quarc_session *session);

/* Frees the session and the outputs of its last run. */
void quarc_session_destroy(quarc_session *session);

/* Called by generated code, not by users: runs fn(context, begin, end) over
 * chunks of [0, iterations) on the threads of the session whose model is
 * running on this thread, and returns when all are done. */
void quarc_parallel_for(void (*fn)(void *context, int64_t begin, int64_t end),
                        void *context, int64_t iterations);

/* The name of a status code, e.g. "QUARC_ERROR_SHAPE_MISMATCH". */
const char *quarc_status_string(quarc_status status);

/* Bytes per element of a dtype, or 0 for an unknown one. */
size_t quarc_dtype_size(int32_t dtype);

/* The command-line interface shared by compiled executables and
 * `quarc run`: --input NAME=FILE.npy (repeatable; a bare FILE.npy for a
 * single-input model), --output-dir DIR, --threads N, --benchmark N,
 * --weights FILE (models with a weights file; by default the file named
 * model->weights_file next to the running executable), --print-signature,
 * --help. Returns the process exit code: 0 success,
 * 1 runtime or model error, 2 usage error. */
int quarc_cli_main(const quarc_model_desc *model, int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* QUARC_RUNTIME_H */
