// A minimal vector-of-doubles wrapper, one definition per instruction-set level.
//
// This header is compiled several times, once per translation unit with its own target flags
// (cpp/src/isa_*.cpp). Each includer defines STEEPEST_ISA_LEVEL (0 = SSE2 baseline, 1 = AVX2+FMA,
// 2 = AVX-512, -1 = portable: plain C++, no intrinsics, for any CPU) and STEEPEST_ISA_NS (a namespace
// unique to that level), so the same inline functions compiled with different flags never share a
// symbol (no ODR clash between levels). The portable level computes exactly what the SSE2 baseline
// computes, operation for operation (two lanes, separate multiply and add, the same max/min/select
// rules on NaN, the same bit manipulations), so its results are bitwise the baseline's.
#pragma once

#include <cstdint>
#include <cstring>

#ifndef STEEPEST_ISA_LEVEL
#define STEEPEST_ISA_LEVEL 0
#endif
#if STEEPEST_ISA_LEVEL >= 0
#include <immintrin.h>
#endif
#ifndef STEEPEST_ISA_NS
#define STEEPEST_ISA_NS isa_baseline
#endif

namespace steepest {
namespace STEEPEST_ISA_NS {

#if STEEPEST_ISA_LEVEL >= 2

constexpr int kLanes = 8;
constexpr int kVectorRegisters = 32;
struct vd {
    __m512d v;
};
inline vd vzero() { return {_mm512_setzero_pd()}; }
inline vd vset1(double a) { return {_mm512_set1_pd(a)}; }
inline vd vload(const double* p) { return {_mm512_loadu_pd(p)}; }
inline vd vload(const float* p) { return {_mm512_cvtps_pd(_mm256_loadu_ps(p))}; }
inline void vstore(double* p, vd a) { _mm512_storeu_pd(p, a.v); }
inline vd vadd(vd a, vd b) { return {_mm512_add_pd(a.v, b.v)}; }
inline vd vsub(vd a, vd b) { return {_mm512_sub_pd(a.v, b.v)}; }
inline vd vmul(vd a, vd b) { return {_mm512_mul_pd(a.v, b.v)}; }
inline vd vfmadd(vd a, vd b, vd c) { return {_mm512_fmadd_pd(a.v, b.v, c.v)}; }
// max(a, b); returns b when either is NaN, so vmax(zero, m) propagates a NaN m.
inline vd vmax(vd a, vd b) { return {_mm512_max_pd(a.v, b.v)}; }
inline vd vmin(vd a, vd b) { return {_mm512_min_pd(a.v, b.v)}; }
inline vd vabs(vd a) { return {_mm512_andnot_pd(_mm512_set1_pd(-0.0), a.v)}; }
inline vd vdiv(vd a, vd b) { return {_mm512_div_pd(a.v, b.v)}; }
inline vd vselect_gt(vd a, vd b, vd x, vd y) { return {_mm512_mask_blend_pd(_mm512_cmp_pd_mask(a.v, b.v, _CMP_GT_OQ), y.v, x.v)}; }
// 2^n for integer-valued n in [-1022, 1023]
inline vd vpow2i(vd n) {
    __m512i bits = _mm512_castpd_si512(_mm512_add_pd(n.v, _mm512_set1_pd(1023.0 + 0x1p52)));
    return {_mm512_castsi512_pd(_mm512_slli_epi64(bits, 52))};
}
// s = m * 2^e with m in [1, 2) for positive normal s: returns m, sets e (as a double)
inline vd vfrexp(vd s, vd& e) {
    __m512i bits = _mm512_castpd_si512(s.v);
    __m512i expo = _mm512_or_si512(_mm512_srli_epi64(bits, 52), _mm512_castpd_si512(_mm512_set1_pd(0x1p52)));
    e = {_mm512_sub_pd(_mm512_castsi512_pd(expo), _mm512_set1_pd(0x1p52 + 1023.0))};
    __m512i mant = _mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi64(0x000FFFFFFFFFFFFFLL)),
                                   _mm512_set1_epi64(0x3FF0000000000000LL));
    return {_mm512_castsi512_pd(mant)};
}
inline double vhsum(vd a) {
    __m256d lo = _mm512_castpd512_pd256(a.v);
    __m256d hi = _mm512_extractf64x4_pd(a.v, 1);
    __m256d s = _mm256_add_pd(lo, hi);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

#elif STEEPEST_ISA_LEVEL == 1

constexpr int kLanes = 4;
constexpr int kVectorRegisters = 16;
struct vd {
    __m256d v;
};
inline vd vzero() { return {_mm256_setzero_pd()}; }
inline vd vset1(double a) { return {_mm256_set1_pd(a)}; }
inline vd vload(const double* p) { return {_mm256_loadu_pd(p)}; }
inline vd vload(const float* p) { return {_mm256_cvtps_pd(_mm_loadu_ps(p))}; }
inline void vstore(double* p, vd a) { _mm256_storeu_pd(p, a.v); }
inline vd vadd(vd a, vd b) { return {_mm256_add_pd(a.v, b.v)}; }
inline vd vsub(vd a, vd b) { return {_mm256_sub_pd(a.v, b.v)}; }
inline vd vmul(vd a, vd b) { return {_mm256_mul_pd(a.v, b.v)}; }
inline vd vfmadd(vd a, vd b, vd c) { return {_mm256_fmadd_pd(a.v, b.v, c.v)}; }
inline vd vmax(vd a, vd b) { return {_mm256_max_pd(a.v, b.v)}; }
inline vd vmin(vd a, vd b) { return {_mm256_min_pd(a.v, b.v)}; }
inline vd vabs(vd a) { return {_mm256_andnot_pd(_mm256_set1_pd(-0.0), a.v)}; }
inline vd vdiv(vd a, vd b) { return {_mm256_div_pd(a.v, b.v)}; }
inline vd vselect_gt(vd a, vd b, vd x, vd y) { return {_mm256_blendv_pd(y.v, x.v, _mm256_cmp_pd(a.v, b.v, _CMP_GT_OQ))}; }
inline vd vpow2i(vd n) {
    __m256i bits = _mm256_castpd_si256(_mm256_add_pd(n.v, _mm256_set1_pd(1023.0 + 0x1p52)));
    return {_mm256_castsi256_pd(_mm256_slli_epi64(bits, 52))};
}
inline vd vfrexp(vd s, vd& e) {
    __m256i bits = _mm256_castpd_si256(s.v);
    __m256i expo = _mm256_or_si256(_mm256_srli_epi64(bits, 52), _mm256_castpd_si256(_mm256_set1_pd(0x1p52)));
    e = {_mm256_sub_pd(_mm256_castsi256_pd(expo), _mm256_set1_pd(0x1p52 + 1023.0))};
    __m256i mant = _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
                                   _mm256_set1_epi64x(0x3FF0000000000000LL));
    return {_mm256_castsi256_pd(mant)};
}
inline double vhsum(vd a) {
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(a.v), _mm256_extractf128_pd(a.v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

#elif STEEPEST_ISA_LEVEL == 0

constexpr int kLanes = 2;
constexpr int kVectorRegisters = 16;
struct vd {
    __m128d v;
};
inline vd vzero() { return {_mm_setzero_pd()}; }
inline vd vset1(double a) { return {_mm_set1_pd(a)}; }
inline vd vload(const double* p) { return {_mm_loadu_pd(p)}; }
inline vd vload(const float* p) {
    std::int64_t bits;
    std::memcpy(&bits, p, sizeof bits);
    return {_mm_cvtps_pd(_mm_castsi128_ps(_mm_cvtsi64_si128(bits)))};
}
inline void vstore(double* p, vd a) { _mm_storeu_pd(p, a.v); }
inline vd vadd(vd a, vd b) { return {_mm_add_pd(a.v, b.v)}; }
inline vd vsub(vd a, vd b) { return {_mm_sub_pd(a.v, b.v)}; }
inline vd vmul(vd a, vd b) { return {_mm_mul_pd(a.v, b.v)}; }
// No FMA at the baseline level: a separate multiply and add.
inline vd vfmadd(vd a, vd b, vd c) { return {_mm_add_pd(_mm_mul_pd(a.v, b.v), c.v)}; }
inline vd vmax(vd a, vd b) { return {_mm_max_pd(a.v, b.v)}; }
inline vd vmin(vd a, vd b) { return {_mm_min_pd(a.v, b.v)}; }
inline vd vabs(vd a) { return {_mm_andnot_pd(_mm_set1_pd(-0.0), a.v)}; }
inline vd vdiv(vd a, vd b) { return {_mm_div_pd(a.v, b.v)}; }
inline vd vselect_gt(vd a, vd b, vd x, vd y) {
    __m128d m = _mm_cmpgt_pd(a.v, b.v);
    return {_mm_or_pd(_mm_and_pd(m, x.v), _mm_andnot_pd(m, y.v))};
}
inline vd vpow2i(vd n) {
    __m128i bits = _mm_castpd_si128(_mm_add_pd(n.v, _mm_set1_pd(1023.0 + 0x1p52)));
    return {_mm_castsi128_pd(_mm_slli_epi64(bits, 52))};
}
inline vd vfrexp(vd s, vd& e) {
    __m128i bits = _mm_castpd_si128(s.v);
    __m128i expo = _mm_or_si128(_mm_srli_epi64(bits, 52), _mm_castpd_si128(_mm_set1_pd(0x1p52)));
    e = {_mm_sub_pd(_mm_castsi128_pd(expo), _mm_set1_pd(0x1p52 + 1023.0))};
    __m128i mant = _mm_or_si128(_mm_and_si128(bits, _mm_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
                                _mm_set1_epi64x(0x3FF0000000000000LL));
    return {_mm_castsi128_pd(mant)};
}
inline double vhsum(vd a) { return _mm_cvtsd_f64(_mm_add_sd(a.v, _mm_unpackhi_pd(a.v, a.v))); }

#else  // portable: the SSE2 baseline's operations in plain C++

constexpr int kLanes = 2;
constexpr int kVectorRegisters = 16;
struct vd {
    double v[2];
};
inline std::uint64_t bits_of(double x) {
    std::uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}
inline double double_of(std::uint64_t b) {
    double x;
    std::memcpy(&x, &b, sizeof x);
    return x;
}
inline vd vzero() { return {{0.0, 0.0}}; }
inline vd vset1(double a) { return {{a, a}}; }
inline vd vload(const double* p) { return {{p[0], p[1]}}; }
inline vd vload(const float* p) { return {{static_cast<double>(p[0]), static_cast<double>(p[1])}}; }
inline void vstore(double* p, vd a) {
    p[0] = a.v[0];
    p[1] = a.v[1];
}
inline vd vadd(vd a, vd b) { return {{a.v[0] + b.v[0], a.v[1] + b.v[1]}}; }
inline vd vsub(vd a, vd b) { return {{a.v[0] - b.v[0], a.v[1] - b.v[1]}}; }
inline vd vmul(vd a, vd b) { return {{a.v[0] * b.v[0], a.v[1] * b.v[1]}}; }
// No fused multiply-add (as at the baseline level): a rounded product, then the sum.
inline vd vfmadd(vd a, vd b, vd c) { return vadd(vmul(a, b), c); }
// maxpd / minpd: the second operand whenever the comparison is false (so on NaN)
inline vd vmax(vd a, vd b) { return {{a.v[0] > b.v[0] ? a.v[0] : b.v[0], a.v[1] > b.v[1] ? a.v[1] : b.v[1]}}; }
inline vd vmin(vd a, vd b) { return {{a.v[0] < b.v[0] ? a.v[0] : b.v[0], a.v[1] < b.v[1] ? a.v[1] : b.v[1]}}; }
inline vd vabs(vd a) {
    const std::uint64_t mask = ~(std::uint64_t(1) << 63);
    return {{double_of(bits_of(a.v[0]) & mask), double_of(bits_of(a.v[1]) & mask)}};
}
inline vd vdiv(vd a, vd b) { return {{a.v[0] / b.v[0], a.v[1] / b.v[1]}}; }
inline vd vselect_gt(vd a, vd b, vd x, vd y) {
    return {{a.v[0] > b.v[0] ? x.v[0] : y.v[0], a.v[1] > b.v[1] ? x.v[1] : y.v[1]}};
}
inline vd vpow2i(vd n) {
    vd t = vadd(n, vset1(1023.0 + 0x1p52));
    return {{double_of(bits_of(t.v[0]) << 52), double_of(bits_of(t.v[1]) << 52)}};
}
inline vd vfrexp(vd s, vd& e) {
    const std::uint64_t big = bits_of(0x1p52), mant_mask = 0x000FFFFFFFFFFFFFULL, one = 0x3FF0000000000000ULL;
    vd m;
    for (int i = 0; i < 2; ++i) {
        const std::uint64_t b = bits_of(s.v[i]);
        e.v[i] = double_of((b >> 52) | big) - (0x1p52 + 1023.0);
        m.v[i] = double_of((b & mant_mask) | one);
    }
    return m;
}
inline double vhsum(vd a) { return a.v[0] + a.v[1]; }

#endif

// a, held in a register from here on: a value used by several multiply-adds is then loaded once,
// not folded into each of them as a memory operand (GCC does that, which doubles the loads of a
// register block and makes it load-bound on cores with two vector loads a cycle).
inline vd vregister(vd a) {
#if STEEPEST_ISA_LEVEL >= 0 && (defined(__GNUC__) || defined(__clang__))
    __asm__("" : "+v"(a.v));
#endif
    return a;
}

// exp(x), relative error about 1e-16, for any x (results below 2^-1022 flush to about 1e-308,
// above 2^1023 saturate; NaN stays NaN). Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, and
// the degree-13 Taylor polynomial of e^r.
inline vd vexp(vd x) {
    x = vmin(vset1(709.0), vmax(vset1(-708.0), x));  // second operand returned on NaN: x
    const vd magic = vset1(0x1.8p52);
    vd n = vsub(vadd(vmul(x, vset1(1.4426950408889634)), magic), magic);  // round to nearest
    vd r = vfmadd(n, vset1(-6.93147180369123816490e-01), x);  // ln2 high part: exact product
    r = vfmadd(n, vset1(-1.90821492927058770002e-10), r);
    vd p = vset1(1.0 / 6227020800.0);
    const double c[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                          1.0 / 5040.0,      1.0 / 720.0,        1.0 / 120.0,      1.0 / 24.0,      1.0 / 6.0,
                          0.5,               1.0,                1.0};
    for (int k = 0; k < 13; ++k) p = vfmadd(p, r, vset1(c[k]));
    return vmul(p, vpow2i(n));
}

// log(s) for positive normal s, relative error about 1e-16: s = m 2^e, m in [sqrt(1/2), sqrt(2)),
// log(m) = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.172 (series to f^23).
inline vd vlog(vd s) {
    vd e;
    vd m = vfrexp(s, e);
    const vd one = vset1(1.0);
    vd big = vselect_gt(m, vset1(1.4142135623730951), one, vzero());
    m = vselect_gt(m, vset1(1.4142135623730951), vmul(m, vset1(0.5)), m);
    e = vadd(e, big);
    vd f = vdiv(vsub(m, one), vadd(m, one));
    vd f2 = vmul(f, f);
    vd q = vset1(1.0 / 23.0);
    for (int k = 21; k >= 1; k -= 2) q = vfmadd(q, f2, vset1(1.0 / k));
    vd logm = vmul(vadd(f, f), q);
    // e ln2 in two parts (the high part times e is exact)
    return vadd(vfmadd(e, vset1(6.93147180369123816490e-01), vfmadd(e, vset1(1.90821492927058770002e-10), logm)), vzero());
}

// Block transposes used to gather C-order tiles: dst[k * ldd + r] = src[r * lds + k] for
// r, k < kTransposeDouble (resp. kTransposeFloat).
#if STEEPEST_ISA_LEVEL >= 2
constexpr int kTransposeDouble = 8;
inline void transpose_block(const double* src, std::int64_t lds, double* dst, std::int64_t ldd) {
    __m512d r[8], t[8], u[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm512_loadu_pd(src + i * lds);
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
    }
    const __m512i lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0), hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    for (int h = 0; h < 2; ++h) {  // rows 4h..4h+3
        u[4 * h + 0] = _mm512_permutex2var_pd(t[4 * h + 0], lo, t[4 * h + 2]);
        u[4 * h + 1] = _mm512_permutex2var_pd(t[4 * h + 1], lo, t[4 * h + 3]);
        u[4 * h + 2] = _mm512_permutex2var_pd(t[4 * h + 0], hi, t[4 * h + 2]);
        u[4 * h + 3] = _mm512_permutex2var_pd(t[4 * h + 1], hi, t[4 * h + 3]);
    }
    const __m512i a = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0), b = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
    for (int k = 0; k < 4; ++k) {
        _mm512_storeu_pd(dst + k * ldd, _mm512_permutex2var_pd(u[k], a, u[k + 4]));
        _mm512_storeu_pd(dst + (k + 4) * ldd, _mm512_permutex2var_pd(u[k], b, u[k + 4]));
    }
}
#elif STEEPEST_ISA_LEVEL == 1
constexpr int kTransposeDouble = 4;
inline void transpose_block(const double* src, std::int64_t lds, double* dst, std::int64_t ldd) {
    __m256d r0 = _mm256_loadu_pd(src), r1 = _mm256_loadu_pd(src + lds), r2 = _mm256_loadu_pd(src + 2 * lds),
            r3 = _mm256_loadu_pd(src + 3 * lds);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1), t2 = _mm256_unpacklo_pd(r2, r3),
            t3 = _mm256_unpackhi_pd(r2, r3);
    _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(dst + ldd, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(dst + 2 * ldd, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(dst + 3 * ldd, _mm256_permute2f128_pd(t1, t3, 0x31));
}
#elif STEEPEST_ISA_LEVEL == 0
constexpr int kTransposeDouble = 2;
inline void transpose_block(const double* src, std::int64_t lds, double* dst, std::int64_t ldd) {
    __m128d r0 = _mm_loadu_pd(src), r1 = _mm_loadu_pd(src + lds);
    _mm_storeu_pd(dst, _mm_unpacklo_pd(r0, r1));
    _mm_storeu_pd(dst + ldd, _mm_unpackhi_pd(r0, r1));
}
#else
constexpr int kTransposeDouble = 2;
inline void transpose_block(const double* src, std::int64_t lds, double* dst, std::int64_t ldd) {
    const double a0 = src[0], a1 = src[1], b0 = src[lds], b1 = src[lds + 1];
    dst[0] = a0;
    dst[1] = b0;
    dst[ldd] = a1;
    dst[ldd + 1] = b1;
}
#endif

#if STEEPEST_ISA_LEVEL >= 1
constexpr int kTransposeFloat = 8;
inline void transpose_block(const float* src, std::int64_t lds, float* dst, std::int64_t ldd) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; ++h) {
        u[4 * h + 0] = _mm256_shuffle_ps(t[4 * h + 0], t[4 * h + 2], 0x44);
        u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h + 0], t[4 * h + 2], 0xEE);
        u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
        u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    for (int k = 0; k < 4; ++k) {
        _mm256_storeu_ps(dst + k * ldd, _mm256_permute2f128_ps(u[k], u[k + 4], 0x20));
        _mm256_storeu_ps(dst + (k + 4) * ldd, _mm256_permute2f128_ps(u[k], u[k + 4], 0x31));
    }
}
#elif STEEPEST_ISA_LEVEL < 0
constexpr int kTransposeFloat = 4;
inline void transpose_block(const float* src, std::int64_t lds, float* dst, std::int64_t ldd) {
    float t[4][4];
    for (int r = 0; r < 4; ++r)
        for (int k = 0; k < 4; ++k) t[k][r] = src[r * lds + k];
    for (int k = 0; k < 4; ++k)
        for (int r = 0; r < 4; ++r) dst[k * ldd + r] = t[k][r];
}
#else
constexpr int kTransposeFloat = 4;
inline void transpose_block(const float* src, std::int64_t lds, float* dst, std::int64_t ldd) {
    __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + lds), r2 = _mm_loadu_ps(src + 2 * lds),
           r3 = _mm_loadu_ps(src + 3 * lds);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(dst, r0);
    _mm_storeu_ps(dst + ldd, r1);
    _mm_storeu_ps(dst + 2 * ldd, r2);
    _mm_storeu_ps(dst + 3 * ldd, r3);
}
#endif
inline constexpr int transpose_width(double*) { return kTransposeDouble; }
inline constexpr int transpose_width(float*) { return kTransposeFloat; }

// Scalar multiply-add matching vfmadd's rounding at this level (fused where the vector one is).
inline double sfmadd(double a, double b, double c) {
#if STEEPEST_ISA_LEVEL >= 1
    return _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(a), _mm_set_sd(b), _mm_set_sd(c)));
#else
    return a * b + c;
#endif
}

}  // namespace STEEPEST_ISA_NS
}  // namespace steepest
