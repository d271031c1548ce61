/* test_tensor.c - cmocka tests for tensors (rt_tensor.c, rt_tensor_ad.c): values and shapes,
 * every operation's gradient against central finite differences, a 2-layer MLP against C. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gc/gc.h>
#include "rt.h"
#include "rt_ad.h"
#include "rt_repl.h"
#include "rt_rng.h"
#include "rt_tensor.h"
#include "test_util.h"

#define LOC "t.ppl:3:5"
#define SEED 20261204u
#define MAXIN 3

/* ---- finite differences in fp32 ----
 * Each check builds L = sum(op(inputs) * R) for a fixed random R, takes dL/dx from one
 * backward pass, and compares it with (L(x+h) - L(x-h)) / (x+h - (x-h)) per element, the
 * step taken being what fp32 represents, h = 1e-2 max(1, |x|). L is evaluated with fp32
 * elements (relative rounding ~6e-8 per element, sums in double), so its absolute rounding
 * over the tens of terms here is ~1e-6, which the quotient divides by 2h: ~5e-5. Inputs
 * are kept at least 0.1 away from kinks and poles, so the truncation term f''' h^2 / 6 is
 * ~1e-4 at most. ATOL = 2e-3 and RTOL = 1e-2 leave a margin of 10-40 over both, yet catch
 * a wrong formula (an O(1) error) at almost every element. */
#define ATOL 2e-3
#define RTOL 1e-2
#define STEP 1e-2

typedef struct fd_case {
    const char *name;
    int nin;
    int64_t rank[MAXIN], dim[MAXIN][3];
    int positive;      /* inputs in [0.2, 2] (log, divisors); else [-2, 2] at least 0.1 from 0 */
    rt_tensor *(*build)(rt_tensor **in, const struct fd_case *c);   /* a tensor result ... */
    int64_t (*build_real)(rt_tensor **in, const struct fd_case *c); /* ... or a real one */
    int64_t arg;       /* an axis, op or function for the build */
} fd_case;

static rt_rng rng;

static float draw(int positive)
{
    double u = rt_rng_uniform(&rng);
    if (positive)
        return (float)(0.2 + 1.8 * u);
    double x = -2 + 4 * u;
    return (float)(fabs(x) < 0.1 ? (x < 0 ? -0.1 - x : 0.1 + x) : x);
}

static rt_tensor *random_tensor(int64_t rank, const int64_t *dim, int positive)
{
    rt_tensor *t = rt_tensor_new(rank, dim, LOC);
    for (int64_t k = 0; k < t->numel; k++)
        t->d[k] = draw(positive);
    return t;
}

static rt_tensor *weights_for(const rt_tensor *out)
{
    static rt_tensor *w;
    rt_rng keep = rng;
    rt_rng_init(&rng, SEED, 99);   /* the same R for every evaluation of a case */
    w = random_tensor(out->rank, out->dim, 0);
    rng = keep;
    return w;
}

/* L on the current tape from inputs in (tape inputs or constants). */
static int64_t objective(const fd_case *c, rt_tensor **in)
{
    if (c->build_real)
        return c->build_real(in, c);
    rt_tensor *out = c->build(in, c);
    return rt_tad_sum(rt_tad_binop(RT_TB_mul, out, weights_for(out), LOC));
}

static double value_at(const fd_case *c, rt_tensor **x)
{
    rt_ad_begin();
    return rt_ad_value(objective(c, x));
}

static void check_case(const fd_case *c)
{
    rt_tensor *x[MAXIN], *in[MAXIN];
    for (int k = 0; k < c->nin; k++)
        x[k] = random_tensor(c->rank[k], c->dim[k], c->positive);
    rt_ad_begin();
    for (int k = 0; k < c->nin; k++)
        in[k] = rt_tad_input(x[k]);
    int64_t L = objective(c, in);
    double g0;
    rt_ad_grad(L, &g0, 0);
    float *grad[MAXIN];
    for (int k = 0; k < c->nin; k++) {
        const float *a = rt_tad_adjoint(in[k]);
        assert_non_null(a);
        grad[k] = malloc(sizeof(float) * (size_t)x[k]->numel);
        memcpy(grad[k], a, sizeof(float) * (size_t)x[k]->numel);
    }
    for (int k = 0; k < c->nin; k++) {
        for (int64_t e = 0; e < x[k]->numel; e++) {
            float v = x[k]->d[e], h = (float)(STEP * fmax(1, fabs(v)));
            float hi = v + h, lo = v - h;
            x[k]->d[e] = hi;
            double fh = value_at(c, x);
            x[k]->d[e] = lo;
            double fl = value_at(c, x);
            x[k]->d[e] = v;
            double fd = (fh - fl) / ((double)hi - lo), g = grad[k][e];
            if (!(fabs(g - fd) <= ATOL + RTOL * fabs(fd)))
                fail_msg("%s: input %d element %lld: gradient %.7g, finite difference %.7g", c->name, k,
                         (long long)e, g, fd);
        }
        free(grad[k]);
    }
}

/* ---- the cases ---- */

static rt_tensor *b_binop(rt_tensor **in, const fd_case *c) { return rt_tad_binop(c->arg, in[0], in[1], LOC); }
static int64_t scalar0(rt_tensor *t) { return rt_tad_get(t, 1, 0, 0, 0, LOC); }
static rt_tensor *b_scalar_r(rt_tensor **in, const fd_case *c) { return rt_tad_scalar(c->arg, in[0], scalar0(in[1]), 0, LOC); }
static rt_tensor *b_scalar_l(rt_tensor **in, const fd_case *c) { return rt_tad_scalar(c->arg, in[0], scalar0(in[1]), 1, LOC); }
static rt_tensor *b_full(rt_tensor **in, const fd_case *c) { return rt_tad_full(scalar0(in[0]), 2, 2, 3, 1, LOC); }
static rt_tensor *b_matmul(rt_tensor **in, const fd_case *c) { return rt_tad_matmul(in[0], in[1], LOC); }
static rt_tensor *b_transpose(rt_tensor **in, const fd_case *c) { return rt_tad_transpose(in[0], LOC); }
static rt_tensor *b_unary(rt_tensor **in, const fd_case *c) { return rt_tad_unary(c->arg, in[0], LOC); }
static rt_tensor *b_softmax(rt_tensor **in, const fd_case *c) { return rt_tad_softmax(in[0], c->arg, LOC); }
static rt_tensor *b_sum_axis(rt_tensor **in, const fd_case *c) { return rt_tad_sum_axis(in[0], c->arg % 10, c->arg / 10, LOC); }
static rt_tensor *b_concat(rt_tensor **in, const fd_case *c) { return rt_tad_concat(in[0], in[1], c->arg, LOC); }
static rt_tensor *b_norm(rt_tensor **in, const fd_case *c)
{
    return rt_tad_norm(in[0], c->nin > 1 ? in[1] : NULL, c->arg, LOC);
}

static rt_tensor *b_reshape(rt_tensor **in, const fd_case *c)
{
    return rt_tad_reshape(in[0], 2, 3, 4, 1, LOC);
}

static rt_tensor *b_rows(rt_tensor **in, const fd_case *c)
{
    rt_array *idx = rt_array_new(4, 0);
    int64_t v[] = {2, 0, 2, 3};
    memcpy(idx->at.i, v, sizeof v);
    return rt_tad_rows(in[0], idx, LOC);
}

/* from_array over the handles of to_array, squared elementwise through scalar nodes */
static rt_tensor *b_arrays(rt_tensor **in, const fd_case *c)
{
    rt_array *h = rt_tad_to_array(in[0]);
    for (int64_t k = 0; k < h->len; k++)
        h->at.i[k] = rt_ad_mul(h->at.i[k], h->at.i[k]);
    return rt_tad_from_array(h, 1, LOC);
}

static int64_t r_sum(rt_tensor **in, const fd_case *c)
{
    rt_tensor *sq = rt_tad_binop(RT_TB_mul, in[0], in[0], LOC);
    return c->arg ? rt_tad_mean(sq, LOC) : rt_tad_sum(sq);
}

static int64_t r_get(rt_tensor **in, const fd_case *c)
{
    int64_t a = rt_tad_get(in[0], 2, 1, 2, 0, LOC), b = rt_tad_get(in[0], 2, 0, 1, 0, LOC);
    return rt_ad_mul(a, rt_ad_exp(b));
}

/* y ~ normal(mu, sigma) with y, mu tensors (inputs 0, 1) and sigma from input 2 (positive) */
static int64_t r_obs_normal(rt_tensor **in, const fd_case *c)
{
    int64_t sigma = rt_ad_add(rt_ad_const(0.5), rt_ad_mul(scalar0(in[2]), scalar0(in[2])));
    if (c->arg)
        return rt_tad_obs_normal(in[0], NULL, scalar0(in[1]), sigma, LOC);
    return rt_tad_obs_normal(in[0], in[1], -1, sigma, LOC);
}

static int64_t r_obs_categorical(rt_tensor **in, const fd_case *c)
{
    rt_array *ks = rt_array_new(3, 0);
    int64_t v[] = {2, 0, 3};
    memcpy(ks->at.i, v, sizeof v);
    return c->arg ? rt_tad_obs_categorical_logits(NULL, 1, in[0], LOC) : rt_tad_obs_categorical_logits(ks, 0, in[0], LOC);
}

static const fd_case cases[] = {
    {"add broadcast [2,3] + [3]", 2, {2, 1}, {{2, 3, 1}, {3, 1, 1}}, 0, b_binop, NULL, RT_TB_add},
    {"sub broadcast [2,1,3] - [4,1]", 2, {3, 2}, {{2, 1, 3}, {4, 1, 1}}, 0, b_binop, NULL, RT_TB_sub},
    {"mul broadcast [3,1] * [1,4]", 2, {2, 2}, {{3, 1, 1}, {1, 4, 1}}, 0, b_binop, NULL, RT_TB_mul},
    {"div [2,3] / [2,3]", 2, {2, 2}, {{2, 3, 1}, {2, 3, 1}}, 1, b_binop, NULL, RT_TB_div},
    {"div [2,3] / [1]", 2, {2, 1}, {{2, 3, 1}, {1, 1, 1}}, 1, b_binop, NULL, RT_TB_div},
    {"t + x", 2, {2, 1}, {{2, 3, 1}, {1, 1, 1}}, 0, b_scalar_r, NULL, RT_TB_add},
    {"x - t", 2, {2, 1}, {{2, 3, 1}, {1, 1, 1}}, 0, b_scalar_l, NULL, RT_TB_sub},
    {"t - x", 2, {2, 1}, {{2, 3, 1}, {1, 1, 1}}, 0, b_scalar_r, NULL, RT_TB_sub},
    {"t * x", 2, {3, 1}, {{2, 2, 2}, {1, 1, 1}}, 0, b_scalar_r, NULL, RT_TB_mul},
    {"t / x", 2, {2, 1}, {{2, 3, 1}, {1, 1, 1}}, 1, b_scalar_r, NULL, RT_TB_div},
    {"x / t", 2, {2, 1}, {{2, 3, 1}, {1, 1, 1}}, 1, b_scalar_l, NULL, RT_TB_div},
    {"full(x, 2, 3)", 1, {1}, {{1, 1, 1}}, 0, b_full, NULL, 0},
    {"matmul [3,4] [4,5] (sgemm)", 2, {2, 2}, {{3, 4, 1}, {4, 5, 1}}, 0, b_matmul, NULL, 0},
    {"matmul [3,4] [4] (sgemv)", 2, {2, 1}, {{3, 4, 1}, {4, 1, 1}}, 0, b_matmul, NULL, 0},
    {"matmul [4] [4,5]", 2, {1, 2}, {{4, 1, 1}, {4, 5, 1}}, 0, b_matmul, NULL, 0},
    {"matmul [4] [4]", 2, {1, 1}, {{4, 1, 1}, {4, 1, 1}}, 0, b_matmul, NULL, 0},
    {"matmul [2,3,4] [4,2]", 2, {3, 2}, {{2, 3, 4}, {4, 2, 1}}, 0, b_matmul, NULL, 0},
    {"transpose [3,4]", 1, {2}, {{3, 4, 1}}, 0, b_transpose, NULL, 0},
    {"reshape [2,6] -> [3,4]", 1, {2}, {{2, 6, 1}}, 0, b_reshape, NULL, 0},
    {"sum", 1, {2}, {{3, 4, 1}}, 0, NULL, r_sum, 0},
    {"mean", 1, {3}, {{2, 3, 2}}, 0, NULL, r_sum, 1},
    {"get", 1, {2}, {{2, 3, 1}}, 0, NULL, r_get, 0},
    {"sum axis 0 [2,3,4]", 1, {3}, {{2, 3, 4}}, 0, b_sum_axis, NULL, 0},
    {"sum axis 1 [2,3,4]", 1, {3}, {{2, 3, 4}}, 0, b_sum_axis, NULL, 1},
    {"mean axis 2 [2,3,4]", 1, {3}, {{2, 3, 4}}, 0, b_sum_axis, NULL, 12},
    {"mean axis 0 [5]", 1, {1}, {{5, 1, 1}}, 0, b_sum_axis, NULL, 10},
    {"exp", 1, {2}, {{2, 3, 1}}, 0, b_unary, NULL, RT_TU_exp},
    {"log", 1, {2}, {{2, 3, 1}}, 1, b_unary, NULL, RT_TU_log},
    {"tanh", 1, {2}, {{2, 3, 1}}, 0, b_unary, NULL, RT_TU_tanh},
    {"sigmoid", 1, {2}, {{2, 3, 1}}, 0, b_unary, NULL, RT_TU_sigmoid},
    {"relu", 1, {2}, {{2, 3, 1}}, 0, b_unary, NULL, RT_TU_relu},
    {"silu", 1, {2}, {{2, 3, 1}}, 0, b_unary, NULL, RT_TU_silu},
    {"gelu", 1, {2}, {{2, 3, 1}}, 0, b_unary, NULL, RT_TU_gelu},
    {"softmax [3,4]", 1, {2}, {{3, 4, 1}}, 0, b_softmax, NULL, 0},
    {"log_softmax [2,2,5]", 1, {3}, {{2, 2, 5}}, 0, b_softmax, NULL, 1},
    {"rmsnorm", 1, {2}, {{3, 4, 1}}, 0, b_norm, NULL, 0},
    {"rmsnorm with gain", 2, {2, 1}, {{3, 4, 1}, {4, 1, 1}}, 0, b_norm, NULL, 0},
    {"layernorm", 1, {2}, {{3, 4, 1}}, 0, b_norm, NULL, 1},
    {"layernorm with gain", 2, {3, 1}, {{2, 2, 5}, {5, 1, 1}}, 0, b_norm, NULL, 1},
    {"rows (repeated index)", 1, {2}, {{4, 3, 1}}, 0, b_rows, NULL, 0},
    {"concat axis 0", 2, {2, 2}, {{2, 3, 1}, {1, 3, 1}}, 0, b_concat, NULL, 0},
    {"concat axis 1", 2, {3, 3}, {{2, 1, 3}, {2, 2, 3}}, 0, b_concat, NULL, 1},
    {"to_array, from_array", 1, {1}, {{5, 1, 1}}, 0, b_arrays, NULL, 0},
    {"observe tensor ~ normal(tensor, sigma)", 3, {2, 2, 1}, {{2, 3, 1}, {2, 3, 1}, {1, 1, 1}}, 0, NULL, r_obs_normal, 0},
    {"observe tensor ~ normal(real, sigma)", 3, {2, 1, 1}, {{2, 3, 1}, {1, 1, 1}, {1, 1, 1}}, 0, NULL, r_obs_normal, 1},
    {"observe int[] ~ categorical_logits([3, 4])", 1, {2}, {{3, 4, 1}}, 0, NULL, r_obs_categorical, 0},
    {"observe int ~ categorical_logits([4])", 1, {1}, {{4, 1, 1}}, 0, NULL, r_obs_categorical, 1},
};

static void test_gradients_fd(void **state)
{
    rt_rng_init(&rng, SEED, 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

/* ---- values ---- */

static void test_values(void **state)
{
    rt_tensor *a = rt_tensor_full(2, 2, 2, 3, 1, LOC);
    assert_int_equal(a->numel, 6);
    float v[] = {1, 2, 3};
    rt_tensor *b = rt_tensor_new(1, (int64_t[]){3}, LOC);
    memcpy(b->d, v, sizeof v);
    rt_tensor *c = rt_tensor_binop(RT_TB_mul, a, b, LOC);
    assert_int_equal(c->rank, 2);
    assert_true(c->d[4] == 4 && c->d[5] == 6);
    rt_tensor *m = rt_tensor_matmul(c, rt_tensor_transpose(c, LOC), LOC);   /* [2,3] [3,2] */
    assert_true(m->rank == 2 && m->dim[0] == 2 && m->dim[1] == 2 && m->d[0] == 4 * 14);
    assert_true(rt_tensor_sum(c) == 24);
    rt_tensor *s = rt_tensor_sum_axis(c, 0, 0, LOC);
    assert_true(s->rank == 1 && s->dim[0] == 3 && s->d[2] == 12);
    rt_tensor *sm = rt_tensor_softmax(c, 0, LOC);
    assert_true(fabs(sm->d[0] + sm->d[1] + sm->d[2] - 1) < 1e-6);
    rt_tensor *ln = rt_tensor_norm(c, NULL, 1, LOC);
    assert_true(fabs(ln->d[0] + ln->d[1] + ln->d[2]) < 1e-5);
    char buf[256];
    assert_string_equal(rt_tensor_shape_str(rt_tensor_concat(c, c, 1, LOC), buf), "[2, 6]");
}

static void print_one(const void *arg) { rt_print_tensor(arg); rt_print_newline(); }

static void test_print(void **state)
{
    rt_tensor *t = rt_tensor_new(2, (int64_t[]){2, 2}, LOC);
    float v[] = {1, 0.5f, -3, 0.1f};
    memcpy(t->d, v, sizeof v);
    child_out r;
    run_child_io(print_one, t, &r);
    assert_string_equal(r.out, "tensor([[1, 0.5], [-3, 0.1]])\n");
}

/* ---- errors name the operation, both shapes, and the place ---- */

static void bad_broadcast(void)
{
    rt_tensor *a = rt_tensor_full(1, 2, 2, 3, 1, LOC), *b = rt_tensor_full(1, 1, 2, 1, 1, LOC);
    rt_tensor_binop(RT_TB_add, a, b, LOC);
}

static void bad_matmul(void)
{
    rt_tensor *a = rt_tensor_full(1, 2, 2, 3, 1, LOC), *b = rt_tensor_full(1, 2, 2, 3, 1, LOC);
    rt_ad_begin();
    rt_tad_matmul(rt_tad_input(a), b, LOC);
}

static void bad_index(void) { rt_tensor_get(rt_tensor_full(1, 2, 2, 3, 1, LOC), 2, 1, 3, 0, LOC); }
static void bad_rows(void)
{
    rt_array *idx = rt_array_new(1, 0);
    idx->at.i[0] = 5;
    rt_tensor_rows(rt_tensor_full(1, 2, 2, 3, 1, LOC), idx, LOC);
}
static void bad_dim(void) { rt_tensor_full(0, 2, 2, 0, 1, LOC); }

static void test_errors(void **state)
{
    expect_child_failure(bad_broadcast, 1, LOC ": error: '+': shapes [2, 3] and [2] do not broadcast");
    expect_child_failure(bad_matmul, 1, LOC ": error: matmul: shapes [2, 3] and [2, 3] do not match");
    expect_child_failure(bad_index, 1, LOC ": error: index 3 out of bounds for axis 1 of a tensor of shape [2, 3]");
    expect_child_failure(bad_rows, 1, LOC ": error: rows: index 5 out of bounds for a tensor of shape [2, 3]");
    expect_child_failure(bad_dim, 1, LOC ": error: tensor dimension 1 is 0");
}

/* In the REPL an error returns to the prompt: a failing tensor operation in gradient code
 * must leave the tape as it was (the child exits 0 if every tape was unchanged, 3 if not). */
static jmp_buf recover_to;

static void failing_tad_calls(void)
{
    static volatile int64_t size;     /* static volatile: kept across longjmp */
    static volatile int which;
    rt_set_recovery(&recover_to);
    setjmp(recover_to);
    if (which > 0 && rt_ad_size() != size)
        _exit(3);
    rt_ad_begin();
    rt_tensor *a = rt_tad_input(rt_tensor_full(1, 2, 2, 3, 1, LOC)), *b = rt_tad_input(rt_tensor_full(1, 1, 2, 1, 1, LOC));
    rt_array *idx = rt_array_new(1, 0);
    idx->at.i[0] = 7;
    int64_t zero = rt_ad_const(0), one = rt_ad_const(1), minus = rt_ad_const(-1);
    size = rt_ad_size();
    switch (which++) {
    case 0: rt_tad_binop(RT_TB_add, a, b, LOC); break;
    case 1: rt_tad_matmul(a, a, LOC); break;
    case 2: rt_tad_get(a, 2, 0, 3, 0, LOC); break;
    case 3: rt_tad_rows(a, idx, LOC); break;
    case 4: rt_tad_obs_normal(a, b, -1, one, LOC); break;
    case 5: rt_tad_obs_normal(a, NULL, zero, minus, LOC); break;
    case 6: rt_tad_norm(a, b, 0, LOC); break;
    }
    _exit(which == 8 ? 0 : 4);   /* past the last case: every call failed and was checked */
}

static void test_error_leaves_tape(void **state)
{
    char err[4096];
    int status = run_child(failing_tad_calls, err, sizeof err);
    if (status != 0 || !strstr(err, "matmul") || !strstr(err, "normal: scale") || !strstr(err, "rmsnorm"))
        fail_msg("status %d, stderr: %s", status, err);
}

/* ---- the tape: constants are referenced and kept alive; stale tensors are constants ---- */

static void test_tape_refs(void **state)
{
    rt_ad_begin();
    rt_tensor *x = rt_tad_input(rt_tensor_full(1.5, 1, 4, 1, 1, LOC));
    rt_tensor *y = rt_tad_binop(RT_TB_mul, x, rt_tensor_full(2, 1, 4, 1, 1, LOC), LOC);
    for (int k = 0; k < 20; k++) {   /* the constant survives collections: the tape holds it */
        GC_malloc(1 << 20);
        GC_gcollect();
    }
    int64_t L = rt_tad_sum(y);
    rt_ad_grad(L, NULL, 0);
    assert_true(rt_tad_adjoint(x)[3] == 2);
    assert_true(rt_tad_on_tape(y));
    rt_ad_begin();                  /* a new run: y is now a constant */
    assert_false(rt_tad_on_tape(y));
    assert_null(rt_tad_adjoint(y));
    rt_tensor *z = rt_tad_unary(RT_TU_exp, y, LOC);
    assert_false(rt_tad_on_tape(z));
    assert_true(rt_ad_is_const(rt_tad_sum(z)));
}

/* ---- a 2-layer MLP: loss = -mean over rows of sum(Y * log_softmax(tanh(X W1 + b1) W2 + b2)),
 * against a hand-written double-precision forward and backward pass. fp32 forward values
 * agree with double to ~1e-6 relative; the tolerances are 1e-5 on the loss and
 * 1e-4 + 1e-3 relative on the gradients. */

enum { B = 6, D = 5, H = 7, K = 3 };

static void mlp_reference(const float *X, const float *Y, const float *W1, const float *b1, const float *W2,
                          const float *b2, double *loss, double *gW1, double *gb1, double *gW2, double *gb2)
{
    double h[B][H], z[B][K], dz[B][K], dh[B][H];
    memset(gW1, 0, sizeof(double) * D * H), memset(gb1, 0, sizeof(double) * H);
    memset(gW2, 0, sizeof(double) * H * K), memset(gb2, 0, sizeof(double) * K);
    *loss = 0;
    for (int i = 0; i < B; i++) {
        for (int j = 0; j < H; j++) {
            double s = b1[j];
            for (int d = 0; d < D; d++)
                s += X[i * D + d] * W1[d * H + j];
            h[i][j] = tanh(s);
        }
        double m = -INFINITY, se = 0;
        for (int k = 0; k < K; k++) {
            double s = b2[k];
            for (int j = 0; j < H; j++)
                s += h[i][j] * W2[j * K + k];
            z[i][k] = s, m = fmax(m, s);
        }
        for (int k = 0; k < K; k++)
            se += exp(z[i][k] - m);
        double ysum = 0;
        for (int k = 0; k < K; k++) {
            double ls = z[i][k] - m - log(se);
            *loss -= Y[i * K + k] * ls / B;
            ysum += Y[i * K + k];
        }
        for (int k = 0; k < K; k++)   /* d loss / d z = (softmax(z) sum y - y) / B */
            dz[i][k] = (exp(z[i][k] - m) / se * ysum - Y[i * K + k]) / B;
        for (int j = 0; j < H; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += dz[i][k] * W2[j * K + k], gW2[j * K + k] += h[i][j] * dz[i][k];
            dh[i][j] = s * (1 - h[i][j] * h[i][j]);
            gb1[j] += dh[i][j];
            for (int d = 0; d < D; d++)
                gW1[d * H + j] += X[i * D + d] * dh[i][j];
        }
        for (int k = 0; k < K; k++)
            gb2[k] += dz[i][k];
    }
}

static void check_close(const char *what, const float *got, const double *want, int n)
{
    for (int k = 0; k < n; k++)
        if (!(fabs(got[k] - want[k]) <= 1e-4 + 1e-3 * fabs(want[k])))
            fail_msg("%s[%d]: %.7g, reference %.7g", what, k, got[k], want[k]);
}

static void test_mlp(void **state)
{
    rt_rng_init(&rng, SEED, 7);
    rt_tensor *X = random_tensor(2, (int64_t[]){B, D}, 0), *Y = rt_tensor_new(2, (int64_t[]){B, K}, LOC);
    for (int i = 0; i < B; i++)
        Y->d[i * K + i % K] = 1;
    rt_tensor *W1 = rt_tensor_randn(&rng, 2, D, H, 1, LOC), *b1 = rt_tensor_randn(&rng, 1, H, 1, 1, LOC);
    rt_tensor *W2 = rt_tensor_randn(&rng, 2, H, K, 1, LOC), *b2 = rt_tensor_randn(&rng, 1, K, 1, 1, LOC);
    rt_ad_begin();
    rt_tensor *w1 = rt_tad_input(W1), *c1 = rt_tad_input(b1), *w2 = rt_tad_input(W2), *c2 = rt_tad_input(b2);
    rt_tensor *h = rt_tad_unary(RT_TU_tanh, rt_tad_binop(RT_TB_add, rt_tad_matmul(X, w1, LOC), c1, LOC), LOC);
    rt_tensor *z = rt_tad_binop(RT_TB_add, rt_tad_matmul(h, w2, LOC), c2, LOC);
    rt_tensor *ll = rt_tad_binop(RT_TB_mul, Y, rt_tad_softmax(z, 1, LOC), LOC);
    int64_t loss = rt_ad_mul(rt_tad_sum(ll), rt_ad_const(-1.0 / B));
    assert_int_equal(rt_ad_size(), 14);   /* one node per operation (4 inputs, 9 ops, a constant) */
    rt_ad_grad(loss, NULL, 0);
    double L, gW1[D * H], gb1[H], gW2[H * K], gb2[K];
    mlp_reference(X->d, Y->d, W1->d, b1->d, W2->d, b2->d, &L, gW1, gb1, gW2, gb2);
    assert_true(fabs(rt_ad_value(loss) - L) <= 1e-5 * fabs(L));
    check_close("dW1", rt_tad_adjoint(w1), gW1, D * H);
    check_close("db1", rt_tad_adjoint(c1), gb1, H);
    check_close("dW2", rt_tad_adjoint(w2), gW2, H * K);
    check_close("db2", rt_tad_adjoint(c2), gb2, K);
}

int main(void)
{
    GC_INIT();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_gradients_fd),
        cmocka_unit_test(test_error_leaves_tape),
        cmocka_unit_test(test_tape_refs),
        cmocka_unit_test(test_mlp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
