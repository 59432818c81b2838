/*===- thread_pool.c - the worker threads of a session ---------------------===*
 *
 * Generated code hands each parallel loop to quarc_parallel_for as a
 * function over a range of iterations. The pool splits the range into one
 * contiguous share per thread (the caller's first), each in a few chunks:
 * a thread claims its own share's chunks in order, then those left in the
 * other shares. The loops the compiler parallelizes have iterations of
 * equal cost, but the threads do not always run at equal speed (a VM whose
 * other core is busy, a thread descheduled for a while): a fixed chunk per
 * thread left the others waiting for the slow one. Each thread keeps its
 * own share when they keep pace, so consecutive loops over the same data
 * find it in the same core's cache: chunks claimed from one counter in
 * turn made PP-OCR cls int8 (loops of a few microseconds) 19% slower on two
 * threads.
 *
 * A model run is a sequence of hundreds of such loops, some only tens of
 * microseconds long, so waking the workers must be fast: they spin on the
 * job counter for a while before sleeping on a condition variable, and the
 * caller spins for the last chunks to finish.
 *===----------------------------------------------------------------------===*/

#include "thread_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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

/* Chunks of a loop per thread: enough that a thread slower by a third
 * still finishes near the others, few enough that a chunk's call and its
 * setup stay small against its work. */
enum { QUARC_CHUNKS_PER_THREAD = 4 };

/* A thread's share of the current job: the chunks claimed from it so far,
 * in the low 32 bits, and the job (sequence / 2, truncated) in the high
 * ones, so that a worker still looking at an earlier job, whose fields it
 * read consistently, fails to claim a chunk of the current one. A cache
 * line of its own: its owner claims without contention. */
typedef struct share {
  _Alignas(64) atomic_uint_fast64_t claimed;
} share;

typedef void (*quarc_loop_fn)(void *context, int64_t begin, int64_t end);

struct quarc_pool {
  int32_t threads;
  pthread_t *workers;
  int32_t num_started;

  /* The current job, published through a sequence lock: `sequence` is odd
   * while the caller writes the job's fields, and 2 * (job number) once
   * they are complete. A worker takes a job only when `sequence` reads the
   * same even value before and after it read the fields: a worker that
   * woke for a job it had no chunk of, and was descheduled until the
   * caller wrote the next job, must not mix the two (it ran a chunk of the
   * next job twice, with 8 threads on 2 cores). The fields are atomics
   * read and written relaxed, ordered by the fences of the lock. */
  _Atomic(quarc_loop_fn) fn;
  _Atomic(void *) context;
  atomic_int_fast64_t iterations;
  atomic_int chunks;
  atomic_uint_fast64_t sequence;

  share *shares;        /* one per thread */
  atomic_int remaining; /* chunks of the current job not yet done */
  atomic_bool stopping;

  pthread_mutex_t mutex;
  pthread_cond_t wake;
};

typedef struct worker_arg {
  quarc_pool *pool;
  int32_t index; /* 1 .. threads - 1; the caller is thread 0 */
} worker_arg;

/* One job, as a worker read it. */
typedef struct job {
  quarc_loop_fn fn;
  void *context;
  int64_t iterations;
  int32_t chunks;
} job;

static _Thread_local quarc_pool *current_pool;

static void run_chunk(const job *job, int32_t index) {
  int64_t n = job->iterations, chunks = job->chunks;
  int64_t begin = n * index / chunks, end = n * (index + 1) / chunks;
  if (begin < end)
    job->fn(job->context, begin, end);
}

static uint_fast64_t job_tag(uint_fast64_t sequence) {
  return (sequence / 2) << 32;
}

/* Runs the chunks of thread `owner`'s share of the job published as
 * `sequence` that no thread has claimed yet, counting each one done. */
static void run_share(quarc_pool *pool, const job *job, uint_fast64_t sequence,
                      int32_t owner) {
  int32_t threads = pool->threads;
  int32_t first = (int32_t)((int64_t)job->chunks * owner / threads);
  int32_t count =
      (int32_t)((int64_t)job->chunks * (owner + 1) / threads) - first;
  atomic_uint_fast64_t *claimed = &pool->shares[owner].claimed;
  uint_fast64_t tag = job_tag(sequence);
  uint_fast64_t seen = atomic_load_explicit(claimed, memory_order_relaxed);
  for (;;) {
    if ((seen & ~(uint_fast64_t)UINT32_MAX) != tag ||
        (seen & UINT32_MAX) >= (uint_fast64_t)count)
      return;
    /* On failure `seen` is reloaded: another thread took this chunk. */
    if (!atomic_compare_exchange_weak_explicit(claimed, &seen, seen + 1,
                                               memory_order_relaxed,
                                               memory_order_relaxed))
      continue;
    run_chunk(job, first + (int32_t)(seen & UINT32_MAX));
    atomic_fetch_sub_explicit(&pool->remaining, 1, memory_order_release);
    seen = atomic_load_explicit(claimed, memory_order_relaxed);
  }
}

/* Thread `self`'s part in the job published as `sequence`: its own share,
 * then what is left of the others'. */
static void run_chunks(quarc_pool *pool, const job *job, uint_fast64_t sequence,
                       int32_t self) {
  for (int32_t k = 0; k < pool->threads; ++k)
    run_share(pool, job, sequence, (self + k) % pool->threads);
}

static bool is_published(uint_fast64_t sequence, uint_fast64_t seen) {
  return sequence != seen && (sequence & 1) == 0;
}

/* Waits until a job other than `seen` is published (or the pool stops);
 * returns its sequence value. */
static uint_fast64_t wait_for_job(quarc_pool *pool, uint_fast64_t seen) {
  for (int i = 0; i < QUARC_SPIN_POLLS; ++i) {
    uint_fast64_t id =
        atomic_load_explicit(&pool->sequence, memory_order_acquire);
    if (is_published(id, seen) || atomic_load(&pool->stopping))
      return id;
    QUARC_CPU_RELAX();
  }
  pthread_mutex_lock(&pool->mutex);
  uint_fast64_t id;
  while (!is_published(id = atomic_load(&pool->sequence), seen) &&
         !atomic_load(&pool->stopping))
    pthread_cond_wait(&pool->wake, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
  return id;
}

/* Reads the job published as `id`; false when the caller has begun writing
 * another one since (the fields may then belong to either). */
static bool read_job(quarc_pool *pool, uint_fast64_t id, job *out) {
  out->fn = atomic_load_explicit(&pool->fn, memory_order_relaxed);
  out->context = atomic_load_explicit(&pool->context, memory_order_relaxed);
  out->iterations =
      atomic_load_explicit(&pool->iterations, memory_order_relaxed);
  out->chunks = atomic_load_explicit(&pool->chunks, memory_order_relaxed);
  atomic_thread_fence(memory_order_acquire);
  return atomic_load_explicit(&pool->sequence, memory_order_relaxed) == id;
}

static void *worker_main(void *opaque) {
  worker_arg arg = *(worker_arg *)opaque;
  free(opaque);
  quarc_pool *pool = arg.pool;
  uint_fast64_t seen = 0;
  for (;;) {
    uint_fast64_t id = wait_for_job(pool, seen);
    if (atomic_load(&pool->stopping))
      return NULL;
    job job;
    if (!read_job(pool, id, &job))
      continue; /* replaced while read: wait for the new one */
    seen = id;
    /* A worker that claimed a chunk holds the job: the caller waits for
     * every chunk before it writes the next one. */
    run_chunks(pool, &job, id, arg.index);
  }
}

/// The least stack a worker gets: generated code keeps its tiles' buffers
/// on the stack (an int8 convolution's input panel takes up to 128 KiB,
/// the Winograd kernel's buffers up to 320 KiB),
/// more than some libcs give a thread by default (musl: 128 KiB).
enum { QUARC_WORKER_STACK_BYTES = 1 << 20 };

/// Starts worker `arg->index` with at least QUARC_WORKER_STACK_BYTES of
/// stack.
static int start_worker(pthread_t *thread, worker_arg *arg) {
  pthread_attr_t attributes;
  if (pthread_attr_init(&attributes) != 0)
    return -1;
  size_t size = 0;
  int status = pthread_attr_getstacksize(&attributes, &size);
  if (status == 0 && size < QUARC_WORKER_STACK_BYTES)
    status = pthread_attr_setstacksize(&attributes, QUARC_WORKER_STACK_BYTES);
  if (status == 0)
    status = pthread_create(thread, &attributes, worker_main, arg);
  pthread_attr_destroy(&attributes);
  return status;
}

quarc_pool *quarc_pool_create(int32_t threads) {
  if (threads < 1)
    return NULL;
  quarc_pool *pool = calloc(1, sizeof *pool);
  if (!pool)
    return NULL;
  pool->threads = threads;
  atomic_init(&pool->sequence, 0);
  atomic_init(&pool->remaining, 0);
  atomic_init(&pool->stopping, false);
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->wake, NULL);
  if (threads > 1) {
    pool->workers = calloc((size_t)threads - 1, sizeof(pthread_t));
    pool->shares =
        aligned_alloc(_Alignof(share), (size_t)threads * sizeof(share));
    if (!pool->workers || !pool->shares) {
      quarc_pool_destroy(pool);
      return NULL;
    }
    for (int32_t i = 0; i < threads; ++i)
      atomic_init(&pool->shares[i].claimed, 0);
  }
  for (int32_t i = 1; i < threads; ++i) {
    worker_arg *arg = malloc(sizeof *arg);
    if (!arg) {
      quarc_pool_destroy(pool);
      return NULL;
    }
    arg->pool = pool;
    arg->index = i;
    if (start_worker(&pool->workers[i - 1], arg) != 0) {
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
  free(pool->shares);
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
  int64_t most = (int64_t)pool->threads * QUARC_CHUNKS_PER_THREAD;
  int32_t chunks = (int32_t)(iterations < most ? iterations : most);
  /* Write the job under the sequence lock (only this thread writes it). */
  uint_fast64_t sequence =
      atomic_load_explicit(&pool->sequence, memory_order_relaxed);
  atomic_store_explicit(&pool->sequence, sequence + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&pool->fn, fn, memory_order_relaxed);
  atomic_store_explicit(&pool->context, context, memory_order_relaxed);
  atomic_store_explicit(&pool->iterations, iterations, memory_order_relaxed);
  atomic_store_explicit(&pool->chunks, chunks, memory_order_relaxed);
  for (int32_t i = 0; i < pool->threads; ++i)
    atomic_store_explicit(&pool->shares[i].claimed, job_tag(sequence + 2),
                          memory_order_relaxed);
  atomic_store_explicit(&pool->remaining, chunks, memory_order_relaxed);
  /* Publish it; sleeping workers need the mutex to see it. */
  pthread_mutex_lock(&pool->mutex);
  atomic_store_explicit(&pool->sequence, sequence + 2, memory_order_release);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);

  job own = {fn, context, iterations, chunks};
  run_chunks(pool, &own, sequence + 2, 0);
  while (atomic_load_explicit(&pool->remaining, memory_order_acquire) > 0)
    QUARC_CPU_RELAX();
}
