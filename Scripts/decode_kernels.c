// Candidate decode passes over block-fp8 (and bf16) weights, measured apart from kimi-serve,
// over many [rows, cols] matrices that together are far larger than the caches (or, with a
// small total, stay in them), on T OpenMP threads. Each variant is timed next to a plain
// sequential read of the same bytes, round after round, so the host's changing bandwidth shows
// in the pairs. The weights are e4m3 codes with the share of subnormal codes of a real
// checkpoint (1e-4; an FMA with a subnormal operand takes a microcode assist on Intel cores),
// the input scaled as kimi-serve scales it, so that no product is subnormal.
//
//     cc -O3 -march=native -fopenmp Scripts/decode_kernels.c -o decode_kernels
//     ./decode_kernels ROWS COLS THREADS [MiB in all, default 512] [rounds, default 3]
//
// AVX2 variants: eight rows per pass, one eight-lane FMA chain per row (the arithmetic of
// Sources/KimiKernels/GEMV.swift); GB/s of weight bytes:
//   read          one sequential stream per thread, no arithmetic
//   rows8         eight rows side by side, 64 bytes of each per step, no arithmetic
//   fp8/rows      sign-extend, shift, mask, FMA (four instructions per eight weights); each step
//                 asks for one line in each of the next pass's eight rows
//   fp8/linear    the same arithmetic; each step asks for the next pass's lines in address order
//   fp8x16/linear sixteen codes sign-extended to 16-bit lanes, even and odd codes decoded by a
//                 shift and a mask each (3.5 instructions per eight weights; the input permuted)
// AVX-512 variants (built where the compiler targets AVX-512F): R rows per pass, one sixteen-lane
// chain per row (the decode GEMV of Sources/CKimiKernels/kimi_kernels.c):
//   w-fp8/rows    four rows, each asking for its own line 8 KB on, non-temporally
//   w-fp8/linear  four rows; each step asks for four lines in address order, 8 KB past the pass
//   w-fp8h/linear the same through IEEE half (two more instructions, no subnormal floats)
//   w-fp8x8/linear eight rows
//   w-bf16/rows, w-bf16/linear  two bf16 rows (the matrix read as half as many rows)
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Sign, exponent and mantissa of an e4m3 code shifted into a float's: the value times 2^-120.
#define FP8_MASK ((int)0x87F00000u)

static float horizontal_sum(__m256 v) {
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ss(a, _mm_movehdup_ps(a)));
}

typedef float (*pass_fn)(const uint8_t *w, const float *x, long rows, long cols);

static float read_seq(const uint8_t *w, const float *x, long rows, long cols) {
    (void)x;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0;
    for (long i = 0; i < rows * cols; i += 64) {
        s0 = _mm256_add_epi32(s0, _mm256_load_si256((const __m256i *)(w + i)));
        s1 = _mm256_add_epi32(s1, _mm256_load_si256((const __m256i *)(w + i + 32)));
    }
    return (float)_mm256_extract_epi32(_mm256_add_epi32(s0, s1), 0);
}

static float read_rows8(const uint8_t *w, const float *x, long rows, long cols) {
    (void)x;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0;
    for (long r = 0; r + 8 <= rows; r += 8)
        for (long c = 0; c + 64 <= cols; c += 64)
            for (int k = 0; k < 8; k++) {
                const uint8_t *p = w + (r + k) * cols + c;
                s0 = _mm256_add_epi32(s0, _mm256_load_si256((const __m256i *)p));
                s1 = _mm256_add_epi32(s1, _mm256_load_si256((const __m256i *)(p + 32)));
            }
    return (float)_mm256_extract_epi32(_mm256_add_epi32(s0, s1), 0);
}

static inline __m256 fp8x8(const uint8_t *p) {
    __m256i i = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(i, 20), _mm256_set1_epi32(FP8_MASK)));
}

// Eight rows per pass; each 64-column step asks for the next pass's lines, either one in each of
// its eight rows (`linear` 0) or eight in address order (1). `sixteen`: decode in 16-bit lanes,
// with x permuted per sixteen columns (x[16g + l] holds column 16g + 2l, x[16g + 8 + l] column
// 16g + 2l + 1).
static inline float fp8_pass(const uint8_t *w, const float *x, long rows, long cols, int linear, int sixteen) {
    const __m256i mask = _mm256_set1_epi32(FP8_MASK);
    float total = 0;
    for (long r = 0; r + 8 <= rows; r += 8) {
        const uint8_t *p = w + r * cols, *next = p + 8 * cols;
        __m256 a[8];
        for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_ps();
        for (long c = 0; c + 64 <= cols; c += 64) {
            for (int k = 0; k < 8; k++)
                _mm_prefetch((const char *)(linear ? next + 8 * c + 64 * k : next + k * cols + c), _MM_HINT_T1);
            for (long s = c; s < c + 64; s += 16) {
                __m256 x0 = _mm256_loadu_ps(x + s), x1 = _mm256_loadu_ps(x + s + 8);
                for (int k = 0; k < 8; k++) {
                    const uint8_t *q = p + k * cols + s;
                    __m256 w0, w1;
                    if (sixteen) {
                        __m256i h = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)q));
                        w0 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(h, 20), mask));
                        w1 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(h, 4), mask));
                    } else {
                        w0 = fp8x8(q);
                        w1 = fp8x8(q + 8);
                    }
                    a[k] = _mm256_fmadd_ps(w1, x1, _mm256_fmadd_ps(w0, x0, a[k]));
                }
            }
        }
        for (int k = 0; k < 8; k++) total += horizontal_sum(a[k]);
    }
    return total;
}

static float fp8_rows(const uint8_t *w, const float *x, long rows, long cols) { return fp8_pass(w, x, rows, cols, 0, 0); }
static float fp8_linear(const uint8_t *w, const float *x, long rows, long cols) { return fp8_pass(w, x, rows, cols, 1, 0); }
static float fp8x16_linear(const uint8_t *w, const float *x, long rows, long cols) {
    return fp8_pass(w, x, rows, cols, 1, 1);
}

#ifdef __AVX512F__
static inline __m512 wide_fp8(const uint8_t *p) {
    __m512i i = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_slli_epi32(i, 20), _mm512_set1_epi32(FP8_MASK)));
}

// Through IEEE half: the value times 2^-8, every code a normal float.
static inline __m512 wide_fp8h(const uint8_t *p) {
    __m256i h = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
    return _mm512_cvtph_ps(_mm256_and_si256(_mm256_slli_epi16(h, 7), _mm256_set1_epi16((short)0xBFFF)));
}

static inline __m512 wide_bf16(const uint8_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

// R rows of SIZE-byte weights per pass over the matrix's bytes; each 64-column step asks for
// lines 8 KB (at least a pass) ahead: one in each row (`linear` 0, non-temporally) or R·SIZE in
// address order past the pass's first row (1).
#define WIDE_PASS(NAME, DECODE, R, SIZE, LINEAR)                                                   \
    static float NAME(const uint8_t *w, const float *x, long rows, long cols) {                    \
        long rowBytes = cols * SIZE, ahead = R * rowBytes > 8192 ? R * rowBytes : 8192;            \
        float total = 0;                                                                           \
        for (long r = 0; r + R <= rows / SIZE; r += R) {                                           \
            const uint8_t *p = w + r * rowBytes;                                                   \
            __m512 a[R];                                                                           \
            for (int k = 0; k < R; k++) a[k] = _mm512_setzero_ps();                                \
            for (long c = 0; c + 64 <= cols; c += 64) {                                            \
                for (int k = 0; k < R * SIZE; k++)                                                 \
                    if (LINEAR)                                                                    \
                        _mm_prefetch((const char *)(p + ahead + R * SIZE * c + 64 * k), _MM_HINT_T1); \
                    else                                                                           \
                        _mm_prefetch((const char *)(p + (k / SIZE) * rowBytes + SIZE * c + 64 * (k % SIZE) + ahead), \
                                     _MM_HINT_NTA);                                                \
                for (long s = c; s < c + 64; s += 16) {                                            \
                    __m512 xv = _mm512_loadu_ps(x + s);                                            \
                    for (int k = 0; k < R; k++) a[k] = _mm512_fmadd_ps(DECODE(p + k * rowBytes + SIZE * s), xv, a[k]); \
                }                                                                                  \
            }                                                                                      \
            for (int k = 0; k < R; k++) total += _mm512_reduce_add_ps(a[k]);                       \
        }                                                                                          \
        return total;                                                                              \
    }

WIDE_PASS(wide_fp8_rows, wide_fp8, 4, 1, 0)
WIDE_PASS(wide_fp8_linear, wide_fp8, 4, 1, 1)
WIDE_PASS(wide_fp8h_linear, wide_fp8h, 4, 1, 1)
WIDE_PASS(wide_fp8x8_linear, wide_fp8, 8, 1, 1)
WIDE_PASS(wide_bf16_rows, wide_bf16, 2, 2, 0)
WIDE_PASS(wide_bf16_linear, wide_bf16, 2, 2, 1)
#endif

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s ROWS COLS THREADS [MiB in all] [rounds]\n", argv[0]);
        return 2;
    }
    long rows = atol(argv[1]), cols = atol(argv[2]);
    int threads = atoi(argv[3]);
    size_t total = (argc > 4 ? strtoul(argv[4], NULL, 10) : 512) << 20;
    int rounds = argc > 5 ? atoi(argv[5]) : 3;
    size_t matrix = (size_t)(rows * cols);
    if (rows % 8 || cols % 64 || matrix == 0 || total < matrix || threads < 1) {
        fprintf(stderr, "rows must be a multiple of 8, cols of 64, the total at least one matrix\n");
        return 2;
    }
    long matrices = total / matrix;
    uint8_t *w = aligned_alloc(4096, matrices * matrix);
    float *x = aligned_alloc(64, cols * sizeof(float));
    if (!w || !x) return 1;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long m = 0; m < matrices; m++)  // first touched by the thread that reads it; never a NaN code
        for (size_t i = 0; i < matrix; i++) {
            uint64_t h = (m * matrix + i + 1) * 0x9E3779B97F4A7C15ull;
            uint8_t code = (uint8_t)(h >> 56) & 0xF7;
            // A code of exponent 0 (subnormal or zero, 1/16 of these) is kept with probability
            // 16e-4, else given exponent 8.
            if ((code & 0x78) == 0 && ((h >> 20) & 0xFFFF) >= 105) code |= 0x40;
            w[m * matrix + i] = code;
        }
    // Inputs as the kernels scale them (block scale ~2^-12 times 2^60).
    for (long c = 0; c < cols; c++) x[c] = (float)((c % 17) - 8) / 8 * 0x1p48f;

    struct { const char *name; pass_fn fn; } variants[] = {
        {"read", read_seq}, {"rows8", read_rows8}, {"fp8/rows", fp8_rows},
        {"fp8/linear", fp8_linear}, {"fp8x16/linear", fp8x16_linear},
#ifdef __AVX512F__
        {"w-fp8/rows", wide_fp8_rows}, {"w-fp8/linear", wide_fp8_linear}, {"w-fp8h/linear", wide_fp8h_linear},
        {"w-fp8x8/linear", wide_fp8x8_linear}, {"w-bf16/rows", wide_bf16_rows}, {"w-bf16/linear", wide_bf16_linear},
#endif
    };
    int count = sizeof variants / sizeof variants[0];
    printf("%ld x %ld matrices, %ld of them (%.0f MiB), %d threads; GB/s per round\n", rows, cols, matrices,
           matrices * matrix / 1048576.0, threads);
    float sink = 0;
    for (int round = 1; round <= rounds; round++) {
        printf("round %d:", round);
        for (int v = 0; v < count; v++) {
            double start = now(), elapsed;
            long passes = 0;
            do {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
                for (long m = omp_get_thread_num(); m < matrices; m += threads)
                    sink += variants[v].fn(w + m * matrix, x, rows, cols);
                passes++;
                elapsed = now() - start;
            } while (elapsed < 0.5);
            printf("  %s %.1f", variants[v].name, passes * (double)(matrices * matrix) / elapsed / 1e9);
        }
        printf("\n");
    }
    printf("checksum %g\n", sink);  // the sums are used, so no pass is optimised away
    return 0;
}
