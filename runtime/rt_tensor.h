/* rt_tensor.h - the tensor type: immutable fp32 arrays of rank 1 to 3 with numpy-style
 * broadcasting, products by OpenBLAS sgemm/sgemv, and one AD tape node per operation. */
#ifndef PPL_RT_TENSOR_H
#define PPL_RT_TENSOR_H
#include <stdint.h>
#include "rt.h"

/* A tensor: row-major fp32 elements after a header, allocated with GC_malloc_atomic (it
 * holds no pointers). node and gen say which AD tape node made it: the handle node is
 * valid on the calling thread's tape while that tape's generation is gen (rt_ad_gen);
 * otherwise the tensor is a constant of any gradient. A tensor is never written after it
 * is returned, so a tape node references its operands' buffers instead of copying them. */
#define RT_TENSOR_MAX_RANK 3
typedef struct rt_tensor {
    int64_t numel;
    int64_t rank;
    int64_t dim[RT_TENSOR_MAX_RANK];   /* dims past rank are 1 */
    int64_t node;
    uint64_t gen;
    int64_t pad;                       /* keeps d 16-byte aligned */
    float d[];
} rt_tensor;

/* Elementwise binary operations, X(name, op symbol): rt_tensor_binop's op is the index. */
#define RT_TENSOR_BINOPS(X) X(add, "+") X(sub, "-") X(mul, "*") X(div, "/")
enum {
#define RT_TB_ENUM(name, sym) RT_TB_##name,
    RT_TENSOR_BINOPS(RT_TB_ENUM)
#undef RT_TB_ENUM
};
/* Elementwise unary functions, X(name, value, derivative from x and z = value). gelu is
 * the exact x * Phi(x); silu x * sigmoid(x). */
#define RT_TENSOR_UNARY(X) \
    X(exp, expf(x), z) \
    X(log, logf(x), 1 / x) \
    X(tanh, tanhf(x), 1 - z * z) \
    X(sigmoid, tt_sigmoid(x), z * (1 - z)) \
    X(relu, x > 0 ? x : 0, x > 0) \
    X(silu, x * tt_sigmoid(x), tt_sigmoid(x) * (1 + x * (1 - tt_sigmoid(x)))) \
    X(gelu, 0.5f * x * (1 + erff(x * 0.70710678f)), \
      0.5f * (1 + erff(x * 0.70710678f)) + x * 0.39894228f * expf(-0.5f * x * x))
enum {
#define RT_TU_ENUM(name, ...) RT_TU_##name,
    RT_TENSOR_UNARY(RT_TU_ENUM)
#undef RT_TU_ENUM
    RT_TU_COUNT
};

/* ---- plain values; every error is a runtime error at loc naming the operation ---- */
rt_tensor *rt_tensor_new(int64_t rank, const int64_t *dim, const char *loc);   /* zeroed */
rt_tensor *rt_tensor_full(double x, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc);
rt_tensor *rt_tensor_randn(void *rng, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc);
rt_tensor *rt_tensor_from_array(const rt_array *a, int64_t depth, const char *loc);  /* real[], real[][] */
rt_array *rt_tensor_to_array(const rt_tensor *t);        /* the elements in order, as real[] */
rt_array *rt_tensor_shape(const rt_tensor *t);           /* int[] */
int64_t rt_tensor_rank(const rt_tensor *t);
int64_t rt_tensor_numel(const rt_tensor *t);
double rt_tensor_get(const rt_tensor *t, int64_t n, int64_t i, int64_t j, int64_t k, const char *loc);
rt_tensor *rt_tensor_reshape(const rt_tensor *t, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc);
rt_tensor *rt_tensor_transpose(const rt_tensor *t, const char *loc);
rt_tensor *rt_tensor_binop(int64_t op, const rt_tensor *a, const rt_tensor *b, const char *loc);
/* a op x (x_left = 0) or x op a (x_left = 1) for a real x */
rt_tensor *rt_tensor_scalar(int64_t op, const rt_tensor *a, double x, int64_t x_left, const char *loc);
rt_tensor *rt_tensor_matmul(const rt_tensor *a, const rt_tensor *b, const char *loc);
double rt_tensor_sum(const rt_tensor *t);
double rt_tensor_mean(const rt_tensor *t, const char *loc);
rt_tensor *rt_tensor_sum_axis(const rt_tensor *t, int64_t axis, int64_t mean, const char *loc);
rt_tensor *rt_tensor_unary(int64_t fn, const rt_tensor *t, const char *loc);
rt_tensor *rt_tensor_softmax(const rt_tensor *t, int64_t log, const char *loc);   /* last axis */
/* (x - mean) / sqrt(var + eps) (layer) or x / sqrt(mean x^2 + eps) (rms) over the last axis,
 * times gain (a rank-1 tensor of the last axis' length) unless gain is NULL; eps = 1e-5. */
rt_tensor *rt_tensor_norm(const rt_tensor *t, const rt_tensor *gain, int64_t layer, const char *loc);
rt_tensor *rt_tensor_rows(const rt_tensor *t, const rt_array *idx, const char *loc);   /* rank 2 */
rt_tensor *rt_tensor_concat(const rt_tensor *a, const rt_tensor *b, int64_t axis, const char *loc);
/* Observations, one term each: the sum over y's elements of log normal(y | mu, sigma), mu a
 * tensor of y's shape or (mu = NULL) the real mu_x; the sum over rows r of log softmax(L[r])
 * at label ks[r] (L of shape [len(ks), K]), or with ks = NULL the one label k of a rank-1 L
 * (a label outside 0 .. K-1 gives -inf). */
double rt_tensor_obs_normal(const rt_tensor *y, const rt_tensor *mu, double mu_x, double sigma, const char *loc);
double rt_tensor_obs_categorical_logits(const rt_array *ks, int64_t k, const rt_tensor *L, const char *loc);
void rt_print_tensor(const rt_tensor *t);
rt_tensor *rt_data_tensor(const char *name, const char *loc);   /* data x: tensor (rt_data.c) */   /* tensor([[1, 2], [3, 4]]) */
/* "[2, 3]" into buf (at least 64 bytes) */
const char *rt_tensor_shape_str(const rt_tensor *t, char *buf);
/* The broadcast shape of a and b (numpy's rule) into out; a runtime error naming both
 * shapes and the operation otherwise. Returns the rank. */
int64_t rt_tensor_broadcast(const rt_tensor *a, const rt_tensor *b, int64_t *out, const char *what,
                            const char *loc);
/* The strides of t's dims as they line up with a broadcast shape of rank r (0 where t is broadcast). */
void rt_tensor_bstrides(const rt_tensor *t, int64_t r, const int64_t *shape, int64_t *stride);

/* Shared with rt_tensor_ad.c: t[i, j, k]'s flat offset; matmul's m x k by k x n view and
 * result shape; t as [outer, len, inner] around axis; a row's mean (0 unless layer) and
 * 1 / sqrt(variance + eps). */
int64_t rt_tensor_offset(const rt_tensor *t, int64_t n, int64_t i, int64_t j, int64_t k, const char *loc);
typedef struct rt_mm_dims { int64_t m, k, n; int64_t rank, dim[3]; } rt_mm_dims;
rt_mm_dims rt_tensor_mm_dims(const rt_tensor *a, const rt_tensor *b, const char *loc);
void rt_tensor_axis_split(const rt_tensor *t, int64_t axis, int64_t *outer, int64_t *len, int64_t *inner);
void rt_tensor_row_stats(const float *x, int64_t n, int64_t layer, double *mu, double *rstd);
float rt_tensor_apply(int64_t op, float x, float y);
double rt_tensor_row_logp(const float *row, int64_t n, int64_t k);   /* log softmax(row)[k], -inf outside */

/* ---- gradient code (rt_tensor_ad.c): tensors made on the tape, reals as handles ----
 * Each operation is one tape node (rt_ad.h); when no operand is on the current tape the
 * result is a plain constant tensor. Scalar results and operands are handles. */
rt_tensor *rt_tad_input(const rt_tensor *t);   /* a tensor variable: its adjoint is rt_tad_adjoint's */
const float *rt_tad_adjoint(const rt_tensor *t);   /* after rt_ad_grad; NULL if not on the tape */
int64_t rt_tad_on_tape(const rt_tensor *t);
rt_tensor *rt_tad_full(int64_t hx, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc);
rt_tensor *rt_tad_from_array(const rt_array *handles, int64_t depth, const char *loc);
rt_array *rt_tad_to_array(const rt_tensor *t);
int64_t rt_tad_get(const rt_tensor *t, int64_t n, int64_t i, int64_t j, int64_t k, const char *loc);
rt_tensor *rt_tad_reshape(const rt_tensor *t, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc);
rt_tensor *rt_tad_transpose(const rt_tensor *t, const char *loc);
rt_tensor *rt_tad_binop(int64_t op, const rt_tensor *a, const rt_tensor *b, const char *loc);
rt_tensor *rt_tad_scalar(int64_t op, const rt_tensor *a, int64_t hx, int64_t x_left, const char *loc);
rt_tensor *rt_tad_matmul(const rt_tensor *a, const rt_tensor *b, const char *loc);
int64_t rt_tad_sum(const rt_tensor *t);
int64_t rt_tad_mean(const rt_tensor *t, const char *loc);
rt_tensor *rt_tad_sum_axis(const rt_tensor *t, int64_t axis, int64_t mean, const char *loc);
rt_tensor *rt_tad_unary(int64_t fn, const rt_tensor *t, const char *loc);
rt_tensor *rt_tad_softmax(const rt_tensor *t, int64_t log, const char *loc);
rt_tensor *rt_tad_norm(const rt_tensor *t, const rt_tensor *gain, int64_t layer, const char *loc);
rt_tensor *rt_tad_rows(const rt_tensor *t, const rt_array *idx, const char *loc);
rt_tensor *rt_tad_concat(const rt_tensor *a, const rt_tensor *b, int64_t axis, const char *loc);
int64_t rt_tad_obs_normal(const rt_tensor *y, const rt_tensor *mu, int64_t hmu, int64_t hsigma, const char *loc);
int64_t rt_tad_obs_categorical_logits(const rt_array *ks, int64_t k, const rt_tensor *L, const char *loc);

/* The tape's tensor state (rt_ad.c calls these; one state per tape) */
void *rt_tad_state_new(void);
void rt_tad_state_reset(void *s);
void rt_tad_state_free(void *s);
void rt_tad_zero_adjoints(void *s);
/* The backward step of tensor record rec, the tape node's scalar adjoint array adj (node
 * i's own adjoint adj[i] for a scalar result). */
void rt_tad_backward(void *s, int64_t rec, int64_t i, double *adj);

#endif
