/*===- npy.h - reading and writing NumPy .npy files (internal) -------------===*
 *
 * The CLI's file format: https://numpy.org/doc/stable/reference/generated/
 * numpy.lib.format.html. Only what a model takes and returns is supported:
 * C-order arrays of the quarc dtypes, little-endian, rank <= QUARC_MAX_RANK.
 *===----------------------------------------------------------------------===*/

#ifndef QUARC_RUNTIME_NPY_H
#define QUARC_RUNTIME_NPY_H

#include "internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads `path` into *tensor. On success tensor->data is a malloc'ed buffer
 * the caller frees (never NULL, even for an empty array). On failure
 * returns QUARC_ERROR_IO (or QUARC_ERROR_OUT_OF_MEMORY), writes a one-line
 * message naming the file into err, and leaves *tensor with data NULL. */
QUARC_HIDDEN quarc_status quarc_npy_read(const char *path, quarc_tensor *tensor,
                                         char *err, size_t err_size);

/* Writes a dense row-major tensor to `path` as a version 1.0 .npy file.
 * The file is written under a temporary name and renamed into place, so
 * `path` is either the complete new file or untouched. */
QUARC_HIDDEN quarc_status quarc_npy_write(const char *path,
                                          const quarc_tensor *tensor, char *err,
                                          size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* QUARC_RUNTIME_NPY_H */
