/* cg_ad.c - gradient specializations for variational inference: functions, models and guides
 * emitted over the runtime's AD tape, and the rt_vi_problem descriptors that pair them. */
#include "cg.h"
#include "rt_vi.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- gradient specializations for variational inference ----
 * In a specialization every real is a handle on the runtime's AD tape (rt_ad.h): literals
 * and data become constants, arithmetic and math builtins become tape operations, and
 * comparisons compare the values. A model's specialization takes its sample sites' values
 * from the guide and adds log densities to log p; a guide's draws reparameterized values. */

static LLVMValueRef ad_const(Cg *g, LLVMValueRef x) { return cg_rt_call(g, RTF_rt_ad_const, &x, 1); }
static LLVMValueRef ad_value(Cg *g, LLVMValueRef h) { return cg_rt_call(g, RTF_rt_ad_value, &h, 1); }

LLVMValueRef cg_ad_lift(Cg *g, LLVMValueRef v, const Type *t) {
    if (t->kind == TY_REAL) return ad_const(g, v);
    int depth;
    ty_base(t, &depth);
    LLVMValueRef args[2] = {v, cg_const_int(g, depth)};
    return cg_rt_call(g, RTF_rt_vi_lift_array, args, 2);
}

static void ad_unsupported(Cg *g, Node *e, const char *what);

/* The values of a real or real[] that gradient code holds as handles, for what takes plain
 * values (the arguments of an infer in a differentiated model: nested inference is a
 * constant of the gradient). */
LLVMValueRef cg_ad_lower(Cg *g, Node *e, LLVMValueRef v) {
    const Type *t = e->type;
    if (t->kind == TY_REAL) return ad_value(g, v);
    if (!cg_holds_real(t)) return v;
    int depth;
    ty_base(t, &depth);
    if (depth == 1) return cg_rt_call(g, RTF_rt_vi_values, &v, 1);
    ad_unsupported(g, e, "a real array of arrays passed to an infer");
    return v;
}

static LLVMValueRef ad_binary_op(Cg *g, int id, LLVMValueRef l, LLVMValueRef r) {
    LLVMValueRef args[2] = {l, r};
    return cg_rt_call(g, id, args, 2);
}

/* An expression evaluated the ordinary way, its real result made a constant handle: only
 * for what has no derivative and reads no real operand (posterior statistics), since real
 * locals hold handles here. */
static LLVMValueRef ad_plain(Cg *g, Node *e) {
    g->ad = false;
    LLVMValueRef v = cg_expr(g, e);
    g->ad = true;
    return ad_const(g, v);
}

static int ad_arith_fn(TokKind op) {
    switch (op) {
    case TK_PLUS: return RTF_rt_ad_add;
    case TK_MINUS: return RTF_rt_ad_sub;
    case TK_STAR: return RTF_rt_ad_mul;
    case TK_SLASH: return RTF_rt_ad_div;
    case TK_CARET: return RTF_rt_ad_pow;
    default: return -1;
    }
}

static bool ad_binary(Cg *g, Node *e, LLVMValueRef *v) {
    if (e->type->kind == TY_TENSOR) {   /* one tape node (cg_tensor.c) */
        *v = cg_tensor_binary(g, e);
        return true;
    }
    if (e->binary.lhs->type->kind == TY_MAT) {   /* X * w: one rt_ad_matvec node */
        LLVMValueRef x = cg_expr(g, e->binary.lhs), w = cg_expr(g, e->binary.rhs);   /* in this order */
        *v = cg_rt_call(g, RTF_rt_vi_matvec, (LLVMValueRef[]){x, w, cg_loc_string(g, e->loc)}, 3);
        return true;
    }
    if (e->binary.lhs->type->kind != TY_REAL) return false;
    TokKind op = e->binary.op;
    int power = op == TK_CARET ? cg_small_exponent(e->binary.rhs) : 0;
    LLVMValueRef l = cg_expr(g, e->binary.lhs);
    if (power) {   /* the same products as plain code, so the same values */
        LLVMValueRef x2 = ad_binary_op(g, RTF_rt_ad_mul, l, l);
        *v = power == 2 ? x2 : ad_binary_op(g, RTF_rt_ad_mul, x2, power == 3 ? l : x2);
        return true;
    }
    LLVMValueRef r = cg_expr(g, e->binary.rhs);
    int fn = ad_arith_fn(op);
    *v = fn >= 0 ? ad_binary_op(g, fn, l, r) : cg_compare(g, op, true, ad_value(g, l), ad_value(g, r));
    return true;
}

static int ad_math_fn(BuiltinId id) {
    switch (id) {
    case BI_EXP: return RTF_rt_ad_exp;
    case BI_LOG: return RTF_rt_ad_log;
    case BI_SQRT: return RTF_rt_ad_sqrt;
    case BI_SIN: return RTF_rt_ad_sin;
    case BI_COS: return RTF_rt_ad_cos;
    case BI_TAN: return RTF_rt_ad_tan;
    case BI_ATAN: return RTF_rt_ad_atan;
    case BI_TANH: return RTF_rt_ad_tanh;
    case BI_LGAMMA: return RTF_rt_ad_lgamma;
    case BI_LOG1P: return RTF_rt_ad_log1p;
    case BI_EXPM1: return RTF_rt_ad_expm1;
    default: return -1;
    }
}

/* The parameters of a distribution constructor, each evaluated once, into params. */
static void dist_params(Cg *g, Node *dist, LLVMValueRef *params) {
    for (int i = 0; i < dist->call.args.len; i++) params[i] = cg_expr(g, dist->call.args.items[i]);
}

/* rt_ad_lpdf_D(x, params..., loc) or, for discrete D, rt_ad_lpmf_D(y, params..., loc), with
 * the parameters already evaluated. */
static LLVMValueRef ad_density(Cg *g, Node *dist, LLVMValueRef x, const LLVMValueRef *params) {
    int kind = dist->call.dist - 1, n = dist->call.args.len, discrete = cg_dist_sig[kind].value == 'i';
    if (!g->ad_fn[discrete][kind]) {
        LLVMTypeRef params[8];
        params[0] = g->t_int;
        for (int i = 0; i < n; i++) params[i + 1] = cg_dist_sig[kind].params[i] == 'p' ? g->t_ptr : g->t_int;
        params[n + 1] = g->t_ptr;
        char name[128];
        snprintf(name, sizeof name, "rt_ad_%s_%s", discrete ? "lpmf" : "lpdf", cg_dist_sig[kind].name);
        if (!strcmp(cg_dist_sig[kind].name, "categorical")) snprintf(name, sizeof name, "rt_vi_lpmf_categorical");
        g->ad_ty[discrete][kind] = LLVMFunctionType(g->t_int, params, (unsigned)n + 2, 0);
        g->ad_fn[discrete][kind] = LLVMAddFunction(g->mod, name, g->ad_ty[discrete][kind]);
    }
    LLVMValueRef args[n + 2];
    args[0] = x;
    for (int i = 0; i < n; i++) args[i + 1] = params[i];
    args[n + 1] = cg_loc_string(g, dist->loc);
    return LLVMBuildCall2(g->b, g->ad_ty[discrete][kind], g->ad_fn[discrete][kind], args, (unsigned)n + 2, "");
}

static LLVMValueRef ad_dist_call(Cg *g, Node *dist, LLVMValueRef x) {
    LLVMValueRef params[dist->call.args.len + 1];
    dist_params(g, dist, params);
    return ad_density(g, dist, x, params);
}

static void ad_unsupported(Cg *g, Node *e, const char *what) {
    char msg[160];
    snprintf(msg, sizeof msg, "vi: %s cannot be differentiated (yet)", what);
    LLVMValueRef args[2] = {cg_loc_string(g, e->loc), LLVMBuildGlobalStringPtr(g->b, msg, "msg")};
    cg_rt_fail_call(g, RTF_rt_fail, args, 2);
    cg_start_dead_block(g);
}

static LLVMValueRef ad_function(Cg *g, Symbol *sym);

/* draws(K) in an objective; draws() takes the vi's particles (-1 to the runtime) */
static LLVMValueRef ad_draws(Cg *g, Node *e) {
    LLVMValueRef n = e->call.args.len ? cg_arg(g, e, 0) : cg_const_int(g, -1);
    return cg_rt_call(g, RTF_rt_vi_draws, (LLVMValueRef[]){cg_ctx(g), n, cg_loc_string(g, e->loc)}, 3);
}

static LLVMValueRef ad_stop_grad(Cg *g, Node *e) {
    LLVMValueRef x = cg_arg(g, e, 0);
    return cg_rt_call(g, e->type->kind == TY_REAL ? RTF_rt_ad_stop_grad : RTF_rt_vi_stop_grad_array, &x, 1);
}

/* Two-argument builtins evaluate their arguments in statements of their own, left to right:
 * the order of a C call's arguments is unspecified, and sample sites in them must not swap. */
static LLVMValueRef ad_quantile(Cg *g, Node *e) {
    LLVMValueRef post = cg_arg(g, e, 0), q = ad_value(g, cg_arg(g, e, 1));
    return ad_const(g, cg_rt_call(g, RTF_rt_post_quantile, (LLVMValueRef[]){post, q, cg_loc_string(g, e->loc)}, 3));
}

static LLVMValueRef ad_min_max(Cg *g, Node *e, int fn) {
    LLVMValueRef l = cg_arg(g, e, 0), r = cg_arg(g, e, 1);
    return ad_binary_op(g, fn, l, r);
}

static bool ad_builtin(Cg *g, Node *e, LLVMValueRef *v) {
    BuiltinId id = (BuiltinId)e->call.builtin;
    if (cg_is_tensor_call(e)) {
        *v = cg_tensor_builtin(g, e, id);
        return true;
    }
    bool real = e->type->kind == TY_REAL;
    int fn = ad_math_fn(id);
    if (id == BI_DRAWS) *v = ad_draws(g, e);
    else if (id == BI_STOP_GRAD) *v = ad_stop_grad(g, e);
    else if (fn >= 0) *v = cg_rt_call(g, fn, (LLVMValueRef[]){cg_arg(g, e, 0)}, 1);
    else if (id == BI_FLOOR || id == BI_CEIL)   /* of the argument's value: locals hold handles */
        *v = ad_const(g, cg_rt_call(g, id == BI_FLOOR ? RTF_rt_floor : RTF_rt_ceil,
                                    (LLVMValueRef[]){ad_value(g, cg_arg(g, e, 0))}, 1));
    else if (id == BI_QUANTILE)
        *v = ad_quantile(g, e);
    else if (id == BI_SD) *v = ad_plain(g, e);
    else if (id == BI_LPDF) *v = ad_dist_call(g, e->call.args.items[0], cg_arg(g, e, 1));
    else if (id == BI_LOGP) *v = ad_const(g, cg_model_builtin(g, e));   /* a constant of the gradient */
    else if (id == BI_MAT) *v = cg_rt_call(g, RTF_rt_vi_mat, (LLVMValueRef[]){cg_arg(g, e, 0), cg_loc_string(g, e->loc)}, 2);
    else if (!real) return false;
    else if (id == BI_ABS) *v = cg_rt_call(g, RTF_rt_ad_abs, (LLVMValueRef[]){cg_arg(g, e, 0)}, 1);
    else if (cg_arg_type(e, 0)->kind == TY_POSTERIOR) *v = ad_plain(g, e);
    else if ((id == BI_MIN || id == BI_MAX) && e->call.args.len == 2)
        *v = ad_min_max(g, e, id == BI_MIN ? RTF_rt_ad_min : RTF_rt_ad_max);
    else if (id == BI_SUM) *v = cg_rt_call(g, RTF_rt_vi_sum, (LLVMValueRef[]){cg_arg(g, e, 0)}, 1);
    else if (id == BI_MEAN) *v = cg_rt_call(g, RTF_rt_vi_mean, (LLVMValueRef[]){cg_arg(g, e, 0), cg_loc_string(g, e->loc)}, 2);
    else if (id == BI_LOGSUMEXP) *v = cg_rt_call(g, RTF_rt_vi_logsumexp, (LLVMValueRef[]){cg_arg(g, e, 0)}, 1);
    else ad_unsupported(g, e, "this builtin"), *v = ad_const(g, LLVMConstReal(g->t_real, 0));
    return true;
}

static bool ad_call(Cg *g, Node *e, LLVMValueRef *v) {
    if (e->call.builtin) return ad_builtin(g, e, v);
    if (e->call.dist) return false;
    Symbol *sym = e->call.callee->name.sym;
    int n = e->call.args.len;
    LLVMValueRef args[n + 1], fn = ad_function(g, sym);
    args[0] = cg_ctx(g);
    for (int i = 0; i < n; i++) args[i + 1] = cg_arg(g, e, i);
    g->calls_fn = true;
    LLVMValueRef r = LLVMBuildCall2(g->b, LLVMGlobalGetValueType(fn), fn, args, (unsigned)n + 1, "");
    *v = cg_has_value(sym->type->ret) ? r : NULL;
    return true;
}

/* A draw of a guide site at the values of its parameters' handles (a double or an int). */
static LLVMValueRef draw_at_values(Cg *g, Node *d, const LLVMValueRef *params, LLVMValueRef loc) {
    int kind = d->call.dist - 1, n = d->call.args.len;
    LLVMValueRef args[n + 2];
    args[0] = cg_ctx(g);   /* the context's stream: an rt_ctx begins with its rt_rng */
    for (int i = 0; i < n; i++) {
        LLVMValueRef a = params[i];
        char letter = cg_dist_sig[kind].params[i];   /* d: a handle; i: a plain int; p: handles */
        args[i + 1] = letter == 'd' ? ad_value(g, a) : letter == 'p' ? cg_rt_call(g, RTF_rt_vi_values, &a, 1) : a;
    }
    args[n + 1] = loc;
    return cg_dist_build_call(g, DIST_SAMPLE, kind, args);
}

/* A guide site with the score-function estimator (beta, gamma, discrete, ...): drawn with the
 * parameters' values, its log density (a function of the params) joins log q and the
 * score-function term of the objective (rt_vi.c), which keeps the gradient unbiased. */
static LLVMValueRef ad_score_sample(Cg *g, Node *e, LLVMValueRef idx, LLVMValueRef loc) {
    Node *d = e->sample.dist;
    bool discrete = cg_dist_sig[d->call.dist - 1].value == 'i';
    LLVMValueRef params[d->call.args.len + 1];
    dist_params(g, d, params);
    LLVMValueRef x = draw_at_values(g, d, params, loc);
    if (!discrete) x = ad_const(g, x);
    LLVMValueRef rec[7] = {cg_ctx(g), cg_const_int(g, e->sample.pair), cg_const_int(g, e->sample.indices.len), idx,
                           x, ad_density(g, d, x, params), loc};
    return cg_rt_call(g, discrete ? RTF_rt_vi_guide_score_int : RTF_rt_vi_guide_score, rec, 7);
}

/* The number of values of a finite discrete distribution (the checker allows only these),
 * by its support: a probability vector's length, n + 1, or 2. */
static LLVMValueRef enum_support(Cg *g, Node *d, const LLVMValueRef *params) {
    switch (cg_dist_sig[d->call.dist - 1].support) {
    case RT_SUPPORT_CATEGORY: return LLVMBuildLoad2(g->b, g->t_int, params[0], "len");
    case RT_SUPPORT_UPTO_N: return LLVMBuildAdd(g->b, params[0], cg_const_int(g, 1), "");
    default: return cg_const_int(g, 2);
    }
}

/* An enumerated guide site: each evaluation of the objective is repeated for every value
 * (rt_vi.c weights each pass by its probability); outside the fit it is a draw. */
static LLVMValueRef ad_enum_sample(Cg *g, Node *e, LLVMValueRef idx, LLVMValueRef loc) {
    Node *d = e->sample.dist;
    LLVMValueRef params[d->call.args.len + 1];
    dist_params(g, d, params);
    LLVMValueRef support = enum_support(g, d, params), drawn = draw_at_values(g, d, params, loc);
    LLVMValueRef x = cg_rt_call(g, RTF_rt_vi_enum_value, (LLVMValueRef[]){cg_ctx(g), support, drawn, loc}, 4);
    LLVMValueRef rec[7] = {cg_ctx(g), cg_const_int(g, e->sample.pair), cg_const_int(g, e->sample.indices.len), idx,
                           x, ad_density(g, d, x, params), loc};
    return cg_rt_call(g, RTF_rt_vi_guide_enum, rec, 7);
}

/* A sample site: in the guide a draw by the site's estimator, in the model the guide's value. */
static LLVMValueRef ad_sample(Cg *g, Node *e) {
    int n = e->sample.indices.len;
    LLVMValueRef idx = cg_site_indices(g, e);
    LLVMValueRef loc = cg_loc_string(g, e->loc);
    if (g->ad_guide) {
        Node *d = e->sample.dist;
        bool lognormal = strcmp(cg_dist_sig[d->call.dist - 1].name, "lognormal") == 0;
        if (e->sample.estimator == EST_SCORE) return ad_score_sample(g, e, idx, loc);
        if (e->sample.estimator == EST_ENUM) return ad_enum_sample(g, e, idx, loc);
        LLVMValueRef mu = cg_expr(g, d->call.args.items[0]), sigma = cg_expr(g, d->call.args.items[1]);
        LLVMValueRef args[7] = {cg_ctx(g), cg_const_int(g, e->sample.pair), cg_const_int(g, n), idx, mu, sigma, loc};
        return cg_rt_call(g, lognormal ? RTF_rt_vi_guide_lognormal : RTF_rt_vi_guide_normal, args, 7);
    }
    /* the model's site: its value from the context's provider, its density in the log prior */
    Node *d = e->sample.dist;
    LLVMValueRef params[d->call.args.len + 1];
    dist_params(g, d, params);
    int support = cg_dist_sig[d->call.dist - 1].support;
    LLVMValueRef none = cg_const_int(g, -1);
    /* an interval's bounds (handles); a finite support's number of values (enumerate) */
    LLVMValueRef lo = support == RT_SUPPORT_INTERVAL ? params[0] : none;
    LLVMValueRef hi = support == RT_SUPPORT_INTERVAL ? params[1]
                    : RT_SUPPORT_FINITE(support) ? enum_support(g, d, params) : none;
    LLVMValueRef args[8] = {cg_ctx(g), cg_const_int(g, e->sample.site), cg_const_int(g, n), idx,
                            cg_const_int(g, support), lo, hi, loc};
    LLVMValueRef x = cg_rt_call(g, RTF_rt_vi_model_site, args, 8);   /* a handle, or an int site's value */
    LLVMValueRef lp = ad_density(g, d, x, params);
    cg_rt_call(g, RTF_rt_vi_add_prior, (LLVMValueRef[]){cg_ctx(g), lp}, 2);
    return x;
}

bool cg_ad_expr(Cg *g, Node *e, LLVMValueRef *v) {
    switch (e->kind) {
    case N_REAL: *v = ad_const(g, LLVMConstReal(g->t_real, e->rval)); return true;
    case N_CONVERT: *v = ad_const(g, LLVMBuildSIToFP(g->b, cg_expr(g, e->binary.lhs), g->t_real, "")); return true;
    case N_UNARY:
        if (e->type->kind != TY_REAL) return false;
        *v = cg_rt_call(g, RTF_rt_ad_neg, (LLVMValueRef[]){cg_expr(g, e->binary.lhs)}, 1);
        return true;
    case N_BINARY: return ad_binary(g, e, v);
    case N_INDEX:   /* a mat's element is a constant; array elements are handles already */
        if (e->index.base->type->kind == TY_TENSOR) return *v = cg_tensor_index(g, e), true;
        if (!e->index.col) return false;
        *v = ad_const(g, cg_mat_index(g, e));
        return true;
    case N_CALL: return ad_call(g, e, v);
    case N_SAMPLE: *v = ad_sample(g, e); return true;
    case N_FIELD:   /* a posterior's real fields are constants; draws' fields are handles already */
        if (e->field.base->type->kind == TY_DRAWS || !cg_holds_real(e->type)) return false;
        if (e->type->kind == TY_REAL) *v = ad_plain(g, e);
        else {   /* fit.params, fit.history, post.ess_history: constants */
            g->ad = false;
            LLVMValueRef plain = cg_expr(g, e);
            g->ad = true;
            *v = cg_ad_lift(g, plain, e->type);
        }
        return true;
    default: return false;
    }
}

static int gparam_index(Node *guide, Node *decl) {
    for (int i = 0; i < guide->fn.gparams.len; i++)
        if (guide->fn.gparams.items[i] == decl) return i;
    return -1;
}

/* observe and reward add to log p; potentials only steer SMC; params are the tape's inputs. */
bool cg_ad_stmt(Cg *g, Node *s) {
    LLVMValueRef v;
    switch (s->kind) {
    case N_OBSERVE:
        if (cg_is_tensor_observe(s)) v = cg_tensor_observe(g, s);
        else if (s->observe.value->type->kind == TY_ARRAY) v = cg_observe_array(g, s);
        else v = ad_dist_call(g, s->observe.dist, cg_expr(g, s->observe.value));
        cg_rt_call(g, RTF_rt_vi_add_lik, (LLVMValueRef[]){cg_ctx(g), v}, 2);
        return true;
    case N_REWARD:
        v = cg_expr(g, s->stmt.expr);
        cg_rt_call(g, RTF_rt_vi_add_reward, (LLVMValueRef[]){cg_ctx(g), v}, 2);
        return true;
    case N_CONDITION:
        v = LLVMBuildSelect(g->b, cg_expr(g, s->stmt.expr), LLVMConstReal(g->t_real, 0),
                            LLVMConstReal(g->t_real, -INFINITY), "");
        v = cg_rt_call(g, RTF_rt_ad_const, &v, 1);
        cg_rt_call(g, RTF_rt_vi_add_reward, (LLVMValueRef[]){cg_ctx(g), v}, 2);
        return true;
    case N_POTENTIAL: return true;
    case N_PARAM_DECL:
        v = cg_const_int(g, gparam_index(g->ad_guide, s));
        v = cg_rt_call(g, s->let.sym->type->kind == TY_REAL ? RTF_rt_vi_param
                          : s->let.sym->type->kind == TY_TENSOR ? RTF_rt_vi_param_tensor : RTF_rt_vi_param_array,
                       (LLVMValueRef[]){cg_ctx(g), v}, 2);
        cg_bind_symbol(g, s->let.sym, v);
        return true;
    default: return false;
    }
}

/* The specialization of a function, declared on first use and defined later (drain). */
static LLVMValueRef ad_function(Cg *g, Symbol *sym) {
    char name[512];
    snprintf(name, sizeof name, "ppl.ad.%s", sym->name);
    LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
    if (fn) return fn;
    Type *t = sym->type;
    LLVMTypeRef params[t->nparams + 1];
    params[0] = g->t_ptr;   /* the evaluation context */
    for (int i = 0; i < t->nparams; i++) params[i + 1] = cg_llvm_type(g, t->params[i]);
    fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(cg_llvm_type(g, t->ret), params, (unsigned)t->nparams + 1, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    vec_push(&g->names, &g->ad_queue, sym);
    return fn;
}

static void drain_ad_functions(Cg *g) {
    g->ad = true;
    for (int i = 0; i < g->ad_queue.len; i++) {
        Symbol *sym = g->ad_queue.items[i];
        cg_define_fn_as(g, sym->decl, ad_function(g, sym));
    }
    g->ad_queue.len = 0;
    g->ad = false;
}

/* Reads the args block into the parameters' storage (reals lifted in a specialization). */
static void bind_args(Cg *g, Node *def, LLVMValueRef args) {
    for (int i = 0; i < def->fn.params.len; i++) {
        Param *p = def->fn.params.items[i];
        LLVMValueRef off = cg_const_int(g, 8 * i);
        LLVMValueRef at = LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), args, &off, 1, "");
        LLVMTypeRef plain = p->type->kind == TY_REAL ? g->t_real : cg_llvm_type(g, p->type);
        LLVMValueRef v = LLVMBuildLoad2(g->b, plain, at, p->name);
        cg_bind_symbol(g, p->sym, g->ad && cg_holds_real(p->type) ? cg_ad_lift(g, v, p->type) : v);
    }
}

/* void f(ctx, args[, theta]): a gradient entry point taking its evaluation context first. */
static LLVMValueRef void_function(Cg *g, const char *fmt, const char *name, int nparams) {
    char full[512];
    snprintf(full, sizeof full, fmt, name);
    LLVMTypeRef params[3] = {g->t_ptr, g->t_ptr, g->t_ptr};
    LLVMValueRef fn = LLVMAddFunction(g->mod, full, LLVMFunctionType(g->t_void, params, (unsigned)nparams, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    return fn;
}

/* void model_ad(ctx, args): the body on the tape; the return value goes to rt_vi_return. */
LLVMValueRef cg_define_model_ad(Cg *g, Node *m) {
    Type *ret = m->fn.sym->type->ret;
    g->ad = true;
    LLVMValueRef fn = void_function(g, "ppl.ad.model.%s", m->fn.name, 2);
    cg_begin_function(g, fn, ret);
    g->cx = LLVMGetParam(fn, 0);
    bind_args(g, m, LLVMGetParam(fn, 1));
    LLVMValueRef v = cg_expr(g, m->fn.body);
    if (g->ret_slot && v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b))) LLVMBuildStore(g->b, v, g->ret_slot);
    cg_branch_to(g, g->ret_bb);
    cg_position(g, g->ret_bb);
    if (g->ret_slot) {
        LLVMValueRef r = LLVMBuildLoad2(g->b, cg_llvm_type(g, ret), g->ret_slot, "ret");
        if (ret->kind == TY_REAL) cg_rt_call(g, RTF_rt_vi_return, (LLVMValueRef[]){g->cx, r}, 2);
        else cg_rt_call(g, RTF_rt_vi_return_value, (LLVMValueRef[]){g->cx, LLVMBuildUIToFP(g->b, r, g->t_real, "")}, 2);
    }
    LLVMBuildRetVoid(g->b);
    g->ad = false;
    drain_ad_functions(g);
    return fn;
}

static LLVMValueRef define_ad_guide(Cg *g, Node *q) {
    g->ad = true;
    g->ad_guide = q;
    LLVMValueRef fn = void_function(g, "ppl.ad.guide.%s", q->fn.name, 2);
    cg_begin_function(g, fn, ty_unit);
    g->cx = LLVMGetParam(fn, 0);
    bind_args(g, q, LLVMGetParam(fn, 1));
    cg_expr(g, q->fn.body);
    cg_end_function(g, ty_unit);
    g->ad_guide = NULL;
    g->ad = false;
    return fn;
}

/* void init(args, theta): the params' initial values, in order (each may use earlier ones),
 * appended to the flat vector theta (rt_vi_theta); an array param's value fixes its length. */
static LLVMValueRef define_guide_init(Cg *g, Node *q) {
    LLVMValueRef fn = void_function(g, "ppl.vi.init.%s", q->fn.name, 2);
    cg_begin_function(g, fn, ty_unit);
    bind_args(g, q, LLVMGetParam(fn, 0));
    for (int k = 0; k < q->fn.gparams.len; k++) {
        Node *d = q->fn.gparams.items[k];
        LLVMValueRef v = cg_expr(g, d->let.init);
        cg_bind_symbol(g, d->let.sym, v);
        LLVMValueRef args[3] = {LLVMGetParam(fn, 1), cg_const_int(g, k), v};
        TypeKind kind = d->let.sym->type->kind;
        cg_rt_call(g, kind == TY_REAL ? RTF_rt_vi_init_real : kind == TY_TENSOR ? RTF_rt_vi_init_tensor : RTF_rt_vi_init_array,
                   args, 3);
    }
    cg_end_function(g, ty_unit);
    return fn;
}

/* rt_vi_problem {model, guide_ad, guide_init, nparams, param_names, guide_name} and
 * rt_vi_objective {fn, name}: declared before any code (an infer anywhere may name them)
 * and initialized when defined. */
static LLVMTypeRef vi_problem_type(Cg *g) { return cg_struct_type(g->ctx, RT_VI_PROBLEM_FIELDS(RT_FIELD_LETTER)); }
static LLVMTypeRef objective_type(Cg *g) { return cg_struct_type(g->ctx, RT_VI_OBJECTIVE_FIELDS(RT_FIELD_LETTER)); }

void cg_declare_vi(Cg *g, Node *n) {
    bool guide = n->kind == N_GUIDE;
    char name[512];
    snprintf(name, sizeof name, guide ? "ppl.vi.%s" : "ppl.objective.%s", n->fn.name);
    LLVMValueRef gv = LLVMAddGlobal(g->mod, guide ? vi_problem_type(g) : objective_type(g), name);
    LLVMSetLinkage(gv, LLVMInternalLinkage);
    LLVMSetGlobalConstant(gv, 1);
    n->fn.sym->cg = gv;
}

/* The rt_vi_problem of a guide and the model it is paired with, in the guide's symbol. */
void cg_define_vi_problem(Cg *g, Node *q) {
    Node *m = q->fn.paired;
    LLVMValueRef guide_ad = define_ad_guide(g, q), init = define_guide_init(g, q);
    drain_ad_functions(g);
    int n = q->fn.gparams.len;
    LLVMValueRef names[n + 1];
    for (int k = 0; k < n; k++) names[k] = cg_const_string(g, ((Node *)q->fn.gparams.items[k])->let.name);
    LLVMValueRef f[RT_VI_PROBLEM_NFIELDS] = {
        [RT_VI_PROBLEM_F_model] = m->fn.sym->cg,
        [RT_VI_PROBLEM_F_guide_ad] = guide_ad, [RT_VI_PROBLEM_F_guide_init] = init,
        [RT_VI_PROBLEM_F_nparams] = cg_const_int(g, n),
        [RT_VI_PROBLEM_F_param_names] = cg_const_global(g, LLVMConstArray2(g->t_ptr, names, (uint64_t)n), "param_names"),
        [RT_VI_PROBLEM_F_guide_name] = cg_const_string(g, q->fn.name)};
    LLVMSetInitializer(q->fn.sym->cg, cg_const_struct(g, RT_VI_PROBLEM_FIELDS(RT_FIELD_LETTER), f));
}

/* i64 ppl.obj.NAME(args): the objective's value on the tape, its arguments read from a block
 * like a model's; and its rt_vi_objective {fn, name} in the objective's symbol. */
void cg_define_objective(Cg *g, Node *o) {
    char name[512];
    snprintf(name, sizeof name, "ppl.obj.%s", o->fn.name);
    LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};   /* (ctx, args) */
    LLVMValueRef fn = LLVMAddFunction(g->mod, name, LLVMFunctionType(g->t_int, params, 2, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    g->ad = true;
    cg_begin_function(g, fn, ty_real);
    g->cx = LLVMGetParam(fn, 0);
    bind_args(g, o, LLVMGetParam(fn, 1));
    LLVMValueRef v = cg_expr(g, o->fn.body);
    if (v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b))) LLVMBuildStore(g->b, v, g->ret_slot);
    cg_end_function(g, ty_real);
    drain_ad_functions(g);
    LLVMValueRef f[RT_VI_OBJECTIVE_NFIELDS] = {[RT_VI_OBJECTIVE_F_fn] = fn,
                                               [RT_VI_OBJECTIVE_F_name] = cg_const_string(g, o->fn.name)};
    LLVMSetInitializer(o->fn.sym->cg, cg_const_struct(g, RT_VI_OBJECTIVE_FIELDS(RT_FIELD_LETTER), f));
}
