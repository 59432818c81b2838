/*===- buffers.c - the buffers generated code allocates --------------------===*
 *
 * See buffers.h. Each block carries a header in front of it (its size, its
 * alignment and where the system allocation starts), so that a block can
 * be freed, or cached and reused, knowing only its address.
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L /* posix_memalign */

#include "buffers.h"

#include <stdint.h>
#include <stdlib.h>

/* Blocks a cache keeps: enough for every buffer of a run to find its block
 * of the previous run (ResNet-50 with a dynamic batch frees 212 blocks per
 * run; at 64 the oldest were released and allocated again every run, fresh
 * pages faulted in: 8% of its time), few enough that a lookup is a short
 * scan; and bytes, so that blocks of sizes no longer asked for (a larger
 * batch earlier, or sizes that change every run) do not pile up. When
 * either is exceeded, the oldest blocks are freed. */
enum { QUARC_CACHED_BLOCKS = 512 };
#define QUARC_CACHED_BYTES ((size_t)256 << 20)

typedef struct block_header {
  size_t size;
  size_t alignment;
  void *base; /* what the system allocator returned */
} block_header;

struct quarc_buffer_cache {
  size_t count;
  size_t bytes;                      /* of the cached blocks */
  void *blocks[QUARC_CACHED_BLOCKS]; /* oldest first */
};

static _Thread_local quarc_buffer_cache *current_cache;

static block_header *header_of(void *block) {
  return (block_header *)block - 1;
}

static void release(void *block) { free(header_of(block)->base); }

quarc_buffer_cache *quarc_buffer_cache_create(void) {
  return calloc(1, sizeof(quarc_buffer_cache));
}

void quarc_buffer_cache_destroy(quarc_buffer_cache *cache) {
  if (!cache)
    return;
  for (size_t i = 0; i < cache->count; ++i)
    release(cache->blocks[i]);
  free(cache);
}

quarc_buffer_cache *quarc_buffer_cache_enter(quarc_buffer_cache *cache) {
  quarc_buffer_cache *previous = current_cache;
  current_cache = cache;
  return previous;
}

/* Removes block `index` from the cache and returns it. */
static void *remove_cached(quarc_buffer_cache *cache, size_t index) {
  void *block = cache->blocks[index];
  for (size_t j = index + 1; j < cache->count; ++j)
    cache->blocks[j - 1] = cache->blocks[j];
  --cache->count;
  cache->bytes -= header_of(block)->size;
  return block;
}

/* Removes and returns the newest cached block of `size` and `alignment`. */
static void *take_cached(quarc_buffer_cache *cache, size_t size,
                         size_t alignment) {
  for (size_t i = cache->count; i-- > 0;) {
    block_header *header = header_of(cache->blocks[i]);
    if (header->size == size && header->alignment == alignment)
      return remove_cached(cache, i);
  }
  return NULL;
}

void *quarc_buffer_alloc(size_t size, size_t alignment) {
  if (alignment < _Alignof(max_align_t))
    alignment = _Alignof(max_align_t);
  if (current_cache) {
    void *block = take_cached(current_cache, size, alignment);
    if (block)
      return block;
  }
  /* The header sits in the `alignment` bytes (at least its size) before
   * the block. */
  size_t offset = alignment;
  while (offset < sizeof(block_header))
    offset += alignment;
  if (size > SIZE_MAX - offset)
    return NULL;
  void *base = NULL;
  if (posix_memalign(&base, alignment, offset + size) != 0)
    return NULL;
  void *block = (char *)base + offset;
  *header_of(block) = (block_header){size, alignment, base};
  return block;
}

void quarc_buffer_free(void *block) {
  if (!block)
    return;
  quarc_buffer_cache *cache = current_cache;
  size_t size = header_of(block)->size;
  if (!cache || size > QUARC_CACHED_BYTES) {
    release(block);
    return;
  }
  while (cache->count == QUARC_CACHED_BLOCKS ||
         cache->bytes + size > QUARC_CACHED_BYTES)
    release(remove_cached(cache, 0));
  cache->blocks[cache->count++] = block;
  cache->bytes += size;
}

/* The allocation functions of MLIR's finalize-memref-to-llvm with
 * use-generic-functions (the generated code's memref.alloc and
 * memref.dealloc). */
void *_mlir_memref_to_llvm_alloc(size_t size) {
  return quarc_buffer_alloc(size, _Alignof(max_align_t));
}

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  return quarc_buffer_alloc(size, alignment);
}

void _mlir_memref_to_llvm_free(void *block) { quarc_buffer_free(block); }
