// What the AVX-512 kernels of kimi_kernels.c and kimi_int4.c share: their target attribute and
// how a kernel's sixteen-lane accumulators become its results.
#ifndef KIMI_WIDE_H
#define KIMI_WIDE_H

#include "kimi_kernels.h"

#define KIMI_WIDE __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512dq")))

// Lane k of the result: ((v_k[0] + v_k[1]) + v_k[2]) + … + v_k[7], the eight accumulators
// transposed so that eight sums run at once in SIMD8.sum()'s order.
static inline KIMI_WIDE __m256 kimi_sums8(const __m256 *v) {
    __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
    __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
    // s_l: lanes l (low half) and l + 4 (high half) of v0 … v3 (s0 … s3) or v4 … v7 (s4 … s7).
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    __m256 sum = _mm256_permute2f128_ps(s0, s4, 0x20);
    sum = _mm256_add_ps(sum, _mm256_permute2f128_ps(s1, s5, 0x20));
    sum = _mm256_add_ps(sum, _mm256_permute2f128_ps(s2, s6, 0x20));
    sum = _mm256_add_ps(sum, _mm256_permute2f128_ps(s3, s7, 0x20));
    sum = _mm256_add_ps(sum, _mm256_permute2f128_ps(s0, s4, 0x31));
    sum = _mm256_add_ps(sum, _mm256_permute2f128_ps(s1, s5, 0x31));
    sum = _mm256_add_ps(sum, _mm256_permute2f128_ps(s2, s6, 0x31));
    return _mm256_add_ps(sum, _mm256_permute2f128_ps(s3, s7, 0x31));
}

// `out`'s results from the `count` accumulators a[k] = (row k / T, token k % T), eight at a
// time: each folded (lanes l and l + 8 added), missing ones zero, summed by `kimi_sums8`.
static inline __attribute__((always_inline)) KIMI_WIDE void kimi_finish(const __m512 *a, int count, int T,
                                                                         const kimi_results *out) {
    _Pragma("clang loop unroll(full)") for (int k = 0; k < count; k += 8) {
        __m256 v[8];
        _Pragma("clang loop unroll(full)") for (int l = 0; l < 8; l++)
            v[l] = k + l < count ? _mm256_add_ps(_mm512_castps512_ps256(a[k + l]), _mm512_extractf32x8_ps(a[k + l], 1))
                                 : _mm256_setzero_ps();
        float sums[8];
        _mm256_storeu_ps(sums, _mm256_mul_ps(_mm256_add_ps(kimi_sums8(v), _mm256_loadu_ps(out->tails + k)),
                                             _mm256_set1_ps(out->outScale)));
        _Pragma("clang loop unroll(full)") for (int l = 0; l < 8; l++) {
            int i = (k + l) / T, j = (k + l) % T;
            if (k + l < count && i < out->nr && j < out->nt) out->y[j * out->yStride + i] = sums[l];
        }
    }
}

#endif
