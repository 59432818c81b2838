/*===- weights.h - mapping a model's weights file --------------------------===*
 *
 * Not installed. A model compiled with `quarc compile --weights=FILE` reads
 * its large constants from that file; a session maps it read-only for its
 * lifetime (weights.c checks it belongs to the model first).
 *===----------------------------------------------------------------------===*/

#ifndef QUARC_RUNTIME_WEIGHTS_H
#define QUARC_RUNTIME_WEIGHTS_H

#include "internal.h"

/* A mapped weights file. */
typedef struct quarc_weights_mapping {
  void *base;          /* the mapping (the file from its start); NULL if none */
  size_t bytes;        /* length of the mapping */
  const char *weights; /* base + header_bytes: the weights, 64-byte aligned */
} quarc_weights_mapping;

/* Maps `path` read-only and checks it against `model`: the header's magic,
 * version and header size, weights_bytes and weights_hash equal to the
 * descriptor's, and a file long enough to hold them. On failure nothing is
 * mapped, and `error` (error_size bytes) says why, naming the file:
 * QUARC_ERROR_IO when it cannot be opened, read or mapped,
 * QUARC_ERROR_WEIGHTS when it is not this model's weights file. */
QUARC_HIDDEN quarc_status quarc_weights_map(const quarc_model_desc *model,
                                            const char *path,
                                            quarc_weights_mapping *mapping,
                                            char *error, size_t error_size);

/* Unmaps what quarc_weights_map mapped (nothing for a zeroed mapping). */
QUARC_HIDDEN void quarc_weights_unmap(quarc_weights_mapping *mapping);

#endif /* QUARC_RUNTIME_WEIGHTS_H */
