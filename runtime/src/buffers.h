/*===- buffers.h - the buffers generated code allocates --------------------===*
 *
 * Not installed. Buffers whose size is known only at run time (a dynamic
 * batch) are not in the session's workspace: generated code allocates and
 * frees them on every run, through the three functions MLIR's
 * finalize-memref-to-llvm calls with `use-generic-functions`. Large blocks
 * from malloc come from mmap and go back to the system when freed, so every
 * run paid their page faults again (PP-OCR cls with a dynamic batch: 1.53
 * ms a run instead of 0.44). The session keeps freed blocks in a small
 * cache (64 blocks, 256 MiB at most) and hands them out again for the
 * same size and alignment.
 *===----------------------------------------------------------------------===*/

#ifndef QUARC_RUNTIME_BUFFERS_H
#define QUARC_RUNTIME_BUFFERS_H

#include "internal.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct quarc_buffer_cache quarc_buffer_cache;

/* An empty cache; NULL when out of memory. */
QUARC_HIDDEN quarc_buffer_cache *quarc_buffer_cache_create(void);
/* Frees the cached blocks and the cache. */
QUARC_HIDDEN void quarc_buffer_cache_destroy(quarc_buffer_cache *cache);

/* Makes `cache` the one generated code's allocations on the calling thread
 * use (NULL: none, blocks are freed at once). Returns the previous one. */
QUARC_HIDDEN quarc_buffer_cache *
quarc_buffer_cache_enter(quarc_buffer_cache *cache);

/* A block of `size` bytes aligned to `alignment` (a power of two), from
 * the current cache when it holds one of that size; NULL when out of
 * memory. Free it with quarc_buffer_free. */
QUARC_HIDDEN void *quarc_buffer_alloc(size_t size, size_t alignment);
/* Gives `block` (from quarc_buffer_alloc, or NULL) to the current cache,
 * or back to the system. */
QUARC_HIDDEN void quarc_buffer_free(void *block);

#ifdef __cplusplus
}
#endif

#endif /* QUARC_RUNTIME_BUFFERS_H */
