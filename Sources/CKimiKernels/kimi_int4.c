// compressed-tensors "pack-quantized" int4 weights (the layout of its pack_to_int32): a row is
// ceil(cols / 8) little-endian int32 words, column c's 4-bit code in bits 4·(c % 8) of word
// c / 8, the code stored as value + 8. Dequantised as compressed-tensors does it, in the
// scale's dtype: (code − 8) · scale, which is exact in float32 (a 4-bit integer times an 8- or
// 11-bit significand), then rounded to the scale's dtype (round to nearest even).
#include "kimi_wide.h"

// (code − 8) · s rounded to the scale's dtype, eight columns at a time.
static inline __attribute__((always_inline)) __m256 kimi_int4_round8(__m256 v, int scaleType) {
    if (scaleType == KIMI_SCALE_BF16) {
        __m256i b = _mm256_castps_si256(v);
        __m256i odd = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
        b = _mm256_add_epi32(b, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7FFF)));
        return _mm256_castsi256_ps(_mm256_and_si256(b, _mm256_set1_epi32((int)0xFFFF0000u)));
    }
    if (scaleType == KIMI_SCALE_F16) return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return v;
}

static inline __attribute__((always_inline)) float kimi_int4_scale(const unsigned char *scales, int scaleType, long g) {
    if (scaleType == KIMI_SCALE_BF16) {
        unsigned short h;
        __builtin_memcpy(&h, scales + 2 * g, 2);
        unsigned bits = (unsigned)h << 16;
        float f;
        __builtin_memcpy(&f, &bits, 4);
        return f;
    }
    if (scaleType == KIMI_SCALE_F16) {
        _Float16 h;
        __builtin_memcpy(&h, scales + 2 * g, 2);
        return (float)h;
    }
    float f;
    __builtin_memcpy(&f, scales + 4 * g, 4);
    return f;
}

void kimi_int4_dequantize(const void *packed, long packedRowBytes, const void *scales, long scaleRowBytes, int scaleType,
                          long group, long rows, long c0, long c1, float *out, long outStride) {
    const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    for (long i = 0; i < rows; i++) {
        const unsigned char *w = (const unsigned char *)packed + i * packedRowBytes;
        const unsigned char *s = (const unsigned char *)scales + i * scaleRowBytes;
        float *o = out + i * outStride - c0;
        long c = c0;
        // Eight columns (one word) at a time; a word never straddles two groups (group: a
        // multiple of 16, or the whole row).
        for (; c + 8 <= c1; c += 8) {
            int word;
            __builtin_memcpy(&word, w + c / 2, 4);
            __m256i codes = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(word), shifts), _mm256_set1_epi32(15));
            __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(codes, _mm256_set1_epi32(8)));
            v = _mm256_mul_ps(v, _mm256_set1_ps(kimi_int4_scale(s, scaleType, c / group)));
            _mm256_storeu_ps(o + c, kimi_int4_round8(v, scaleType));
        }
        for (; c < c1; c++) {
            int code = (w[c / 2] >> (4 * (c & 1))) & 15;
            o[c] = _mm256_cvtss_f32(kimi_int4_round8(_mm256_set1_ps((float)(code - 8) * kimi_int4_scale(s, scaleType, c / group)), scaleType));
        }
    }
}

// A group's sixteen values, (k − 8) · s rounded to the scale's dtype for codes k = 0 … 15: the
// decode looks each weight up here (vpermps reads only an index's low four bits), so the
// rounding is paid once per row and group instead of once per weight.
static inline KIMI_WIDE __m512 kimi_int4_table(const float *scale, int scaleType) {
    const __m512 values = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
    __m512 v = _mm512_mul_ps(values, _mm512_set1_ps(*scale));
    if (scaleType == KIMI_SCALE_BF16) {
        __m512i b = _mm512_castps_si512(v);
        __m512i odd = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
        b = _mm512_add_epi32(b, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7FFF)));
        return _mm512_castsi512_ps(_mm512_and_si512(b, _mm512_set1_epi32((int)0xFFFF0000u)));
    }
    if (scaleType == KIMI_SCALE_F16) return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return v;
}

// With groups of a multiple of 32 columns the AVX-512 kernels take the columns in the "int4
// order": within each 32-column block (columns 32b ..< 32b + 32), first its even columns, then
// its odd ones. Sixteen bytes widened to one byte per lane then give the even columns' codes in
// each lane's low four bits and, shifted down by four, the odd columns': one widening and one
// shift per 32 weights (vpermps reads only an index's low four bits). Groups of 16 go sixteen
// columns at a time in their own order.

// The scales of groups g ..< g + 16 as floats (fewer where the row has fewer), widened
// sixteen at a time so that each table broadcasts its scale from memory.
static inline KIMI_WIDE void kimi_int4_scales16(const unsigned char *scales, int scaleType, long g, long groups, float *out) {
    if (g + 16 > groups) {
        for (long k = g; k < groups; k++) out[k - g] = kimi_int4_scale(scales, scaleType, k);
        return;
    }
    __m512 v;
    if (scaleType == KIMI_SCALE_BF16)
        v = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(scales + 2 * g))), 16));
    else if (scaleType == KIMI_SCALE_F16)
        v = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(scales + 2 * g)));
    else
        v = _mm512_loadu_ps((const float *)scales + g);
    _mm512_storeu_ps(out, v);
}

// Columns c ..< c + 16 in their own order: each byte doubled, widened, the odd lanes shifted
// down to their high nibble.
static inline KIMI_WIDE __m512i kimi_int4_codes16(const unsigned char *row, long c) {
    __m128i b = _mm_loadl_epi64((const __m128i *)(row + c / 2));
    __m512i v = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(b, b));
    return _mm512_srlv_epi32(v, _mm512_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4));
}

KIMI_WIDE void kimi_int4_order(const float *x, long cols, float *out) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    long c = 0;
    for (; c + 32 <= cols; c += 32) {
        __m512 a = _mm512_loadu_ps(x + c), b = _mm512_loadu_ps(x + c + 16);
        _mm512_storeu_ps(out + c, _mm512_permutex2var_ps(a, even, b));
        _mm512_storeu_ps(out + c + 16, _mm512_permutex2var_ps(a, odd, b));
    }
    for (; c < cols; c++) out[c] = x[c];
}

KIMI_WIDE void kimi_int4_dequantize_ordered(const void *packed, long packedRowBytes, const void *scales, long scaleRowBytes,
                                            int scaleType, long group, long rows, long cols, float *out, long outStride) {
    for (long i = 0; i < rows; i++) {
        const unsigned char *w = (const unsigned char *)packed + i * packedRowBytes;
        const unsigned char *s = (const unsigned char *)scales + i * scaleRowBytes;
        float *o = out + i * outStride, sc[16];
        const long groups = (cols + group - 1) / group;
        for (long g0 = 0; g0 < cols; g0 += group) {
            if (g0 / group % 16 == 0) kimi_int4_scales16(s, scaleType, g0 / group, groups, sc);
            __m512 table = kimi_int4_table(sc + g0 / group % 16, scaleType);
            long end = g0 + group <= cols ? g0 + group : cols;
            long c = g0;
            for (; c + 32 <= end; c += 32) {
                __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(w + c / 2)));
                _mm512_storeu_ps(o + c, _mm512_permutexvar_ps(v, table));
                _mm512_storeu_ps(o + c + 16, _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), table));
            }
            if (c < end) _mm512_storeu_ps(o + c, _mm512_permutexvar_ps(kimi_int4_codes16(w, c), table));
        }
    }
}

KIMI_WIDE void kimi_int4_gemv(const void *const *rows, const void *const *scaleRows, int scaleType, long group,
                              const float *x, long vectorEnd, long ahead, long scalesAhead, const kimi_results *out) {
    enum { R = KIMI_INT4_GEMV_ROWS };
    const long scaleStep = R * 128 / group * (scaleType == KIMI_SCALE_F32 ? 4 : 2);  // the rows' scale bytes per 128 columns
    const unsigned char *w[R], *s[R];
    __m512 a[R];
    for (int i = 0; i < R; i++) {
        w[i] = (const unsigned char *)rows[i];
        s[i] = (const unsigned char *)scaleRows[i];
        a[i] = _mm512_setzero_ps();
    }
    const long groups = (vectorEnd + group - 1) / group;
    float sc[R][16];
    for (long g0 = 0; g0 < vectorEnd; g0 += group) {
        if (g0 / group % 16 == 0)
            _Pragma("clang loop unroll(full)") for (int i = 0; i < R; i++) kimi_int4_scales16(s[i], scaleType, g0 / group, groups, sc[i]);
        __m512 table[R];
        _Pragma("clang loop unroll(full)") for (int i = 0; i < R; i++) table[i] = kimi_int4_table(&sc[i][g0 / group % 16], scaleType);
        long end = g0 + group <= vectorEnd ? g0 + group : vectorEnd;
        long c = g0;
        _Pragma("clang loop unroll(disable)") for (; c + 32 <= end; c += 32) {
            // Every 128 columns: the R lines (64 bytes of each row's width) `ahead` bytes on, in
            // address order, and the rows' scales for those columns `scalesAhead` bytes on.
            if (ahead && c % 128 == 0) {
                _Pragma("clang loop unroll(full)") for (int line = 0; line < R; line++)
                    kimi_prefetch(w[0] + ahead + R * (c / 2) + 64 * line);
                kimi_prefetch(s[0] + scalesAhead + c / 128 * scaleStep);
            }
            __m512 xe = _mm512_loadu_ps(x + c), xo = _mm512_loadu_ps(x + c + 16);
            _Pragma("clang loop unroll(full)") for (int i = 0; i < R; i++) {
                __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(w[i] + c / 2)));
                a[i] = _mm512_fmadd_ps(_mm512_permutexvar_ps(v, table[i]), xe, a[i]);
                a[i] = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), table[i]), xo, a[i]);
            }
        }
        if (c < end) {  // a group of 16 columns
            __m512 xv = _mm512_loadu_ps(x + c);
            _Pragma("clang loop unroll(full)") for (int i = 0; i < R; i++)
                a[i] = _mm512_fmadd_ps(_mm512_permutexvar_ps(kimi_int4_codes16(w[i], c), table[i]), xv, a[i]);
        }
    }
    kimi_finish(a, R, 1, out);
}

void kimi_int4_quantize_row(const float *w, long cols, long group, void *packed, unsigned short *scales) {
    const __m256 sign = _mm256_set1_ps(-0.0f), low = _mm256_set1_ps(-8.0f), high = _mm256_set1_ps(7.0f);
    const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28), eight = _mm256_set1_epi32(8);
    unsigned char *out = (unsigned char *)packed;
    for (long g = 0; g < cols / group; g++) {
        const float *x = w + g * group;
        __m256 m = _mm256_setzero_ps();
        for (long c = 0; c < group; c += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + c)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
        float observed = _mm_cvtss_f32(h) / 7.5f;
        if (observed == 0) observed = 0x1p-23f;  // float32's epsilon
        unsigned bits;
        __builtin_memcpy(&bits, &observed, 4);
        unsigned short rounded = (unsigned short)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
        scales[g] = rounded;
        unsigned scaleBits = (unsigned)rounded << 16;
        float scale;
        __builtin_memcpy(&scale, &scaleBits, 4);
        __m256 s = _mm256_set1_ps(scale);
        for (long c = 0; c < group; c += 8) {
            __m256 q = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(x + c), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            q = _mm256_min_ps(_mm256_max_ps(q, low), high);
            __m256i codes = _mm256_sllv_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(q), eight), shifts);
            __m128i o = _mm_or_si128(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1));
            o = _mm_or_si128(o, _mm_unpackhi_epi64(o, o));
            o = _mm_or_si128(o, _mm_srli_epi64(o, 32));
            int word = _mm_cvtsi128_si32(o);
            __builtin_memcpy(out + (g * group + c) / 2, &word, 4);
        }
    }
}
