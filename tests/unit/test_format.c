/* test_format.c - cmocka tests for the shortest round-trip formatting of reals (rt_format.c):
 * the layout print uses, and on many doubles a round trip and no more digits than the
 * shortest %.{1..17}g that round-trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "rt.h"

static const char *fmt(double x)
{
    static char buf[32];
    int n = rt_format_real_to(buf, x);
    assert_int_equal((int)strlen(buf), n);
    return buf;
}

static void test_layout(void **state)
{
    assert_string_equal(fmt(0.0), "0.0");
    assert_string_equal(fmt(-0.0), "-0.0");
    assert_string_equal(fmt(1.0), "1.0");
    assert_string_equal(fmt(100.0), "100.0");
    assert_string_equal(fmt(0.1), "0.1");
    assert_string_equal(fmt(0.1 + 0.2), "0.30000000000000004");
    assert_string_equal(fmt(-2.5), "-2.5");
    assert_string_equal(fmt(123456.789), "123456.789");
    assert_string_equal(fmt(1e-4), "0.0001");
    assert_string_equal(fmt(0.00015), "0.00015");
    assert_string_equal(fmt(9.5e-5), "9.5e-05");
    assert_string_equal(fmt(1e15), "1000000000000000.0");
    assert_string_equal(fmt(9999999999999998.0), "9999999999999998.0");
    assert_string_equal(fmt(1e16), "1e+16");
    assert_string_equal(fmt(1.5e-7), "1.5e-07");
    assert_string_equal(fmt(1e20), "1e+20");
    assert_string_equal(fmt(DBL_MAX), "1.7976931348623157e+308");
    assert_string_equal(fmt(DBL_MIN), "2.2250738585072014e-308");
    assert_string_equal(fmt(DBL_TRUE_MIN), "5e-324");
    assert_string_equal(fmt(INFINITY), "inf");
    assert_string_equal(fmt(-INFINITY), "-inf");
    assert_string_equal(fmt(NAN), "nan");
    /* a power of two whose nearest 16-digit decimal is outside its (narrower) lower half-gap:
     * %.17g needs 17 digits, 16 suffice above it */
    assert_string_equal(fmt(ldexp(1, -652)), "5.351097043477547e-197");
    char small[8];
    rt_format_real(small, sizeof small, 0.30000000000000004);   /* truncated, terminated */
    assert_string_equal(small, "0.30000");
}

/* Significant digits of a formatted finite real: mantissa digits without leading zeros,
 * and without trailing zeros. */
static int sig_digits(const char *s)
{
    char d[32];
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0'))
            d[n++] = *s;
    while (n > 1 && d[n - 1] == '0')
        n--;
    return n ? n : 1;
}

/* The fewest digits p for which %.{p}g reads back as x. */
static int brute_digits(double x)
{
    char buf[40];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            return p;
    }
    return 17;
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static void check(double x, int *shorter)
{
    if (!isfinite(x))
        return;
    const char *s = fmt(x);
    double back = strtod(s, NULL);
    if (memcmp(&back, &x, sizeof x) != 0)
        fail_msg("%.17g formats as %s, which reads back as %.17g", x, s, back);
    int ours = sig_digits(s), brute = brute_digits(x);
    if (ours > brute)
        fail_msg("%.17g formats as %s (%d digits), but %%.%dg round-trips", x, s, ours, brute);
    *shorter += ours < brute;
}

/* 200 000 random bit patterns (every exponent), 100 000 short decimals, and every power of
 * two and its neighbours. Seed fixed; the count of values shorter than %g's is reported. */
static void test_round_trip_shortest(void **state)
{
    uint64_t seed = 88172645463325252ull;
    int shorter = 0;
    for (int k = 0; k < 200000; k++) {
        uint64_t b = next(&seed);
        double x;
        memcpy(&x, &b, sizeof x);
        check(x, &shorter);
    }
    for (int k = 0; k < 100000; k++) {
        double x = (double)(int64_t)(next(&seed) % 2000001 - 1000000) / pow(10, (int)(next(&seed) % 12));
        check(x, &shorter);
    }
    for (int e = -1074; e <= 1023; e++) {
        double x = ldexp(1, e);
        check(x, &shorter);
        check(nextafter(x, 0), &shorter);
        check(nextafter(x, INFINITY), &shorter);
    }
    print_message("      %d values shorter than the shortest round-tripping %%g\n", shorter);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_round_trip_shortest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
