// The decoders are header-only (static inline); the GEMM microkernel lives here, where its
// loop can be kept from unrolling (an unrolled body needs more than the sixteen registers).
#include "kimi_kernels.h"

void kimi_tile3x4(const float *w0, const float *w1, const float *w2,
                  const float *x0, const float *x1, const float *x2, const float *x3,
                  long steps, float *lanes, long rowStride) {
    float *l0 = lanes, *l1 = lanes + 8 * rowStride, *l2 = lanes + 16 * rowStride;
    __m256 p00 = _mm256_loadu_ps(l0), p01 = _mm256_loadu_ps(l0 + 8), p02 = _mm256_loadu_ps(l0 + 16), p03 = _mm256_loadu_ps(l0 + 24);
    __m256 p10 = _mm256_loadu_ps(l1), p11 = _mm256_loadu_ps(l1 + 8), p12 = _mm256_loadu_ps(l1 + 16), p13 = _mm256_loadu_ps(l1 + 24);
    __m256 p20 = _mm256_loadu_ps(l2), p21 = _mm256_loadu_ps(l2 + 8), p22 = _mm256_loadu_ps(l2 + 16), p23 = _mm256_loadu_ps(l2 + 24);
#pragma clang loop unroll(disable)
    for (long o = 0; o < 8 * steps; o += 8) {
        __m256 a = _mm256_loadu_ps(w0 + o), b = _mm256_loadu_ps(w1 + o), d = _mm256_loadu_ps(w2 + o);
        __m256 e = _mm256_loadu_ps(x0 + o);
        p00 = _mm256_fmadd_ps(a, e, p00); p10 = _mm256_fmadd_ps(b, e, p10); p20 = _mm256_fmadd_ps(d, e, p20);
        __m256 f = _mm256_loadu_ps(x1 + o);
        p01 = _mm256_fmadd_ps(a, f, p01); p11 = _mm256_fmadd_ps(b, f, p11); p21 = _mm256_fmadd_ps(d, f, p21);
        __m256 g = _mm256_loadu_ps(x2 + o);
        p02 = _mm256_fmadd_ps(a, g, p02); p12 = _mm256_fmadd_ps(b, g, p12); p22 = _mm256_fmadd_ps(d, g, p22);
        __m256 h = _mm256_loadu_ps(x3 + o);
        p03 = _mm256_fmadd_ps(a, h, p03); p13 = _mm256_fmadd_ps(b, h, p13); p23 = _mm256_fmadd_ps(d, h, p23);
    }
    _mm256_storeu_ps(l0, p00); _mm256_storeu_ps(l0 + 8, p01); _mm256_storeu_ps(l0 + 16, p02); _mm256_storeu_ps(l0 + 24, p03);
    _mm256_storeu_ps(l1, p10); _mm256_storeu_ps(l1 + 8, p11); _mm256_storeu_ps(l1 + 16, p12); _mm256_storeu_ps(l1 + 24, p13);
    _mm256_storeu_ps(l2, p20); _mm256_storeu_ps(l2 + 8, p21); _mm256_storeu_ps(l2 + 16, p22); _mm256_storeu_ps(l2 + 24, p23);
}
