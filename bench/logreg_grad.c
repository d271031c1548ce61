/* logreg_grad.c - the hand-written baseline for bench/logreg.ppl: the same ELBO step of
 * Bayesian logistic regression (w ~ N(0, I), y_n ~ Bernoulli(sigmoid(x_n . w))) with a
 * mean-field Gaussian guide and one particle, its gradient computed by hand, then Adam.
 *
 * Per step: eps ~ N(0, I), sd = exp(log_sd), w = mu + sd eps (reparameterized);
 *   ELBO estimate f = log p(w, y) - log q(w) = sum_n [y_n eta_n - softplus(eta_n)]
 *                     + sum_j log N(w_j; 0, 1) - sum_j log N(w_j; mu_j, sd_j),  eta = X w;
 *   g_w = X^T (y - sigmoid(eta)) - w      (the gradient of log p in w);
 *   df/dmu_j = g_w_j                      (log q(w) = -sum log sd - |eps|^2/2 - const
 *                                          does not depend on mu through w);
 *   df/dlog_sd_j = g_w_j sd_j eps_j + 1.
 * Adam (lr 0.01, beta 0.9, 0.999, eps 1e-8, bias-corrected) ascends f, as ppl's vi does.
 * Usage: logreg_grad DATA.json STEPS [SEED]. Prints the fitted mu and log_sd, then one line
 * `RESULT grad_per_s=R steps=S seconds=T` timing the steps only. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <jansson.h>

enum { MAXD = 64 };

static uint64_t rng_state;

static double uniform01(void)          /* xorshift64*, 53 bits */
{
    rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) * 0x1p-53;
}

static double std_normal(void)         /* Box-Muller, one of the pair */
{
    double u = uniform01(), v = uniform01();
    return sqrt(-2 * log(u > 0 ? u : 0x1p-53)) * cos(2 * M_PI * v);
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) free(buf), buf = NULL;
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

/* X (row-major N x D) and y from the benchmark's JSON file. */
static int load(const char *path, double **X, int **y, int *N, int *D)
{
    char *text = read_all(path);
    json_t *root = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    json_t *jx = json_object_get(root, "X"), *jy = json_object_get(root, "y");
    if (!jx || !jy) return 0;
    *N = (int)json_array_size(jx), *D = (int)json_array_size(json_array_get(jx, 0));
    if (*D > MAXD || (int)json_array_size(jy) != *N) return 0;
    *X = malloc(sizeof(double) * (size_t)*N * (size_t)*D), *y = malloc(sizeof(int) * (size_t)*N);
    for (int n = 0; n < *N; n++) {
        json_t *row = json_array_get(jx, (size_t)n);
        for (int j = 0; j < *D; j++) (*X)[n * *D + j] = json_number_value(json_array_get(row, (size_t)j));
        (*y)[n] = (int)json_integer_value(json_array_get(jy, (size_t)n));
    }
    json_decref(root);
    return 1;
}

/* One ELBO estimate and its gradient in (mu, log_sd) = theta[0..D), theta[D..2D). */
static double elbo_grad(const double *X, const int *y, int N, int D, const double *theta, double *grad)
{
    double eps[MAXD], sd[MAXD], w[MAXD], gw[MAXD], f = 0;
    for (int j = 0; j < D; j++) {
        eps[j] = std_normal(), sd[j] = exp(theta[D + j]), w[j] = theta[j] + sd[j] * eps[j];
        f += -0.5 * w[j] * w[j] + 0.5 * eps[j] * eps[j] + theta[D + j];   /* log N(w;0,1) - log q */
        gw[j] = -w[j];
    }
    for (int n = 0; n < N; n++) {
        const double *x = X + (size_t)n * D;
        double eta = 0;
        for (int j = 0; j < D; j++) eta += x[j] * w[j];
        f += y[n] * eta - softplus(eta);
        double r = y[n] - 1 / (1 + exp(-eta));
        for (int j = 0; j < D; j++) gw[j] += r * x[j];
    }
    for (int j = 0; j < D; j++) grad[j] = gw[j], grad[D + j] = gw[j] * sd[j] * eps[j] + 1;
    return f;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: logreg_grad DATA.json STEPS [SEED]\n");
        return 2;
    }
    double *X;
    int *y, N, D;
    if (!load(argv[1], &X, &y, &N, &D)) {
        fprintf(stderr, "logreg_grad: cannot read X and y from %s\n", argv[1]);
        return 1;
    }
    long steps = atol(argv[2]);
    rng_state = 0x9E3779B97F4A7C15ull ^ (argc > 3 ? strtoull(argv[3], NULL, 10) : 1);
    double theta[2 * MAXD] = {0}, g[2 * MAXD], m[2 * MAXD] = {0}, v[2 * MAXD] = {0}, lr = 0.01, last = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long s = 0; s < steps; s++) {
        last = elbo_grad(X, y, N, D, theta, g);
        double c1 = 1 - pow(0.9, (double)(s + 1)), c2 = 1 - pow(0.999, (double)(s + 1));
        for (int k = 0; k < 2 * D; k++) {
            if (!isfinite(g[k])) return 1;
            m[k] = 0.9 * m[k] + 0.1 * g[k];
            v[k] = 0.999 * v[k] + 0.001 * g[k] * g[k];
            theta[k] += lr * (m[k] / c1) / (sqrt(v[k] / c2) + 1e-8);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("mu");
    for (int j = 0; j < D; j++) printf(" %.4f", theta[j]);
    printf("\nlog_sd");
    for (int j = 0; j < D; j++) printf(" %.4f", theta[D + j]);
    printf("\nlast ELBO estimate %.3f\nRESULT grad_per_s=%.1f steps=%ld seconds=%.6f\n", last,
           (double)steps / secs, steps, secs);
    free(X), free(y);
    return 0;
}
