/* peak_fma.c - measures this machine's FP32 FMA peak per core.
 *
 * Twelve independent accumulator vectors hide the FMA latency (4-5 cycles)
 * on two FMA ports; the multiplier and addend are loaded through volatile
 * so the compiler can neither constant-fold the loop nor hoist it. The
 * vector width follows the compile flags: build with -mavx2 -mfma for
 * 256-bit, -mavx512f for 512-bit (bench/peak.sh picks what the host has).
 * Prints GFLOPS for one thread (2 flops per FMA lane).
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SET1(x) _mm512_set1_ps(x)
#define REDUCE(v) _mm512_reduce_add_ps(v)
#define WIDTH "avx512"
#elif defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SET1(x) _mm256_set1_ps(x)
static float reduce256(__m256 v) {
  float out[8];
  _mm256_storeu_ps(out, v);
  float s = 0;
  for (int i = 0; i < 8; ++i)
    s += out[i];
  return s;
}
#define REDUCE(v) reduce256(v)
#define WIDTH "avx2+fma"
#else
#error "build with -mfma -mavx2 or -mavx512f"
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void) {
  volatile float mulInit = 0.999999f, addInit = 1e-7f;
  vec m = SET1(mulInit), a = SET1(addInit);
  vec acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = SET1((float)i);
  const long iterations = 200000000;
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    double start = now();
    for (long it = 0; it < iterations / 12; ++it)
      for (int i = 0; i < 12; ++i)
        acc[i] = FMA(acc[i], m, a);
    double seconds = now() - start;
    double flops = 2.0 * LANES * 12 * (double)(iterations / 12);
    if (flops / seconds > best)
      best = flops / seconds;
  }
  float sink = 0;
  for (int i = 0; i < 12; ++i)
    sink += REDUCE(acc[i]);
  printf("fp32 fma peak (%s, 1 thread): %.1f GFLOPS (checksum %g)\n", WIDTH,
         best * 1e-9, sink);
  return 0;
}
