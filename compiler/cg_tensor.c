/* cg_tensor.c - lowers tensor builtins, arithmetic and indexing to runtime calls: rt_tensor_*
 * in plain code, rt_tad_* (one tape node each, reals as handles) in gradient specializations. */
#include "cg.h"
#include "rt_tensor.h"
#include <string.h>

/* The plain or the gradient function of a pair. */
static int pick(Cg *g, int plain, int grad) { return g->ad ? grad : plain; }

static LLVMValueRef loc_of(Cg *g, Node *e) { return cg_loc_string(g, e->loc); }

/* rank and three dims from the int arguments from `first` on (missing dims are 1) */
static void dims(Cg *g, Node *e, int first, LLVMValueRef *out) {
    int rank = e->call.args.len - first;
    out[0] = cg_const_int(g, rank);
    for (int k = 0; k < 3; k++) out[k + 1] = k < rank ? cg_arg(g, e, first + k) : cg_const_int(g, 1);
}

static LLVMValueRef call(Cg *g, int fn, LLVMValueRef *args, int n) { return cg_rt_call(g, fn, args, n); }

/* zeros, ones, full(x, dims...); in gradient code x is a handle */
static LLVMValueRef tensor_full(Cg *g, Node *e, BuiltinId id) {
    LLVMValueRef a[6];
    int first = id == BI_FULL;
    LLVMValueRef x = id == BI_FULL ? cg_arg(g, e, 0) : LLVMConstReal(g->t_real, id == BI_ONES);
    if (g->ad && id != BI_FULL) x = cg_rt_call(g, RTF_rt_ad_const, &x, 1);
    a[0] = x;
    dims(g, e, first, a + 1);
    a[5] = loc_of(g, e);
    return call(g, pick(g, RTF_rt_tensor_full, RTF_rt_tad_full), a, 6);
}

/* randn(dims...): draws from the context's stream (a constant of any gradient) */
static LLVMValueRef tensor_randn(Cg *g, Node *e) {
    LLVMValueRef a[6];
    a[0] = cg_ctx(g);   /* an rt_ctx begins with its rt_rng */
    dims(g, e, 0, a + 1);
    a[5] = loc_of(g, e);
    return call(g, RTF_rt_tensor_randn, a, 6);
}

static LLVMValueRef tensor_index_call(Cg *g, Node *e) {
    int n = 1 + (e->index.col != NULL) + (e->index.third != NULL);
    LLVMValueRef zero = cg_const_int(g, 0);
    LLVMValueRef a[6] = {cg_expr(g, e->index.base), cg_const_int(g, n), cg_expr(g, e->index.index),
                         e->index.col ? cg_expr(g, e->index.col) : zero,
                         e->index.third ? cg_expr(g, e->index.third) : zero, loc_of(g, e)};
    return call(g, pick(g, RTF_rt_tensor_get, RTF_rt_tad_get), a, 6);
}

LLVMValueRef cg_tensor_index(Cg *g, Node *e) { return tensor_index_call(g, e); }

static int binop_code(TokKind op) {
    switch (op) {
    case TK_PLUS: return RT_TB_add;
    case TK_MINUS: return RT_TB_sub;
    case TK_STAR: return RT_TB_mul;
    default: return RT_TB_div;
    }
}

/* t op u (broadcasting), t op x, x op t */
LLVMValueRef cg_tensor_binary(Cg *g, Node *e) {
    bool lt = e->binary.lhs->type->kind == TY_TENSOR, rt = e->binary.rhs->type->kind == TY_TENSOR;
    LLVMValueRef l = cg_expr(g, e->binary.lhs), r = cg_expr(g, e->binary.rhs), op = cg_const_int(g, binop_code(e->binary.op));
    if (lt && rt) return call(g, pick(g, RTF_rt_tensor_binop, RTF_rt_tad_binop), (LLVMValueRef[]){op, l, r, loc_of(g, e)}, 4);
    LLVMValueRef a[5] = {op, lt ? l : r, lt ? r : l, cg_const_int(g, !lt), loc_of(g, e)};
    return call(g, pick(g, RTF_rt_tensor_scalar, RTF_rt_tad_scalar), a, 5);
}

/* -t as 0 - t */
LLVMValueRef cg_tensor_neg(Cg *g, Node *e) {
    LLVMValueRef zero = LLVMConstReal(g->t_real, 0);
    if (g->ad) zero = cg_rt_call(g, RTF_rt_ad_const, &zero, 1);
    LLVMValueRef a[5] = {cg_const_int(g, RT_TB_sub), cg_expr(g, e->binary.lhs), zero, cg_const_int(g, 1), loc_of(g, e)};
    return call(g, pick(g, RTF_rt_tensor_scalar, RTF_rt_tad_scalar), a, 5);
}

static int unary_code(BuiltinId id) {
    switch (id) {
    case BI_EXP: return RT_TU_exp;
    case BI_LOG: return RT_TU_log;
    case BI_TANH: return RT_TU_tanh;
    case BI_SIGMOID: return RT_TU_sigmoid;
    case BI_RELU: return RT_TU_relu;
    case BI_SILU: return RT_TU_silu;
    default: return RT_TU_gelu;
    }
}

/* sum(t), mean(t): reals; sum(t, axis), mean(t, axis): tensors */
static LLVMValueRef tensor_reduce(Cg *g, Node *e, BuiltinId id) {
    LLVMValueRef t = cg_arg(g, e, 0), loc = loc_of(g, e);
    if (e->call.args.len == 2) {
        LLVMValueRef a[4] = {t, cg_arg(g, e, 1), cg_const_int(g, id == BI_MEAN), loc};
        return call(g, pick(g, RTF_rt_tensor_sum_axis, RTF_rt_tad_sum_axis), a, 4);
    }
    if (id == BI_SUM) return call(g, pick(g, RTF_rt_tensor_sum, RTF_rt_tad_sum), &t, 1);
    return call(g, pick(g, RTF_rt_tensor_mean, RTF_rt_tad_mean), (LLVMValueRef[]){t, loc}, 2);
}

static LLVMValueRef tensor_from_array(Cg *g, Node *e) {
    int depth;
    ty_base(cg_arg_type(e, 0), &depth);
    LLVMValueRef a[3] = {cg_arg(g, e, 0), cg_const_int(g, depth), loc_of(g, e)};
    return call(g, pick(g, RTF_rt_tensor_from_array, RTF_rt_tad_from_array), a, 3);
}

static LLVMValueRef tensor_reshape(Cg *g, Node *e) {
    LLVMValueRef a[6];
    a[0] = cg_arg(g, e, 0);
    dims(g, e, 1, a + 1);
    a[5] = loc_of(g, e);
    return call(g, pick(g, RTF_rt_tensor_reshape, RTF_rt_tad_reshape), a, 6);
}

LLVMValueRef cg_tensor_builtin(Cg *g, Node *e, BuiltinId id) {
    LLVMValueRef loc = loc_of(g, e);
    int n = e->call.args.len;
    switch (id) {
    case BI_ZEROS: case BI_ONES: case BI_FULL: return tensor_full(g, e, id);
    case BI_RANDN: return tensor_randn(g, e);
    case BI_TENSOR: return tensor_from_array(g, e);
    case BI_TO_ARRAY: return call(g, pick(g, RTF_rt_tensor_to_array, RTF_rt_tad_to_array), (LLVMValueRef[]){cg_arg(g, e, 0)}, 1);
    case BI_SHAPE: return call(g, RTF_rt_tensor_shape, (LLVMValueRef[]){cg_arg(g, e, 0)}, 1);
    case BI_RANK: return call(g, RTF_rt_tensor_rank, (LLVMValueRef[]){cg_arg(g, e, 0)}, 1);
    case BI_NUMEL: return call(g, RTF_rt_tensor_numel, (LLVMValueRef[]){cg_arg(g, e, 0)}, 1);
    case BI_RESHAPE: return tensor_reshape(g, e);
    case BI_TRANSPOSE:
        return call(g, pick(g, RTF_rt_tensor_transpose, RTF_rt_tad_transpose), (LLVMValueRef[]){cg_arg(g, e, 0), loc}, 2);
    case BI_MATMUL:
        return call(g, pick(g, RTF_rt_tensor_matmul, RTF_rt_tad_matmul),
                    (LLVMValueRef[]){cg_arg(g, e, 0), cg_arg(g, e, 1), loc}, 3);
    case BI_SUM: case BI_MEAN: return tensor_reduce(g, e, id);
    case BI_SOFTMAX: case BI_LOG_SOFTMAX:
        return call(g, pick(g, RTF_rt_tensor_softmax, RTF_rt_tad_softmax),
                    (LLVMValueRef[]){cg_arg(g, e, 0), cg_const_int(g, id == BI_LOG_SOFTMAX), loc}, 3);
    case BI_RMSNORM: case BI_LAYERNORM: {
        LLVMValueRef gain = n == 2 ? cg_arg(g, e, 1) : LLVMConstNull(g->t_ptr);
        return call(g, pick(g, RTF_rt_tensor_norm, RTF_rt_tad_norm),
                    (LLVMValueRef[]){cg_arg(g, e, 0), gain, cg_const_int(g, id == BI_LAYERNORM), loc}, 4);
    }
    case BI_ROWS:
        return call(g, pick(g, RTF_rt_tensor_rows, RTF_rt_tad_rows), (LLVMValueRef[]){cg_arg(g, e, 0), cg_arg(g, e, 1), loc}, 3);
    case BI_CONCAT: {
        LLVMValueRef axis = n == 3 ? cg_arg(g, e, 2) : cg_const_int(g, 0);
        return call(g, pick(g, RTF_rt_tensor_concat, RTF_rt_tad_concat),
                    (LLVMValueRef[]){cg_arg(g, e, 0), cg_arg(g, e, 1), axis, loc}, 4);
    }
    default:   /* elementwise functions */
        return call(g, pick(g, RTF_rt_tensor_unary, RTF_rt_tad_unary),
                    (LLVMValueRef[]){cg_const_int(g, unary_code(id)), cg_arg(g, e, 0), loc}, 3);
    }
}

/* Whether call e is a tensor builtin or an overload taking a tensor (sum(t), exp(t), rows(t, i)). */
bool cg_is_tensor_call(Node *e) {
    BuiltinId id = (BuiltinId)e->call.builtin;
    if (id == BI_NONE) return false;
    switch (id) {
#define X(ID, name) case BI_##ID:
    TENSOR_BUILTINS(X)
#undef X
        return true;
    case BI_SUM: case BI_MEAN: case BI_EXP: case BI_LOG: case BI_TANH: case BI_ROWS:
        return e->call.args.len > 0 && cg_arg_type(e, 0)->kind == TY_TENSOR;
    default: return false;
    }
}

/* observe t ~ normal(mu, sigma) (t a tensor) and observe k ~ categorical_logits(L) */
bool cg_is_tensor_observe(const Node *s) {
    const Node *d = s->observe.dist;
    return s->observe.value->type->kind == TY_TENSOR
        || (d->kind == N_CALL && d->call.dist == 0 && d->call.callee->kind == N_NAME
            && strcmp(d->call.callee->name.name, "categorical_logits") == 0);
}

LLVMValueRef cg_tensor_observe(Cg *g, Node *s) {
    Node *d = s->observe.dist;
    LLVMValueRef v = cg_expr(g, s->observe.value), loc = cg_loc_string(g, d->loc);
    if (s->observe.value->type->kind != TY_TENSOR) {   /* categorical_logits: an int[] or an int */
        bool many = s->observe.value->type->kind == TY_ARRAY;
        LLVMValueRef a[4] = {many ? v : LLVMConstNull(g->t_ptr), many ? cg_const_int(g, 0) : v, cg_arg(g, d, 0), loc};
        return call(g, pick(g, RTF_rt_tensor_obs_categorical_logits, RTF_rt_tad_obs_categorical_logits), a, 4);
    }
    bool tmu = cg_arg_type(d, 0)->kind == TY_TENSOR;
    LLVMValueRef mu = cg_arg(g, d, 0), sigma = cg_arg(g, d, 1);
    LLVMValueRef none = g->ad ? cg_const_int(g, -1) : LLVMConstReal(g->t_real, 0);
    LLVMValueRef a[5] = {v, tmu ? mu : LLVMConstNull(g->t_ptr), tmu ? none : mu, sigma, loc};
    return call(g, pick(g, RTF_rt_tensor_obs_normal, RTF_rt_tad_obs_normal), a, 5);
}
