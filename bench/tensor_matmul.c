/* tensor_matmul.c - the cost of a tensor matmul on the AD tape against raw OpenBLAS sgemm:
 * for n x n by n x n products, the best of R runs of raw sgemm, rt_tensor_matmul (plain code:
 * an allocation plus the sgemm), the tape's forward node (rt_tad_matmul) and its backward
 * step (two sgemms, rt_ad_grad from sum(A B)), in microseconds and in GFLOP/s.
 * Usage: tensor_matmul [N...] (default 64 256 512). Built against libpplrt.a by the Makefile. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>
#include <gc/gc.h>
#include "rt.h"
#include "rt_ad.h"
#include "rt_rng.h"
#include "rt_tensor.h"

enum { R = 15 };

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double best(double *t)
{
    double b = t[0];
    for (int i = 1; i < R; i++)
        b = t[i] < b ? t[i] : b;
    return b;
}

static void bench(int64_t n, rt_rng *rng)
{
    rt_tensor *A = rt_tensor_randn(rng, 2, n, n, 1, NULL), *B = rt_tensor_randn(rng, 2, n, n, 1, NULL);
    float *C = malloc(sizeof(float) * (size_t)(n * n));
    double raw[R], plain[R], fwd[R], bwd[R];
    for (int i = 0; i < R; i++) {
        double t0 = now_us();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, A->d, n, B->d, n, 0, C, n);
        double t1 = now_us();
        rt_tensor_matmul(A, B, NULL);
        double t2 = now_us();
        rt_ad_begin();
        rt_tensor *a = rt_tad_input(A), *b = rt_tad_input(B);
        double t3 = now_us();
        rt_tensor *z = rt_tad_matmul(a, b, NULL);
        double t4 = now_us();
        int64_t s = rt_tad_sum(z);
        double t5 = now_us();
        rt_ad_grad(s, NULL, 0);
        double t6 = now_us();
        raw[i] = t1 - t0, plain[i] = t2 - t1, fwd[i] = t4 - t3, bwd[i] = t6 - t5;
    }
    double flop = 2.0 * n * n * n;
    printf("n = %4lld  raw sgemm %9.1f us (%5.1f GFLOP/s)  plain matmul %9.1f us  tape forward %9.1f us"
           "  tape backward %9.1f us (%.2fx two sgemms)\n",
           (long long)n, best(raw), flop / best(raw) / 1e3, best(plain), best(fwd), best(bwd),
           best(bwd) / (2 * best(raw)));
    free(C);
}

int main(int argc, char **argv)
{
    GC_INIT();
    rt_rng rng;
    rt_rng_init(&rng, 1, 1);
    int64_t sizes[] = {64, 256, 512};
    if (argc > 1)
        for (int i = 1; i < argc; i++)
            bench(atoll(argv[i]), &rng);
    else
        for (int i = 0; i < 3; i++)
            bench(sizes[i], &rng);
    return 0;
}
