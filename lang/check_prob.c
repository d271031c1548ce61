/* check_prob.c - checking the probabilistic constructs: sample sites, infer and its options,
 * checkpoints, distributions as call targets, guides and params, and guide/model site pairing. */
#include "check_internal.h"
#include "builtins.h"
#include "rt_dist_table.h"
#include "rt_methods.h"
#include <stdio.h>
#include <string.h>

/* ---- distributions as call targets ---- */

static const struct { const char *name; const char *params; bool discrete; int support; bool reparam; } dist_table[] = {
#define X(name, np, vt, types, support, reparam, ...) {#name, types, RT_DIST_VALUE_##vt, RT_SUPPORT_##support, reparam},
#define RT_DIST_VALUE_REAL false
#define RT_DIST_VALUE_INT true
    RT_DISTRIBUTIONS(X)
#undef X
};

int check_dist_lookup(const char *name) {
    for (size_t i = 0; i < sizeof dist_table / sizeof dist_table[0]; i++)
        if (strcmp(dist_table[i].name, name) == 0) return (int)i;
    return -1;
}

/* normal(0, 1): a distribution constructor; parameters by the table's type letters. */
Type *check_dist_call(Checker *c, Node *e, int kind) {
    const char *ps = dist_table[kind].params;
    int n = (int)strlen(ps);
    Type *params[8];
    for (int i = 0; i < n; i++)
        params[i] = ps[i] == 'd' ? ty_real : ps[i] == 'i' ? ty_int : ty_array(c->a, ty_real);
    e->call.dist = kind + 1;
    check_args_against(c, e, dist_table[kind].name, params, n);
    return ty_wrap(c->a, TY_DIST, dist_table[kind].discrete ? ty_int : ty_real);
}

/* ---- probabilistic constructs ---- */

static const char *address_of(Checker *c, const char *name, int nidx) {
    const char *s = name;
    for (int i = 0; i < nidx; i++) s = arena_printf(c->a, "%s%s_", s, i ? ", " : "[");
    return nidx ? arena_printf(c->a, "%s]", s) : s;
}

/* Sites pair with guide sites and posterior columns by address: two sites with the same
 * name and number of indices could collide, so that is an error. */
static void register_site(Checker *c, Node *e, const char *name) {
    PtrVec *sites = &c->model->fn.sites;
    for (int i = 0; i < sites->len; i++) {
        Node *other = sites->items[i];
        if (strcmp(other->sample.as_name, name) == 0 && other->sample.indices.len == c->loops.len) {
            diag_error(e->loc, "two sample sites share the address '%s'; name one with `as \"...\"`",
                       address_of(c, name, c->loops.len));
            return;
        }
    }
    e->sample.as_name = name;
    for (int i = 0; i < c->loops.len; i++) vec_push(c->a, &e->sample.indices, c->loops.items[i]);
    e->sample.site = sites->len;
    vec_push(c->a, sites, e);
}

/* A guide site's estimator: `by "reparam"` (normal, lognormal; their default), `by "score"`
 * (any site; the default of the others), `by "enum"` (the finite discrete ones). */
static const char *const estimator_names[] = {"", "reparam", "score", "enum"};

/* The distribution table's columns (rt_dist_table.h), and their rows named for messages. */
static bool finite_discrete(int kind) { return RT_SUPPORT_FINITE(dist_table[kind].support); }
static bool reparameterizable(int kind) { return dist_table[kind].reparam; }

static const char *dists_where(bool (*has)(int), char *buf, size_t size) {
    int count = 0, total = 0, n = 0;
    for (size_t k = 0; k < sizeof dist_table / sizeof dist_table[0]; k++) total += has((int)k);
    buf[0] = 0;
    for (size_t k = 0; k < sizeof dist_table / sizeof dist_table[0] && (size_t)n < size; k++) {
        if (!has((int)k)) continue;
        count++;
        const char *sep = count == 1 ? "" : count == total ? " and " : ", ";
        n += snprintf(buf + n, size - (size_t)n, "%s%s", sep, dist_table[k].name);
    }
    return buf;
}

static int chosen_estimator(Checker *c, Node *e, const char *dist) {
    for (int i = EST_REPARAM; i <= EST_ENUM; i++)
        if (!strcmp(e->sample.by, estimator_names[i])) return i;
    diag_error(e->sample.by_loc, "unknown estimator \"%s\" (available: \"reparam\", \"score\", \"enum\")", e->sample.by);
    return EST_SCORE;
}

static void check_estimator(Checker *c, Node *e) {
    if (!e->sample.dist->call.dist) return;
    int kind = e->sample.dist->call.dist - 1;
    const char *dist = dist_table[kind].name;
    if (!e->sample.by) {
        e->sample.estimator = reparameterizable(kind) ? EST_REPARAM : EST_SCORE;
        return;
    }
    int est = chosen_estimator(c, e, dist);
    char names[256];
    if (est == EST_REPARAM && !reparameterizable(kind))
        diag_error(e->sample.by_loc, "'%s' sites have no reparameterization here (%s have); use \"score\"", dist,
                   dists_where(reparameterizable, names, sizeof names));
    else if (est == EST_ENUM && !finite_discrete(kind))
        diag_error(e->sample.by_loc, "'%s' sites cannot be enumerated (%s can); use \"score\"", dist,
                   dists_where(finite_discrete, names, sizeof names));
    e->sample.estimator = est;
}

Type *check_sample(Checker *c, Node *e) {
    Type *d = check_dist(c, e->sample.dist);
    if (e->sample.by && !c->in_guide)
        diag_error(e->sample.by_loc, "estimators are chosen in a guide: `by \"...\"` is only allowed on a guide's sites");
    if (!c->model) {
        diag_error(e->loc, "'sample' is only allowed inside a model");
        return ty_error;
    }
    const char *name = e->sample.as_name ? e->sample.as_name : c->site_name;
    if (!name) {
        diag_error(e->loc, "this sample site has no name: bind it with let, or name it with `as \"...\"`");
        return ty_error;
    }
    if (c->while_depth) {
        diag_error(e->loc, "sample sites inside while loops are not supported yet (use a for loop)");
        return ty_error;
    }
    register_site(c, e, name);
    if (c->in_guide && !check_is_poison(d)) check_estimator(c, e);
    return check_is_poison(d) ? ty_error : d->elem;
}

/* ---- infer and its options: the table of methods and options in rt_methods.h ---- */

/* "particles, resample, ess, threads, trace": the options written directly in method's call. */
static const char *option_list(Checker *c, int method) {
    const char *s = "";
    for (int k = 0; k < rt_nmethod_options; k++) {
        const rt_option_info *o = &rt_option_table[rt_method_options[k].option];
        if (rt_method_options[k].method != method || o->inside || o->type == RT_OTYPE_ARGS) continue;
        s = arena_printf(c->a, "%s%s%s", s, *s ? ", " : "", o->name);
    }
    return s;
}

/* `"a", "b" or "c"` for a choice, `a(tail) or b(tail)` for a call. */
static const char *value_list(Checker *c, const rt_option_info *o, const char *tail) {
    const char *s = "", *q = o->type == RT_OTYPE_CALL ? "" : "\"";
    for (int k = 0; o->values[k]; k++)
        s = arena_printf(c->a, "%s%s%s%s%s%s", s, k == 0 ? "" : o->values[k + 1] ? ", " : " or ", q, o->values[k],
                         q, tail);
    return s;
}

/* The value of a constant int or real, possibly negated (`-5`), for a range check before
 * the run; other expressions are checked when the infer runs. */
static bool constant_value(const Node *e, double *v) {
    switch (e->kind) {
    case N_INT: *v = (double)e->ival; return true;
    case N_REAL: *v = e->rval; return true;
    case N_CONVERT: return constant_value(e->binary.lhs, v);
    case N_UNARY:
        if (e->binary.op != TK_MINUS || !constant_value(e->binary.lhs, v)) return false;
        *v = -*v;
        return true;
    default: return false;
    }
}

/* A constant outside the option's range is an error here, with the engine's message. */
static void check_range(Checker *c, Node *e, int option, Node *value) {
    double v;
    char why[80];
    if (!value->type || check_is_poison(value->type) || !constant_value(value, &v)) return;
    if (rt_option_in_range(option, v, why, sizeof why)) return;
    const char *found = rt_option_table[option].type == RT_OTYPE_INT ? arena_printf(c->a, "%lld", (long long)v)
                                                                     : arena_printf(c->a, "%g", v);
    diag_error(value->loc, "%s: %s %s, found %s", rt_method_names[e->infer.kind], rt_option_table[option].name, why,
               found);
}

/* guide = q: a guide of the program */
static void check_guide_option(Checker *c, Node *e, Node *value) {
    Symbol *sym = value->kind == N_NAME ? check_lookup(c, value->name.name) : NULL;
    if (!sym || sym->kind != SYM_GUIDE) {
        diag_error(value->loc, "guide must name a guide, such as `guide = q`");
        return;
    }
    value->type = ty_unit;
    e->infer.guide = sym;
}

/* resample = "stratified": one of the option's values, by name. */
static void check_choice_option(Checker *c, Node *e, int option, Node *value) {
    const rt_option_info *o = &rt_option_table[option];
    check_expr(c, value, NULL);
    int k = value->kind == N_STRING ? rt_option_value(option, value->str.s) : -1;
    if (k < 0) diag_error(value->loc, "%s must be one of %s", o->name, value_list(c, o, ""));
    else e->infer.choice[option] = k;
}

static void check_option(Checker *c, Node *e, int option, Node **slot);

/* The options written inside a call option's value (lr in adam(lr = 0.01)): "lr = ...";
 * *count is their number. */
static const char *inner_list(Checker *c, int method, const char *outer, int *count) {
    const char *s = "";
    int n = 0;
    for (int k = 0; k < rt_nmethod_options; k++) {
        const rt_option_info *o = &rt_option_table[rt_method_options[k].option];
        if (rt_method_options[k].method != method || !o->inside || strcmp(o->inside, outer) != 0) continue;
        s = arena_printf(c->a, "%s%s%s = ...", s, n++ ? ", " : "", o->name);
    }
    *count = n;
    return s;
}

/* optimizer = adam(lr = 0.01) or sgd(lr = 0.1): a value's name called with the options the
 * table writes inside this one. */
static void check_call_option(Checker *c, Node *e, int option, Node *value) {
    const rt_option_info *o = &rt_option_table[option];
    const char *name = value->kind == N_CALL && value->call.callee->kind == N_NAME ? value->call.callee->name.name : "";
    int k = rt_option_value(option, name), n;
    const char *inner = inner_list(c, e->infer.kind, o->name, &n);
    value->type = ty_unit;
    if (k < 0) {
        diag_error(value->loc, "%s must be %s", o->name, value_list(c, o, arena_printf(c->a, "(%s)", inner)));
        return;
    }
    e->infer.choice[option] = k;
    for (int i = 0; i < value->call.args.len; i++) {
        const char *arg = value->call.argnames.items[i];
        Node **slot = (Node **)&value->call.args.items[i];
        int sub = arg ? rt_option_lookup(arg) : -1;
        if (sub >= 0 && rt_option_table[sub].inside && !strcmp(rt_option_table[sub].inside, o->name)
            && rt_method_option_row(e->infer.kind, sub))
            check_option(c, e, sub, slot);
        else
            diag_error((*slot)->loc, "%s takes %s: %s", name, n == 1 ? "one option" : "the options", inner);
    }
}

/* objective = elbo, or a call of an objective with its arguments: iwae(10), fdiv("js") */
static void check_objective_option(Checker *c, Node *e, Node *value) {
    Node *name = value->kind == N_CALL ? value->call.callee : value;
    Symbol *sym = name->kind == N_NAME ? check_lookup(c, name->name.name) : NULL;
    value->type = ty_unit;
    if (!sym || sym->kind != SYM_OBJECTIVE) {
        diag_error(value->loc, "objective must name an objective, such as `elbo` or `iwae(10)`");
        return;
    }
    name->name.sym = sym;
    e->infer.objective_sym = sym;
    sym->decl->fn.used = true;
    if (value->kind == N_CALL) {
        for (int i = 0; i < value->call.argnames.len; i++)
            if (value->call.argnames.items[i])
                diag_error(((Node *)value->call.args.items[i])->loc, "an objective's arguments are positional");
        check_args_against(c, value, sym->name, sym->type->params, sym->type->nparams);
    } else if (sym->type->nparams) {
        diag_error(value->loc, "objective '%s' takes %d argument%s: write `%s(...)`", sym->name, sym->type->nparams,
                   sym->type->nparams == 1 ? "" : "s", sym->name);
    }
}

/* One option's value, by the table's type: `particles = N`, `resample = "..."`, ... */
static void check_option(Checker *c, Node *e, int option, Node **slot) {
    if (e->infer.opt[option]) diag_error((*slot)->loc, "option '%s' is given twice", rt_option_table[option].name);
    switch (rt_option_table[option].type) {
    case RT_OTYPE_INT: check_expect(c, slot, ty_int), check_range(c, e, option, *slot); break;
    case RT_OTYPE_REAL: check_expect(c, slot, ty_real), check_range(c, e, option, *slot); break;
    case RT_OTYPE_BOOL: check_expect(c, slot, ty_bool); break;
    case RT_OTYPE_CHOICE: check_choice_option(c, e, option, *slot); break;
    case RT_OTYPE_CALL: check_call_option(c, e, option, *slot); break;
    case RT_OTYPE_GUIDE: check_guide_option(c, e, *slot); break;
    case RT_OTYPE_OBJECTIVE: check_objective_option(c, e, *slot); break;
    default: break;
    }
    e->infer.opt[option] = *slot;
}

/* An option the method does not take at the top: unknown, or written inside another. */
static void unknown_option(Checker *c, Node *e, const char *name, Node *value) {
    int k = rt_option_lookup(name);
    const char *inside = k >= 0 && rt_method_option_row(e->infer.kind, k) ? rt_option_table[k].inside : NULL;
    if (inside)
        diag_error(value->loc, "%s goes inside %s: write `%s = %s(%s = ...)`", name, inside, inside,
                   rt_option_table[rt_option_lookup(inside)].values[0], name);
    else
        diag_error(value->loc, "unknown option '%s' for %s (options: %s)", name, rt_method_names[e->infer.kind],
                   option_list(c, e->infer.kind));
}

static void check_infer_options(Checker *c, Node *e, Node *method) {
    e->infer.opt = arena_alloc(c->a, sizeof(Node *) * RT_NOPTIONS);
    e->infer.choice = arena_alloc(c->a, sizeof(int64_t) * RT_NOPTIONS);
    for (int k = 0; k < RT_NOPTIONS; k++) {
        const rt_method_option *r = rt_method_option_row(e->infer.kind, k);
        e->infer.opt[k] = NULL;
        e->infer.choice[k] = r ? (int64_t)r->def : 0;
    }
    for (int i = 0; i < method->call.args.len; i++) {
        const char *name = method->call.argnames.items[i];
        Node **slot = (Node **)&method->call.args.items[i];
        int k = name ? rt_option_lookup(name) : -1;
        const rt_option_info *o = k >= 0 ? &rt_option_table[k] : NULL;
        if (!name)
            diag_error((*slot)->loc, "inference options are named: write `particles = ...`");
        else if (!o || o->inside || o->type == RT_OTYPE_ARGS || !rt_method_option_row(e->infer.kind, k))
            unknown_option(c, e, name, *slot);
        else
            check_option(c, e, k, slot);
    }
}

static const char *method_list(Checker *c) {
    const char *s = "";
    for (int k = 0; k < RT_NMETHODS; k++) s = arena_printf(c->a, "%s%s%s", s, k ? ", " : "", rt_method_names[k]);
    return s;
}

/* A method that takes a guide needs one: vi(guide = q, ...). */
static bool check_required(Checker *c, Node *e, Node *m) {
    const rt_method_option *r = rt_method_option_row(e->infer.kind, RT_OPTION_guide);
    if (!r || e->infer.guide) return true;
    diag_error(m->loc, "%s needs a guide: %s(guide = q, ...)", rt_method_names[e->infer.kind],
               rt_method_names[e->infer.kind]);
    return false;
}

static Type *check_infer_method(Checker *c, Node *e) {
    Node *m = e->infer.method;
    if (m->kind != N_CALL || m->call.callee->kind != N_NAME) {
        diag_error(m->loc, "expected an inference method such as is(particles = 1000)");
        return NULL;
    }
    const char *name = m->call.callee->name.name;
    e->infer.kind = rt_method_lookup(name);
    if (e->infer.kind < 0) {
        diag_error(m->loc, "unknown inference method '%s' (available: %s)", name, method_list(c));
        return NULL;
    }
    check_infer_options(c, e, m);
    if (!check_required(c, e, m)) return NULL;
    if (e->infer.kind == RT_METHOD_ENUMERATE) vec_push(c->a, &c->enum_infers, e);
    if (!rt_method_option_row(e->infer.kind, RT_OPTION_guide)) return ty_unit;
    vec_push(c->a, &c->vi_infers, e);
    if (!e->infer.objective_sym) e->infer.objective_sym = check_default_objective(c);
    return e->infer.objective_sym ? ty_unit : NULL;
}

static Symbol *inferred_model(Checker *c, Node *call) {
    if (call->kind != N_CALL || call->call.callee->kind != N_NAME) {
        diag_error(call->loc, "infer expects a model call such as m(args)");
        return NULL;
    }
    Node *callee = call->call.callee;
    Symbol *sym = check_lookup(c, callee->name.name);
    if (!sym || sym->kind != SYM_MODEL) {
        diag_error(callee->loc, sym ? "'%s' is not a model" : "undefined model '%s'", callee->name.name);
        return NULL;
    }
    callee->name.sym = sym;
    return sym;
}

/* logp(m(args), post, i) and logp(m(args), names, values): the log joint density of the
 * model at a posterior's draw or at named values; predict(m(args), post): the model
 * replayed at each draw of a posterior. The model call is checked as infer's is. */
Type *check_model_builtin(Checker *c, Node *e, const char *name, int id) {
    bool predict = id == BI_PREDICT;
    int n = e->call.args.len;
    if (n != (predict ? 2 : 3)) {
        diag_error(e->loc, predict ? "'predict' expects a model call and a posterior: predict(m(args), post)"
                                   : "'logp' expects a model call and a posterior's draw or named values: "
                                     "logp(m(args), post, i) or logp(m(args), names, values)");
        return ty_error;
    }
    Node *call = e->call.args.items[0];
    Symbol *model = inferred_model(c, call);
    if (model) check_args_against(c, call, model->name, model->type->params, model->type->nparams);
    Node *second = e->call.args.items[1];
    Type *t = check_expr(c, second, NULL);
    bool names = !predict && t->kind == TY_ARRAY && t->elem->kind == TY_STRING;
    if (!check_is_poison(t) && t->kind != TY_POSTERIOR && !names)
        diag_error(second->loc, predict ? "'predict' expects a posterior, found %s"
                                        : "'logp' expects a posterior or a string[] of site addresses, found %s",
                   check_tname(c, t));
    if (!predict) {
        check_expect(c, (Node **)&e->call.args.items[2], names ? ty_array(c->a, ty_real) : ty_int);
    }
    if (!model) return ty_error;
    return predict ? ty_wrap(c->a, TY_POSTERIOR, model->type->ret) : ty_real;
}

/* Inference inside a model (or a function a model calls) runs once per particle, to the end,
 * on streams drawn from the particle's own (rt_infer_call), so it stays reproducible. */
Type *check_infer(Checker *c, Node *e) {
    Symbol *model = inferred_model(c, e->infer.model_call);
    Node *call = e->infer.model_call;
    if (model) check_args_against(c, call, model->name, model->type->params, model->type->nparams);
    Type *ok = check_infer_method(c, e);
    if (!model || !ok) return ty_error;
    return ty_wrap(c->a, TY_POSTERIOR, model->type->ret);
}

static bool check_checkpoint_place(Checker *c, Node *s, const char *what) {
    if (c->in_guide) {
        diag_error(s->loc, "'%s' is not allowed in a guide (a guide only samples)", what);
        return false;
    }
    if (!c->model) {
        diag_error(s->loc, "'%s' is only allowed inside a model", what);
        return false;
    }
    if (!c->stmt_level) {
        diag_error(s->loc, "'%s' cannot appear inside an expression; make it a statement of the model", what);
        return false;
    }
    return true;
}

/* The distributions an array can be observed against, element by element, as one term:
 * their real parameters may be arrays of the values' length or reals (broadcast) where
 * `arrays` has a letter 'a', and must be reals where it has 'd'. */
static const struct { const char *name, *arrays; } vector_dists[] = {
    {"normal", "ad"}, {"bernoulli_logit", "a"},
};

static int vector_dist(Checker *c, Node *d) {
    if (d->kind != N_CALL || d->call.callee->kind != N_NAME || check_lookup(c, d->call.callee->name.name)) return -1;
    for (size_t i = 0; i < sizeof vector_dists / sizeof vector_dists[0]; i++)
        if (strcmp(vector_dists[i].name, d->call.callee->name.name) == 0) return (int)i;
    return -1;
}

static void check_vector_param(Checker *c, Node *d, int i, char letter) {
    Node **slot = (Node **)&d->call.args.items[i];
    Type *t = check_expr(c, *slot, NULL);
    if (check_is_poison(t)) return;
    if (letter == 'a' && t->kind == TY_ARRAY && t->elem->kind == TY_REAL) return;
    if (ty_is_numeric(t)) {
        check_coerce(c, slot, ty_real);
        return;
    }
    diag_error((*slot)->loc, "expected %s in an observe of an array, found %s",
               letter == 'a' ? "real or real[]" : "real", check_tname(c, t));
}

/* observe ys ~ D(params): ys an array, observed element by element against D with each
 * array parameter's matching element (lengths are checked at run time). */
static void check_vector_observe(Checker *c, Node *s, Type *vt) {
    Node *d = s->observe.dist;
    int v = vector_dist(c, d);
    if (v < 0) {
        diag_error(d->loc, "an array can only be observed against normal(...) or bernoulli_logit(...) "
                           "(observe its elements in a loop)");
        return;
    }
    int kind = check_dist_lookup(vector_dists[v].name), n = (int)strlen(vector_dists[v].arrays);
    if (d->call.args.len != n) {
        diag_error(d->call.callee->loc, "'%s' expects %d argument%s, found %d", vector_dists[v].name, n,
                   n == 1 ? "" : "s", d->call.args.len);
        return;
    }
    for (int i = 0; i < n; i++) {
        if (d->call.argnames.items[i])
            diag_error(((Node *)d->call.args.items[i])->loc, "unexpected named argument '%s'",
                       (const char *)d->call.argnames.items[i]);
        check_vector_param(c, d, i, vector_dists[v].arrays[i]);
    }
    Type *elem = dist_table[kind].discrete ? ty_int : ty_real;
    d->call.dist = kind + 1;
    d->type = ty_wrap(c->a, TY_DIST, elem);
    if (!ty_equal(vt->elem, elem))
        diag_error(s->observe.value->loc, "type mismatch: %s draws %s values, so the observed array must be %s[], "
                   "found %s", vector_dists[v].name, check_tname(c, elem), check_tname(c, elem), check_tname(c, vt));
}

void check_observe(Checker *c, Node *s) {
    check_checkpoint_place(c, s, "observe");
    Type *vt = check_expr(c, s->observe.value, NULL);
    if (check_tensor_observe(c, s, vt)) return;
    if (vt->kind == TY_ARRAY) {
        check_vector_observe(c, s, vt);
        return;
    }
    Type *d = check_dist(c, s->observe.dist);
    if (!check_is_poison(d)) check_coerce(c, &s->observe.value, d->elem);
}

/* condition b: the run continues only where b holds (WebPPL's condition(b)). */
void check_condition_stmt(Checker *c, Node *s) {
    check_checkpoint_place(c, s, "condition");
    check_expect(c, &s->stmt.expr, ty_bool);
}

void check_weight_stmt(Checker *c, Node *s) {
    check_checkpoint_place(c, s, s->kind == N_REWARD ? "reward" : "potential");
    check_expect(c, &s->stmt.expr, ty_real);
}

/* ---- guides, params and models ---- */

static bool is_param_type(const Type *t) {
    return t->kind == TY_REAL || t->kind == TY_TENSOR || (t->kind == TY_ARRAY && t->elem->kind == TY_REAL);
}

/* param name: real = init, or param name: real[] = init (the value fixes the length), or
 * param name: tensor = init (the value fixes the shape) - a
 * variational parameter, at the top level of a guide body (the parser requires the type). */
void check_param_decl(Checker *c, Node *s) {
    if (!c->in_guide || c->loop_depth || !c->stmt_level) {
        diag_error(s->loc, "'param' declarations belong at the top level of a guide");
        return;
    }
    Type *t = s->let.ann ? s->let.ann : ty_real;
    bool ok = is_param_type(t);
    if (!ok) diag_error(s->loc, "a param must be a real, a real[] or a tensor, found %s", check_tname(c, t));
    if (!s->let.init) diag_error(s->loc, "param '%s' needs an initial value: param %s: real = ...", s->let.name, s->let.name);
    else if (ok) check_expect(c, &s->let.init, t);
    else check_expr(c, s->let.init, NULL);
    if (!ok) t = ty_real;
    s->let.sym = check_declare(c, SYM_LOCAL, s->let.name, t, s->loc, s);
    vec_push(c->a, &c->model->fn.gparams, s);
}

/* A guide is checked like a model without observations: sample sites and `param`s. */
void check_guide(Checker *c, Node *g) {
    if (g->fn.ret) diag_error(g->loc, "guide '%s' must not return a value", g->fn.name);
    c->model = g;
    c->in_guide = true;
    c->stmt_level = true;
    check_fn(c, g);
    c->stmt_level = false;
    c->in_guide = false;
    c->model = NULL;
}

/* An objective is checked like a function with a real value, in which draws(K) is allowed. */
void check_objective(Checker *c, Node *o) {
    c->in_objective = true;
    check_fn(c, o);
    c->in_objective = false;
}

/* draws(K) or draws(): K guide draws (or the vi's `particles`), in an objective only */
Type *check_draws(Checker *c, Node *e) {
    if (!c->in_objective) {
        diag_error(e->loc, "'draws' is only allowed inside an objective");
        return ty_error;
    }
    if (e->call.args.len > 1) {
        diag_error(e->call.callee->loc, "'draws' expects at most 1 argument (the number of draws), found %d",
                   e->call.args.len);
        return ty_error;
    }
    if (e->call.args.len == 1) check_expect(c, (Node **)&e->call.args.items[0], ty_int);
    return ty_draws;
}

/* A model body is checked like a function's, with sample sites and checkpoints allowed. */
void check_model(Checker *c, Node *m) {
    Type *ret = m->fn.ret ? m->fn.ret : ty_unit;
    if (ret->kind != TY_UNIT && ret->kind != TY_REAL && ret->kind != TY_INT && ret->kind != TY_BOOL)
        diag_error(m->loc, "model '%s' returns %s; models return real, int, bool or nothing (for now)",
                   m->fn.name, check_tname(c, ret));
    c->model = m;
    c->stmt_level = true;
    check_fn(c, m);
    c->stmt_level = false;
    c->model = NULL;
}

/* elbo (the prelude's, or the program's own), marked for compiling */
Symbol *check_default_objective(Checker *c) {
    Symbol *sym = check_lookup(c, RT_DEFAULT_OBJECTIVE);
    if (!sym || sym->kind != SYM_OBJECTIVE) return NULL;
    sym->decl->fn.used = true;
    return sym;
}

/* Model mode's --method vi takes --objective NAME: with a paired guide, every objective
 * without arguments is compiled (the prelude's elbo and rws, and the file's own). */
void check_model_mode_objectives(Program *prog) {
    bool paired = false;
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        paired |= n->kind == N_GUIDE && n->fn.paired;
    }
    for (int i = 0; paired && i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_OBJECTIVE && n->fn.sym && n->fn.params.len == 0) n->fn.used = true;
    }
}

/* ---- pairing a guide's sites with its model's (for vi) ---- */

static Node *site_named(Node *def, const Node *like) {
    for (int i = 0; i < def->fn.sites.len; i++) {
        Node *s = def->fn.sites.items[i];
        if (strcmp(s->sample.as_name, like->sample.as_name) == 0 && s->sample.indices.len == like->sample.indices.len)
            return s;
    }
    return NULL;
}

static void pair_guide_sites(Checker *c, Node *guide, Node *model) {
    for (int i = 0; i < guide->fn.sites.len; i++) {
        Node *gs = guide->fn.sites.items[i], *ms = site_named(model, gs);
        if (!ms) diag_error(gs->loc, "guide '%s' samples '%s', which model '%s' does not", guide->fn.name,
                            gs->sample.as_name, model->fn.name);
        else if (gs->type && ms->type && !ty_equal(gs->type, ms->type))
            diag_error(gs->loc, "guide site '%s' draws %s values, but the model's draws %s", gs->sample.as_name,
                       check_tname(c, gs->type), check_tname(c, ms->type));
        else gs->sample.pair = ms->sample.site;
    }
    for (int i = 0; i < model->fn.sites.len; i++) {
        Node *ms = model->fn.sites.items[i];
        if (!site_named(guide, ms))
            diag_error(guide->loc, "guide '%s' does not sample '%s', which model '%s' samples", guide->fn.name,
                       ms->sample.as_name, model->fn.name);
    }
}

/* A guide takes no arguments or exactly the model's. */
static bool guide_params_fit(Node *guide, Node *model) {
    if (guide->fn.params.len == 0) return true;
    if (guide->fn.params.len != model->fn.params.len) return false;
    for (int i = 0; i < guide->fn.params.len; i++)
        if (!ty_equal(((Param *)guide->fn.params.items[i])->type, ((Param *)model->fn.params.items[i])->type))
            return false;
    return true;
}

/* enumerate: every site of the model has finitely many values (the distribution table's
 * support column); the first that has not is an error at the infer, with a note at it. */
void check_enumerable(Checker *c, Node *e) {
    Node *model = e->infer.model_call->call.callee->name.sym->decl;
    if (!model) return;   /* a model of an earlier REPL cell: the engine checks each site it meets */
    for (int i = 0; i < model->fn.sites.len; i++) {
        Node *site = model->fn.sites.items[i];
        int kind = site->sample.dist->call.dist - 1;
        if (kind < 0 || RT_SUPPORT_FINITE(dist_table[kind].support)) continue;
        diag_error(e->loc, "enumerate: site '%s' of model '%s' cannot be enumerated: %s is %s (enumerate needs "
                   "every site to have finitely many values: bernoulli, bernoulli_logit, binomial, categorical)",
                   site->sample.as_name, model->fn.name, dist_table[kind].name,
                   dist_table[kind].discrete ? "unbounded" : "continuous");
        diag_note(site->loc, "site '%s' is here", site->sample.as_name);
        return;
    }
}

void check_pair_vi(Checker *c, Node *e) {
    Node *guide = e->infer.guide->decl;
    Node *model = e->infer.model_call->call.callee->name.sym->decl;
    if (guide->fn.paired && guide->fn.paired != model) {
        diag_error(e->loc, "guide '%s' is already used with model '%s'", guide->fn.name, guide->fn.paired->fn.name);
        return;
    }
    if (!guide_params_fit(guide, model)) {
        diag_error(e->loc, "guide '%s' must take no arguments or the same as model '%s'", guide->fn.name, model->fn.name);
        return;
    }
    if (!guide->fn.paired) pair_guide_sites(c, guide, model);
    guide->fn.paired = model;
}

/* Whether the guide's sites and the model's pair exactly (by address and type). */
static bool sites_match(Node *guide, Node *model) {
    if (guide->fn.sites.len != model->fn.sites.len || !guide_params_fit(guide, model)) return false;
    for (int i = 0; i < guide->fn.sites.len; i++) {
        Node *gs = guide->fn.sites.items[i], *ms = site_named(model, gs);
        if (!ms || !ty_equal(gs->type, ms->type)) return false;
    }
    return true;
}

/* A guide no `infer` uses is paired with the one model whose sites it matches, if there is
 * exactly one, so that model mode can run `--method vi` with it. */
void check_pair_unused_guides(Checker *c, Program *prog) {
    for (int i = 0; i < prog->items.len; i++) {
        Node *g = prog->items.items[i], *found = NULL;
        if (g->kind != N_GUIDE || g->fn.paired) continue;
        int matches = 0;
        for (int j = 0; j < prog->items.len; j++) {
            Node *m = prog->items.items[j];
            if (m->kind == N_MODEL && sites_match(g, m)) matches++, found = m;
        }
        if (matches == 1) {
            pair_guide_sites(c, g, found);
            g->fn.paired = found;
        }
    }
}
