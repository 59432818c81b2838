/* peak_int8.c - measures this machine's int8 dot-product peak per core.
 *
 * One kernel per instruction set, chosen at compile time:
 *   -mavx512vnni       vpdpbusd zmm: 64 u8 x s8 products summed into 16 i32
 *   -mavxvnni          vpdpbusd ymm (VEX): 32 products into 8 i32
 *   -mavx2 (default)   vpmaddubsw + vpmaddwd + vpaddd: 32 products into 8 i32
 *                      in three instructions (no VNNI: what AVX2-only CPUs
 *                      use; vpmaddubsw saturates pair sums at int16)
 * Twelve independent accumulators hide the latency. An empty asm statement
 * claims to change the activation operand before every step, so the
 * compiler can neither hoist the products out of the loop nor share one
 * product between accumulators (the AVX2 step's products do not depend on
 * the accumulator: with the operand changed once per iteration, the twelve
 * steps were one product and twelve adds, and the probe read 582 GOPS on a
 * Zen 3); it costs no instruction. One product and one add count as 2 ops, as for
 * FP32 FMA peaks. Prints GOPS for one thread.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define ACCUMULATORS 12

#if defined(__AVX512VNNI__)
typedef __m512i vec;
#define PRODUCTS 64
#define WIDTH "avx512-vnni vpdpbusd zmm"
#define SET1(x) _mm512_set1_epi32(x)
#define STEP(acc, a, b) _mm512_dpbusd_epi32(acc, a, b)
#define REDUCE(v) _mm512_reduce_add_epi32(v)
#elif defined(__AVXVNNI__)
typedef __m256i vec;
#define PRODUCTS 32
#define WIDTH "avx-vnni vpdpbusd ymm"
#define SET1(x) _mm256_set1_epi32(x)
#define STEP(acc, a, b) _mm256_dpbusd_avx_epi32(acc, a, b)
#elif defined(__AVX2__)
typedef __m256i vec;
#define PRODUCTS 32
#define WIDTH "avx2 vpmaddubsw+vpmaddwd+vpaddd"
#define SET1(x) _mm256_set1_epi32(x)
static inline __m256i step(__m256i acc, __m256i a, __m256i b) {
  __m256i pairs = _mm256_maddubs_epi16(a, b);
  __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
  return _mm256_add_epi32(acc, quads);
}
#define STEP(acc, a, b) step(acc, a, b)
#else
#error "build with -mavx2, -mavxvnni or -mavx512vnni"
#endif

#ifndef REDUCE
static int reduce256(__m256i v) {
  int out[8];
  _mm256_storeu_si256((__m256i *)out, v);
  int s = 0;
  for (int i = 0; i < 8; ++i)
    s += out[i];
  return s;
}
#define REDUCE(v) reduce256(v)
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void) {
  volatile int aInit = 0x01020304, bInit = 0x01ff01ff;
  vec a = SET1(aInit), b = SET1(bInit);
  vec acc[ACCUMULATORS];
  for (int i = 0; i < ACCUMULATORS; ++i)
    acc[i] = SET1(i);
  const long iterations = 100000000;
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    double start = now();
    for (long it = 0; it < iterations / ACCUMULATORS; ++it) {
      // The operand "changes" before each step: nothing can move out of
      // the loop or be shared between steps.
      for (int i = 0; i < ACCUMULATORS; ++i) {
        __asm__ volatile("" : "+x"(a));
        acc[i] = STEP(acc[i], a, b);
      }
    }
    double seconds = now() - start;
    double ops = 2.0 * PRODUCTS * ACCUMULATORS * (double)(iterations / ACCUMULATORS);
    if (ops / seconds > best)
      best = ops / seconds;
  }
  long sink = 0;
  for (int i = 0; i < ACCUMULATORS; ++i)
    sink += REDUCE(acc[i]);
  printf("int8 peak (%s, 1 thread): %.1f GOPS (checksum %ld)\n", WIDTH,
         best * 1e-9, sink);
  return 0;
}
