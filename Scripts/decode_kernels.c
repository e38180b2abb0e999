// Candidate AVX2 decode passes over block-fp8 weights, measured apart from kimi-serve: eight
// rows per pass, one eight-lane FMA chain per row (the arithmetic of Sources/KimiKernels/GEMV.swift),
// over many [rows, cols] matrices that together are far larger than the caches (or, with a small
// total, stay in them), on T OpenMP threads. Each variant is timed next to a plain sequential
// read of the same bytes, round after round, so the host's changing bandwidth shows in the pairs.
//
//     cc -O3 -march=x86-64-v3 -fopenmp Scripts/decode_kernels.c -o decode_kernels
//     ./decode_kernels ROWS COLS THREADS [MiB in all, default 512] [rounds, default 3]
//
// Variants (GB/s of weight bytes):
//   read          one sequential stream per thread, no arithmetic
//   rows8         eight rows side by side, 64 bytes of each per step, no arithmetic
//   fp8/rows      sign-extend, shift, mask, FMA (four instructions per eight weights); each step
//                 asks for one line in each of the next pass's eight rows
//   fp8/linear    the same arithmetic; each step asks for the next pass's lines in address order
//   fp8x16/linear sixteen codes sign-extended to 16-bit lanes, even and odd codes decoded by a
//                 shift and a mask each (3.5 instructions per eight weights; the input permuted)
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
        for (size_t i = 0; i < matrix; i++) w[m * matrix + i] = (uint8_t)(((m * matrix + i) * 2654435761u) >> 13) & 0xF7;
    for (long c = 0; c < cols; c++) x[c] = (float)((c % 17) - 8) / 8;

    struct { const char *name; pass_fn fn; } variants[] = {
        {"read", read_seq}, {"rows8", read_rows8}, {"fp8/rows", fp8_rows},
        {"fp8/linear", fp8_linear}, {"fp8x16/linear", fp8x16_linear},
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
