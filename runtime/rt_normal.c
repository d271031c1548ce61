/* rt_normal.c - standard normal draws straight from a Philox stream: the ziggurat of Marsaglia
 * and Tsang (2000) in Doornik's form (2005), one 64-bit word per draw 98.8% of the time.
 *
 * Why not GSL's ziggurat through the gsl_rng adapter: SMC draws most of its numbers here, and
 * the adapter costs two indirect calls per draw; GSL's version also keeps only 24 random bits
 * of the value, this one 52.
 *
 * The density f(x) = exp(-x^2 / 2) on x >= 0 is covered by LAYERS boxes of equal area V.
 * Box i spans [0, X[i]] horizontally, with X decreasing from X[1] = R to X[LAYERS] = 0, and
 * lies between heights f(X[i]) and f(X[i+1]). Box 0 is the base strip of height f(R), given
 * the virtual width X[0] = V / f(R) so that its part beyond R stands for the tail. A point
 * drawn uniformly in box i whose x is below X[i+1] is under the curve for sure; otherwise it
 * lies in the wedge beside the curve (one exp decides), or for box 0 in the tail (drawn by
 * Marsaglia's exponential rejection). R and V are the published constants for 128 boxes. */
#include <math.h>
#include "rt_rng.h"

enum { LAYERS = 128 };
#define ZIG_R 3.442619855899
#define ZIG_V 9.91256303526217e-3

static double zig_x[LAYERS + 1];   /* box widths X[i] */
static double zig_f[LAYERS + 1];   /* f(X[i]); f(X[0]) is unused */
static double zig_ratio[LAYERS];   /* X[i+1] / X[i]: below it, a point of box i is accepted */

/* The boxes, computed once when the program starts: each X[i] from the box below it, since
 * box i - 1 has area X[i-1] (f(X[i]) - f(X[i-1])) = V. The same libm gives the same tables
 * to JIT-compiled programs and to built binaries. */
__attribute__((constructor)) static void zig_init(void)
{
    zig_x[0] = ZIG_V / exp(-0.5 * ZIG_R * ZIG_R);
    zig_x[1] = ZIG_R;
    zig_x[LAYERS] = 0;
    for (int i = 2; i < LAYERS; i++)
        zig_x[i] = sqrt(-2 * log(ZIG_V / zig_x[i - 1] + exp(-0.5 * zig_x[i - 1] * zig_x[i - 1])));
    for (int i = 1; i <= LAYERS; i++)
        zig_f[i] = exp(-0.5 * zig_x[i] * zig_x[i]);
    for (int i = 0; i < LAYERS; i++)
        zig_ratio[i] = zig_x[i + 1] / zig_x[i];
}

/* |x| beyond R: Marsaglia's method, an exponential proposal accepted with the right odds. */
static double zig_tail(rt_rng *r)
{
    double x, y;
    do {
        x = -log(rt_rng_uniform(r)) / ZIG_R;
        y = -log(rt_rng_uniform(r));
    } while (2 * y < x * x);
    return ZIG_R + x;
}

/* One word: bits 0-6 pick the box, bit 7 the sign, bits 12-63 the position u in (0, 1)
 * across the box (as (k + 1/2) / 2^52, exact in a double and never 0). */
double rt_rng_normal(rt_rng *r)
{
    for (;;) {
        uint64_t k = rt_rng_u64(r);
        int i = (int)(k & (LAYERS - 1));
        double sign = k & 0x80 ? -1.0 : 1.0;
        double u = ((double)(k >> 12) + 0.5) * 0x1p-52;
        if (u < zig_ratio[i])
            return sign * u * zig_x[i];
        if (i == 0)
            return sign * zig_tail(r);
        double x = u * zig_x[i];
        if (zig_f[i] + rt_rng_uniform(r) * (zig_f[i + 1] - zig_f[i]) < exp(-0.5 * x * x))
            return sign * x;
    }
}
