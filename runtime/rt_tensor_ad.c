/* rt_tensor_ad.c - tensor operations on the AD tape: one node per operation, whose record
 * references its operands' values and whose backward step calls OpenBLAS for products. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <gc/gc.h>
#include "rt.h"
#include "rt_ad.h"
#include "rt_tensor.h"

/* ---- the tape's tensor state ----
 * A tensor node is a scalar node of the tape (so operations interleave with scalar ones in
 * tape order) whose record here names the operation, its operand tensors (pointers to their
 * immutable values: constants are referenced, never copied), its scalar operand handles,
 * and the offsets of the result's and operands' adjoints in one fp32 pool. A result that is
 * a real (sum, an element) uses the scalar node's own value and adjoint. The records hold
 * GC pointers, so they live in uncollectable (scanned) memory; the adjoint pool is malloc'd. */
enum tad_op {
    TAD_INPUT, TAD_FULL, TAD_FROM_ARRAY, TAD_GET, TAD_RESHAPE, TAD_TRANSPOSE, TAD_BINOP, TAD_SCALAR,
    TAD_MATMUL, TAD_SUM, TAD_SUM_AXIS, TAD_UNARY, TAD_SOFTMAX, TAD_NORM, TAD_ROWS, TAD_CONCAT,
    TAD_OBS_NORMAL, TAD_OBS_CATEGORICAL,
};

typedef struct tad_rec {
    int32_t op, fn;             /* enum tad_op; the binop, unary function or flag (mean, log, layer) */
    int64_t arg;                /* axis, x_left, element offset, depth */
    rt_tensor *out;             /* the result, NULL for a real */
    const rt_tensor *in[2];     /* operands (in[1]: the second tensor or the gain) */
    const rt_array *aux;        /* rows' indices, from_array's handles */
    int64_t aout, ain[2];       /* adjoint offsets in the pool, -1 for a constant */
    int64_t hs;                 /* a scalar operand's handle, or -1 */
} tad_rec;

typedef struct tad_state {
    tad_rec *rec;
    int64_t n, cap;
    float *adj;
    int64_t an, acap;
} tad_state;

void *rt_tad_state_new(void)
{
    tad_state *s = calloc(1, sizeof *s);
    if (!s)
        rt_fail(NULL, "out of memory for the gradient tape's tensors");
    return s;
}

/* Records are cleared so that the collector may take their tensors. */
void rt_tad_state_reset(void *p)
{
    tad_state *s = p;
    if (s->n)
        memset(s->rec, 0, (size_t)s->n * sizeof *s->rec);
    s->n = s->an = 0;
}

void rt_tad_state_free(void *p)
{
    tad_state *s = p;
    if (s->rec)
        GC_free(s->rec);
    free(s->adj);
    free(s);
}

void rt_tad_zero_adjoints(void *p)
{
    tad_state *s = p;
    if (s->an)
        memset(s->adj, 0, (size_t)s->an * sizeof *s->adj);
}

static tad_state *state(void) { return rt_ad_tensor_state(); }

/* The adjoint offset of t if it was made on the current tape's current run, else -1. */
static int64_t adj_of(tad_state *s, const rt_tensor *t)
{
    if (!t || t->node < 0 || t->gen != rt_ad_gen())
        return -1;
    int64_t r = rt_ad_tensor_rec(t->node);
    return r >= 0 && r < s->n && s->rec[r].out == t ? s->rec[r].aout : -1;
}

int64_t rt_tad_on_tape(const rt_tensor *t) { return adj_of(state(), t) >= 0; }

const float *rt_tad_adjoint(const rt_tensor *t)
{
    tad_state *s = state();
    int64_t a = adj_of(s, t);
    return a < 0 ? NULL : s->adj + a;
}

static int64_t adj_alloc(tad_state *s, int64_t n)
{
    if (s->an + n > s->acap) {
        int64_t cap = s->acap < 4096 ? 4096 : s->acap;
        while (cap < s->an + n)
            cap *= 2;
        float *p = realloc(s->adj, (size_t)cap * sizeof *p);
        if (!p)
            rt_fail(NULL, "out of memory growing the gradient tape's tensor adjoints");
        s->adj = p, s->acap = cap;
    }
    int64_t off = s->an;
    s->an += n;
    return off;
}

/* Appends record r and its tape node: out (if any) becomes a tape tensor with its adjoint.
 * Returns the node's handle. Called after the forward value is computed, so a runtime
 * error in an operation leaves the tape as it was. */
static int64_t record(tad_state *s, tad_rec r, double v)
{
    if (s->n == s->cap) {
        int64_t cap = s->cap < 256 ? 256 : 2 * s->cap;
        tad_rec *p = GC_malloc_uncollectable((size_t)cap * sizeof *p);
        if (!p)
            rt_fail(NULL, "out of memory growing the gradient tape's tensor records");
        if (s->n)
            memcpy(p, s->rec, (size_t)s->n * sizeof *p);
        if (s->rec)
            GC_free(s->rec);
        s->rec = p, s->cap = cap;
    }
    r.aout = r.out ? adj_alloc(s, r.out->numel) : -1;
    int64_t i = s->n++;
    s->rec[i] = r;
    int64_t h = rt_ad_tensor_node(i, v);
    if (r.out)
        r.out->node = h, r.out->gen = rt_ad_gen();
    return h;
}

/* A record over operands a and b (either may be NULL), with their adjoints looked up. */
static tad_rec rec2(tad_state *s, int op, int fn, rt_tensor *out, const rt_tensor *a, const rt_tensor *b)
{
    return (tad_rec){.op = op, .fn = fn, .out = out, .in = {a, b}, .ain = {adj_of(s, a), adj_of(s, b)}, .hs = -1};
}

static bool live(const tad_rec *r) { return r->ain[0] >= 0 || r->ain[1] >= 0 || r->hs >= 0; }

/* Puts r on the tape if any operand is on it; returns its result tensor either way. */
static rt_tensor *emit(tad_state *s, tad_rec r)
{
    if (live(&r))
        record(s, r, 0);
    return r.out;
}

/* A real result: a tensor node when an operand is on the tape, else a constant handle. */
static int64_t emit_real(tad_state *s, tad_rec r, double v)
{
    return live(&r) ? record(s, r, v) : rt_ad_const(v);
}

static int64_t live_handle(int64_t h) { return rt_ad_is_const(h) ? -1 : h; }

/* ---- operations ---- */

rt_tensor *rt_tad_input(const rt_tensor *t)
{
    tad_state *s = state();
    rt_tensor *r = rt_tensor_new(t->rank, t->dim, NULL);
    memcpy(r->d, t->d, sizeof(float) * (size_t)t->numel);
    record(s, rec2(s, TAD_INPUT, 0, r, NULL, NULL), 0);
    return r;
}

rt_tensor *rt_tad_full(int64_t hx, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc)
{
    tad_state *s = state();
    tad_rec r = rec2(s, TAD_FULL, 0, rt_tensor_full(rt_ad_value(hx), rank, d0, d1, d2, loc), NULL, NULL);
    r.hs = live_handle(hx);
    return emit(s, r);
}

/* handles: real[] (depth 1) or real[][] of handles */
rt_tensor *rt_tad_from_array(const rt_array *h, int64_t depth, const char *loc)
{
    tad_state *s = state();
    rt_array *v = rt_array_new(h->len, depth > 1);
    bool any = false;
    for (int64_t i = 0; i < h->len; i++) {
        if (depth == 1) {
            v->at.d[i] = rt_ad_value(h->at.i[i]);
            any |= !rt_ad_is_const(h->at.i[i]);
            continue;
        }
        const rt_array *row = h->at.p[i];
        rt_array *w = rt_array_new(row->len, 0);
        for (int64_t j = 0; j < row->len; j++)
            w->at.d[j] = rt_ad_value(row->at.i[j]), any |= !rt_ad_is_const(row->at.i[j]);
        v->at.p[i] = w;
    }
    tad_rec r = rec2(s, TAD_FROM_ARRAY, 0, rt_tensor_from_array(v, depth, loc), NULL, NULL);
    r.aux = h, r.arg = depth, r.hs = any ? 0 : -1;   /* hs >= 0: some handle is live */
    return emit(s, r);
}

int64_t rt_tad_get(const rt_tensor *t, int64_t n, int64_t i, int64_t j, int64_t k, const char *loc)
{
    tad_state *s = state();
    tad_rec r = rec2(s, TAD_GET, 0, NULL, t, NULL);
    r.arg = rt_tensor_offset(t, n, i, j, k, loc);
    return emit_real(s, r, t->d[r.arg]);
}

/* One node per element: a conversion, not a way to compute. */
rt_array *rt_tad_to_array(const rt_tensor *t)
{
    rt_array *a = rt_array_new(t->numel, 0);
    for (int64_t k = 0; k < t->numel; k++) {
        tad_state *s = state();
        tad_rec r = rec2(s, TAD_GET, 0, NULL, t, NULL);
        r.arg = k;
        a->at.i[k] = emit_real(s, r, t->d[k]);
    }
    return a;
}

rt_tensor *rt_tad_reshape(const rt_tensor *t, int64_t rank, int64_t d0, int64_t d1, int64_t d2, const char *loc)
{
    tad_state *s = state();
    return emit(s, rec2(s, TAD_RESHAPE, 0, rt_tensor_reshape(t, rank, d0, d1, d2, loc), t, NULL));
}

rt_tensor *rt_tad_transpose(const rt_tensor *t, const char *loc)
{
    tad_state *s = state();
    return emit(s, rec2(s, TAD_TRANSPOSE, 0, rt_tensor_transpose(t, loc), t, NULL));
}

rt_tensor *rt_tad_binop(int64_t op, const rt_tensor *a, const rt_tensor *b, const char *loc)
{
    tad_state *s = state();
    return emit(s, rec2(s, TAD_BINOP, (int)op, rt_tensor_binop(op, a, b, loc), a, b));
}

rt_tensor *rt_tad_scalar(int64_t op, const rt_tensor *a, int64_t hx, int64_t x_left, const char *loc)
{
    tad_state *s = state();
    tad_rec r = rec2(s, TAD_SCALAR, (int)op, rt_tensor_scalar(op, a, rt_ad_value(hx), x_left, loc), a, NULL);
    r.hs = live_handle(hx), r.arg = x_left;
    if (!live(&r))
        return r.out;
    r.hs = hx;   /* the value is read back in the backward step */
    return emit(s, r);
}

rt_tensor *rt_tad_matmul(const rt_tensor *a, const rt_tensor *b, const char *loc)
{
    tad_state *s = state();
    return emit(s, rec2(s, TAD_MATMUL, 0, rt_tensor_matmul(a, b, loc), a, b));
}

int64_t rt_tad_sum(const rt_tensor *t)
{
    tad_state *s = state();
    return emit_real(s, rec2(s, TAD_SUM, 0, NULL, t, NULL), rt_tensor_sum(t));
}

int64_t rt_tad_mean(const rt_tensor *t, const char *loc)
{
    tad_state *s = state();
    return emit_real(s, rec2(s, TAD_SUM, 1, NULL, t, NULL), rt_tensor_mean(t, loc));
}

rt_tensor *rt_tad_sum_axis(const rt_tensor *t, int64_t axis, int64_t mean, const char *loc)
{
    tad_state *s = state();
    tad_rec r = rec2(s, TAD_SUM_AXIS, (int)mean, rt_tensor_sum_axis(t, axis, mean, loc), t, NULL);
    r.arg = axis;
    return emit(s, r);
}

rt_tensor *rt_tad_unary(int64_t fn, const rt_tensor *t, const char *loc)
{
    tad_state *s = state();
    return emit(s, rec2(s, TAD_UNARY, (int)fn, rt_tensor_unary(fn, t, loc), t, NULL));
}

rt_tensor *rt_tad_softmax(const rt_tensor *t, int64_t log, const char *loc)
{
    tad_state *s = state();
    return emit(s, rec2(s, TAD_SOFTMAX, (int)log, rt_tensor_softmax(t, log, loc), t, NULL));
}

rt_tensor *rt_tad_norm(const rt_tensor *t, const rt_tensor *gain, int64_t layer, const char *loc)
{
    tad_state *s = state();
    return emit(s, rec2(s, TAD_NORM, (int)layer, rt_tensor_norm(t, gain, layer, loc), t, gain));
}

rt_tensor *rt_tad_rows(const rt_tensor *t, const rt_array *idx, const char *loc)
{
    tad_state *s = state();
    tad_rec r = rec2(s, TAD_ROWS, 0, rt_tensor_rows(t, idx, loc), t, NULL);
    r.aux = idx;
    return emit(s, r);
}

rt_tensor *rt_tad_concat(const rt_tensor *a, const rt_tensor *b, int64_t axis, const char *loc)
{
    tad_state *s = state();
    tad_rec r = rec2(s, TAD_CONCAT, 0, rt_tensor_concat(a, b, axis, loc), a, b);
    r.arg = axis;
    return emit(s, r);
}

/* y ~ normal(mu, sigma): in[0] = y, in[1] = mu (or arg = mu's handle), hs = sigma */
int64_t rt_tad_obs_normal(const rt_tensor *y, const rt_tensor *mu, int64_t hmu, int64_t hsigma, const char *loc)
{
    tad_state *s = state();
    double lp = rt_tensor_obs_normal(y, mu, mu ? 0 : rt_ad_value(hmu), rt_ad_value(hsigma), loc);
    tad_rec r = rec2(s, TAD_OBS_NORMAL, 0, NULL, y, mu);
    r.arg = mu ? -1 : hmu, r.hs = hsigma;
    bool any = r.ain[0] >= 0 || r.ain[1] >= 0 || !rt_ad_is_const(hsigma) || (!mu && !rt_ad_is_const(hmu));
    return any ? record(s, r, lp) : rt_ad_const(lp);
}

/* ks (or the one label k, in arg) against the rows of L = in[0] */
int64_t rt_tad_obs_categorical_logits(const rt_array *ks, int64_t k, const rt_tensor *L, const char *loc)
{
    tad_state *s = state();
    double lp = rt_tensor_obs_categorical_logits(ks, k, L, loc);
    tad_rec r = rec2(s, TAD_OBS_CATEGORICAL, 0, NULL, L, NULL);
    r.aux = ks, r.arg = k;
    return emit_real(s, r, lp);
}

/* ---- backward steps: g is the result's adjoint, ga and gb the operands' (NULL: constant) ---- */

static float tt_sigmoid(float x) { return x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)); }

static void back_binop(const tad_rec *r, const float *g, float *ga, float *gb)
{
    const rt_tensor *a = r->in[0], *b = r->in[1], *z = r->out;
    int64_t sa[3], sb[3], d3[3];
    rt_tensor_bstrides(a, z->rank, z->dim, sa), rt_tensor_bstrides(b, z->rank, z->dim, sb);
    for (int64_t k = 0; k < 3; k++)
        d3[k] = k - (3 - z->rank) >= 0 ? z->dim[k - (3 - z->rank)] : 1;
    int64_t o = 0;
    for (int64_t i = 0; i < d3[0]; i++)
        for (int64_t j = 0; j < d3[1]; j++)
            for (int64_t k = 0; k < d3[2]; k++, o++) {
                int64_t ia = i * sa[0] + j * sa[1] + k * sa[2], ib = i * sb[0] + j * sb[1] + k * sb[2];
                float x = a->d[ia], y = b->d[ib], da, db;
                switch (r->fn) {
                case RT_TB_add: da = 1, db = 1; break;
                case RT_TB_sub: da = 1, db = -1; break;
                case RT_TB_mul: da = y, db = x; break;
                default: da = 1 / y, db = -x / (y * y); break;
                }
                if (ga) ga[ia] += g[o] * da;
                if (gb) gb[ib] += g[o] * db;
            }
}

/* z = a op x or x op a: a's partial is da, x's dx (accumulated in double). */
static void back_scalar(const tad_rec *r, const float *g, float *ga, double *adj)
{
    const rt_tensor *a = r->in[0];
    float x = (float)rt_ad_value(r->hs);
    double gx = 0;
    for (int64_t k = 0; k < a->numel; k++) {
        float v = a->d[k], da, dx;
        bool left = r->arg;
        switch (r->fn) {
        case RT_TB_add: da = 1, dx = 1; break;
        case RT_TB_sub: da = left ? -1 : 1, dx = -da; break;
        case RT_TB_mul: da = x, dx = v; break;
        default:
            if (left) da = -x / (v * v), dx = 1 / v;
            else da = 1 / x, dx = -v / (x * x);
        }
        if (ga) ga[k] += g[k] * da;
        gx += (double)g[k] * dx;
    }
    if (!rt_ad_is_const(r->hs))
        adj[r->hs] += gx;
}

/* A [m, k] B [k, n] = Z: dA += G B^T, dB += A^T G (sger/sgemv when a side is a vector). */
static void back_matmul(const tad_rec *r, const float *g, float *ga, float *gb)
{
    const rt_tensor *a = r->in[0], *b = r->in[1];
    rt_mm_dims d = rt_tensor_mm_dims(a, b, NULL);
    if (d.n == 1) {
        if (ga) cblas_sger(CblasRowMajor, d.m, d.k, 1, g, 1, b->d, 1, ga, d.k);
        if (gb) cblas_sgemv(CblasRowMajor, CblasTrans, d.m, d.k, 1, a->d, d.k, g, 1, 1, gb, 1);
    } else if (d.m == 1) {
        if (ga) cblas_sgemv(CblasRowMajor, CblasNoTrans, d.k, d.n, 1, b->d, d.n, g, 1, 1, ga, 1);
        if (gb) cblas_sger(CblasRowMajor, d.k, d.n, 1, a->d, 1, g, 1, gb, d.n);
    } else {
        if (ga) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d.m, d.k, d.n, 1, g, d.n, b->d, d.n, 1, ga, d.k);
        if (gb) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d.k, d.n, d.m, 1, a->d, d.k, g, d.n, 1, gb, d.n);
    }
}

static void back_sum_axis(const tad_rec *r, const float *g, float *ga)
{
    int64_t outer, len, inner;
    rt_tensor_axis_split(r->in[0], r->arg, &outer, &len, &inner);
    float scale = r->fn ? 1.0f / (float)len : 1;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t l = 0; l < len; l++)
            for (int64_t i = 0; i < inner; i++)
                ga[(o * len + l) * inner + i] += g[o * inner + i] * scale;
}

static void back_unary(const tad_rec *r, const float *g, float *ga)
{
    const rt_tensor *t = r->in[0];
    for (int64_t q = 0; q < t->numel; q++) {
        float x = t->d[q], z = r->out->d[q], d = 0;
        switch (r->fn) {
#define RT_TU_DERIV(name, value, deriv) case RT_TU_##name: d = (deriv); break;
            RT_TENSOR_UNARY(RT_TU_DERIV)
#undef RT_TU_DERIV
        }
        (void)z, (void)x;
        ga[q] += g[q] * d;
    }
}

/* softmax: dx = y (g - g.y); log_softmax: dx = g - softmax(x) sum g */
static void back_softmax(const tad_rec *r, const float *g, float *ga)
{
    const rt_tensor *y = r->out;
    int64_t n = y->dim[y->rank - 1];
    for (int64_t row = 0; row < y->numel / n; row++) {
        const float *yr = y->d + row * n, *gr = g + row * n;
        double dot = 0;
        for (int64_t j = 0; j < n; j++)
            dot += r->fn ? gr[j] : (double)gr[j] * yr[j];
        for (int64_t j = 0; j < n; j++)
            ga[row * n + j] += r->fn ? (float)(gr[j] - expf(yr[j]) * dot) : (float)(yr[j] * (gr[j] - dot));
    }
}

/* y = xhat * gain, xhat = (x - mu) rstd: dgain += sum over rows g xhat; with h = g gain,
 * dx = rstd (h - mean h - xhat mean(h xhat)) (layernorm), rstd (h - xhat mean(h xhat)) (rms). */
static void back_norm(const tad_rec *r, const float *g, float *ga, float *gg)
{
    const rt_tensor *t = r->in[0], *gain = r->in[1];
    int64_t n = t->dim[t->rank - 1];
    for (int64_t row = 0; row < t->numel / n; row++) {
        const float *x = t->d + row * n, *gr = g + row * n;
        double mu, rstd, mh = 0, mhx = 0;
        rt_tensor_row_stats(x, n, r->fn, &mu, &rstd);
        for (int64_t j = 0; j < n; j++) {
            double xh = (x[j] - mu) * rstd, h = gr[j] * (gain ? gain->d[j] : 1);
            mh += h, mhx += h * xh;
            if (gg) gg[j] += (float)(gr[j] * xh);
        }
        mh = r->fn ? mh / (double)n : 0, mhx /= (double)n;
        for (int64_t j = 0; ga && j < n; j++) {
            double xh = (x[j] - mu) * rstd, h = gr[j] * (gain ? gain->d[j] : 1);
            ga[row * n + j] += (float)(rstd * (h - mh - xh * mhx));
        }
    }
}

static void back_concat(const tad_rec *r, const float *g, float *ga, float *gb)
{
    int64_t outer, la, inner, lb = r->in[1]->dim[r->arg];
    rt_tensor_axis_split(r->in[0], r->arg, &outer, &la, &inner);
    for (int64_t o = 0; o < outer; o++) {
        const float *src = g + o * (la + lb) * inner;
        for (int64_t q = 0; ga && q < la * inner; q++)
            ga[o * la * inner + q] += src[q];
        for (int64_t q = 0; gb && q < lb * inner; q++)
            gb[o * lb * inner + q] += src[la * inner + q];
    }
}

static void back_from_array(const tad_rec *r, const float *g, double *adj)
{
    const rt_array *h = r->aux;
    for (int64_t i = 0, o = 0; i < h->len; i++) {
        if (r->arg == 1) {
            adj[h->at.i[i]] += g[o++];
            continue;
        }
        const rt_array *row = h->at.p[i];
        for (int64_t j = 0; j < row->len; j++)
            adj[row->at.i[j]] += g[o++];
    }
}

static void back_obs_normal(const tad_rec *r, double g, float *gy, float *gmu, double *adj)
{
    const rt_tensor *y = r->in[0], *mu = r->in[1];
    double sigma = rt_ad_value(r->hs), mx = mu ? 0 : rt_ad_value(r->arg), dmu = 0, ds = 0;
    for (int64_t k = 0; k < y->numel; k++) {
        double z = ((double)y->d[k] - (mu ? mu->d[k] : mx)) / sigma;
        if (gy) gy[k] -= (float)(g * z / sigma);
        if (gmu) gmu[k] += (float)(g * z / sigma);
        dmu += z / sigma, ds += (z * z - 1) / sigma;
    }
    if (!mu) adj[r->arg] += g * dmu;
    adj[r->hs] += g * ds;
}

/* d/dL[r, j] = [j = k_r] - softmax(L[r])_j (rows with -inf log p pass nothing) */
static void back_obs_categorical(const tad_rec *r, double g, float *gl)
{
    const rt_tensor *L = r->in[0];
    int64_t n = L->dim[L->rank - 1], rows = r->aux ? r->aux->len : 1;
    for (int64_t q = 0; q < rows; q++) {
        const float *row = L->d + q * n;
        int64_t k = r->aux ? r->aux->at.i[q] : r->arg;
        if (k < 0 || k >= n)
            continue;
        double lse = (double)row[k] - rt_tensor_row_logp(row, n, k);
        for (int64_t j = 0; j < n; j++)
            gl[q * n + j] += (float)(g * ((j == k) - exp((double)row[j] - lse)));
    }
}

void rt_tad_backward(void *p, int64_t ri, int64_t i, double *adj)
{
    tad_state *s = p;
    const tad_rec *r = &s->rec[ri];
    const float *g = r->aout >= 0 ? s->adj + r->aout : NULL;
    float *ga = r->ain[0] >= 0 ? s->adj + r->ain[0] : NULL, *gb = r->ain[1] >= 0 ? s->adj + r->ain[1] : NULL;
    const rt_tensor *a = r->in[0];
    switch (r->op) {
    case TAD_INPUT: break;
    case TAD_FULL:
        for (int64_t k = 0; k < r->out->numel; k++)
            adj[r->hs] += g[k];
        break;
    case TAD_FROM_ARRAY: back_from_array(r, g, adj); break;
    case TAD_GET: if (ga) ga[r->arg] += (float)adj[i]; break;
    case TAD_RESHAPE:
        for (int64_t k = 0; ga && k < a->numel; k++)
            ga[k] += g[k];
        break;
    case TAD_TRANSPOSE:
        for (int64_t q = 0; ga && q < a->dim[0]; q++)
            for (int64_t j = 0; j < a->dim[1]; j++)
                ga[q * a->dim[1] + j] += g[j * a->dim[0] + q];
        break;
    case TAD_BINOP: back_binop(r, g, ga, gb); break;
    case TAD_SCALAR: back_scalar(r, g, ga, adj); break;
    case TAD_MATMUL: back_matmul(r, g, ga, gb); break;
    case TAD_SUM: {
        float d = (float)(r->fn ? adj[i] / (double)a->numel : adj[i]);
        for (int64_t k = 0; ga && k < a->numel; k++)
            ga[k] += d;
        break;
    }
    case TAD_SUM_AXIS: if (ga) back_sum_axis(r, g, ga); break;
    case TAD_UNARY: if (ga) back_unary(r, g, ga); break;
    case TAD_SOFTMAX: if (ga) back_softmax(r, g, ga); break;
    case TAD_NORM: back_norm(r, g, ga, gb); break;
    case TAD_ROWS: {
        int64_t cols = a->dim[1];
        for (int64_t q = 0; ga && q < r->aux->len; q++)
            for (int64_t j = 0; j < cols; j++)
                ga[r->aux->at.i[q] * cols + j] += g[q * cols + j];
        break;
    }
    case TAD_CONCAT: back_concat(r, g, ga, gb); break;
    case TAD_OBS_NORMAL: back_obs_normal(r, adj[i], ga, gb, adj); break;
    case TAD_OBS_CATEGORICAL: if (ga) back_obs_categorical(r, adj[i], ga); break;
    }
}
