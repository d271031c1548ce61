/* cg_model.c - models as resumable frames: frame slots, sample/observe/reward/potential and
 * their checkpoints, the resume function, model descriptors and infer calls. */
#include "cg.h"
#include "rt_infer.h"
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- frame slots ---- */

/* The address of a frame field, computed once in the entry block. */
LLVMValueRef cg_frame_field(Cg *g, int64_t offset, const char *name) {
    LLVMBuilderRef eb = cg_entry_builder(g);
    LLVMValueRef off = cg_const_int(g, offset);
    LLVMValueRef p = LLVMBuildGEP2(eb, LLVMInt8TypeInContext(g->ctx), g->frame, &off, 1, name);
    LLVMDisposeBuilder(eb);
    return p;
}

static LLVMValueRef particle_field(Cg *g, size_t offset) {
    LLVMValueRef off = cg_const_int(g, (long long)offset);
    return LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), g->particle, &off, 1, "");
}

/* ---- weights and checkpoints ---- */

/* x is finite: x - x is 0, not NaN. */
static LLVMValueRef is_finite(Cg *g, LLVMValueRef x) {
    return LLVMBuildFCmp(g->b, LLVMRealOEQ, LLVMBuildFSub(g->b, x, x, ""), LLVMConstReal(g->t_real, 0), "finite");
}

/* Adds delta to the particle's log weight. When the terms were finite (`terms_finite`, the
 * operands delta came from) and the weight was, a sum that is not is an overflow: an error
 * at statement s (`what` it is), never a particle that silently wins (+inf) or dies (-inf). */
static void add_log_weight(Cg *g, LLVMValueRef delta, LLVMValueRef terms_finite, Node *s, const char *what) {
    LLVMValueRef p = particle_field(g, offsetof(rt_particle, logw));
    LLVMValueRef w = LLVMBuildLoad2(g->b, g->t_real, p, "logw");
    LLVMValueRef sum = LLVMBuildFAdd(g->b, w, delta, "logw");
    /* the common case first: a finite sum needs no more checks */
    LLVMBasicBlockRef check = cg_new_block(g, "infinite"), fail = cg_new_block(g, "overflow");
    LLVMBasicBlockRef done = cg_new_block(g, "weighed");
    LLVMBuildCondBr(g->b, is_finite(g, sum), done, check);
    cg_position(g, check);
    LLVMBuildCondBr(g->b, LLVMBuildAnd(g->b, terms_finite, is_finite(g, w), "overflow"), fail, done);
    cg_position(g, fail);
    LLVMValueRef args[4] = {cg_loc_string(g, s->loc), LLVMBuildGlobalStringPtr(g->b, what, "what"), w, delta};
    cg_rt_fail_call(g, RTF_rt_weight_overflow, args, 4);
    cg_position(g, done);
    LLVMBuildStore(g->b, sum, p);
}

static void add_term(Cg *g, LLVMValueRef delta, Node *s, const char *what) {
    add_log_weight(g, delta, is_finite(g, delta), s, what);
}

/* Suspends the model: records where to resume and returns 1; resumption continues here.
 * Inside the branches of an `if` nothing suspends (cg_if_join). */
static void cg_checkpoint(Cg *g) {
    if (g->in_branch) return;
    int k = ++g->nstates;
    LLVMBuildStore(g->b, cg_const_int(g, k), g->frame);
    LLVMBuildRet(g->b, LLVMConstInt(LLVMInt32TypeInContext(g->ctx), 1, 0));
    LLVMBasicBlockRef resume = cg_new_block(g, "resume");
    LLVMAddCase(g->dispatch, cg_const_int(g, k), resume);
    cg_position(g, resume);
}

/* ---- sample, observe, reward, potential ---- */

/* rt_record(p, site, loop indices, value). */

static void record_call(Cg *g, Node *e, LLVMValueRef v) {
    int n = e->sample.indices.len;
    LLVMValueRef idx = cg_site_indices(g, e);
    if (e->type->kind == TY_INT) v = LLVMBuildSIToFP(g->b, v, g->t_real, "");
    LLVMValueRef args[5] = {g->particle, cg_const_int(g, e->sample.site), cg_const_int(g, n), idx, v};
    cg_rt_call(g, RTF_rt_record, args, 5);
}

/* Appends (site, loop indices, value) to the particle's trace, if it has one: runs that do
 * not keep sample sites (trace = false) skip the call. */
static void cg_record(Cg *g, Node *e, LLVMValueRef v) {
    LLVMValueRef trace = LLVMBuildLoad2(g->b, g->t_ptr, particle_field(g, offsetof(rt_particle, trace)), "trace");
    LLVMBasicBlockRef rec = cg_new_block(g, "record"), done = cg_new_block(g, "recorded");
    LLVMBuildCondBr(g->b, LLVMBuildIsNull(g->b, trace, ""), done, rec);
    cg_position(g, rec);
    record_call(g, e, v);
    LLVMBuildBr(g->b, done);
    cg_position(g, done);
}

LLVMValueRef cg_site_indices(Cg *g, Node *e) {
    int n = e->sample.indices.len;
    LLVMValueRef idx = n ? cg_scratch_words(g, n) : LLVMConstNull(g->t_ptr);
    for (int i = 0; i < n; i++) {
        LLVMValueRef at = cg_const_int(g, i);
        LLVMBuildStore(g->b, cg_load_symbol(g, e->sample.indices.items[i]), LLVMBuildGEP2(g->b, g->t_int, idx, &at, 1, ""));
    }
    return idx;
}

/* A sample site: drawn, or in the replay function the particle's given value when it has
 * one for the site's address. */
LLVMValueRef cg_sample(Cg *g, Node *e) {
    if (!g->replay) {
        LLVMValueRef v = cg_dist_call(g, e->sample.dist, DIST_SAMPLE, g->particle);
        cg_record(g, e, v);
        return v;
    }
    LLVMTypeRef t = cg_llvm_type(g, e->type);
    LLVMBasicBlockRef draw = cg_new_block(g, "draw"), done = cg_new_block(g, "sampled");
    LLVMValueRef found = cg_scratch_words(g, 1);   /* on the stack: it never lives across a checkpoint */
    LLVMValueRef args[5] = {g->particle, cg_const_int(g, e->sample.site), cg_const_int(g, e->sample.indices.len),
                            cg_site_indices(g, e), found};
    LLVMValueRef bits = cg_rt_call(g, RTF_rt_replay_site, args, 5);
    LLVMValueRef have = LLVMBuildICmp(g->b, LLVMIntNE, LLVMBuildLoad2(g->b, g->t_int, found, ""), cg_const_int(g, 0), "");
    LLVMValueRef taken = e->type->kind == TY_INT ? bits : LLVMBuildBitCast(g->b, bits, g->t_real, "");
    LLVMBasicBlockRef replay_end = LLVMGetInsertBlock(g->b);
    LLVMBuildCondBr(g->b, have, done, draw);
    cg_position(g, draw);
    LLVMValueRef drawn = cg_dist_call(g, e->sample.dist, DIST_SAMPLE, g->particle);
    LLVMBasicBlockRef draw_end = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, done);
    cg_position(g, done);
    LLVMValueRef v = LLVMBuildPhi(g->b, t, "site");
    LLVMAddIncoming(v, (LLVMValueRef[]){taken, drawn}, (LLVMBasicBlockRef[]){replay_end, draw_end}, 2);
    cg_record(g, e, v);
    return v;
}

/* observe ys ~ normal(mu, sigma) or bernoulli_logit(eta) for an array ys: the sum of the
 * elements' log densities (a tape handle in a gradient specialization). The first
 * parameter is passed as an array and a scalar, one of them unused (rt_observe.c). */
LLVMValueRef cg_observe_array(Cg *g, Node *s) {
    Node *d = s->observe.dist;
    bool normal = strcmp(cg_dist_sig[d->call.dist - 1].name, "normal") == 0;
    LLVMValueRef args[5];
    int n = 0;
    args[n++] = cg_expr(g, s->observe.value);
    for (int i = 0; i < d->call.args.len; i++) {
        Node *a = d->call.args.items[i];
        LLVMValueRef v = cg_expr(g, a);
        bool array = a->type->kind == TY_ARRAY;
        if (i == 0) args[n++] = array ? v : LLVMConstNull(g->t_ptr);
        if (i > 0 || !array) args[n++] = v;
        else args[n++] = LLVMConstNull(g->ad ? g->t_int : g->t_real);
    }
    args[n++] = cg_loc_string(g, d->loc);
    int fn = g->ad ? (normal ? RTF_rt_vi_obs_normal : RTF_rt_vi_obs_bernoulli_logit)
                   : (normal ? RTF_rt_obs_normal : RTF_rt_obs_bernoulli_logit);
    return cg_rt_call(g, fn, args, n);
}

/* The real that arrives from block a with value x or from block b with value y. */
static LLVMValueRef real_phi(Cg *g, LLVMValueRef x, LLVMBasicBlockRef a, LLVMValueRef y, LLVMBasicBlockRef b,
                             const char *name) {
    LLVMValueRef phi = LLVMBuildPhi(g->b, g->t_real, name);
    LLVMValueRef vals[2] = {x, y};
    LLVMBasicBlockRef blocks[2] = {a, b};
    LLVMAddIncoming(phi, vals, blocks, 2);
    return phi;
}

/* log(sigma) from the particle's cache, or from rt_log_scale when sigma is not the last. */
static LLVMValueRef cached_log_scale(Cg *g, LLVMValueRef sigma) {
    LLVMValueRef last = LLVMBuildLoad2(g->b, g->t_real, particle_field(g, offsetof(rt_particle, scale)), "scale");
    LLVMValueRef cached = LLVMBuildLoad2(g->b, g->t_real, particle_field(g, offsetof(rt_particle, log_scale)), "");
    LLVMValueRef hit = LLVMBuildFCmp(g->b, LLVMRealOEQ, sigma, last, "");
    LLVMBasicBlockRef from = LLVMGetInsertBlock(g->b);
    LLVMBasicBlockRef miss = cg_new_block(g, "log_scale"), done = cg_new_block(g, "scaled");
    LLVMBuildCondBr(g->b, hit, done, miss);
    cg_position(g, miss);
    LLVMValueRef args[2] = {g->particle, sigma};
    LLVMValueRef computed = cg_rt_call(g, RTF_rt_log_scale, args, 2);
    LLVMBuildBr(g->b, done);
    cg_position(g, done);
    return real_phi(g, cached, from, computed, miss, "log_scale");
}

/* The parameters rt_lpdf_normal accepts: mu finite (mu - mu is 0, not NaN), 0 < sigma < inf,
 * and x not NaN. */
static LLVMValueRef normal_params_ok(Cg *g, LLVMValueRef x, LLVMValueRef mu, LLVMValueRef sigma) {
    LLVMValueRef zero = LLVMConstReal(g->t_real, 0), inf = LLVMConstReal(g->t_real, INFINITY);
    LLVMValueRef mu_ok = LLVMBuildFCmp(g->b, LLVMRealOEQ, LLVMBuildFSub(g->b, mu, mu, ""), zero, "");
    LLVMValueRef lo = LLVMBuildFCmp(g->b, LLVMRealOGT, sigma, zero, "");
    LLVMValueRef hi = LLVMBuildFCmp(g->b, LLVMRealOLT, sigma, inf, "");
    LLVMValueRef x_ok = LLVMBuildFCmp(g->b, LLVMRealORD, x, x, "");
    LLVMValueRef ok = LLVMBuildAnd(g->b, mu_ok, LLVMBuildAnd(g->b, lo, hi, ""), "");
    return LLVMBuildAnd(g->b, ok, x_ok, "normal_ok");
}

/* rt_lpdf_normal's formula, operation for operation (so the same bits):
 * -0.5 * z * z - log(sigma) - log(sqrt(2 pi)) with z = (x - mu) / sigma. */
static LLVMValueRef normal_density(Cg *g, LLVMValueRef x, LLVMValueRef mu, LLVMValueRef sigma) {
    LLVMValueRef z = LLVMBuildFDiv(g->b, LLVMBuildFSub(g->b, x, mu, ""), sigma, "z");
    LLVMValueRef q = LLVMBuildFMul(g->b, LLVMBuildFMul(g->b, LLVMConstReal(g->t_real, -0.5), z, ""), z, "");
    LLVMValueRef lp = LLVMBuildFSub(g->b, q, cached_log_scale(g, sigma), "");
    return LLVMBuildFSub(g->b, lp, LLVMConstReal(g->t_real, 0.91893853320467274178), "lpdf");
}

/* observe x ~ normal(mu, sigma) for a scalar x, the hot statement of SMC: the density inline,
 * with rt_lpdf_normal called only to report parameters it rejects. */
static LLVMValueRef cg_observe_normal(Cg *g, Node *d, LLVMValueRef x) {
    LLVMValueRef mu = cg_expr(g, d->call.args.items[0]), sigma = cg_expr(g, d->call.args.items[1]);
    LLVMValueRef ok = normal_params_ok(g, x, mu, sigma);
    LLVMBasicBlockRef fast = cg_new_block(g, "normal"), slow = cg_new_block(g, "normal_checked");
    LLVMBasicBlockRef done = cg_new_block(g, "observed");
    LLVMBuildCondBr(g->b, ok, fast, slow);
    cg_position(g, slow);
    int kind = d->call.dist - 1;
    LLVMValueRef args[4] = {x, mu, sigma, cg_loc_string(g, d->loc)};
    LLVMValueRef checked = cg_dist_build_call(g, DIST_LPDF, kind, args);
    LLVMBuildBr(g->b, done);
    cg_position(g, fast);
    LLVMValueRef lp = normal_density(g, x, mu, sigma);
    LLVMBasicBlockRef fast_end = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, done);
    cg_position(g, done);
    return real_phi(g, lp, fast_end, checked, slow, "lpdf");
}

void cg_observe(Cg *g, Node *s) {
    if (cg_is_tensor_observe(s) || s->observe.value->type->kind == TY_ARRAY) {
        add_term(g, cg_is_tensor_observe(s) ? cg_tensor_observe(g, s) : cg_observe_array(g, s), s, "observe");
        if (s != g->final_checkpoint) cg_checkpoint(g);
        return;
    }
    LLVMValueRef v = cg_expr(g, s->observe.value);
    Node *d = s->observe.dist;
    bool normal = !g->ad && strcmp(cg_dist_sig[d->call.dist - 1].name, "normal") == 0;
    add_term(g, normal ? cg_observe_normal(g, d, v) : cg_dist_call(g, d, DIST_LPDF, v), s, "observe");
    if (s != g->final_checkpoint) cg_checkpoint(g);
}

/* A reward or potential must be a number below +inf (-inf kills the particle). */
static LLVMValueRef cg_weight_value(Cg *g, Node *s, const char *what) {
    LLVMValueRef v = cg_expr(g, s->stmt.expr);
    LLVMValueRef bad = LLVMBuildFCmp(g->b, LLVMRealUEQ, v, LLVMConstReal(g->t_real, INFINITY), "");
    char msg[64];
    snprintf(msg, sizeof msg, "%s is NaN or +inf", what);
    cg_fail_if(g, bad, s->stmt.expr->loc, msg);
    return v;
}

void cg_reward(Cg *g, Node *s) {
    add_term(g, cg_weight_value(g, s, "reward"), s, "reward");
    if (s != g->final_checkpoint) cg_checkpoint(g);
}

/* condition b: a weight of 1 where b holds and 0 where it does not. */
void cg_condition(Cg *g, Node *s) {
    LLVMValueRef b = cg_expr(g, s->stmt.expr);
    LLVMValueRef delta = LLVMBuildSelect(g->b, b, LLVMConstReal(g->t_real, 0), LLVMConstReal(g->t_real, -INFINITY), "");
    add_log_weight(g, delta, LLVMConstInt(LLVMInt1TypeInContext(g->ctx), 0, 0), s, "condition");   /* -inf is meant */
    if (s != g->final_checkpoint) cg_checkpoint(g);
}

/* potential v: adds v - (previous potential); the last one is removed when the model ends. */
void cg_potential(Cg *g, Node *s) {
    LLVMValueRef v = cg_weight_value(g, s, "potential");
    LLVMValueRef p = particle_field(g, offsetof(rt_particle, potential));
    LLVMValueRef old = LLVMBuildLoad2(g->b, g->t_real, p, "potential");
    LLVMValueRef terms_finite = LLVMBuildAnd(g->b, is_finite(g, v), is_finite(g, old), "");
    add_log_weight(g, LLVMBuildFSub(g->b, v, old, ""), terms_finite, s, "potential");
    LLVMBuildStore(g->b, v, p);
    if (s != g->final_checkpoint) cg_checkpoint(g);
}

/* Particles that took different branches must still meet at the same checkpoints, or SMC's
 * swarm never lines up: with `if bad { reward log(0.0) }` in a loop only the particles that
 * die would stop, and the swarm would never resample. So an `if` that can weight suspends
 * once, after its branches join, and nothing in its branches suspends. */
static bool has_checkpoint(const Node *n);

bool cg_if_joins(Cg *g, Node *e) { return g->frame && !g->ad && has_checkpoint(e); }

void cg_if_join(Cg *g, Node *e) {
    if (e != g->final_checkpoint) cg_checkpoint(g);
}

/* ---- infer calls ---- */

/* Arguments in a block of 8-byte words (traced by the collector). */
static LLVMValueRef args_block(Cg *g, PtrVec *args) {
    LLVMValueRef size = cg_const_int(g, 8 * (long long)args->len);
    LLVMValueRef block = cg_rt_call(g, RTF_rt_frame_new, &size, 1);
    for (int i = 0; i < args->len; i++) {
        LLVMValueRef off = cg_const_int(g, 8 * i);
        LLVMValueRef p = LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), block, &off, 1, "");
        LLVMValueRef v = cg_expr(g, args->items[i]);
        LLVMBuildStore(g->b, g->ad ? cg_ad_lower(g, args->items[i], v) : v, p);
    }
    return block;
}

/* A value for what takes plain values: in gradient code a real is a handle, lowered. */
static LLVMValueRef plain_value(Cg *g, Node *e) {
    LLVMValueRef v = cg_expr(g, e);
    return g->ad ? cg_ad_lower(g, e, v) : v;
}

/* An LLVM struct of 8-byte fields, one per ABI letter (i int64, d double, p pointer), the
 * layout of a C struct generated from the same X-macro rows (rt_layout.h). */
LLVMTypeRef cg_struct_type(LLVMContextRef ctx, const char *letters) {
    LLVMTypeRef f[32];
    unsigned n = 0;
    for (; letters[n] && n < 32; n++)
        f[n] = letters[n] == 'd' ? LLVMDoubleTypeInContext(ctx)
             : letters[n] == 'p' ? LLVMPointerTypeInContext(ctx, 0) : LLVMInt64TypeInContext(ctx);
    return LLVMStructTypeInContext(ctx, f, n, 0);
}

/* A constant of the struct cg_struct_type(letters) makes, from one value per field: a value
 * of another type than its letter's is a compiler bug, reported at once. */
LLVMValueRef cg_const_struct(Cg *g, const char *letters, LLVMValueRef *f) {
    LLVMTypeRef ty = cg_struct_type(g->ctx, letters);
    unsigned n = LLVMCountStructElementTypes(ty);
    LLVMValueRef v = LLVMConstStructInContext(g->ctx, f, n, 0);
    if (LLVMTypeOf(v) != ty) {
        fprintf(stderr, "ppl: internal error: a descriptor's fields do not match its layout \"%s\"\n", letters);
        abort();
    }
    return v;
}

/* The value of one of the method's options: the one written, else the table's default. */
static LLVMValueRef option_value(Cg *g, Node *e, const rt_method_option *r) {
    Node *v = e->infer.opt[r->option];
    switch (rt_option_table[r->option].type) {
    case RT_OTYPE_INT: return v ? cg_expr(g, v) : cg_const_int(g, (long long)r->def);
    case RT_OTYPE_REAL: return v ? plain_value(g, v) : LLVMConstReal(g->t_real, r->def);
    case RT_OTYPE_BOOL:   /* trace's and draws' defaults: keep them unless the program reads none */
        if (v) return LLVMBuildZExt(g->b, cg_expr(g, v), g->t_int, "");
        return cg_const_int(g, (r->option == RT_OPTION_trace && e->infer.drop_sites) ||
                               (r->option == RT_OPTION_draws && e->infer.drop_draws) ? 0 : (long long)r->def);
    case RT_OTYPE_CHOICE: case RT_OTYPE_CALL: return cg_const_int(g, e->infer.choice[r->option]);
    case RT_OTYPE_GUIDE: return e->infer.guide->cg;
    case RT_OTYPE_OBJECTIVE: return e->infer.objective_sym->cg;
    default: {   /* RT_OTYPE_ARGS: the arguments of the option before, when it is a call */
        Node *call = e->infer.opt[r->option - 1];
        return call && call->kind == N_CALL ? args_block(g, &call->call.args) : LLVMConstNull(g->t_ptr);
    }
    }
}

/* infer M(args) by METHOD(options): the model's arguments in a block, the options in an
 * rt_infer_opts (evaluated in the order of the method's rows in rt_methods.h), then
 * ENGINE(ctx, model, args, &opts, loc). */
LLVMValueRef cg_infer(Cg *g, Node *e) {
    static const int engines[RT_NMETHODS] = {
#define X(id, name, engine) RTF_##engine,
        RT_METHODS(X)
#undef X
    };
    Node *call = e->infer.model_call;
    LLVMValueRef desc = call->call.callee->name.sym->cg;
    LLVMValueRef frame = args_block(g, &call->call.args);
    LLVMTypeRef ty = cg_struct_type(g->ctx, RT_INFER_OPTIONS(RT_FIELD_LETTER));
    LLVMValueRef opts = cg_stack_alloca(g, ty, "opts");   /* the engine reads it before returning */
    LLVMBuildStore(g->b, LLVMConstNull(ty), opts);
    for (int k = 0; k < rt_nmethod_options; k++) {
        const rt_method_option *r = &rt_method_options[k];
        if (r->method != e->infer.kind) continue;
        LLVMValueRef v = option_value(g, e, r);
        LLVMBuildStore(g->b, v, LLVMBuildStructGEP2(g->b, ty, opts, (unsigned)r->option, rt_option_table[r->option].name));
    }
    LLVMValueRef args[5] = {cg_ctx(g), desc, frame, opts, cg_loc_string(g, e->loc)};
    return cg_rt_call(g, engines[e->infer.kind], args, 5);
}

/* logp(m(args), post, i), logp(m(args), names, values), predict(m(args), post): the
 * model's arguments in a block, then score or replay mode (rt_replay.h). */
LLVMValueRef cg_model_builtin(Cg *g, Node *e) {
    Node *call = e->call.args.items[0];
    LLVMValueRef desc = call->call.callee->name.sym->cg, args = args_block(g, &call->call.args);
    LLVMValueRef second = cg_expr(g, e->call.args.items[1]), loc = cg_loc_string(g, e->loc);
    if (e->call.builtin == BI_PREDICT)
        return cg_rt_call(g, RTF_rt_predict, (LLVMValueRef[]){cg_ctx(g), desc, args, second, loc}, 5);
    LLVMValueRef third = plain_value(g, e->call.args.items[2]);
    bool names = cg_arg_type(e, 1)->kind == TY_ARRAY;
    return cg_rt_call(g, names ? RTF_rt_logp_values : RTF_rt_logp_draw, (LLVMValueRef[]){desc, args, second, third, loc}, 5);
}

/* ---- models: resume functions over frames, and their descriptors ---- */

/* Whether a statement or expression holds a statement of one of the given kinds (only
 * checkpoints are looked for: they are statements in statement position). */
static bool contains(const Node *n, bool (*is)(const Node *)) {
    if (!n) return false;
    if (is(n)) return true;
    switch (n->kind) {
    case N_BLOCK:
        for (int i = 0; i < n->block.stmts.len; i++)
            if (contains(n->block.stmts.items[i], is)) return true;
        return contains(n->block.value, is);
    case N_IF: return contains(n->if_.then, is) || contains(n->if_.els, is);
    case N_FOR: return contains(n->for_.body, is);
    case N_WHILE: return contains(n->while_.body, is);
    case N_EXPR_STMT: return contains(n->stmt.expr, is);
    default: return false;
    }
}

static bool is_checkpoint(const Node *n) {
    return n->kind == N_OBSERVE || n->kind == N_REWARD || n->kind == N_POTENTIAL || n->kind == N_CONDITION;
}
static bool is_potential(const Node *n) { return n->kind == N_POTENTIAL; }
static bool has_checkpoint(const Node *n) { return contains(n, is_checkpoint); }
static bool has_potential(const Node *n) { return contains(n, is_potential); }

static LLVMTypeRef resume_type(Cg *g) {
    LLVMTypeRef params[2] = {g->t_ptr, g->t_ptr};
    return LLVMFunctionType(LLVMInt32TypeInContext(g->ctx), params, 2, 0);
}

/* The descriptor (rt_model, from RT_MODEL_FIELDS) is declared first (infer sites load its
 * frame size) and filled in later. */
static LLVMTypeRef descriptor_type(Cg *g) { return cg_struct_type(g->ctx, RT_MODEL_FIELDS(RT_FIELD_LETTER)); }

void cg_declare_model(Cg *g, Node *m) {
    char name[512];
    snprintf(name, sizeof name, "ppl.model.%s", m->fn.name);
    LLVMValueRef desc = LLVMAddGlobal(g->mod, descriptor_type(g), name);
    LLVMSetLinkage(desc, LLVMInternalLinkage);
    LLVMSetGlobalConstant(desc, 1);
    m->fn.sym->cg = desc;
}

static long long runtime_kind(const Type *t) {
    switch (t->kind) {
    case TY_REAL: return RT_REAL;
    case TY_INT: return RT_INT;
    case TY_BOOL: return RT_BOOL;
    default: return -1;
    }
}

/* Site tables: names, number of indices, value kinds, supports, by site id. */
static void site_tables(Cg *g, Node *m, LLVMValueRef out[4]) {
    int n = m->fn.sites.len;
    LLVMValueRef names[n + 1], nidx[n + 1], kinds[n + 1], supports[n + 1];
    for (int i = 0; i < n; i++) {
        Node *site = m->fn.sites.items[i];
        names[i] = cg_const_string(g, site->sample.as_name);
        nidx[i] = cg_const_int(g, site->sample.indices.len);
        kinds[i] = cg_const_int(g, runtime_kind(site->type));
        supports[i] = cg_const_int(g, cg_dist_sig[site->sample.dist->call.dist - 1].support);
    }
    out[0] = cg_const_global(g, LLVMConstArray2(g->t_ptr, names, (uint64_t)n), "site_names");
    out[1] = cg_const_global(g, LLVMConstArray2(g->t_int, nidx, (uint64_t)n), "site_nidx");
    out[2] = cg_const_global(g, LLVMConstArray2(g->t_int, kinds, (uint64_t)n), "site_kind");
    out[3] = cg_const_global(g, LLVMConstArray2(g->t_int, supports, (uint64_t)n), "site_support");
}

static void define_descriptor(Cg *g, Node *m, LLVMValueRef resume, LLVMValueRef model_ad, LLVMValueRef replay) {
    LLVMValueRef tables[4];
    site_tables(g, m, tables);
    Type *ret = m->fn.sym->type->ret;
    LLVMValueRef f[RT_MODEL_NFIELDS] = {
        [RT_MODEL_F_name] = cg_const_string(g, m->fn.name), [RT_MODEL_F_resume] = resume,
        [RT_MODEL_F_frame_size] = cg_const_int(g, g->frame_bytes), [RT_MODEL_F_ret_kind] = cg_const_int(g, runtime_kind(ret)),
        [RT_MODEL_F_nsites] = cg_const_int(g, m->fn.sites.len), [RT_MODEL_F_site_names] = tables[0],
        [RT_MODEL_F_site_nidx] = tables[1], [RT_MODEL_F_site_kind] = tables[2],
        [RT_MODEL_F_nparams] = cg_const_int(g, m->fn.params.len),
        [RT_MODEL_F_has_potential] = cg_const_int(g, has_potential(m->fn.body)),
        [RT_MODEL_F_model_ad] = model_ad, [RT_MODEL_F_site_support] = tables[3], [RT_MODEL_F_replay] = replay};
    LLVMSetInitializer(m->fn.sym->cg, cg_const_struct(g, RT_MODEL_FIELDS(RT_FIELD_LETTER), f));
}

/* A bool result is widened to 8 bytes in the frame's return field (real and int results
 * are stored there directly). */
static void store_model_result(Cg *g, const Type *ret) {
    if (!g->ret_slot || ret->kind != TY_BOOL) return;
    LLVMValueRef v = LLVMBuildLoad2(g->b, cg_llvm_type(g, ret), g->ret_slot, "ret");
    if (ret->kind == TY_BOOL) v = LLVMBuildZExt(g->b, v, g->t_int, "");
    LLVMValueRef off = cg_const_int(g, RT_FRAME_RETURN);
    LLVMBuildStore(g->b, v, LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), g->frame, &off, 1, ""));
}


/* The model body's last checkpoint, when it is a statement of the body itself after which
 * nothing can suspend: suspending there would only let SMC resample between its weight
 * and the removal of the last potential at the end, which adds variance and nothing else. */
static Node *last_checkpoint(Node *body) {
    PtrVec *stmts = &body->block.stmts;
    if (has_checkpoint(body->block.value)) return body->block.value->kind == N_IF ? body->block.value : NULL;
    for (int i = stmts->len - 1; i >= 0; i--) {
        Node *s = stmts->items[i];
        if (!has_checkpoint(s)) continue;
        if (s->kind == N_EXPR_STMT && s->stmt.expr->kind == N_IF) return s->stmt.expr;   /* its join */
        return is_checkpoint(s) ? s : NULL;
    }
    return NULL;
}

/* i32 resume(frame, particle): a switch on the saved state jumps to the start or to the
 * statement after the checkpoint where the model stopped. Every variable lives in the frame. */
static LLVMValueRef define_resume(Cg *g, Node *m, const char *prefix, bool replay) {
    char name[512];
    snprintf(name, sizeof name, "%s%s", prefix, m->fn.name);
    g->replay = replay;
    g->fn = LLVMAddFunction(g->mod, name, resume_type(g));
    LLVMSetLinkage(g->fn, LLVMInternalLinkage);
    g->frame = LLVMGetParam(g->fn, 0);
    g->particle = g->cx = LLVMGetParam(g->fn, 1);
    g->frame_bytes = RT_FRAME_VARS;
    g->nstates = 0;
    g->final_checkpoint = last_checkpoint(m->fn.body);
    cg_position(g, cg_new_block(g, "entry"));
    LLVMValueRef args = LLVMBuildLoad2(g->b, g->t_ptr, particle_field(g, offsetof(rt_particle, args)), "args");
    for (int i = 0; i < m->fn.params.len; i++) {
        Param *p = m->fn.params.items[i];
        LLVMValueRef off = cg_const_int(g, 8 * i);
        p->sym->cg = LLVMBuildGEP2(g->b, LLVMInt8TypeInContext(g->ctx), args, &off, 1, p->name);
    }
    LLVMBasicBlockRef start = cg_new_block(g, "start");
    g->dispatch = LLVMBuildSwitch(g->b, LLVMBuildLoad2(g->b, g->t_int, g->frame, "state"), start, 4);
    cg_position(g, start);
    Type *ret = m->fn.sym->type->ret;
    g->ret_bb = cg_new_block(g, "return");
    g->ret_slot = !cg_has_value(ret) ? NULL : ret->kind == TY_BOOL ? cg_entry_alloca(g, g->t_bool, "ret")
                : cg_frame_field(g, RT_FRAME_RETURN, "ret");
    LLVMValueRef v = cg_expr(g, m->fn.body);
    if (g->ret_slot && v && !LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(g->b)))
        LLVMBuildStore(g->b, v, g->ret_slot);
    cg_branch_to(g, g->ret_bb);
    cg_position(g, g->ret_bb);
    store_model_result(g, ret);
    LLVMBuildRet(g->b, LLVMConstInt(LLVMInt32TypeInContext(g->ctx), 0, 0));
    g->frame = g->particle = NULL;
    g->final_checkpoint = NULL;
    g->replay = false;
    return g->fn;
}

/* A model's three modes: simulate (resume), replay (the same frames, sites taking given
 * values) and score (the gradient specialization), and its descriptor. */
void cg_define_model(Cg *g, Node *m) {
    LLVMValueRef replay = define_resume(g, m, "ppl.replay.", true);
    int64_t replay_bytes = g->frame_bytes;
    LLVMValueRef resume = define_resume(g, m, "ppl.resume.", false);
    int64_t frame_bytes = g->frame_bytes > replay_bytes ? g->frame_bytes : replay_bytes;   /* equal: one body */
    LLVMValueRef model_ad = cg_define_model_ad(g, m);
    g->frame_bytes = frame_bytes;
    define_descriptor(g, m, resume, model_ad, replay);
}
