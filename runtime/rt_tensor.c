/* rt_tensor.c - tensor values: construction, shapes, broadcasting elementwise arithmetic,
 * sgemm/sgemv products, reductions, activations, normalizations, gathers and printing. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>
#include "rt.h"
#include "rt_rng.h"
#include "rt_dist.h"
#include "rt_tensor.h"

static float tt_sigmoid(float x) { return x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)); }

const char *rt_tensor_shape_str(const rt_tensor *t, char *buf)
{
    int n = sprintf(buf, "[");
    for (int64_t k = 0; k < t->rank; k++)
        n += sprintf(buf + n, "%s%lld", k ? ", " : "", (long long)t->dim[k]);
    sprintf(buf + n, "]");
    return buf;
}

/* Dims are at least 1; the element count is at most 2^31 - 1 (8 GiB, and within the 32-bit
 * sizes of BLAS calls). */
rt_tensor *rt_tensor_new(int64_t rank, const int64_t *dim, const char *loc)
{
    if (rank < 1 || rank > RT_TENSOR_MAX_RANK)
        rt_failf(loc, "a tensor has rank 1 to 3, not %lld", (long long)rank);
    int64_t n = 1;
    for (int64_t k = 0; k < rank; k++) {
        if (dim[k] < 1 || dim[k] > INT32_MAX)
            rt_failf(loc, "tensor dimension %lld is %lld (dimensions are 1 to 2^31-1)", (long long)k,
                     (long long)dim[k]);
        n *= dim[k];
        if (n > INT32_MAX)
            rt_failf(loc, "a tensor of more than 2^31 - 1 elements is too large (dimension %lld is %lld)",
                     (long long)k, (long long)dim[k]);
    }
    rt_tensor *t = rt_alloc(sizeof *t + sizeof(float) * (size_t)n, false);
    t->numel = n, t->rank = rank, t->node = -1;
    for (int64_t k = 0; k < RT_TENSOR_MAX_RANK; k++)
        t->dim[k] = k < rank ? dim[k] : 1;
    return t;
}

static rt_tensor *like(const rt_tensor *t, const char *loc) { return rt_tensor_new(t->rank, t->dim, loc); }

rt_tensor *rt_tensor_full(double x, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc)
{
    int64_t dim[3] = {d0, d1, d2};
    rt_tensor *t = rt_tensor_new(rank, dim, loc);
    for (int64_t k = 0; k < t->numel; k++)
        t->d[k] = (float)x;
    return t;
}

/* Standard normal draws in element order from the caller's stream. */
rt_tensor *rt_tensor_randn(void *rng, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc)
{
    rt_tensor *t = rt_tensor_full(0, rank, d0, d1, d2, loc);
    for (int64_t k = 0; k < t->numel; k++)
        t->d[k] = (float)rt_rng_normal(rng);
    return t;
}

/* real[] gives rank 1, real[][] (rows of equal length) rank 2. */
rt_tensor *rt_tensor_from_array(const rt_array *a, int64_t depth, const char *loc)
{
    if (a->len == 0)
        rt_failf(loc, "tensor: the array is empty (a tensor has at least one element)");
    if (depth == 1) {
        rt_tensor *t = rt_tensor_new(1, &a->len, loc);
        for (int64_t k = 0; k < a->len; k++)
            t->d[k] = (float)a->at.d[k];
        return t;
    }
    int64_t dim[2] = {a->len, ((const rt_array *)a->at.p[0])->len};
    for (int64_t i = 1; i < a->len; i++)
        if (((const rt_array *)a->at.p[i])->len != dim[1])
            rt_failf(loc, "tensor: row %lld has %lld elements, but row 0 has %lld", (long long)i,
                     (long long)((const rt_array *)a->at.p[i])->len, (long long)dim[1]);
    rt_tensor *t = rt_tensor_new(2, dim, loc);
    for (int64_t i = 0; i < dim[0]; i++)
        for (int64_t j = 0; j < dim[1]; j++)
            t->d[i * dim[1] + j] = (float)((const rt_array *)a->at.p[i])->at.d[j];
    return t;
}

rt_array *rt_tensor_to_array(const rt_tensor *t)
{
    rt_array *a = rt_array_new(t->numel, 0);
    for (int64_t k = 0; k < t->numel; k++)
        a->at.d[k] = t->d[k];
    return a;
}

rt_array *rt_tensor_shape(const rt_tensor *t)
{
    rt_array *a = rt_array_new(t->rank, 0);
    for (int64_t k = 0; k < t->rank; k++)
        a->at.i[k] = t->dim[k];
    return a;
}

int64_t rt_tensor_rank(const rt_tensor *t) { return t->rank; }
int64_t rt_tensor_numel(const rt_tensor *t) { return t->numel; }

/* The flat offset of t[i, j, k] (n indices given); a runtime error naming the shape. */
int64_t rt_tensor_offset(const rt_tensor *t, int64_t n, int64_t i, int64_t j, int64_t k, const char *loc)
{
    char buf[64];
    if (n != t->rank)
        rt_failf(loc, "tensor of shape %s indexed with %lld indices", rt_tensor_shape_str(t, buf), (long long)n);
    int64_t ix[3] = {i, j, k}, off = 0;
    for (int64_t a = 0; a < n; a++) {
        if ((uint64_t)ix[a] >= (uint64_t)t->dim[a])
            rt_failf(loc, "index %lld out of bounds for axis %lld of a tensor of shape %s", (long long)ix[a],
                     (long long)a, rt_tensor_shape_str(t, buf));
        off = off * t->dim[a] + ix[a];
    }
    return off;
}

double rt_tensor_get(const rt_tensor *t, int64_t n, int64_t i, int64_t j, int64_t k, const char *loc)
{
    return t->d[rt_tensor_offset(t, n, i, j, k, loc)];
}

/* A new header over a copy of the elements (values are immutable, but a tensor's header
 * says which tape node made it, so a reshape is a value of its own). */
rt_tensor *rt_tensor_reshape(const rt_tensor *t, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc)
{
    char buf[64];
    int64_t dim[3] = {d0, d1, d2};
    rt_tensor *r = rt_tensor_new(rank, dim, loc);
    if (r->numel != t->numel)
        rt_failf(loc, "reshape: a tensor of shape %s has %lld elements, not %lld", rt_tensor_shape_str(t, buf),
                 (long long)t->numel, (long long)r->numel);
    memcpy(r->d, t->d, sizeof(float) * (size_t)t->numel);
    return r;
}

rt_tensor *rt_tensor_transpose(const rt_tensor *t, const char *loc)
{
    char buf[64];
    if (t->rank != 2)
        rt_failf(loc, "transpose: expects a rank-2 tensor, found shape %s", rt_tensor_shape_str(t, buf));
    int64_t m = t->dim[0], n = t->dim[1], dim[2] = {n, m};
    rt_tensor *r = rt_tensor_new(2, dim, loc);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            r->d[j * m + i] = t->d[i * n + j];
    return r;
}

/* ---- broadcasting ----
 * numpy's rule: shapes are aligned at their last axis; each pair of dims must be equal or
 * one of them 1 (or missing), and the result takes the larger. Loops run over three axes,
 * a shape of rank r occupying the last r. */

int64_t rt_tensor_broadcast(const rt_tensor *a, const rt_tensor *b, int64_t *out, const char *what,
                            const char *loc)
{
    int64_t r = a->rank > b->rank ? a->rank : b->rank;
    for (int64_t k = 0; k < r; k++) {
        int64_t ka = k - (r - a->rank), kb = k - (r - b->rank);
        int64_t da = ka >= 0 ? a->dim[ka] : 1, db = kb >= 0 ? b->dim[kb] : 1;
        if (da != db && da != 1 && db != 1) {
            char ba[64], bb[64];
            rt_failf(loc, "%s: shapes %s and %s do not broadcast (axis %lld: %lld against %lld)", what,
                     rt_tensor_shape_str(a, ba), rt_tensor_shape_str(b, bb), (long long)k, (long long)da,
                     (long long)db);
        }
        out[k] = da > db ? da : db;
    }
    return r;
}

/* Strides over the three loop axes for t inside a broadcast shape of rank r. */
void rt_tensor_bstrides(const rt_tensor *t, int64_t r, const int64_t *shape, int64_t *stride)
{
    int64_t s = 1;
    for (int64_t k = 2; k >= 0; k--) {
        int64_t kr = k - (3 - r), kt = kr - (r - t->rank);   /* axis in shape, in t */
        int64_t d = kt >= 0 ? t->dim[kt] : 1;
        stride[k] = kr >= 0 && d == shape[kr] && d != 1 ? s : 0;
        s *= d;
        (void)shape;
    }
}

float rt_tensor_apply(int64_t op, float x, float y)
{
    switch (op) {
    case RT_TB_add: return x + y;
    case RT_TB_sub: return x - y;
    case RT_TB_mul: return x * y;
    default: return x / y;
    }
}

static const char *binop_name(int64_t op)
{
    static const char *names[] = {
#define RT_TB_NAME(name, sym) "'" sym "'",
        RT_TENSOR_BINOPS(RT_TB_NAME)
#undef RT_TB_NAME
    };
    return names[op];
}

rt_tensor *rt_tensor_binop(int64_t op, const rt_tensor *a, const rt_tensor *b, const char *loc)
{
    int64_t shape[3], sa[3], sb[3], d3[3];
    int64_t r = rt_tensor_broadcast(a, b, shape, binop_name(op), loc);
    rt_tensor *z = rt_tensor_new(r, shape, loc);
    rt_tensor_bstrides(a, r, shape, sa), rt_tensor_bstrides(b, r, shape, sb);
    for (int64_t k = 0; k < 3; k++)
        d3[k] = k - (3 - r) >= 0 ? shape[k - (3 - r)] : 1;
    int64_t o = 0;
    for (int64_t i = 0; i < d3[0]; i++)
        for (int64_t j = 0; j < d3[1]; j++)
            for (int64_t k = 0; k < d3[2]; k++)
                z->d[o++] = rt_tensor_apply(op, a->d[i * sa[0] + j * sa[1] + k * sa[2]], b->d[i * sb[0] + j * sb[1] + k * sb[2]]);
    return z;
}

rt_tensor *rt_tensor_scalar(int64_t op, const rt_tensor *a, double x, int64_t x_left, const char *loc)
{
    rt_tensor *z = like(a, loc);
    float y = (float)x;
    for (int64_t k = 0; k < a->numel; k++)
        z->d[k] = x_left ? rt_tensor_apply(op, y, a->d[k]) : rt_tensor_apply(op, a->d[k], y);
    return z;
}

/* ---- products ----
 * a: [m, k] (or [b, m, k], taken as [b*m, k], or [k]); b: [k, n] or [k]. The result drops
 * the axes of rank-1 operands as numpy's matmul does. */

rt_mm_dims rt_tensor_mm_dims(const rt_tensor *a, const rt_tensor *b, const char *loc)
{
    rt_mm_dims d = {0};
    char ba[64], bb[64];
    int64_t ka = a->dim[a->rank - 1], kb = b->dim[0];
    if (b->rank > 2 || ka != kb)
        rt_failf(loc, "matmul: shapes %s and %s do not match (%s)", rt_tensor_shape_str(a, ba),
                 rt_tensor_shape_str(b, bb), b->rank > 2 ? "the second operand has rank 1 or 2" : "inner dimensions differ");
    d.k = ka, d.m = a->numel / ka, d.n = b->rank == 2 ? b->dim[1] : 1;
    d.rank = 0;
    for (int64_t q = 0; q + 1 < a->rank; q++)
        d.dim[d.rank++] = a->dim[q];
    if (b->rank == 2)
        d.dim[d.rank++] = d.n;
    if (d.rank == 0)
        d.dim[d.rank++] = 1;   /* vector . vector: a tensor of shape [1] */
    return d;
}

rt_tensor *rt_tensor_matmul(const rt_tensor *a, const rt_tensor *b, const char *loc)
{
    rt_mm_dims d = rt_tensor_mm_dims(a, b, loc);
    rt_tensor *z = rt_tensor_new(d.rank, d.dim, loc);
    if (d.n == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, d.m, d.k, 1, a->d, d.k, b->d, 1, 0, z->d, 1);
    else if (d.m == 1)
        cblas_sgemv(CblasRowMajor, CblasTrans, d.k, d.n, 1, b->d, d.n, a->d, 1, 0, z->d, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d.m, d.n, d.k, 1, a->d, d.k, b->d, d.n, 0, z->d,
                    d.n);
    return z;
}

/* ---- reductions: sums in double ---- */

double rt_tensor_sum(const rt_tensor *t)
{
    double s = 0;
    for (int64_t k = 0; k < t->numel; k++)
        s += t->d[k];
    return s;
}

double rt_tensor_mean(const rt_tensor *t, const char *loc) { return rt_tensor_sum(t) / (double)t->numel; }

/* t viewed as [outer, len, inner] around axis */
void rt_tensor_axis_split(const rt_tensor *t, int64_t axis, int64_t *outer, int64_t *len, int64_t *inner)
{
    *outer = *inner = 1;
    for (int64_t k = 0; k < t->rank; k++)
        *(k < axis ? outer : inner) *= k == axis ? 1 : t->dim[k];
    *len = t->dim[axis];
}

/* Sums (or means) over one axis; the axis is dropped (a rank-1 tensor gives shape [1]). */
rt_tensor *rt_tensor_sum_axis(const rt_tensor *t, int64_t axis, int64_t mean, const char *loc)
{
    char buf[64];
    if (axis < 0 || axis >= t->rank)
        rt_failf(loc, "%s: axis %lld is out of range for a tensor of shape %s", mean ? "mean" : "sum",
                 (long long)axis, rt_tensor_shape_str(t, buf));
    int64_t dim[3], r = 0, outer, len, inner;
    for (int64_t k = 0; k < t->rank; k++)
        if (k != axis)
            dim[r++] = t->dim[k];
    if (r == 0)
        dim[r++] = 1;
    rt_tensor *z = rt_tensor_new(r, dim, loc);
    rt_tensor_axis_split(t, axis, &outer, &len, &inner);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double s = 0;
            for (int64_t l = 0; l < len; l++)
                s += t->d[(o * len + l) * inner + i];
            z->d[o * inner + i] = (float)(mean ? s / (double)len : s);
        }
    return z;
}

/* ---- elementwise functions, softmax and normalizations over the last axis ---- */

rt_tensor *rt_tensor_unary(int64_t fn, const rt_tensor *t, const char *loc)
{
    rt_tensor *r = like(t, loc);
    for (int64_t q = 0; q < t->numel; q++) {
        float x = t->d[q], z = 0;
        switch (fn) {
#define RT_TU_CASE(name, value, deriv) case RT_TU_##name: z = (value); break;
            RT_TENSOR_UNARY(RT_TU_CASE)
#undef RT_TU_CASE
        }
        (void)z;
        r->d[q] = z;
    }
    return r;
}

rt_tensor *rt_tensor_softmax(const rt_tensor *t, int64_t log, const char *loc)
{
    rt_tensor *r = like(t, loc);
    int64_t n = t->dim[t->rank - 1];
    for (int64_t row = 0; row < t->numel / n; row++) {
        const float *x = t->d + row * n;
        float *z = r->d + row * n, m = x[0];
        for (int64_t j = 1; j < n; j++)
            m = x[j] > m ? x[j] : m;
        double s = 0;
        for (int64_t j = 0; j < n; j++)
            s += exp((double)x[j] - m);
        for (int64_t j = 0; j < n; j++)
            z[j] = log ? (float)((double)x[j] - m - (double)logf((float)s)) : (float)(exp((double)x[j] - m) / s);
    }
    return r;
}

#define RT_TENSOR_EPS 1e-5

/* Per row of the last axis: the mean (0 for rmsnorm) and 1 / sqrt(var + eps). */
void rt_tensor_row_stats(const float *x, int64_t n, int64_t layer, double *mu, double *rstd)
{
    double m = 0, v = 0;
    if (layer) {
        for (int64_t j = 0; j < n; j++)
            m += x[j];
        m /= (double)n;
    }
    for (int64_t j = 0; j < n; j++)
        v += ((double)x[j] - m) * ((double)x[j] - m);
    *mu = m, *rstd = 1 / sqrt(v / (double)n + RT_TENSOR_EPS);
}

rt_tensor *rt_tensor_norm(const rt_tensor *t, const rt_tensor *gain, int64_t layer, const char *loc)
{
    int64_t n = t->dim[t->rank - 1];
    if (gain && (gain->rank != 1 || gain->dim[0] != n)) {
        char ba[64], bb[64];
        rt_failf(loc, "%s: the gain has shape %s, but the input's last axis is %lld long (shape %s)",
                 layer ? "layernorm" : "rmsnorm", rt_tensor_shape_str(gain, ba), (long long)n, rt_tensor_shape_str(t, bb));
    }
    rt_tensor *r = like(t, loc);
    for (int64_t row = 0; row < t->numel / n; row++) {
        const float *x = t->d + row * n;
        double mu, rstd;
        rt_tensor_row_stats(x, n, layer, &mu, &rstd);
        for (int64_t j = 0; j < n; j++)
            r->d[row * n + j] = (float)(((double)x[j] - mu) * rstd) * (gain ? gain->d[j] : 1);
    }
    return r;
}

/* ---- gathers and concatenation ---- */

rt_tensor *rt_tensor_rows(const rt_tensor *t, const rt_array *idx, const char *loc)
{
    char buf[64];
    if (t->rank != 2)
        rt_failf(loc, "rows: expects a rank-2 tensor, found shape %s", rt_tensor_shape_str(t, buf));
    if (idx->len == 0)
        rt_failf(loc, "rows: no indices (a tensor has at least one row)");
    int64_t dim[2] = {idx->len, t->dim[1]};
    for (int64_t q = 0; q < idx->len; q++)
        if ((uint64_t)idx->at.i[q] >= (uint64_t)t->dim[0])
            rt_failf(loc, "rows: index %lld out of bounds for a tensor of shape %s", (long long)idx->at.i[q],
                     rt_tensor_shape_str(t, buf));
    rt_tensor *r = rt_tensor_new(2, dim, loc);
    for (int64_t q = 0; q < idx->len; q++)
        memcpy(r->d + q * dim[1], t->d + idx->at.i[q] * dim[1], sizeof(float) * (size_t)dim[1]);
    return r;
}

/* Shapes equal except along axis; the result's outer x (la + lb) x inner blocks. */
rt_tensor *rt_tensor_concat(const rt_tensor *a, const rt_tensor *b, int64_t axis, const char *loc)
{
    char ba[64], bb[64];
    bool ok = a->rank == b->rank && axis >= 0 && axis < a->rank;
    for (int64_t k = 0; ok && k < a->rank; k++)
        ok = k == axis || a->dim[k] == b->dim[k];
    if (!ok)
        rt_failf(loc, "concat: shapes %s and %s do not join along axis %lld", rt_tensor_shape_str(a, ba),
                 rt_tensor_shape_str(b, bb), (long long)axis);
    int64_t dim[3], outer, la, lb, inner;
    memcpy(dim, a->dim, sizeof dim);
    dim[axis] += b->dim[axis];
    rt_tensor *r = rt_tensor_new(a->rank, dim, loc);
    rt_tensor_axis_split(a, axis, &outer, &la, &inner);
    lb = b->dim[axis];
    for (int64_t o = 0; o < outer; o++) {
        memcpy(r->d + o * (la + lb) * inner, a->d + o * la * inner, sizeof(float) * (size_t)(la * inner));
        memcpy(r->d + (o * (la + lb) + la) * inner, b->d + o * lb * inner, sizeof(float) * (size_t)(lb * inner));
    }
    return r;
}

/* ---- observations ---- */

double rt_tensor_obs_normal(const rt_tensor *y, const rt_tensor *mu, double mu_x, double sigma, const char *loc)
{
    char ba[64], bb[64];
    if (mu && (mu->rank != y->rank || memcmp(mu->dim, y->dim, sizeof y->dim) != 0))
        rt_failf(loc, "normal: the observed tensor has shape %s, but the mean has shape %s", rt_tensor_shape_str(y, ba),
                 rt_tensor_shape_str(mu, bb));
    rt_lpdf_normal(0, 0, sigma, loc);   /* checks sigma as a scalar observe does */
    double s = 0, c = -log(sigma) - 0.5 * log(2 * M_PI);
    for (int64_t k = 0; k < y->numel; k++) {
        double z = ((double)y->d[k] - (mu ? mu->d[k] : mu_x)) / sigma;
        s += -0.5 * z * z + c;
    }
    return s;
}

/* log softmax(row)[k] by the log-sum-exp of the row (in double) */
double rt_tensor_row_logp(const float *row, int64_t n, int64_t k)
{
    if (k < 0 || k >= n)
        return -INFINITY;
    float m = row[0];
    for (int64_t j = 1; j < n; j++)
        m = row[j] > m ? row[j] : m;
    double s = 0;
    for (int64_t j = 0; j < n; j++)
        s += exp((double)row[j] - m);
    return (double)row[k] - m - log(s);
}

double rt_tensor_obs_categorical_logits(const rt_array *ks, int64_t k, const rt_tensor *L, const char *loc)
{
    char buf[64];
    int64_t rows = ks ? ks->len : 1, n = L->dim[L->rank - 1];
    if (L->rank != (ks ? 2 : 1) || (ks && L->dim[0] != rows))
        rt_failf(loc, "categorical_logits: %s labels need logits of shape %s, found shape %s",
                 ks ? "an int[] of" : "one label", ks ? "[labels, categories]" : "[categories]",
                 rt_tensor_shape_str(L, buf));
    double s = 0;
    for (int64_t r = 0; r < rows; r++)
        s += rt_tensor_row_logp(L->d + r * n, n, ks ? ks->at.i[r] : k);
    return s;
}

/* ---- printing: nested brackets of shortest fp32 round-trip numbers ---- */

static void print_float(float x)
{
    char buf[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)x);
        if (strtof(buf, NULL) == x || isnan(x))
            break;
    }
    fputs(buf, rt_out());
}

static void print_axis(const rt_tensor *t, int64_t axis, int64_t off)
{
    rt_putc('[');
    int64_t stride = 1;
    for (int64_t k = axis + 1; k < t->rank; k++)
        stride *= t->dim[k];
    for (int64_t q = 0; q < t->dim[axis]; q++) {
        if (q)
            fputs(", ", rt_out());
        if (axis + 1 < t->rank)
            print_axis(t, axis + 1, off + q * stride);
        else
            print_float(t->d[off + q]);
    }
    rt_putc(']');
}

void rt_print_tensor(const rt_tensor *t)
{
    fputs("tensor(", rt_out());
    print_axis(t, 0, 0);
    rt_putc(')');
}
