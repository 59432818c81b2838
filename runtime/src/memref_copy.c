/*===- memref_copy.c - the copy routine generated code calls ---------------===*
 *
 * MLIR lowers a `memref.copy` between buffers whose layouts it cannot prove
 * contiguous to a call `memrefCopy(elemSize, src, dst)` on unranked memref
 * descriptors (the function upstream ships in libmlir_c_runner_utils, which
 * compiled models must not depend on). This is quarc's own implementation:
 * a strided N-d copy, with one memcpy for the contiguous case.
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <string.h>

/* { int64_t rank; descriptor* } as MLIR passes unranked memrefs. */
typedef struct {
  int64_t rank;
  void *descriptor;
} unranked_memref;

/* The ranked descriptor: allocated, aligned, offset, sizes[rank],
 * strides[rank]. */
typedef struct {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t dims[];
} strided_memref;

static int is_contiguous(const int64_t *sizes, const int64_t *strides,
                         int64_t rank) {
  int64_t expected = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    if (sizes[i] != 1 && strides[i] != expected)
      return 0;
    expected *= sizes[i];
  }
  return 1;
}

void memrefCopy(int64_t elem_size, unranked_memref *src_arg,
                unranked_memref *dst_arg) {
  const strided_memref *src = src_arg->descriptor;
  const strided_memref *dst = dst_arg->descriptor;
  int64_t rank = src_arg->rank;
  const int64_t *sizes = src->dims;
  const int64_t *src_strides = src->dims + rank;
  const int64_t *dst_strides = dst->dims + rank;
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i)
    count *= sizes[i];
  if (count == 0)
    return;
  const char *from = src->aligned + src->offset * elem_size;
  char *to = dst->aligned + dst->offset * elem_size;
  if (is_contiguous(sizes, src_strides, rank) &&
      is_contiguous(sizes, dst_strides, rank)) {
    memmove(to, from, (size_t)(count * elem_size));
    return;
  }
  /* Odometer over all indices; rank is small (at most a few dims). */
  int64_t index[16] = {0};
  if (rank > 16)
    return; /* Generated code never has more dims than the runtime allows. */
  int64_t src_pos = 0, dst_pos = 0;
  for (int64_t n = 0; n < count; ++n) {
    memcpy(to + dst_pos * elem_size, from + src_pos * elem_size,
           (size_t)elem_size);
    for (int64_t d = rank - 1; d >= 0; --d) {
      ++index[d];
      src_pos += src_strides[d];
      dst_pos += dst_strides[d];
      if (index[d] < sizes[d])
        break;
      src_pos -= index[d] * src_strides[d];
      dst_pos -= index[d] * dst_strides[d];
      index[d] = 0;
    }
  }
}
