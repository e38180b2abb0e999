// The decoders are header-only (static inline); the GEMM microkernel and the wide passes of
// AVX-512 CPUs live here, where their loops can be kept from unrolling (an unrolled body needs more
// registers than there are).
#include "kimi_kernels.h"

#include <cpuid.h>

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

// Passes for CPUs with AVX-512 (F, VL, DQ), which run every weight product on them: decode
// batches and prefill (3 or 4 rows × 2…8 tokens), and the decode GEMV (4 fp8 rows or 2 rows of the wider dtypes
// × 1 token) below. Each
// 512-bit accumulator holds one (row, token)'s sixteen lanes, lane l accumulating columns
// 16·s + l: sixteen weights of a row decode into one register with one sign- or zero-extending
// load, three instructions for fp8 (the two-rows-per-register layout of eight-lane chains
// took four, and its decoding, not DRAM, bounded decode). The arithmetic of a (row, token) is
// the "sixteen-lane row" (WidePasses.swift): a chain of sixteen-lane FMAs over columns
// 0 ..< vectorEnd in order, lanes l and l + 8 then added and the eight sums added in
// SIMD8.sum()'s order (`kimi_finish`) — whatever the pass, its rows and its tokens.
// A pass runs columns c0 ..< c1 (multiples of 16), continuing the chains from `acc` (P·T·16
// floats, accumulator (i, j) at 16·(i·T + j); from zero if `start`) and leaving them there, so
// a caller can walk the columns in chunks whose inputs stay in L1 and keep the same bits; the
// last chunk's call passes `out` and the pass finishes the sums into y instead.
// rows[i]: row i's first element; x: the T tokens' (scaled) inputs for columns c0 ..< c1,
// packed sixteen columns at a time (x[16·(T·s + j) + lane] = token j's column c0 + 16·s + lane),
// so that one pointer walks them all; every 64 columns the pass asks for P lines of each
// row's width `ahead` bytes past rows[0], in address order (0: none), as the decode GEMV does.
#include "kimi_wide.h"

// Sixteen consecutive weights of a row.
static inline KIMI_WIDE __m512 kimi_fp8x16_scaled(const void *p) {
    __m512i i = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_slli_epi32(i, 20), _mm512_set1_epi32((int)0x87F00000u)));
}

// Sixteen fp8 codes through IEEE half: sign-extended to 16 bits, shifted left by 7 and bit 14
// cleared, each code's exponent and mantissa land in the half's low exponent bits and top
// mantissa bits — the value times 2^-8, e4m3's subnormals as subnormal halves — then widened
// to float, where every code is a normal number. The shift-and-mask route above leaves
// subnormal codes subnormal floats, and an FMA with a subnormal operand takes a microcode
// assist of a couple of hundred cycles, and a real checkpoint has enough subnormal codes for
// that to show in a pass over many tokens (docs/performance.md). Two more instructions per
// sixteen weights; worth it only where each weight meets eight tokens.
static inline KIMI_WIDE __m512 kimi_fp8x16_half(const void *p) {
    __m256i h = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
    h = _mm256_and_si256(_mm256_slli_epi16(h, 7), _mm256_set1_epi16((short)0xBFFF));
    return _mm512_cvtph_ps(h);
}

static inline KIMI_WIDE __m512 kimi_bf16x16(const void *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

static inline KIMI_WIDE __m512 kimi_f16x16(const void *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

static inline KIMI_WIDE __m512 kimi_f32x16(const void *p) {
    return _mm512_loadu_ps((const float *)p);
}

#define KIMI_PASS(NAME, DECODE, SIZE, P, T)                                                          \
    KIMI_WIDE void NAME(const void *const *rows, const float *x, long c0, long c1, long ahead, float *acc, long start, \
                        const kimi_results *out) {                                                  \
        const unsigned char *w[P];                                                                  \
        __m512 a[P][T];                                                                             \
        for (int i = 0; i < P; i++) w[i] = (const unsigned char *)rows[i];                          \
        _Pragma("clang loop unroll(full)") for (int p = 0; p < P; p++)                              \
            _Pragma("clang loop unroll(full)") for (int j = 0; j < T; j++)                          \
                a[p][j] = start ? _mm512_setzero_ps() : _mm512_loadu_ps(acc + 16 * (p * T + j));   \
        long c = c0;                                                                                \
        for (;;) {                                                                                  \
            long end = c + 64 <= c1 ? c + 64 : c1;                                                  \
            if (c == end) break;                                                                    \
            if (ahead && end == c + 64)                                                             \
                for (int line = 0; line < P * 64 * SIZE; line += 64)                                \
                    kimi_prefetch(w[0] + ahead + P * SIZE * c + line);                              \
            _Pragma("clang loop unroll(disable)") for (; c < end; c += 16, x += 16 * T) {           \
                __m512 v[P];                                                                        \
                _Pragma("clang loop unroll(full)") for (int p = 0; p < P; p++) v[p] = DECODE(w[p] + SIZE * c); \
                _Pragma("clang loop unroll(full)") for (int j = 0; j < T; j++) {                    \
                    __m512 b = _mm512_loadu_ps(x + 16 * j);                                         \
                    _Pragma("clang loop unroll(full)") for (int p = 0; p < P; p++) a[p][j] = _mm512_fmadd_ps(v[p], b, a[p][j]); \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        if (out)                                                                                    \
            kimi_finish(&a[0][0], P * T, T, out);                                                   \
        else                                                                                        \
            _Pragma("clang loop unroll(full)") for (int p = 0; p < P; p++)                          \
                _Pragma("clang loop unroll(full)") for (int j = 0; j < T; j++) _mm512_storeu_ps(acc + 16 * (p * T + j), a[p][j]); \
    }

// The decode GEMV: R rows × one token over all the columns at once, the input read where it
// lies and multiplied in the loop by its 128-column block's scale (k[b]; NULL: 1, for an input
// already scaled), then finished into `out`. The same bits as packing the scaled input and
// running a pass, without the packing's stores. Few rows streamed at once read DRAM faster than
// many (docs/performance.md): four fp8 rows keep the FMA chains busy (two would halve the FMAs in
// flight: each row is one 16-lane chain); two rows of the 2- and 4-byte dtypes, 32 or 64 bytes
// per FMA, already feed them. The rows of a call follow each other in memory, and so do the
// calls': each 64-column step asks for R lines of each row's width `ahead` bytes past the first
// row, in address order, so that over a call the next R·rowBytes bytes at that distance are
// asked for and the matrix is requested as one stream (R rows' lines asked for side by side
// read memory far slower).
#define KIMI_GEMV(NAME, DECODE, SIZE, R)                                                                        \
    _Static_assert(R <= KIMI_GEMV_MAX_ROWS, "a decode GEMV's rows fit the callers' KIMI_GEMV_MAX_ROWS");         \
    enum { NAME##_rows = R };                                                                                   \
    KIMI_WIDE void NAME(const void *const *rows, const float *x, const float *k, long vectorEnd, long ahead,    \
                        const kimi_results *out) {                                                              \
        const unsigned char *w[R];                                                                              \
        __m512 a[R];                                                                                            \
        for (int i = 0; i < R; i++) w[i] = (const unsigned char *)rows[i], a[i] = _mm512_setzero_ps();         \
        for (long b = 0; b < vectorEnd; b += 128) {                                                             \
            __m512 kv = _mm512_set1_ps(k ? k[b / 128] : 1.0f);                                                 \
            long end = b + 128 <= vectorEnd ? b + 128 : vectorEnd;                                              \
            for (long c = b; c < end; c += 64) {                                                                \
                long e = c + 64 <= end ? c + 64 : end;                                                          \
                if (ahead && e == c + 64)                                                                       \
                    for (int line = 0; line < R * 64 * SIZE; line += 64) kimi_prefetch(w[0] + ahead + R * SIZE * c + line); \
                _Pragma("clang loop unroll(disable)") for (long d = c; d < e; d += 16) {                        \
                    __m512 xv = _mm512_mul_ps(_mm512_loadu_ps(x + d), kv);                                      \
                    _Pragma("clang loop unroll(full)") for (int i = 0; i < R; i++)                              \
                        a[i] = _mm512_fmadd_ps(DECODE(w[i] + SIZE * d), xv, a[i]);                              \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
        kimi_finish(a, R, 1, out);                                                                              \
    }

// One dtype's passes, in the order of `kimi_wide_pass`'s tiles: 3×8, 4×4, 4×3 and 4×2 (rows ×
// tokens; at most 28 of the 32 registers), the 3×8 pass decoding with DECODE8; and its GEMV.
#define KIMI_PASSES(D, DECODE, DECODE8, SIZE, R)        \
    KIMI_PASS(kimi_##D##_pass3x8, DECODE8, SIZE, 3, 8) \
    KIMI_PASS(kimi_##D##_pass4x4, DECODE, SIZE, 4, 4) \
    KIMI_PASS(kimi_##D##_pass4x3, DECODE, SIZE, 4, 3) \
    KIMI_PASS(kimi_##D##_pass4x2, DECODE, SIZE, 4, 2) \
    KIMI_GEMV(kimi_##D##_gemv, DECODE, SIZE, R)

KIMI_PASSES(fp8, kimi_fp8x16_scaled, kimi_fp8x16_half, 1, 4)
KIMI_PASSES(bf16, kimi_bf16x16, kimi_bf16x16, 2, 2)
KIMI_PASSES(f16, kimi_f16x16, kimi_f16x16, 2, 2)
KIMI_PASSES(f32, kimi_f32x16, kimi_f32x16, 4, 2)

#define KIMI_PASS_ROW(D) {kimi_##D##_pass3x8, kimi_##D##_pass4x4, kimi_##D##_pass4x3, kimi_##D##_pass4x2}
static const kimi_pass kimi_wide_passes[4][4] = {KIMI_PASS_ROW(fp8), KIMI_PASS_ROW(bf16), KIMI_PASS_ROW(f16), KIMI_PASS_ROW(f32)};
static const kimi_gemv kimi_wide_gemvs[4] = {kimi_fp8_gemv, kimi_bf16_gemv, kimi_f16_gemv, kimi_f32_gemv};
static const int kimi_wide_gemv_rows[4] = {kimi_fp8_gemv_rows, kimi_bf16_gemv_rows, kimi_f16_gemv_rows, kimi_f32_gemv_rows};

kimi_pass kimi_wide_pass(int dtype, int tokens, int *rows, float *weightScale) {
    int k = tokens == 8 ? 0 : tokens == 4 ? 1 : tokens == 3 ? 2 : 3;
    *rows = k == 0 ? 3 : 4;
    *weightScale = dtype == 0 && k == 0 ? 0x1p112f : 1.0f;  // fp8 as value · 2^-8, not 2^-120
    return kimi_wide_passes[dtype][k];
}

kimi_gemv kimi_wide_gemv(int dtype, int *rows) {
    *rows = kimi_wide_gemv_rows[dtype];
    return kimi_wide_gemvs[dtype];
}

// Transposed passes (Wᵀ over a band of rows for several tokens): 16 columns × T tokens of
// accumulators stay in registers while the rows pass, so each weight vector is decoded once
// for T tokens. Every accumulator is the chain of `gemvTransposedKernel` (TransposedGEMV.swift): from
// zero, one FMA per row in order. y[j][0 ..< 16] = Σ_r decode(w + r·rowBytes)[0 ..< 16] · x[r·T + j]
// for j < nt (x: the tokens' inputs interleaved, row by row).
#define KIMI_FP8(p) ((__m256)kimi_fp8x8_scaled(p))
#define KIMI_BF16(p) ((__m256)kimi_bf16x8(p))
#define KIMI_F16(p) ((__m256)kimi_f16x8(p))
#define KIMI_F32(p) _mm256_loadu_ps((const float *)(p))

#define KIMI_TPASS(NAME, DECODE, SIZE, T)                                                              \
    KIMI_WIDE void NAME(const void *w, long rowBytes, long rows, const float *x, float *const *y, long nt) { \
        const unsigned char *p = (const unsigned char *)w;                                            \
        __m256 a0[T], a1[T];                                                                          \
        _Pragma("clang loop unroll(full)") for (int j = 0; j < T; j++) a0[j] = a1[j] = _mm256_setzero_ps(); \
        _Pragma("clang loop unroll(disable)") for (long r = 0; r < rows; r++, p += rowBytes, x += T) { \
            __m256 v0 = DECODE(p), v1 = DECODE(p + 8 * SIZE);                                         \
            _Pragma("clang loop unroll(full)") for (int j = 0; j < T; j++) {                          \
                __m256 b = _mm256_broadcast_ss(x + j);                                                \
                a0[j] = _mm256_fmadd_ps(v0, b, a0[j]);                                                \
                a1[j] = _mm256_fmadd_ps(v1, b, a1[j]);                                                \
            }                                                                                         \
        }                                                                                             \
        for (int j = 0; j < T && j < nt; j++) {                                                       \
            _mm256_storeu_ps(y[j], a0[j]);                                                            \
            _mm256_storeu_ps(y[j] + 8, a1[j]);                                                        \
        }                                                                                             \
    }

#define KIMI_TPASSES(D, DECODE, SIZE)                     \
    KIMI_TPASS(kimi_##D##_tpass12, DECODE, SIZE, 12)      \
    KIMI_TPASS(kimi_##D##_tpass8, DECODE, SIZE, 8)        \
    KIMI_TPASS(kimi_##D##_tpass4, DECODE, SIZE, 4)

KIMI_TPASSES(fp8, KIMI_FP8, 1)
KIMI_TPASSES(bf16, KIMI_BF16, 2)
KIMI_TPASSES(f16, KIMI_F16, 2)
KIMI_TPASSES(f32, KIMI_F32, 4)

#define KIMI_TPASS_ROW(D) {kimi_##D##_tpass12, kimi_##D##_tpass8, kimi_##D##_tpass4}
static const kimi_tpass kimi_transposed_passes[4][3] = {KIMI_TPASS_ROW(fp8), KIMI_TPASS_ROW(bf16), KIMI_TPASS_ROW(f16), KIMI_TPASS_ROW(f32)};

kimi_tpass kimi_transposed_pass(int dtype, int tokens) {
    return kimi_transposed_passes[dtype][tokens > 8 ? 0 : tokens > 4 ? 1 : 2];
}

// The one-token transposed GEMV over a slice of up to 256 columns: sixteen 16-lane
// accumulators hold the whole slice while the rows pass, each row read once, front to back
// (the rows of a band follow each other in memory, so the slice is one stream when it spans
// the rows). Each y[c] is the chain of `gemvTransposedKernel`: from zero, one FMA per row in
// order, with row r's multiplier for c's 128-column block, s[2·r + (c ≥ 128)].
#define KIMI_TGEMV(NAME, DECODE, SIZE)                                                                \
    KIMI_WIDE void NAME(const void *w, long rowBytes, long rows, const float *s, long cols, float *y) { \
        const unsigned char *p = (const unsigned char *)w;                                           \
        long n = cols / 16;                                                                          \
        __m512 a[16];                                                                                \
        _Pragma("clang loop unroll(full)") for (int k = 0; k < 16; k++) a[k] = _mm512_setzero_ps();  \
        _Pragma("clang loop unroll(disable)") for (long r = 0; r < rows; r++, p += rowBytes, s += 2) { \
            __m512 s0 = _mm512_set1_ps(s[0]), s1 = _mm512_set1_ps(s[1]);                             \
            _Pragma("clang loop unroll(full)") for (int k = 0; k < 16; k++)                          \
                if (k < n) a[k] = _mm512_fmadd_ps(DECODE(p + SIZE * 16 * k), k < 8 ? s0 : s1, a[k]);  \
        }                                                                                            \
        _Pragma("clang loop unroll(full)") for (int k = 0; k < 16; k++)                              \
            if (k < n) _mm512_storeu_ps(y + 16 * k, a[k]);                                           \
    }

KIMI_TGEMV(kimi_fp8_tgemv, kimi_fp8x16_scaled, 1)
KIMI_TGEMV(kimi_bf16_tgemv, kimi_bf16x16, 2)
KIMI_TGEMV(kimi_f16_tgemv, kimi_f16x16, 2)
KIMI_TGEMV(kimi_f32_tgemv, kimi_f32x16, 4)

static const kimi_tgemv kimi_transposed_gemvs[4] = {kimi_fp8_tgemv, kimi_bf16_tgemv, kimi_f16_tgemv, kimi_f32_tgemv};

kimi_tgemv kimi_transposed_gemv(int dtype) { return kimi_transposed_gemvs[dtype]; }

int kimi_has_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!(b & (1u << 16)) || !(b & (1u << 17)) || !(b & (1u << 31))) return 0;  // AVX512F, DQ, VL
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0xE6) == 0xE6;  // the OS saves the SSE, AVX, opmask and upper ZMM state
}
