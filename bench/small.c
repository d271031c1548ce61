/* small.c - bench/small.ppl written in C, the baseline for bench/run_bench.sh
 * (compiled with cc -O0, so that the comparison includes a C compiler's front end). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static double log_density(double x) { return -pow(x - 2, 2) / 2; }

static double logsumexp(const double *v, long n)
{
    double m = -INFINITY, s = 0;
    for (long i = 0; i < n; i++) if (v[i] > m) m = v[i];
    if (isinf(m)) return m;
    for (long i = 0; i < n; i++) s += exp(v[i] - m);
    return m + log(s);
}

int main(void)
{
    long n = 20000, inside = 0;
    double *grid = malloc(n * sizeof *grid), *logp = malloc(n * sizeof *logp);
    for (long i = 0; i < n; i++) grid[i] = -8 + i * 0.001;
    for (long i = 0; i < n; i++) logp[i] = log_density(grid[i]);
    for (long i = 0; i < n; i++) if (logp[i] > -2) inside++;
    printf("%ld %ld %.1f\n", fib(24), inside, floor(logsumexp(logp, n) * 1000));
    free(grid);
    free(logp);
    return 0;
}
