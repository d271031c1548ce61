/* rt_ad.h - reverse-mode automatic differentiation on a per-thread tape: the runtime half
 * of the gradient specialization of models and guides, in which every `real` is a handle. */
#ifndef PPL_RT_AD_H
#define PPL_RT_AD_H
#include <stdbool.h>
#include <stdint.h>
#include "rt_dist_table.h"

/* ---- the tape ----
 * Each thread has its own tape; a handle (int64_t) is the index of a node on the calling
 * thread's tape, valid until that thread's next rt_ad_begin. Every operation appends one
 * node holding its value and the partial derivatives of the value with respect to its
 * operands, computed on the forward pass; rt_ad_grad then needs one sweep backwards.
 * A handle that is not on the tape is an internal error (rt_fail, no source position); a
 * runtime error in a call (an invalid parameter) leaves the tape as it was before it. */

void rt_ad_begin(void);          /* starts, or empties for reuse, the calling thread's tape */
void rt_ad_free(void);           /* releases its storage (threads' tapes are freed at exit) */
/* A fresh tape for the calling thread until rt_ad_pop, the current one left as it is: an
 * engine that runs inside gradient code (a fit or a score nested in a fit's model) keeps
 * the outer tape's handles valid. rt_ad_pop takes what rt_ad_push returned. */
void *rt_ad_push(void);
void rt_ad_pop(void *outer);
int64_t rt_ad_const(double v);
int64_t rt_ad_input(double v);   /* a variable to differentiate by; numbered 0, 1, ... */
double rt_ad_value(int64_t h);
int64_t rt_ad_ninputs(void);
int64_t rt_ad_size(void);        /* nodes on the tape */
bool rt_ad_is_const(int64_t h);  /* made by rt_ad_const: no input reaches it */
/* Same value, derivative 0: the node is a constant (DiCE-style surrogates). */
int64_t rt_ad_stop_grad(int64_t h);
/* Whether out is an affine function of the nodes h[0..n) (through +, -, sums and products
 * with constants only): then its derivatives in them do not depend on their values. */
bool rt_ad_affine(int64_t out, const int64_t *h, int64_t n);
/* d out / d h[k] for the nodes h[0..n) (any nodes, not only inputs), by a backward pass. */
void rt_ad_adjoints(int64_t out, const int64_t *h, int64_t n, double *adj);
/* A position on the calling thread's tape, and a return to it: the nodes made since are
 * dropped (their handles become invalid). For values computed on the tape only to be read. */
typedef struct rt_ad_mark { int64_t n, pn, mn; } rt_ad_mark;
rt_ad_mark rt_ad_mark_here(void);
void rt_ad_rewind(rt_ad_mark m);
/* Backward pass from out (seeded with adjoint 1): grad[i] = d out / d input i for
 * i < ninputs. Entries past rt_ad_ninputs() are 0. Can be called again for another out. */
void rt_ad_grad(int64_t out, double *grad, int64_t ninputs);

/* ---- elementary operations ----
 * X(name, value, derivative) with x the operand, z the value: rt_ad_NAME(h). Derivatives
 * at kinks are the one-sided value of the chosen branch (abs'(0) = 0); lgamma at its
 * poles (0, -1, -2, ...) has value +inf and derivative NaN. inv_logit is computed stably
 * (e^x / (1 + e^x) for x < 0), softplus as the prelude does. The ad_ helpers are in rt_ad.c.
 * Adding an operation is a row here (plus a test row in tests/unit/test_ad.c). */
#define RT_AD_UNARY(X) \
    X(neg,       -x,               -1) \
    X(exp,       exp(x),           z) \
    X(log,       log(x),           1 / x) \
    X(sqrt,      sqrt(x),          0.5 / z) \
    X(sin,       sin(x),           cos(x)) \
    X(cos,       cos(x),           -sin(x)) \
    X(tan,       tan(x),           1 + z * z) \
    X(atan,      atan(x),          1 / (1 + x * x)) \
    X(tanh,      tanh(x),          1 / (cosh(x) * cosh(x))) \
    X(lgamma,    ad_lgamma(x),     ad_digamma(x)) \
    X(log1p,     log1p(x),         1 / (1 + x)) \
    X(expm1,     expm1(x),         z + 1) \
    X(abs,       fabs(x),          (x > 0) - (x < 0)) \
    X(softplus,  ad_softplus(x),   ad_inv_logit(x)) \
    X(inv_logit, ad_inv_logit(x),  ad_inv_logit(x) * ad_inv_logit(-x))

/* X(name, value, d/dx, d/dy) with operands x, y and value z: rt_ad_NAME(hx, hy).
 * min and max select as compiled code does (x < y ? x : y, x < y ? y : x) and pass the
 * whole derivative to the operand selected. pow: see ad_pow_dx and ad_pow_dy in rt_ad.c
 * (x < 0 with integral y: d/dx = y x^(y-1), d/dy = 0; at x = 0, d/dy = 0; NaN
 * derivatives only where the value is NaN). */
#define RT_AD_BINARY(X) \
    X(add, x + y,            1,              1) \
    X(sub, x - y,            1,              -1) \
    X(mul, x * y,            y,              x) \
    X(div, x / y,            1 / y,          -z / y) \
    X(pow, pow(x, y),        ad_pow_dx(x, y), ad_pow_dy(x, y, z)) \
    X(min, x < y ? x : y,    x < y,          !(x < y)) \
    X(max, x < y ? y : x,    !(x < y),       x < y)

#define RT_AD_UNARY_DECL(name, value, deriv) int64_t rt_ad_##name(int64_t x);
#define RT_AD_BINARY_DECL(name, value, dx, dy) int64_t rt_ad_##name(int64_t x, int64_t y);
RT_AD_UNARY(RT_AD_UNARY_DECL)
RT_AD_BINARY(RT_AD_BINARY_DECL)
#undef RT_AD_UNARY_DECL
#undef RT_AD_BINARY_DECL

/* ---- reductions: one node with n operands ---- */
int64_t rt_ad_sum(const int64_t *hs, int64_t n);                        /* n = 0: 0 */
/* Same value as rt_logsumexp; derivatives softmax(hs). n = 0: -inf. If the maximum is
 * +-inf the value is it and the derivatives are 0; a NaN operand gives NaN throughout. */
int64_t rt_ad_logsumexp(const int64_t *hs, int64_t n);
int64_t rt_ad_dot_const(const double *a, const int64_t *hs, int64_t n);  /* sum a[i] hs[i] */

/* out[i] = sum_j X[i*cols + j] w[j] for a row-major rows x cols X of constants: rows
 * handles written to out. X is copied onto the tape. Forward and backward passes call
 * OpenBLAS dgemv (the backward one with X transposed). */
void rt_ad_matvec(const double *X, int64_t rows, int64_t cols, const int64_t *w, int64_t *out);

/* ---- tensor operations (rt_tensor_ad.c): one node each, its operands in a record ----
 * rt_ad_tensor_state is the calling thread's tape's tensor state; rt_ad_gen the tape's
 * current run (tensors made on it carry it); rt_ad_tensor_node appends a node for record
 * rec with scalar value v; rt_ad_tensor_rec is h's record, or -1 if h is not a tensor node. */
void *rt_ad_tensor_state(void);
uint64_t rt_ad_gen(void);
int64_t rt_ad_tensor_node(int64_t rec, double v);
int64_t rt_ad_tensor_rec(int64_t h);

/* ---- log densities: one node each, with analytic partials ----
 * The value is rt_lpdf_D's (the same bits, parameter checks and error messages, see
 * rt_dist.h); derivatives are with respect to every handle argument. Where the value is
 * -inf (outside the support) every derivative is 0. uniform: inside [lo, hi] the density
 * is flat, so d/dx = 0, d/dlo = 1/(hi - lo), d/dhi = -1/(hi - lo); it is not
 * differentiable in x at lo and hi, where those one-sided values are returned.
 *
 * Continuous rows of RT_DISTRIBUTIONS: rt_ad_lpdf_D(x, params in the table's order, loc),
 * every argument a handle, e.g. rt_ad_lpdf_student_t(x, nu, mu, sigma, loc). */
#define RT_AD_HANDLES_1 int64_t
#define RT_AD_HANDLES_2 int64_t, int64_t
#define RT_AD_HANDLES_3 int64_t, int64_t, int64_t
#define RT_AD_LPDF_DECL_REAL(name, np) \
    int64_t rt_ad_lpdf_##name(int64_t x, RT_AD_HANDLES_##np, const char *loc);
#define RT_AD_LPDF_DECL_INT(name, np)
#define RT_AD_LPDF_DECL(name, np, vt, types, ...) RT_AD_LPDF_DECL_##vt(name, np)
RT_DISTRIBUTIONS(RT_AD_LPDF_DECL)
#undef RT_AD_LPDF_DECL

/* Discrete ones: the value y is a plain int64_t, real parameters are handles.
 * X(name): rt_ad_lpmf_NAME(y, param, loc) for the one-real-parameter rows. */
#define RT_AD_LPMF1(X) X(bernoulli) X(bernoulli_logit) X(poisson) X(poisson_log)
#define RT_AD_LPMF1_DECL(name) int64_t rt_ad_lpmf_##name(int64_t y, int64_t param, const char *loc);
RT_AD_LPMF1(RT_AD_LPMF1_DECL)
#undef RT_AD_LPMF1_DECL
int64_t rt_ad_lpmf_binomial(int64_t y, int64_t n, int64_t p, const char *loc);  /* n plain */
/* probs: n handles (weights normalized by their sum, as rt_lpdf_categorical). */
int64_t rt_ad_lpmf_categorical(int64_t y, const int64_t *probs, int64_t n, const char *loc);

/* Vectorized observations, one node each; the value is the sum, in order, of the scalar
 * log densities (so it equals their composition with rt_ad_add):
 * observe ys ~ bernoulli_logit(X * w) and observe ys ~ normal(mus, sigma). */
int64_t rt_ad_sum_lpmf_bernoulli_logit(const int64_t *y, const int64_t *eta, int64_t n,
                                       const char *loc);
int64_t rt_ad_sum_lpdf_normal(const double *y, const int64_t *mu, int64_t n, int64_t sigma,
                              const char *loc);

#endif
