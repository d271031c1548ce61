/* rt_format.c - reals as text: the shortest decimal that reads back as the same double, found
 * with Ryu (Ulf Adams, "Ryu: fast float-to-string conversion", PLDI 2018), laid out as `print`
 * and the CSV write it. Written from the paper's algorithm; tables in rt_ryu_table.h.
 *
 * The idea: a double v = m2 * 2^e2 rounds back from any decimal inside the interval halfway
 * to its neighbours. Ryu scales the interval's bounds (4 m2 - 1 or - 2, 4 m2 + 2, times
 * 2^(e2 - 2)) by a power of ten into 64-bit integers with one 128-bit multiplication each,
 * then removes decimal digits while the bounds still differ, keeping the last removed digit
 * (and whether all removed digits were zero) to round to the closest candidate. Among
 * decimals of the fewest digits inside the interval it picks the closest to v (ties to an
 * even digit), so it is never longer than the shortest %.{1..17}g that round-trips, and
 * shorter where that one misses (2^-652 has 16 digits, not %.17g's 17). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "rt.h"
#include "rt_ryu_table.h"

typedef unsigned __int128 u128;

static inline uint32_t pow5bits(int32_t e) { return (uint32_t)(((e * 1217359) >> 19) + 1); }
static inline uint32_t log10_pow2(int32_t e) { return (uint32_t)((e * 78913) >> 18); }
static inline uint32_t log10_pow5(int32_t e) { return (uint32_t)((e * 732923) >> 20); }

static inline uint32_t pow5_factor(uint64_t v)
{
    uint32_t count = 0;
    for (; v % 5 == 0; v /= 5)
        count++;
    return count;
}

static inline bool multiple_of_pow5(uint64_t v, uint32_t p) { return pow5_factor(v) >= p; }
static inline bool multiple_of_pow2(uint64_t v, uint32_t p) { return (v & ((1ull << p) - 1)) == 0; }

/* (m * mul) >> j for the 128-bit mul, j >= 64. */
static inline uint64_t mul_shift(uint64_t m, const uint64_t *mul, int32_t j)
{
    u128 b0 = (u128)m * mul[0], b2 = (u128)m * mul[1];
    return (uint64_t)(((b0 >> 64) + b2) >> (j - 64));
}

/* The shortest decimal digits and power of ten of the finite, nonzero |v| = m2 * 2^e2 (as
 * IEEE fields: mantissa bits and biased exponent). */
typedef struct decimal { uint64_t digits; int32_t exp10; } decimal;

static decimal shortest(uint64_t mantissa, uint32_t exponent)
{
    int32_t e2;
    uint64_t m2;
    if (exponent == 0) {
        e2 = 1 - 1023 - 52 - 2;
        m2 = mantissa;
    } else {
        e2 = (int32_t)exponent - 1023 - 52 - 2;
        m2 = (1ull << 52) | mantissa;
    }
    bool even = (m2 & 1) == 0, accept_bounds = even;
    uint64_t mv = 4 * m2;
    uint32_t mm_shift = mantissa != 0 || exponent <= 1;   /* the lower gap is half at 2^k */
    uint64_t vr, vp, vm;
    int32_t e10;
    bool vm_zeros = false, vr_zeros = false;   /* removed digits all zero */
    if (e2 >= 0) {
        uint32_t q = log10_pow2(e2) - (e2 > 3);
        e10 = (int32_t)q;
        int32_t k = RYU_POW5_INV_BITS + (int32_t)pow5bits((int32_t)q) - 1;
        int32_t i = -e2 + (int32_t)q + k;
        vr = mul_shift(4 * m2, ryu_pow5_inv[q], i);
        vp = mul_shift(4 * m2 + 2, ryu_pow5_inv[q], i);
        vm = mul_shift(4 * m2 - 1 - mm_shift, ryu_pow5_inv[q], i);
        if (q <= 21) {
            if (mv % 5 == 0)
                vr_zeros = multiple_of_pow5(mv, q);
            else if (accept_bounds)
                vm_zeros = multiple_of_pow5(mv - 1 - mm_shift, q);
            else
                vp -= multiple_of_pow5(mv + 2, q);
        }
    } else {
        uint32_t q = log10_pow5(-e2) - (-e2 > 1);
        e10 = (int32_t)q + e2;
        int32_t i = -e2 - (int32_t)q;
        int32_t k = (int32_t)pow5bits(i) - RYU_POW5_BITS;
        int32_t j = (int32_t)q - k;
        vr = mul_shift(4 * m2, ryu_pow5[i], j);
        vp = mul_shift(4 * m2 + 2, ryu_pow5[i], j);
        vm = mul_shift(4 * m2 - 1 - mm_shift, ryu_pow5[i], j);
        if (q <= 1) {
            vr_zeros = true;
            if (accept_bounds)
                vm_zeros = mm_shift == 1;
            else
                --vp;
        } else if (q < 63) {
            vr_zeros = multiple_of_pow2(mv, q);
        }
    }
    int32_t removed = 0;
    uint8_t last = 0;
    uint64_t out;
    if (vm_zeros || vr_zeros) {   /* the rare general case */
        for (; vp / 10 > vm / 10; removed++) {
            vm_zeros &= vm % 10 == 0;
            vr_zeros &= last == 0;
            last = (uint8_t)(vr % 10);
            vr /= 10, vp /= 10, vm /= 10;
        }
        if (vm_zeros)
            for (; vm % 10 == 0; removed++) {
                vr_zeros &= last == 0;
                last = (uint8_t)(vr % 10);
                vr /= 10, vp /= 10, vm /= 10;
            }
        if (vr_zeros && last == 5 && vr % 2 == 0)
            last = 4;   /* exactly halfway: round to even */
        out = vr + ((vr == vm && (!accept_bounds || !vm_zeros)) || last >= 5);
    } else {
        bool round_up = false;
        for (; vp / 10 > vm / 10; removed++) {
            round_up = vr % 10 >= 5;
            vr /= 10, vp /= 10, vm /= 10;
        }
        out = vr + (vr == vm || round_up);
    }
    return (decimal){ out, e10 + removed };
}

/* ---- layout ---- */

static int digit_count(uint64_t v)
{
    int n = 1;
    for (; v >= 10; v /= 10)
        n++;
    return n;
}

/* Like Python's repr: fixed notation when 1e-4 <= |x| < 1e16, else C's %e form (1.5e-07,
 * 1e+16); ".0" marks an integral real. Returns the length; out has room for 32 bytes. */
static int layout(char *out, bool neg, decimal d)
{
    char dig[20];
    int n = digit_count(d.digits), sci = d.exp10 + n - 1, len = 0;
    for (int k = n - 1; k >= 0; k--, d.digits /= 10)
        dig[k] = (char)('0' + d.digits % 10);
    if (neg)
        out[len++] = '-';
    if (sci < -4 || sci >= 16) {
        out[len++] = dig[0];
        if (n > 1) {
            out[len++] = '.';
            memcpy(out + len, dig + 1, (size_t)n - 1);
            len += n - 1;
        }
        return len + sprintf(out + len, "e%c%02d", sci < 0 ? '-' : '+', sci < 0 ? -sci : sci);
    }
    if (sci < 0) {
        memcpy(out + len, "0.0000", (size_t)(1 - sci));
        len += 1 - sci;
        memcpy(out + len, dig, (size_t)n);
        return len + n;
    }
    for (int k = 0; k <= sci; k++)
        out[len++] = k < n ? dig[k] : '0';
    out[len++] = '.';
    if (n <= sci + 1) {
        out[len++] = '0';
        return len;
    }
    memcpy(out + len, dig + sci + 1, (size_t)(n - sci - 1));
    return len + n - sci - 1;
}

int rt_format_real_to(char *out, double x)
{
    if (isnan(x))
        return (int)(memcpy(out, "nan", 4), 3);
    if (isinf(x))
        return x < 0 ? (memcpy(out, "-inf", 5), 4) : (memcpy(out, "inf", 4), 3);
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    bool neg = bits >> 63;
    uint64_t mantissa = bits & ((1ull << 52) - 1);
    uint32_t exponent = (uint32_t)(bits >> 52 & 0x7ff);
    int len = exponent == 0 && mantissa == 0 ? layout(out, neg, (decimal){ 0, 0 })
                                             : layout(out, neg, shortest(mantissa, exponent));
    out[len] = '\0';
    return len;
}

void rt_format_real(char *buf, int size, double x)
{
    char tmp[32];
    rt_format_real_to(tmp, x);
    if (size > 0)
        snprintf(buf, (size_t)size, "%s", tmp);
}
