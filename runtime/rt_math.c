/* rt_math.c - the math builtins generated code calls: thin wrappers over libm, kept as
 * named functions so the JIT and AOT binaries resolve the same symbols (see rt_abi.h). */
#include <math.h>
#include "rt.h"

double rt_exp(double x) { return exp(x); }
double rt_log(double x) { return log(x); }
double rt_sqrt(double x) { return sqrt(x); }
double rt_sin(double x) { return sin(x); }
double rt_cos(double x) { return cos(x); }
double rt_tan(double x) { return tan(x); }
double rt_atan(double x) { return atan(x); }
double rt_tanh(double x) { return tanh(x); }
double rt_log1p(double x) { return log1p(x); }
double rt_expm1(double x) { return expm1(x); }
double rt_floor(double x) { return floor(x); }
double rt_ceil(double x) { return ceil(x); }
double rt_pow(double x, double y) { return pow(x, y); }

/* lgamma() writes the global `signgam`, a data race once particles run on threads. */
double rt_lgamma(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}
