/*===- thread_pool.c - the worker threads of a session ---------------------===*
 *
 * Generated code hands each parallel loop to quarc_parallel_for as a
 * function over a range of iterations. The pool splits the range into one
 * contiguous chunk per thread (the loops the compiler parallelizes have
 * iterations of equal cost) and runs chunk 0 on the caller.
 *
 * A model run is a sequence of hundreds of such loops, some only tens of
 * microseconds long, so waking the workers must be fast: they spin on the
 * job counter for a while before sleeping on a condition variable, and the
 * caller spins for the last chunks to finish.
 *===----------------------------------------------------------------------===*/

#include "thread_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#define QUARC_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define QUARC_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define QUARC_CPU_RELAX() ((void)0)
#endif

/* Polls before a worker sleeps: about 50 us, longer than the gap between
 * two loops of a model run. */
enum { QUARC_SPIN_POLLS = 20000 };

typedef void (*quarc_loop_fn)(void *context, int64_t begin, int64_t end);

struct quarc_pool {
  int32_t threads;
  pthread_t *workers;
  int32_t num_started;

  /* The current job; written by the caller before it bumps `job_id`. */
  quarc_loop_fn fn;
  void *context;
  int64_t iterations;
  int32_t chunks;

  atomic_uint_fast64_t job_id; /* bumped once per job */
  atomic_int remaining;        /* chunks of the current job not yet done */
  atomic_bool stopping;

  pthread_mutex_t mutex;
  pthread_cond_t wake;
};

typedef struct worker_arg {
  quarc_pool *pool;
  int32_t index; /* 1 .. threads - 1; chunk 0 is the caller's */
} worker_arg;

static _Thread_local quarc_pool *current_pool;

static void run_chunk(quarc_pool *pool, int32_t index) {
  int64_t n = pool->iterations, chunks = pool->chunks;
  int64_t begin = n * index / chunks, end = n * (index + 1) / chunks;
  if (begin < end)
    pool->fn(pool->context, begin, end);
}

/* Waits until `job_id` differs from `seen`; returns the new value. */
static uint_fast64_t wait_for_job(quarc_pool *pool, uint_fast64_t seen) {
  for (int i = 0; i < QUARC_SPIN_POLLS; ++i) {
    uint_fast64_t id = atomic_load_explicit(&pool->job_id, memory_order_acquire);
    if (id != seen || atomic_load(&pool->stopping))
      return id;
    QUARC_CPU_RELAX();
  }
  pthread_mutex_lock(&pool->mutex);
  uint_fast64_t id;
  while ((id = atomic_load(&pool->job_id)) == seen &&
         !atomic_load(&pool->stopping))
    pthread_cond_wait(&pool->wake, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
  return id;
}

static void *worker_main(void *opaque) {
  worker_arg arg = *(worker_arg *)opaque;
  free(opaque);
  quarc_pool *pool = arg.pool;
  uint_fast64_t seen = 0;
  for (;;) {
    seen = wait_for_job(pool, seen);
    if (atomic_load(&pool->stopping))
      return NULL;
    if (arg.index < pool->chunks) {
      run_chunk(pool, arg.index);
      atomic_fetch_sub_explicit(&pool->remaining, 1, memory_order_release);
    }
  }
}

quarc_pool *quarc_pool_create(int32_t threads) {
  if (threads < 1)
    return NULL;
  quarc_pool *pool = calloc(1, sizeof *pool);
  if (!pool)
    return NULL;
  pool->threads = threads;
  atomic_init(&pool->job_id, 0);
  atomic_init(&pool->remaining, 0);
  atomic_init(&pool->stopping, false);
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->wake, NULL);
  if (threads > 1) {
    pool->workers = calloc((size_t)threads - 1, sizeof(pthread_t));
    if (!pool->workers) {
      quarc_pool_destroy(pool);
      return NULL;
    }
  }
  for (int32_t i = 1; i < threads; ++i) {
    worker_arg *arg = malloc(sizeof *arg);
    if (!arg) {
      quarc_pool_destroy(pool);
      return NULL;
    }
    arg->pool = pool;
    arg->index = i;
    if (pthread_create(&pool->workers[i - 1], NULL, worker_main, arg) != 0) {
      free(arg);
      quarc_pool_destroy(pool);
      return NULL;
    }
    pool->num_started = i;
  }
  return pool;
}

void quarc_pool_destroy(quarc_pool *pool) {
  if (!pool)
    return;
  pthread_mutex_lock(&pool->mutex);
  atomic_store(&pool->stopping, true);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  for (int32_t i = 0; i < pool->num_started; ++i)
    pthread_join(pool->workers[i], NULL);
  pthread_cond_destroy(&pool->wake);
  pthread_mutex_destroy(&pool->mutex);
  free(pool->workers);
  free(pool);
}

quarc_pool *quarc_pool_enter(quarc_pool *pool) {
  quarc_pool *previous = current_pool;
  current_pool = pool;
  return previous;
}

void quarc_parallel_for(quarc_loop_fn fn, void *context, int64_t iterations) {
  quarc_pool *pool = current_pool;
  if (iterations <= 0)
    return;
  if (!pool || pool->threads == 1 || iterations == 1) {
    fn(context, 0, iterations);
    return;
  }
  pool->fn = fn;
  pool->context = context;
  pool->iterations = iterations;
  pool->chunks =
      iterations < pool->threads ? (int32_t)iterations : pool->threads;
  atomic_store_explicit(&pool->remaining, pool->chunks - 1,
                        memory_order_relaxed);
  /* Publish the job; sleeping workers need the mutex to see it. */
  pthread_mutex_lock(&pool->mutex);
  atomic_fetch_add_explicit(&pool->job_id, 1, memory_order_release);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);

  run_chunk(pool, 0);
  while (atomic_load_explicit(&pool->remaining, memory_order_acquire) > 0)
    QUARC_CPU_RELAX();
}
