/*===- internal.h - helpers shared by the runtime's source files -----------===*
 *
 * Not installed. Everything here is static inline or hidden so that a model
 * library linking the runtime exports only the public quarc_* API.
 *===----------------------------------------------------------------------===*/

#ifndef QUARC_RUNTIME_INTERNAL_H
#define QUARC_RUNTIME_INTERNAL_H

#include "quarc/quarc_runtime.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define QUARC_HIDDEN __attribute__((visibility("hidden")))
#define QUARC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define QUARC_HIDDEN
#define QUARC_PRINTF(fmt, args)
#endif

/* The short name of a dtype as used in messages and by `quarc inspect`
 * ("f32", "u8", ...), or "unknown". */
static inline const char *quarc_dtype_name(int32_t dtype) {
  switch (dtype) {
  case QUARC_DTYPE_F32:
    return "f32";
  case QUARC_DTYPE_U8:
    return "u8";
  case QUARC_DTYPE_I8:
    return "i8";
  case QUARC_DTYPE_I16:
    return "i16";
  case QUARC_DTYPE_I32:
    return "i32";
  case QUARC_DTYPE_I64:
    return "i64";
  case QUARC_DTYPE_BOOL:
    return "bool";
  case QUARC_DTYPE_F16:
    return "f16";
  case QUARC_DTYPE_F64:
    return "f64";
  default:
    return "unknown";
  }
}

/* *out = a * b for non-negative a and b; false if that overflows int64.
 * Every byte count derived from user-controlled dims goes through this. */
static inline bool quarc_mul_nonneg(int64_t a, int64_t b, int64_t *out) {
  if (a < 0 || b < 0)
    return false;
  if (b != 0 && a > INT64_MAX / b)
    return false;
  *out = a * b;
  return true;
}

/* The number of elements of a shape; false if a dim is negative or the
 * product overflows int64. An empty shape (a scalar) has one element. */
static inline bool quarc_num_elements(int32_t rank, const int64_t *dims,
                                      int64_t *out) {
  int64_t n = 1;
  for (int32_t i = 0; i < rank; ++i)
    if (!quarc_mul_nonneg(n, dims[i], &n))
      return false;
  *out = n;
  return true;
}

/* The byte size of a dense tensor; false on a bad dtype, a negative dim or
 * overflow of int64 or size_t. */
static inline bool quarc_tensor_bytes(int32_t dtype, int32_t rank,
                                      const int64_t *dims, size_t *out) {
  int64_t n, bytes;
  size_t elem = quarc_dtype_size(dtype);
  if (elem == 0 || !quarc_num_elements(rank, dims, &n) ||
      !quarc_mul_nonneg(n, (int64_t)elem, &bytes) ||
      (uint64_t)bytes > (uint64_t)SIZE_MAX)
    return false;
  *out = (size_t)bytes;
  return true;
}

/* QUARC_OK for a well-formed descriptor of this runtime's ABI version,
 * else QUARC_ERROR_ABI_MISMATCH or QUARC_ERROR_INVALID_ARGUMENT (session.c).
 * Everything that reads a descriptor checks it first. */
QUARC_HIDDEN quarc_status quarc_check_model(const quarc_model_desc *model);

/* Formats a message into error[0 .. error_size) (when error is not NULL)
 * and returns status: the error reporting of the functions that take a
 * caller's message buffer. */
QUARC_HIDDEN QUARC_PRINTF(4, 5) quarc_status
quarc_report_error(char *error, size_t error_size, quarc_status status,
                   const char *fmt, ...);

/* Writes a shape as "[?, 3]" into buf (truncated to size), with '?' for a
 * dynamic dim (-1); used by messages and the CLI alike. */
QUARC_HIDDEN void quarc_format_shape(char *buf, size_t size, int32_t rank,
                                     const int64_t *dims);

#ifdef __cplusplus
}
#endif

#endif /* QUARC_RUNTIME_INTERNAL_H */
