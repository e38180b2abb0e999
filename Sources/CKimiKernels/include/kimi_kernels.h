// Eight-lane weight decoders for the Swift kernels (KimiKernels/WeightDecoding.swift),
// and the GEMM microkernel.
// Swift's generic SIMD conversions (SIMD8<Int32>(truncatingIfNeeded: SIMD8<Int8>) and the
// like) are not inlined into the kernels' inner loops; these one-instruction-sequence
// intrinsics are, and Swift sees their result as SIMD8<Float>. Built for x86-64-v3
// (AVX2, FMA, F16C), which the binary checks at start-up.
#ifndef KIMI_KERNELS_H
#define KIMI_KERNELS_H

#include <immintrin.h>

typedef float kimi_f32x8 __attribute__((ext_vector_type(8)));

/// Eight float8_e4m3fn codes times 2^-120: sign-extend, shift left by 20, keep sign,
/// exponent and mantissa (FP8.swift explains why this is exact).
static inline __attribute__((always_inline)) kimi_f32x8 kimi_fp8x8_scaled(const void *p) {
    __m256i i = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p));
    i = _mm256_and_si256(_mm256_slli_epi32(i, 20), _mm256_set1_epi32((int)0x87F00000u));
    return (kimi_f32x8)_mm256_castsi256_ps(i);
}

/// Eight bfloat16 values.
static inline __attribute__((always_inline)) kimi_f32x8 kimi_bf16x8(const void *p) {
    __m256i i = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return (kimi_f32x8)_mm256_castsi256_ps(_mm256_slli_epi32(i, 16));
}

/// Eight IEEE half-precision values (F16C).
static inline __attribute__((always_inline)) kimi_f32x8 kimi_f16x8(const void *p) {
    return (kimi_f32x8)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/// Asks for the cache line holding `p` (never faults, even past a mapping's end).
static inline __attribute__((always_inline)) void kimi_prefetch(const void *p) {
    _mm_prefetch((const char *)p, _MM_HINT_T1);
}

/// Asks for the cache line holding `p` for the L1 only, to be read once (the bandwidth probe's
/// non-temporal patterns).
static inline __attribute__((always_inline)) void kimi_prefetch_stream(const void *p) {
    _mm_prefetch((const char *)p, _MM_HINT_NTA);
}

/// The GEMM microkernel (GEMM.swift): three rows of a decoded weight tile times four input
/// panels over `steps` eight-column steps; twelve eight-lane FMA chains continued from and
/// returned to `lanes` (row i, token j at floats 8·(i·rowStride + j)).
void kimi_tile3x4(const float *w0, const float *w1, const float *w2,
                  const float *x0, const float *x1, const float *x2, const float *x3,
                  long steps, float *lanes, long rowStride);

/// Whether the CPU and OS run AVX-512 F, VL and DQ (32 vector registers of 512 bits): the wide
/// and transposed passes need it.
int kimi_has_avx512(void);

/// Where a pass's last columns leave its results: y[j·yStride + i] = (accumulator (i, j)
/// summed across its sixteen lanes + tails[i·T + j]) · outScale for rows i < nr and tokens
/// j < nt (tails: R·T rounded up to 8 floats).
typedef struct {
    const float *tails;
    float outScale;
    float *y;
    long yStride, nr, nt;
} kimi_results;

/// A wide pass (kimi_kernels.c): R rows × T tokens of a weight matrix over columns c0 ..< c1
/// (multiples of 16), the tokens' inputs for those columns packed sixteen columns at a time
/// (x[16·(T·s + j) + lane]: token j, column c0 + 16·s + lane), each (row i, token j)'s sixteen
/// accumulator lanes continued from acc[16·(i·T + j) ..< +16] (zero if `start`), then stored
/// back, or with `out` summed into its results. AVX-512 only.
typedef void (*kimi_pass)(const void *const *rows, const float *x, long c0, long c1, long ahead, float *acc, long start,
                          const kimi_results *out);

/// The wide pass of dtype `dtype` (0 float8_e4m3fn ×2^-120, 1 bfloat16, 2 float16, 3 float32)
/// for a token group of 8, 4, 3 or 2 tokens; `rows` receives its R (3 or 4) and
/// `weightScale` what its weights are multiplied by beyond that (2^112 for fp8's 8-token pass,
/// which decodes through half precision to value × 2^-8; else 1).
kimi_pass kimi_wide_pass(int dtype, int tokens, int *rows, float *weightScale);

/// The most rows of a decode GEMV.
#define KIMI_GEMV_MAX_ROWS 4

/// The decode GEMV (kimi_kernels.c): R rows (rows[i]) × one token over columns
/// 0 ..< vectorEnd (a multiple of 16), x multiplied by k[c / 128] (NULL: by 1), asking for the
/// R·rowBytes bytes `ahead` bytes past rows[0] in address order (0: none; the rows consecutive in
/// memory), the results left in `out` (T = 1, nr ≤ R).
/// AVX-512 only.
typedef void (*kimi_gemv)(const void *const *rows, const float *x, const float *k, long vectorEnd, long ahead,
                          const kimi_results *out);

/// The decode GEMV of dtype `dtype` (as `kimi_wide_pass`); `rows` receives its R (4 for fp8,
/// 2 for the others).
kimi_gemv kimi_wide_gemv(int dtype, int *rows);

/// A transposed pass (kimi_kernels.c) for T = 12, 8 or 4 tokens: y[j][0 ..< 16] =
/// Σ_{r < rows} W[r][0 ..< 16] · x[r·T + j] for j < nt, W's row r at w + r·rowBytes; each value
/// one chain of FMAs over the rows in order, from zero. AVX-512 only.
typedef void (*kimi_tpass)(const void *w, long rowBytes, long rows, const float *x, float *const *y, long nt);

/// The transposed pass of dtype `dtype` (as `kimi_wide_pass`) for the smallest T of 12, 8 and 4
/// that holds `tokens` (at most 12).
kimi_tpass kimi_transposed_pass(int dtype, int tokens);

/// The one-token transposed GEMV (kimi_kernels.c) over a slice of cols ≤ 256 columns (a multiple
/// of 16, starting on a 128-column block): y[c] = Σ_{r < rows} W[r][c] · s[2·r + c / 128], W's
/// row r at w + r·rowBytes; each y[c] one chain of FMAs over the rows in order, from zero.
/// AVX-512 only.
typedef void (*kimi_tgemv)(const void *w, long rowBytes, long rows, const float *s, long cols, float *y);

/// The one-token transposed GEMV of dtype `dtype` (as `kimi_wide_pass`).
kimi_tgemv kimi_transposed_gemv(int dtype);

/// The dtypes of int4 weights' scales (kimi_int4.c).
enum { KIMI_SCALE_BF16 = 0, KIMI_SCALE_F16 = 1, KIMI_SCALE_F32 = 2 };

/// compressed-tensors pack-quantized int4 rows dequantised (kimi_int4.c): out[i·outStride + c −
/// c0] = W[i, c] for i < rows, c0 ≤ c < c1 (c0 a multiple of 8), row i's words at packed +
/// i·packedRowBytes and its scales (one per `group` columns; group a multiple of 16, or the
/// whole row) at scales + i·scaleRowBytes.
void kimi_int4_dequantize(const void *packed, long packedRowBytes, const void *scales, long scaleRowBytes, int scaleType,
                          long group, long rows, long c0, long c1, float *out, long outStride);

/// One row of float weights quantised to int4 as compressed-tensors quantises (kimi_int4.c;
/// KimiKernels/Int4Quantization.swift states the arithmetic): packed (cols / 2 bytes), scales
/// (cols / group BF16 bit patterns); group a multiple of 8 dividing cols.
void kimi_int4_quantize_row(const float *w, long cols, long group, void *packed, unsigned short *scales);

/// Rows of the int4 decode GEMV.
#define KIMI_INT4_GEMV_ROWS 4

/// x (cols, a multiple of 32) in the "int4 order" of the AVX-512 int4 kernels for groups of a
/// multiple of 32 columns (kimi_int4.c): each 32-column block's even columns, then its odd
/// ones. AVX-512 only.
void kimi_int4_order(const float *x, long cols, float *out);

/// As kimi_int4_dequantize over all cols columns (a multiple of 16), each row written in the
/// int4 order when `group` is a multiple of 32, else in column order. AVX-512 only.
void kimi_int4_dequantize_ordered(const void *packed, long packedRowBytes, const void *scales, long scaleRowBytes,
                                  int scaleType, long group, long rows, long cols, float *out, long outStride);

/// The int4 decode GEMV (kimi_int4.c): KIMI_INT4_GEMV_ROWS rows (rows[i], their scales at
/// scaleRows[i]) × one token over columns 0 ..< vectorEnd (a multiple of 16 and of `group`'s
/// sixteen-column steps), x in the int4 order when `group` is a multiple of 32: the bits of
/// the float32 decode GEMV over the rows dequantised as kimi_int4_dequantize_ordered does; asks for the rows' next bytes `ahead` bytes past rows[0]
/// and their scales `scalesAhead` bytes past scaleRows[0] (0: none); results in `out`.
/// AVX-512 only.
void kimi_int4_gemv(const void *const *rows, const void *const *scaleRows, int scaleType, long group,
                    const float *x, long vectorEnd, long ahead, long scalesAhead, const kimi_results *out);

#endif
