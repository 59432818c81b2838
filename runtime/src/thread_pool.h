/*===- thread_pool.h - the worker threads of a session ---------------------===*
 *
 * Not installed. A pool is owned by a session; generated code reaches the
 * pool of the session that is running it through quarc_parallel_for.
 *===----------------------------------------------------------------------===*/

#ifndef QUARC_RUNTIME_THREAD_POOL_H
#define QUARC_RUNTIME_THREAD_POOL_H

#include "internal.h"

typedef struct quarc_pool quarc_pool;

/* A pool running jobs on `threads` threads: the caller of
 * quarc_pool_run and threads - 1 workers. NULL when out of resources. */
QUARC_HIDDEN quarc_pool *quarc_pool_create(int32_t threads);
QUARC_HIDDEN void quarc_pool_destroy(quarc_pool *pool);

/* Makes `pool` the one quarc_parallel_for uses on the calling thread
 * (NULL: run loops on the caller alone). Returns the previous one. */
QUARC_HIDDEN quarc_pool *quarc_pool_enter(quarc_pool *pool);

#endif /* QUARC_RUNTIME_THREAD_POOL_H */
