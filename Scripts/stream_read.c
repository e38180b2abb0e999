// A STREAM-style read, written apart from kimi-serve's own probe to check it: the dot product of
// two arrays far larger than the caches, OpenMP threads over static shares, each array first
// touched by the thread that reads it, vectorised by the compiler (`parallel for simd`). Prints
// one JSON line with the best pass in GB/s (both arrays' bytes over the pass's time).
//
//     cc -O3 -march=native -fopenmp Scripts/stream_read.c -o stream_read
//     OMP_NUM_THREADS=2 ./stream_read [MiB per array, default 512] [passes, default 5]
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 512;
    int passes = argc > 2 ? atoi(argv[2]) : 5;
    size_t n = mib * 1024 * 1024 / sizeof(double);
    double *a = aligned_alloc(64, n * sizeof(double)), *b = aligned_alloc(64, n * sizeof(double));
    if (!a || !b || passes < 1) return 1;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        a[i] = 1.0 + (double)(i % 7);
        b[i] = 2.0 - (double)(i % 5);
    }
    double best = 0, checksum = 0;
    for (int p = 0; p < passes; p++) {
        double sum = 0, start = now();
#pragma omp parallel for simd schedule(static) reduction(+ : sum)
        for (size_t i = 0; i < n; i++) sum += a[i] * b[i];
        double rate = 2.0 * n * sizeof(double) / (now() - start);
        if (rate > best) best = rate;
        checksum += sum;
    }
    printf("{\"threads\": %d, \"bytes\": %zu, \"passes\": %d, \"best_gb_per_s\": %.3f, \"checksum\": %.17g}\n",
           omp_get_max_threads(), 2 * n * sizeof(double), passes, best / 1e9, checksum);
    free(a);
    free(b);
    return 0;
}
