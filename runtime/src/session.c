/*===- session.c - sessions: check inputs, call the generated code ---------===*
 *
 * A session turns quarc_tensor inputs into the memref descriptors the
 * generated entry point reads, calls it, and turns the descriptors it
 * returns back into quarc_tensors. All checks happen here, before the
 * generated code runs: it trusts its inputs' shapes completely.
 *===----------------------------------------------------------------------===*/

#include "internal.h"
#include "buffers.h"
#include "thread_pool.h"
#include "weights.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The descriptors are arrays of 64-bit words; pointers are stored in words
 * with memcpy. The generated code is only built for 64-bit targets. */
_Static_assert(sizeof(void *) == sizeof(int64_t),
               "the memref descriptor layout assumes 64-bit pointers");

/* MLIR's memref.get_global lowering puts this in `allocated` so that
 * freeing a global is caught; an output with it is a constant of the
 * model, which we must copy and must not free. */
#define QUARC_GLOBAL_MEMREF_MARKER ((uintptr_t)0xdeadbeef)

enum { QUARC_ERROR_SIZE = 1024 };

struct quarc_session {
  const quarc_model_desc *model;
  /* Allocated once in create, since ranks are fixed by the model:
   * args[0] = output_descs, args[1 + i] = input i's descriptor, then the
   * workspace's descriptor and the weights' descriptor, each if the model
   * has one. */
  void **args;
  /* Worker threads for parallel loops; NULL for one thread. */
  quarc_pool *pool;
  /* Freed buffers of dynamic size, reused by the next runs (buffers.h). */
  quarc_buffer_cache *buffers;
  /* The model's intermediate tensors: allocated once, reused every run. */
  void *workspace;
  int64_t workspace_desc[5];
  /* The model's weights file, mapped read-only; unused (zero) for a model
   * whose weights are embedded. */
  quarc_weights_mapping weights;
  int64_t weights_desc[5];
  int64_t *output_descs;
  size_t output_words;
  /* Buffers behind the last run's outputs, freed at the next run or at
   * destroy. At most two per output (what the model returned and our
   * contiguous copy), so the capacity is reserved up front and taking
   * ownership can never fail. */
  void **owned;
  size_t num_owned;
  char error[QUARC_ERROR_SIZE];
};

/*===----------------------------------------------------------------------===*
 * Status codes and dtypes
 *===----------------------------------------------------------------------===*/

const char *quarc_status_string(quarc_status status) {
  switch (status) {
  case QUARC_OK:
    return "QUARC_OK";
  case QUARC_ERROR_INVALID_ARGUMENT:
    return "QUARC_ERROR_INVALID_ARGUMENT";
  case QUARC_ERROR_DTYPE_MISMATCH:
    return "QUARC_ERROR_DTYPE_MISMATCH";
  case QUARC_ERROR_SHAPE_MISMATCH:
    return "QUARC_ERROR_SHAPE_MISMATCH";
  case QUARC_ERROR_OUT_OF_MEMORY:
    return "QUARC_ERROR_OUT_OF_MEMORY";
  case QUARC_ERROR_ABI_MISMATCH:
    return "QUARC_ERROR_ABI_MISMATCH";
  case QUARC_ERROR_IO:
    return "QUARC_ERROR_IO";
  case QUARC_ERROR_WEIGHTS:
    return "QUARC_ERROR_WEIGHTS";
  }
  return "QUARC_ERROR_UNKNOWN";
}

size_t quarc_dtype_size(int32_t dtype) {
  switch (dtype) {
  case QUARC_DTYPE_U8:
  case QUARC_DTYPE_I8:
  case QUARC_DTYPE_BOOL:
    return 1;
  case QUARC_DTYPE_I16:
  case QUARC_DTYPE_F16:
    return 2;
  case QUARC_DTYPE_F32:
  case QUARC_DTYPE_I32:
    return 4;
  case QUARC_DTYPE_I64:
  case QUARC_DTYPE_F64:
    return 8;
  default:
    return 0;
  }
}

/*===----------------------------------------------------------------------===*
 * Error messages
 *===----------------------------------------------------------------------===*/

QUARC_PRINTF(3, 4)
static quarc_status fail(quarc_session *session, quarc_status status,
                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(session->error, sizeof session->error, fmt, ap);
  va_end(ap);
  return status;
}

/* Appends printf-style text to buf, which holds *used bytes; stops quietly
 * when the buffer is full (messages are truncated, never overrun). */
QUARC_PRINTF(4, 5)
static void append(char *buf, size_t size, size_t *used, const char *fmt, ...) {
  if (*used >= size)
    return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *used, size - *used, fmt, ap);
  va_end(ap);
  if (n > 0)
    *used += (size_t)n;
}

void quarc_format_shape(char *buf, size_t size, int32_t rank,
                        const int64_t *dims) {
  size_t used = 0;
  buf[0] = '\0';
  append(buf, size, &used, "[");
  for (int32_t d = 0; d < rank; ++d) {
    if (dims[d] < 0)
      append(buf, size, &used, "%s?", d ? ", " : "");
    else
      append(buf, size, &used, "%s%lld", d ? ", " : "", (long long)dims[d]);
  }
  append(buf, size, &used, "]");
}

/*===----------------------------------------------------------------------===*
 * Creating and destroying sessions
 *===----------------------------------------------------------------------===*/

/* A descriptor of rank r is { allocated, aligned, offset, sizes[r],
 * strides[r] }: 3 + 2r words. */
static size_t descriptor_words(int32_t rank) { return 3 + 2 * (size_t)rank; }

static bool tensor_desc_is_valid(const quarc_tensor_desc *desc) {
  if (!desc->name || quarc_dtype_size(desc->dtype) == 0 || desc->rank < 0 ||
      desc->rank > QUARC_MAX_RANK || (desc->rank > 0 && !desc->dims))
    return false;
  for (int32_t d = 0; d < desc->rank; ++d)
    if (desc->dims[d] < -1)
      return false;
  return true;
}

/* A model whose descriptor is malformed would make run() read out of
 * bounds; reject it once here so run() can trust it. */
static bool model_is_valid(const quarc_model_desc *model) {
  if (!model->entry || (model->num_inputs && !model->inputs) ||
      (model->num_outputs && !model->outputs))
    return false;
  for (uint32_t i = 0; i < model->num_inputs; ++i)
    if (!tensor_desc_is_valid(&model->inputs[i]))
      return false;
  for (uint32_t i = 0; i < model->num_outputs; ++i)
    if (!tensor_desc_is_valid(&model->outputs[i]))
      return false;
  /* Weights are passed only from a file. */
  if (model->weights_bytes > 0 && !model->weights_file)
    return false;
  return true;
}

quarc_status quarc_check_model(const quarc_model_desc *model) {
  if (!model)
    return QUARC_ERROR_INVALID_ARGUMENT;
  /* Checked before anything else in the descriptor: another ABI version
   * may lay the rest out differently. */
  if (model->abi_version != QUARC_ABI_VERSION)
    return QUARC_ERROR_ABI_MISMATCH;
  if (!model_is_valid(model))
    return QUARC_ERROR_INVALID_ARGUMENT;
  return QUARC_OK;
}

/* A rank-1 byte buffer's descriptor: { allocated, aligned, 0, bytes, 1 }. */
static void write_byte_buffer(int64_t *desc, const void *allocated,
                              const void *aligned, uint64_t bytes) {
  desc[0] = (int64_t)(uintptr_t)allocated;
  desc[1] = (int64_t)(uintptr_t)aligned;
  desc[2] = 0;
  desc[3] = (int64_t)bytes;
  desc[4] = 1;
}

/* Allocates the argument array and every descriptor buffer of `session`. */
static bool allocate_buffers(quarc_session *session) {
  const quarc_model_desc *model = session->model;
  session->args = calloc(3 + (size_t)model->num_inputs, sizeof(void *));
  if (!session->args)
    return false;
  size_t next_arg = 1 + (size_t)model->num_inputs;
  if (model->workspace_bytes > 0) {
    if (model->workspace_bytes > (uint64_t)INT64_MAX - 63)
      return false;
    /* aligned_alloc wants a multiple of the alignment. */
    size_t bytes = (size_t)((model->workspace_bytes + 63) / 64 * 64);
    session->workspace = aligned_alloc(64, bytes);
    if (!session->workspace)
      return false;
    write_byte_buffer(session->workspace_desc, session->workspace,
                      session->workspace, model->workspace_bytes);
    session->args[next_arg++] = session->workspace_desc;
  }
  if (model->weights_bytes > 0) {
    /* `allocated` is the mapping, so that an output viewing the weights
     * is recognized as not ours to free. */
    write_byte_buffer(session->weights_desc, session->weights.base,
                      session->weights.weights, model->weights_bytes);
    session->args[next_arg++] = session->weights_desc;
  }
  for (uint32_t i = 0; i < model->num_inputs; ++i) {
    session->args[1 + i] =
        calloc(descriptor_words(model->inputs[i].rank), sizeof(int64_t));
    if (!session->args[1 + i])
      return false;
  }
  session->output_words = 0;
  for (uint32_t i = 0; i < model->num_outputs; ++i)
    session->output_words += descriptor_words(model->outputs[i].rank);
  /* calloc(0) may return NULL; always ask for at least one word. */
  session->output_descs = calloc(
      session->output_words ? session->output_words : 1, sizeof(int64_t));
  session->args[0] = session->output_descs;
  size_t max_owned = 2 * (size_t)model->num_outputs;
  session->owned = calloc(max_owned ? max_owned : 1, sizeof(void *));
  return session->output_descs && session->owned;
}

quarc_status quarc_report_error(char *error, size_t error_size,
                                quarc_status status, const char *fmt, ...) {
  if (error && error_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error, error_size, fmt, ap);
    va_end(ap);
  }
  return status;
}

quarc_status quarc_session_create_with_weights(const quarc_model_desc *model,
                                               const char *weights_path,
                                               quarc_session **session,
                                               char *error, size_t error_size) {
  if (error && error_size)
    error[0] = '\0';
  if (!session)
    return quarc_report_error(error, error_size, QUARC_ERROR_INVALID_ARGUMENT,
                              "session is NULL");
  *session = NULL;
  quarc_status status = quarc_check_model(model);
  if (status == QUARC_ERROR_ABI_MISMATCH)
    return quarc_report_error(
        error, error_size, status,
        "the model was compiled for runtime ABI version %u, "
        "but this runtime is version %d",
        (unsigned)model->abi_version, QUARC_ABI_VERSION);
  if (status != QUARC_OK)
    return quarc_report_error(error, error_size, status,
                              "the model descriptor is malformed");
  const char *model_name = model->name ? model->name : "";
  if (!model->weights_file && weights_path)
    return quarc_report_error(
        error, error_size, QUARC_ERROR_INVALID_ARGUMENT,
        "the model '%s' has its weights embedded; it takes "
        "no weights file ('%s')",
        model_name, weights_path);
  if (model->weights_file && !weights_path)
    return quarc_report_error(
        error, error_size, QUARC_ERROR_WEIGHTS,
        "the model '%s' was compiled with its weights in a "
        "separate file ('%s'); give its path",
        model_name, model->weights_file);

  quarc_session *s = calloc(1, sizeof *s);
  if (!s)
    return quarc_report_error(error, error_size, QUARC_ERROR_OUT_OF_MEMORY,
                              "out of memory");
  s->model = model;
  if (weights_path) {
    status =
        quarc_weights_map(model, weights_path, &s->weights, error, error_size);
    if (status != QUARC_OK) {
      quarc_session_destroy(s);
      return status;
    }
  }
  if (!allocate_buffers(s) || !(s->buffers = quarc_buffer_cache_create())) {
    quarc_session_destroy(s);
    return quarc_report_error(error, error_size, QUARC_ERROR_OUT_OF_MEMORY,
                              "out of memory allocating the session's buffers");
  }
  *session = s;
  return QUARC_OK;
}

quarc_status quarc_session_create(const quarc_model_desc *model,
                                  quarc_session **session) {
  return quarc_session_create_with_weights(model, NULL, session, NULL, 0);
}

static void release_outputs(quarc_session *session) {
  quarc_buffer_cache *previous = quarc_buffer_cache_enter(session->buffers);
  for (size_t i = 0; i < session->num_owned; ++i)
    quarc_buffer_free(session->owned[i]);
  quarc_buffer_cache_enter(previous);
  session->num_owned = 0;
}

void quarc_session_destroy(quarc_session *session) {
  if (!session)
    return;
  if (session->owned)
    release_outputs(session);
  free(session->owned);
  if (session->args)
    for (uint32_t i = 0; i < session->model->num_inputs; ++i)
      free(session->args[1 + i]);
  free(session->args);
  free(session->output_descs);
  free(session->workspace);
  quarc_weights_unmap(&session->weights);
  quarc_pool_destroy(session->pool);
  quarc_buffer_cache_destroy(session->buffers);
  free(session);
}

quarc_status quarc_session_set_threads(quarc_session *session,
                                       int32_t threads) {
  if (!session)
    return QUARC_ERROR_INVALID_ARGUMENT;
  if (threads < 1 || threads > 4096)
    return fail(session, QUARC_ERROR_INVALID_ARGUMENT,
                "the thread count must be between 1 and 4096, not %d",
                (int)threads);
  quarc_pool *pool = NULL;
  if (threads > 1 && !(pool = quarc_pool_create(threads)))
    return fail(session, QUARC_ERROR_OUT_OF_MEMORY, "cannot start %d threads",
                (int)threads);
  quarc_pool_destroy(session->pool);
  session->pool = pool;
  return QUARC_OK;
}

const char *quarc_session_error(const quarc_session *session) {
  return session ? session->error : "no session (NULL)";
}

const quarc_model_desc *quarc_session_model(const quarc_session *session) {
  return session ? session->model : NULL;
}

/*===----------------------------------------------------------------------===*
 * Inputs
 *===----------------------------------------------------------------------===*/

static quarc_status check_input(quarc_session *session, uint32_t index,
                                const quarc_tensor *tensor) {
  const quarc_tensor_desc *decl = &session->model->inputs[index];
  char expected[128];
  quarc_format_shape(expected, sizeof expected, decl->rank, decl->dims);

  if (tensor->dtype != decl->dtype)
    return fail(session, QUARC_ERROR_DTYPE_MISMATCH,
                "input '%s': element type is %s but the model expects %s",
                decl->name, quarc_dtype_name(tensor->dtype),
                quarc_dtype_name(decl->dtype));
  if (tensor->rank < 0 || tensor->rank > QUARC_MAX_RANK)
    return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                "input '%s': rank %d is outside 0..%d", decl->name,
                (int)tensor->rank, QUARC_MAX_RANK);
  if (tensor->rank != decl->rank)
    return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                "input '%s': rank is %d but the model expects rank %d "
                "(shape %s)",
                decl->name, (int)tensor->rank, (int)decl->rank, expected);
  for (int32_t d = 0; d < decl->rank; ++d) {
    if (tensor->dims[d] < 0)
      return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                  "input '%s': dimension %d is %lld; dimensions must be >= 0",
                  decl->name, (int)d, (long long)tensor->dims[d]);
    if (decl->dims[d] >= 0 && tensor->dims[d] != decl->dims[d])
      return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                  "input '%s': dimension %d is %lld but the model was "
                  "compiled for %lld (shape %s)",
                  decl->name, (int)d, (long long)tensor->dims[d],
                  (long long)decl->dims[d], expected);
  }
  size_t bytes;
  if (!quarc_tensor_bytes(tensor->dtype, tensor->rank, tensor->dims, &bytes))
    return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                "input '%s': the tensor's byte size overflows", decl->name);
  if (!tensor->data && bytes != 0)
    return fail(session, QUARC_ERROR_INVALID_ARGUMENT,
                "input '%s': data is NULL but the tensor is not empty",
                decl->name);
  return QUARC_OK;
}

/* Fills a descriptor for a dense row-major tensor, as the header says. */
static void write_descriptor(int64_t *words, const quarc_tensor *tensor) {
  int32_t rank = tensor->rank;
  memcpy(&words[0], &tensor->data, sizeof(void *)); /* allocated */
  memcpy(&words[1], &tensor->data, sizeof(void *)); /* aligned */
  words[2] = 0;                                     /* offset */
  int64_t stride = 1;
  for (int32_t d = rank - 1; d >= 0; --d) {
    words[3 + d] = tensor->dims[d];
    words[3 + rank + d] = stride;
    /* Cannot overflow: check_input bounded the product of the dims. */
    stride *= tensor->dims[d];
  }
}

/*===----------------------------------------------------------------------===*
 * Outputs
 *===----------------------------------------------------------------------===*/

/* One returned memref descriptor, decoded. */
typedef struct returned_memref {
  void *allocated;
  char *aligned;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;
} returned_memref;

static returned_memref decode_descriptor(const int64_t *words, int32_t rank) {
  returned_memref m;
  memcpy(&m.allocated, &words[0], sizeof(void *));
  memcpy(&m.aligned, &words[1], sizeof(void *));
  m.offset = words[2];
  m.sizes = &words[3];
  m.strides = &words[3 + rank];
  return m;
}

/* Whether `allocated` is a buffer that the generated code malloc'ed for us.
 * It is not when the model returned a constant (MLIR's global marker, or a
 * view of the weights file), its workspace or one of its inputs unchanged;
 * those are copied, never freed. */
static bool is_owned_allocation(const quarc_session *session, void *allocated,
                                const quarc_tensor *inputs) {
  if (!allocated || (uintptr_t)allocated == QUARC_GLOBAL_MEMREF_MARKER ||
      allocated == session->weights.base || allocated == session->workspace)
    return false;
  for (uint32_t i = 0; i < session->model->num_inputs; ++i)
    if (allocated == inputs[i].data)
      return false;
  return true;
}

/* Records a buffer to free at the next run; the same buffer may back
 * several outputs, so it is recorded once. */
static void take_ownership(quarc_session *session, void *buffer) {
  for (size_t i = 0; i < session->num_owned; ++i)
    if (session->owned[i] == buffer)
      return;
  session->owned[session->num_owned++] = buffer;
}

/* Whether a memref's strides are those of a dense row-major layout. Unit
 * dims may carry any stride, and an empty tensor has no layout at all. */
static bool is_row_major(int32_t rank, const int64_t *sizes,
                         const int64_t *strides) {
  int64_t expected = 1;
  for (int32_t d = rank - 1; d >= 0; --d) {
    if (sizes[d] == 0)
      return true;
    if (sizes[d] != 1 && strides[d] != expected)
      return false;
    expected *= sizes[d];
  }
  return true;
}

/* Copies a strided memref into a dense row-major buffer, element by
 * element, walking the index space like an odometer. Only used for the
 * rare output that is a view (e.g. a transpose folded into a stride). */
static void copy_to_row_major(char *dst, const char *src, size_t elem,
                              int32_t rank, const int64_t *sizes,
                              const int64_t *strides, int64_t count) {
  int64_t index[QUARC_MAX_RANK] = {0};
  int64_t src_elem = 0; /* in elements, relative to src */
  for (int64_t n = 0; n < count; ++n) {
    memcpy(dst + (size_t)n * elem, src + src_elem * (int64_t)elem, elem);
    for (int32_t d = rank - 1; d >= 0; --d) {
      src_elem += strides[d];
      if (++index[d] < sizes[d])
        break;
      src_elem -= strides[d] * sizes[d];
      index[d] = 0;
    }
  }
}

/* Checks the shape the generated code returned against the declaration.
 * A mismatch is a compiler bug, not a user error. */
static quarc_status check_returned_shape(quarc_session *session,
                                         const quarc_tensor_desc *decl,
                                         const returned_memref *m) {
  for (int32_t d = 0; d < decl->rank; ++d) {
    if (m->sizes[d] < 0 || (decl->dims[d] >= 0 && m->sizes[d] != decl->dims[d]))
      return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                  "internal error: output '%s': the model returned dimension "
                  "%d = %lld but declares %lld",
                  decl->name, (int)d, (long long)m->sizes[d],
                  (long long)decl->dims[d]);
  }
  if (m->offset < 0)
    return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                "internal error: output '%s': negative offset %lld", decl->name,
                (long long)m->offset);
  return QUARC_OK;
}

/* Turns output `index`'s returned descriptor into `out`, copying it into a
 * dense buffer of ours when it is strided or not ours to hand out. */
static quarc_status collect_output(quarc_session *session, uint32_t index,
                                   const int64_t *words,
                                   const quarc_tensor *inputs,
                                   quarc_tensor *out) {
  const quarc_tensor_desc *decl = &session->model->outputs[index];
  returned_memref m = decode_descriptor(words, decl->rank);
  quarc_status status = check_returned_shape(session, decl, &m);
  if (status != QUARC_OK)
    return status;

  size_t elem = quarc_dtype_size(decl->dtype);
  int64_t count, offset_bytes;
  size_t bytes;
  if (!quarc_num_elements(decl->rank, m.sizes, &count) ||
      !quarc_tensor_bytes(decl->dtype, decl->rank, m.sizes, &bytes) ||
      !quarc_mul_nonneg(m.offset, (int64_t)elem, &offset_bytes))
    return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                "internal error: output '%s': size overflows", decl->name);
  if (!m.aligned && count != 0)
    return fail(session, QUARC_ERROR_SHAPE_MISMATCH,
                "internal error: output '%s': the model returned no data",
                decl->name);

  char *data = count ? m.aligned + offset_bytes : NULL;
  if (count != 0 && (!is_row_major(decl->rank, m.sizes, m.strides) ||
                     !is_owned_allocation(session, m.allocated, inputs))) {
    /* From the session's cache, to which release_outputs returns it. */
    quarc_buffer_cache *previous = quarc_buffer_cache_enter(session->buffers);
    char *copy = quarc_buffer_alloc(bytes, 64);
    quarc_buffer_cache_enter(previous);
    if (!copy)
      return fail(session, QUARC_ERROR_OUT_OF_MEMORY,
                  "output '%s': out of memory copying %zu bytes", decl->name,
                  bytes);
    take_ownership(session, copy);
    copy_to_row_major(copy, data, elem, decl->rank, m.sizes, m.strides, count);
    data = copy;
  }

  out->data = data;
  out->dtype = decl->dtype;
  out->rank = decl->rank;
  memset(out->dims, 0, sizeof out->dims);
  memcpy(out->dims, m.sizes, (size_t)decl->rank * sizeof(int64_t));
  return QUARC_OK;
}

/*===----------------------------------------------------------------------===*
 * Running
 *===----------------------------------------------------------------------===*/

static quarc_status check_arguments(quarc_session *session,
                                    const quarc_tensor *inputs,
                                    size_t num_inputs, quarc_tensor *outputs,
                                    size_t num_outputs) {
  const quarc_model_desc *model = session->model;
  if (num_inputs != model->num_inputs)
    return fail(session, QUARC_ERROR_INVALID_ARGUMENT,
                "model '%s' takes %u input(s) but %zu were given",
                model->name ? model->name : "", model->num_inputs, num_inputs);
  if (num_outputs != model->num_outputs)
    return fail(session, QUARC_ERROR_INVALID_ARGUMENT,
                "model '%s' returns %u output(s) but room for %zu was given",
                model->name ? model->name : "", model->num_outputs,
                num_outputs);
  if (num_inputs && !inputs)
    return fail(session, QUARC_ERROR_INVALID_ARGUMENT, "inputs is NULL");
  if (num_outputs && !outputs)
    return fail(session, QUARC_ERROR_INVALID_ARGUMENT, "outputs is NULL");
  for (uint32_t i = 0; i < model->num_inputs; ++i) {
    quarc_status status = check_input(session, i, &inputs[i]);
    if (status != QUARC_OK)
      return status;
  }
  return QUARC_OK;
}

/* Takes every buffer the generated code returned before checking any of
 * them, so that a failed check never leaks the others. */
static void take_returned_buffers(quarc_session *session,
                                  const quarc_tensor *inputs) {
  const int64_t *words = session->output_descs;
  for (uint32_t i = 0; i < session->model->num_outputs; ++i) {
    int32_t rank = session->model->outputs[i].rank;
    returned_memref m = decode_descriptor(words, rank);
    if (is_owned_allocation(session, m.allocated, inputs))
      take_ownership(session, m.allocated);
    words += descriptor_words(rank);
  }
}

quarc_status quarc_session_run(quarc_session *session,
                               const quarc_tensor *inputs, size_t num_inputs,
                               quarc_tensor *outputs, size_t num_outputs) {
  if (!session)
    return QUARC_ERROR_INVALID_ARGUMENT;
  session->error[0] = '\0';
  /* The previous outputs are invalid from here on, as documented; clear
   * the caller's copies so that a failed run leaves no dangling pointers. */
  release_outputs(session);
  if (outputs && num_outputs == session->model->num_outputs)
    memset(outputs, 0, num_outputs * sizeof *outputs);

  quarc_status status =
      check_arguments(session, inputs, num_inputs, outputs, num_outputs);
  if (status != QUARC_OK)
    return status;

  const quarc_model_desc *model = session->model;
  for (uint32_t i = 0; i < model->num_inputs; ++i)
    write_descriptor(session->args[1 + i], &inputs[i]);
  memset(session->output_descs, 0, session->output_words * sizeof(int64_t));

  quarc_pool *previous = quarc_pool_enter(session->pool);
  quarc_buffer_cache *previous_buffers =
      quarc_buffer_cache_enter(session->buffers);
  model->entry(session->args);
  quarc_buffer_cache_enter(previous_buffers);
  quarc_pool_enter(previous);

  take_returned_buffers(session, inputs);
  const int64_t *words = session->output_descs;
  for (uint32_t i = 0; i < model->num_outputs; ++i) {
    status = collect_output(session, i, words, inputs, &outputs[i]);
    if (status != QUARC_OK) {
      memset(outputs, 0, num_outputs * sizeof *outputs);
      return status;
    }
    words += descriptor_words(model->outputs[i].rank);
  }
  return QUARC_OK;
}
