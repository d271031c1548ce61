/* check.c - name resolution and static typing of a parsed Program.
 * Sets node->type on expressions, resolves names to Symbols, inserts int -> real conversions. */
#include "check.h"
#include "builtins.h"
#include "rt_dist_table.h"
#include "rt_resample.h"
#include <string.h>

typedef struct Scope {
    struct Scope *parent;
    PtrVec syms;
} Scope;

typedef struct Checker {
    Arena *a;
    Scope *scope;
    Scope *globals;
    Node *fn;            /* the function being checked; NULL at top level */
    int loop_depth;
    /* inside a model body */
    Node *model;         /* the model being checked, or NULL */
    PtrVec loops;        /* enclosing for/comprehension variables (Symbol*), outermost first */
    int while_depth;
    const char *site_name;  /* the name a sample in the current let/assignment is bound to */
    bool stmt_level;     /* checkpoints (observe, reward, potential) may appear here */
    bool dist_ok;        /* the expression being checked may be a distribution */
    bool session;        /* a REPL cell: top-level names may be declared again */
    bool in_guide;       /* c->model is a guide */
    PtrVec vi_infers;    /* `infer ... by vi(...)` nodes: their sites are paired at the end */
} Checker;

static Type *check_expr(Checker *c, Node *e, Type *hint);
static void check_stmt(Checker *c, Node *s, bool top_level);
static Type *check_block(Checker *c, Node *b, Type *hint);
static Type *check_dist(Checker *c, Node *e);

static const char *tname(Checker *c, const Type *t) { return ty_name(c->a, t); }

/* ---- scopes ---- */

static void scope_push(Checker *c) {
    Scope *s = arena_alloc(c->a, sizeof *s);
    s->parent = c->scope;
    c->scope = s;
}

static void scope_pop(Checker *c) { c->scope = c->scope->parent; }

static Symbol *scope_find_local(Scope *s, const char *name) {
    for (int i = 0; i < s->syms.len; i++) {
        Symbol *sym = s->syms.items[i];
        if (strcmp(sym->name, name) == 0) return sym;
    }
    return NULL;
}

static Symbol *lookup(Checker *c, const char *name) {
    for (Scope *s = c->scope; s; s = s->parent) {
        Symbol *sym = scope_find_local(s, name);
        if (sym) return sym;
    }
    return NULL;
}

static Symbol *declare(Checker *c, SymKind kind, const char *name, Type *type, Loc loc, Node *decl) {
    if (scope_find_local(c->scope, name)) {
        diag_error(loc, "'%s' is already defined in this scope", name);
        return NULL;
    }
    Symbol *sym = arena_alloc(c->a, sizeof *sym);
    *sym = (Symbol){.kind = kind, .name = name, .type = type, .loc = loc, .decl = decl};
    vec_push(c->a, &c->scope->syms, sym);
    return sym;
}

/* ---- type agreement ---- */

static bool is_poison(const Type *t) { return t->kind == TY_ERROR || t->kind == TY_NEVER; }

static Node *convert_to_real(Checker *c, Node *e) {
    Node *cv = ast_new(c->a, N_CONVERT, e->loc);
    cv->binary.lhs = e;
    cv->type = ty_real;
    return cv;
}

/* Makes *slot usable where `want` is expected: converts int to real, reports a mismatch. */
static bool coerce(Checker *c, Node **slot, Type *want) {
    Node *e = *slot;
    if (e->type->kind == TY_INT && want->kind == TY_REAL) {
        *slot = convert_to_real(c, e);
        return true;
    }
    if (ty_assignable(e->type, want)) return true;
    diag_error(e->loc, "type mismatch: expected %s, found %s", tname(c, want), tname(c, e->type));
    return false;
}

/* Coerces the value an if-branch yields (a block's trailing value, or a nested if). */
static void coerce_branch(Checker *c, Node *branch, Type *want) {
    if (branch->kind == N_BLOCK && branch->block.value) {
        coerce(c, &branch->block.value, want);
    } else if (branch->kind == N_IF) {
        coerce_branch(c, branch->if_.then, want);
        if (branch->if_.els) coerce_branch(c, branch->if_.els, want);
    }
    if (!is_poison(branch->type)) branch->type = want;
}

/* The type two branches agree on, or NULL: never gives way, int joins real. */
static Type *join(Type *x, Type *y) {
    if (x->kind == TY_NEVER || x->kind == TY_ERROR) return y;
    if (y->kind == TY_NEVER || y->kind == TY_ERROR) return x;
    if (ty_equal(x, y)) return x;
    if (ty_is_numeric(x) && ty_is_numeric(y)) return ty_real;
    return NULL;
}

static Type *check_expect(Checker *c, Node **slot, Type *want) {
    check_expr(c, *slot, want);
    coerce(c, slot, want);
    return want;
}

/* ---- expressions ---- */

static Type *check_name(Checker *c, Node *e) {
    Symbol *sym = lookup(c, e->name.name);
    if (!sym) {
        diag_error(e->loc, "undefined name '%s'", e->name.name);
        return ty_error;
    }
    e->name.sym = sym;
    if (sym->kind == SYM_GLOBAL && c->fn && !sym->used_by) sym->used_by = c->fn->fn.name;
    if (sym->kind == SYM_FN) {
        diag_error(e->loc, "'%s' is a function; functions are not values (call it)", sym->name);
        return ty_error;
    }
    return sym->type;
}

static Type *check_unary(Checker *c, Node *e) {
    Type *t = check_expr(c, e->binary.lhs, NULL);
    if (is_poison(t)) return ty_error;
    if (e->binary.op == TK_MINUS && ty_is_numeric(t)) return t;
    if (e->binary.op == TK_NOT && t->kind == TY_BOOL) return t;
    diag_error(e->loc, "operator %s cannot be applied to %s", lex_kind_name(e->binary.op), tname(c, t));
    return ty_error;
}

static Type *binary_result(Checker *c, Node *e, Type *l, Type *r) {
    bool num = ty_is_numeric(l) && ty_is_numeric(r);
    bool both_int = l->kind == TY_INT && r->kind == TY_INT;
    switch (e->binary.op) {
    case TK_PLUS: case TK_MINUS: case TK_STAR:
        return num ? (both_int ? ty_int : ty_real) : NULL;
    case TK_SLASH: case TK_CARET:
        return num ? ty_real : NULL;
    case TK_PERCENT:
        return both_int ? ty_int : NULL;
    case TK_LT: case TK_LE: case TK_GT: case TK_GE:
        return num ? ty_bool : NULL;
    case TK_EQ: case TK_NE:
        return num || (l->kind == TY_BOOL && r->kind == TY_BOOL) ? ty_bool : NULL;
    case TK_AND: case TK_OR:
        return l->kind == TY_BOOL && r->kind == TY_BOOL ? ty_bool : NULL;
    default:
        return NULL;
    }
}

/* Numeric operands meet at real when either is real (or the operator yields real). */
static void promote_operands(Checker *c, Node *e, Type *result) {
    Type *l = e->binary.lhs->type, *r = e->binary.rhs->type;
    bool to_real = result->kind == TY_REAL || l->kind == TY_REAL || r->kind == TY_REAL;
    if (!to_real || !ty_is_numeric(l) || !ty_is_numeric(r)) return;
    if (e->binary.op == TK_PERCENT) return;
    if (l->kind == TY_INT) e->binary.lhs = convert_to_real(c, e->binary.lhs);
    if (r->kind == TY_INT) e->binary.rhs = convert_to_real(c, e->binary.rhs);
}

static Type *check_binary(Checker *c, Node *e) {
    Type *l = check_expr(c, e->binary.lhs, NULL);
    Type *r = check_expr(c, e->binary.rhs, NULL);
    if (is_poison(l) || is_poison(r)) return ty_error;
    Type *t = binary_result(c, e, l, r);
    if (!t) {
        diag_error(e->loc, "operator %s cannot be applied to %s and %s", lex_kind_name(e->binary.op),
                   tname(c, l), tname(c, r));
        return ty_error;
    }
    promote_operands(c, e, t);
    return t;
}

static Type *check_index(Checker *c, Node *e) {
    Type *base = check_expr(c, e->index.base, NULL);
    Type *idx = check_expr(c, e->index.index, NULL);
    if (!is_poison(idx) && idx->kind != TY_INT)
        diag_error(e->index.index->loc, "index must be int, found %s", tname(c, idx));
    if (is_poison(base)) return ty_error;
    if (base->kind != TY_ARRAY) {
        diag_error(e->index.base->loc, "cannot index a value of type %s", tname(c, base));
        return ty_error;
    }
    return base->elem;
}

static Type *check_array(Checker *c, Node *e, Type *hint) {
    PtrVec *el = &e->array.elems;
    Type *want = hint && hint->kind == TY_ARRAY ? hint->elem : NULL;
    if (el->len == 0) {
        if (want) return hint;
        diag_error(e->loc, "cannot infer the type of an empty array; annotate it");
        return ty_error;
    }
    Type *elem = NULL;
    for (int i = 0; i < el->len; i++) {
        Type *t = check_expr(c, el->items[i], want);
        if (!elem || is_poison(elem)) elem = t;
        else if (!want && elem->kind == TY_INT && t->kind == TY_REAL) elem = ty_real;
    }
    if (want) elem = want;
    if (is_poison(elem)) return ty_error;
    if (elem->kind == TY_UNIT) {
        diag_error(e->loc, "array elements cannot have type ()");
        return ty_error;
    }
    for (int i = 0; i < el->len; i++) coerce(c, (Node **)&el->items[i], elem);
    return ty_array(c->a, elem);
}

static void check_range(Checker *c, Node *lo, Node *hi) {
    Type *tl = check_expr(c, lo, NULL), *th = check_expr(c, hi, NULL);
    if (!is_poison(tl) && tl->kind != TY_INT)
        diag_error(lo->loc, "range bounds must be int, found %s", tname(c, tl));
    if (!is_poison(th) && th->kind != TY_INT)
        diag_error(hi->loc, "range bounds must be int, found %s", tname(c, th));
}

static Symbol *declare_loop_var(Checker *c, const char *name, Node *decl) {
    Symbol *sym = declare(c, SYM_LOCAL, name, ty_int, decl->loc, decl);
    return sym;
}

static Type *check_comprehension(Checker *c, Node *e, Type *hint) {
    check_range(c, e->compr.lo, e->compr.hi);
    scope_push(c);
    e->compr.sym = declare_loop_var(c, e->compr.var, e);
    Type *want = hint && hint->kind == TY_ARRAY ? hint->elem : NULL;
    vec_push(c->a, &c->loops, e->compr.sym);
    Type *t = want ? check_expect(c, &e->compr.body, want) : check_expr(c, e->compr.body, NULL);
    c->loops.len--;
    scope_pop(c);
    if (is_poison(t)) return ty_error;
    if (t->kind == TY_UNIT) {
        diag_error(e->compr.body->loc, "array elements cannot have type ()");
        return ty_error;
    }
    return ty_array(c->a, t);
}

static void check_condition(Checker *c, Node *cond) {
    Type *t = check_expr(c, cond, NULL);
    if (!is_poison(t) && t->kind != TY_BOOL)
        diag_error(cond->loc, "condition must be bool, found %s", tname(c, t));
}

/* hint == ty_unit means the value is discarded (statement position): branches need not agree. */
static Type *check_if(Checker *c, Node *e, Type *hint) {
    check_condition(c, e->if_.cond);
    Type *th = check_expr(c, e->if_.then, hint);
    if (!e->if_.els) return ty_unit;
    Type *te = check_expr(c, e->if_.els, hint);
    if (hint == ty_unit) return th->kind == TY_NEVER && te->kind == TY_NEVER ? ty_never : ty_unit;
    Type *t = join(th, te);
    if (!t) {
        diag_error(e->loc, "if branches have different types: %s and %s", tname(c, th), tname(c, te));
        return ty_error;
    }
    if (t->kind == TY_REAL) {
        coerce_branch(c, e->if_.then, t);
        coerce_branch(c, e->if_.els, t);
    }
    return t;
}

static Type *check_field(Checker *c, Node *e) {
    Type *t = check_expr(c, e->field.base, NULL);
    const char *f = e->field.field;
    if (t->kind == TY_POSTERIOR) {
        if (strcmp(f, "log_evidence") == 0 || strcmp(f, "ess") == 0) return ty_real;
        if (strcmp(f, "resamples") == 0) return ty_int;
        if (strcmp(f, "ess_history") == 0 || strcmp(f, "history") == 0 || strcmp(f, "params") == 0)
            return ty_array(c->a, ty_real);
    }
    if (!is_poison(t)) diag_error(e->loc, "unknown field '%s' for a value of type %s", e->field.field, tname(c, t));
    return ty_error;
}


/* ---- calls ---- */

static const struct { const char *name; BuiltinId id; } builtin_table[] = {
#define X(id, name, fn) {name, BI_##id},
    MATH_BUILTINS(X)
#undef X
#define X(id, name) {name, BI_##id},
    OTHER_BUILTINS(X)
#undef X
};

static BuiltinId builtin_lookup(const char *name) {
    for (size_t i = 0; i < sizeof builtin_table / sizeof builtin_table[0]; i++)
        if (strcmp(builtin_table[i].name, name) == 0) return builtin_table[i].id;
    return BI_NONE;
}

static bool check_arity(Node *e, const char *name, int want) {
    int n = e->call.args.len;
    if (n == want) return true;
    diag_error(e->call.callee->loc, "'%s' expects %d argument%s, found %d", name, want, want == 1 ? "" : "s", n);
    return false;
}

static Node **arg_slot(Node *e, int i) { return (Node **)&e->call.args.items[i]; }

static void check_args_against(Checker *c, Node *e, const char *name, Type **params, int n) {
    if (!check_arity(e, name, n)) {
        for (int i = 0; i < e->call.args.len; i++) check_expr(c, e->call.args.items[i], NULL);
        return;
    }
    for (int i = 0; i < n; i++) check_expect(c, arg_slot(e, i), params[i]);
}

static bool is_num_array(const Type *t) {
    return t->kind == TY_ARRAY && ty_is_numeric(t->elem);
}

static bool is_numeric_posterior(const Type *t) {
    return t->kind == TY_POSTERIOR && (ty_is_numeric(t->elem) || t->elem->kind == TY_BOOL);
}

/* sum, mean, min/max of one array: int[] or real[]; mean also of a posterior */
static Type *check_array_reduction(Checker *c, Node *e, const char *name, BuiltinId id) {
    Type *t = check_expr(c, e->call.args.items[0], NULL);
    if (is_poison(t)) return ty_error;
    if (id == BI_MEAN && is_numeric_posterior(t)) return ty_real;
    if (!is_num_array(t)) {
        diag_error(((Node *)e->call.args.items[0])->loc, "'%s' expects an int[] or real[] array%s, found %s",
                   name, id == BI_MEAN ? " or a posterior of numbers" : "", tname(c, t));
        return ty_error;
    }
    return id == BI_MEAN ? ty_real : t->elem;
}

static Type *check_min_max(Checker *c, Node *e, const char *name, BuiltinId id) {
    if (e->call.args.len == 1) return check_array_reduction(c, e, name, id);
    if (!check_arity(e, name, 2)) return ty_error;
    Type *l = check_expr(c, e->call.args.items[0], NULL);
    Type *r = check_expr(c, e->call.args.items[1], NULL);
    if (is_poison(l) || is_poison(r)) return ty_error;
    Type *t = ty_is_numeric(l) && ty_is_numeric(r) ? join(l, r) : NULL;
    if (!t) {
        diag_error(e->call.callee->loc, "'%s' expects two numbers or one array, found %s and %s", name,
                   tname(c, l), tname(c, r));
        return ty_error;
    }
    coerce(c, arg_slot(e, 0), t);
    coerce(c, arg_slot(e, 1), t);
    return t;
}

static Type *check_print(Checker *c, Node *e) {
    for (int i = 0; i < e->call.args.len; i++) {
        Node *arg = e->call.args.items[i];
        Type *t = check_expr(c, arg, NULL);
        if (t->kind == TY_UNIT || t->kind == TY_FN || t->kind == TY_NEVER)
            diag_error(arg->loc, "cannot print a value of type %s", tname(c, t));
    }
    return ty_unit;
}

static Type *check_len(Checker *c, Node *e) {
    if (!check_arity(e, "len", 1)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (!is_poison(t) && t->kind != TY_ARRAY)
        diag_error(arg->loc, "'len' expects an array, found %s", tname(c, t));
    return ty_int;
}

static Type *check_abs(Checker *c, Node *e) {
    if (!check_arity(e, "abs", 1)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (is_poison(t) || ty_is_numeric(t)) return is_poison(t) ? ty_error : t;
    diag_error(arg->loc, "'abs' expects a number, found %s", tname(c, t));
    return ty_error;
}

/* sd(post), quantile(post, q) */
static Type *check_posterior_stat(Checker *c, Node *e, const char *name, BuiltinId id) {
    int want = id == BI_QUANTILE ? 2 : 1;
    if (!check_arity(e, name, want)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (id == BI_QUANTILE) check_expect(c, arg_slot(e, 1), ty_real);
    if (!is_poison(t) && !is_numeric_posterior(t))
        diag_error(arg->loc, "'%s' expects a posterior of numbers, found %s", name, tname(c, t));
    return ty_real;
}

/* lpdf(D, v): the log density of D at v */
static Type *check_lpdf(Checker *c, Node *e) {
    if (!check_arity(e, "lpdf", 2)) return ty_error;
    Type *d = check_dist(c, e->call.args.items[0]);
    check_expr(c, e->call.args.items[1], NULL);
    if (!is_poison(d)) coerce(c, arg_slot(e, 1), d->elem);
    return ty_real;
}

static Type *check_builtin(Checker *c, Node *e, const char *name, BuiltinId id) {
    static Type *one_real[1], *two_ints[2], *real_array[1];
    one_real[0] = ty_real;
    two_ints[0] = two_ints[1] = ty_int;
    real_array[0] = ty_array(c->a, ty_real);
    switch (id) {
    case BI_PRINT: return check_print(c, e);
    case BI_LEN: return check_len(c, e);
    case BI_ABS: return check_abs(c, e);
    case BI_MIN: case BI_MAX: return check_min_max(c, e, name, id);
    case BI_SUM: case BI_MEAN:
        return check_arity(e, name, 1) ? check_array_reduction(c, e, name, id) : ty_error;
    case BI_LOGSUMEXP:
        check_args_against(c, e, name, real_array, 1);
        return ty_real;
    case BI_DIV:
        check_args_against(c, e, name, two_ints, 2);
        return ty_int;
    case BI_SD: case BI_QUANTILE: return check_posterior_stat(c, e, name, id);
    case BI_PLOT:
        check_posterior_stat(c, e, name, BI_SD);
        return ty_unit;
    case BI_LPDF: return check_lpdf(c, e);
    default:   /* MATH_BUILTINS: real -> real */
        check_args_against(c, e, name, one_real, 1);
        return ty_real;
    }
}

static const struct { const char *name; const char *params; bool discrete; } dist_table[] = {
#define X(name, np, vt, types, ...) {#name, types, RT_DIST_VALUE_##vt},
#define RT_DIST_VALUE_REAL false
#define RT_DIST_VALUE_INT true
    RT_DISTRIBUTIONS(X)
#undef X
};

static int dist_lookup(const char *name) {
    for (size_t i = 0; i < sizeof dist_table / sizeof dist_table[0]; i++)
        if (strcmp(dist_table[i].name, name) == 0) return (int)i;
    return -1;
}

/* normal(0, 1): a distribution constructor; parameters by the table's type letters. */
static Type *check_dist_call(Checker *c, Node *e, int kind) {
    const char *ps = dist_table[kind].params;
    int n = (int)strlen(ps);
    Type *params[8];
    for (int i = 0; i < n; i++)
        params[i] = ps[i] == 'd' ? ty_real : ps[i] == 'i' ? ty_int : ty_array(c->a, ty_real);
    e->call.dist = kind + 1;
    check_args_against(c, e, dist_table[kind].name, params, n);
    return ty_wrap(c->a, TY_DIST, dist_table[kind].discrete ? ty_int : ty_real);
}

static bool reject_named_args(Node *e) {
    for (int i = 0; i < e->call.argnames.len; i++) {
        const char *n = e->call.argnames.items[i];
        if (n) {
            diag_error(((Node *)e->call.args.items[i])->loc, "unexpected named argument '%s'", n);
            return false;
        }
    }
    return true;
}

static Type *check_call(Checker *c, Node *e) {
    Node *callee = e->call.callee;
    if (callee->kind != N_NAME) {
        diag_error(callee->loc, "only named functions can be called");
        return ty_error;
    }
    if (!reject_named_args(e)) return ty_error;
    const char *name = callee->name.name;
    Symbol *sym = lookup(c, name);
    if (!sym) {
        BuiltinId id = builtin_lookup(name);
        if (id != BI_NONE) {
            e->call.builtin = id;
            return check_builtin(c, e, name, id);
        }
        int kind = dist_lookup(name);
        if (kind >= 0) return check_dist_call(c, e, kind);
        diag_error(callee->loc, "undefined name '%s'", name);
        return ty_error;
    }
    callee->name.sym = sym;
    callee->type = sym->type;
    if (sym->kind == SYM_MODEL) {
        diag_error(callee->loc, "'%s' is a model: run it with `infer %s(...) by is(...)`", name, name);
        return ty_error;
    }
    if (sym->kind != SYM_FN) {
        diag_error(callee->loc, "'%s' is not a function", name);
        return ty_error;
    }
    check_args_against(c, e, name, sym->type->params, sym->type->nparams);
    return sym->type->ret;
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

static Type *check_sample(Checker *c, Node *e) {
    Type *d = check_dist(c, e->sample.dist);
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
    return is_poison(d) ? ty_error : d->elem;
}

/* infer M(args) by is(particles = N) or smc(particles = N, resample = "systematic",
 * ess = 0.5, threads = 1), both with trace = true (keep the sample sites' values): every
 * option is named and has a default. */
static const char *const method_names[] = {"is", "smc", "vi"};
static const char *const method_options[] = {
    "particles, trace", "particles, resample, ess, threads, trace",
    "guide, particles, steps, optimizer, objective"};

static bool option_allowed(int method, const char *name) {
    char list[128];
    snprintf(list, sizeof list, ", %s,", method_options[method]);
    char key[64];
    snprintf(key, sizeof key, " %s,", name);
    return strstr(list, key) != NULL;
}

/* guide = q: a guide of the program */
static void check_guide_option(Checker *c, Node *e, Node *value) {
    Symbol *sym = value->kind == N_NAME ? lookup(c, value->name.name) : NULL;
    if (!sym || sym->kind != SYM_GUIDE) {
        diag_error(value->loc, "guide must name a guide, such as `guide = q`");
        return;
    }
    value->type = ty_unit;
    e->infer.guide = sym;
}

/* optimizer = adam(lr = 0.01) or sgd(lr = 0.1) */
static void check_optimizer_option(Checker *c, Node *e, Node *value) {
    const char *name = value->kind == N_CALL && value->call.callee->kind == N_NAME ? value->call.callee->name.name : "";
    e->infer.optimizer = strcmp(name, "sgd") == 0 ? OPT_SGD : OPT_ADAM;
    if (strcmp(name, "adam") != 0 && strcmp(name, "sgd") != 0) {
        diag_error(value->loc, "optimizer must be adam(lr = ...) or sgd(lr = ...)");
        return;
    }
    for (int i = 0; i < value->call.args.len; i++) {
        const char *arg = value->call.argnames.items[i];
        Node **slot = (Node **)&value->call.args.items[i];
        if (arg && strcmp(arg, "lr") == 0) {
            check_expect(c, slot, ty_real);
            e->infer.lr = *slot;
        } else {
            diag_error((*slot)->loc, "%s takes one option: lr = ...", name);
        }
    }
}

static void check_objective_option(Checker *c, Node *value) {
    if (value->kind != N_NAME || strcmp(value->name.name, "elbo") != 0)
        diag_error(value->loc, "objective must be elbo (for now)");
    value->type = ty_unit;
}

static void check_resample_option(Checker *c, Node *e, Node *value) {
    check_expr(c, value, NULL);
    e->infer.scheme = value->kind == N_STRING ? rt_resample_lookup(value->str.s) : -1;
    if (e->infer.scheme < 0)
        diag_error(value->loc, "resample must be one of \"systematic\", \"stratified\", "
                   "\"multinomial\", \"residual\"");
}

static void check_infer_option(Checker *c, Node *e, const char *name, Node **slot) {
    if (strcmp(name, "particles") == 0) {
        check_expect(c, slot, ty_int);
        e->infer.particles = *slot;
    } else if (strcmp(name, "threads") == 0) {
        check_expect(c, slot, ty_int);
        e->infer.threads = *slot;
    } else if (strcmp(name, "ess") == 0) {
        check_expect(c, slot, ty_real);
        e->infer.ess = *slot;
    } else if (strcmp(name, "trace") == 0) {
        check_expect(c, slot, ty_bool);
        e->infer.trace = *slot;
    } else if (strcmp(name, "steps") == 0) {
        check_expect(c, slot, ty_int);
        e->infer.steps = *slot;
    } else if (strcmp(name, "guide") == 0) {
        check_guide_option(c, e, *slot);
    } else if (strcmp(name, "optimizer") == 0) {
        check_optimizer_option(c, e, *slot);
    } else if (strcmp(name, "objective") == 0) {
        check_objective_option(c, *slot);
    } else {
        check_resample_option(c, e, *slot);
    }
}

static void check_infer_options(Checker *c, Node *e, Node *method) {
    for (int i = 0; i < method->call.args.len; i++) {
        const char *name = method->call.argnames.items[i];
        Node **slot = (Node **)&method->call.args.items[i];
        if (!name)
            diag_error((*slot)->loc, "inference options are named: write `particles = ...`");
        else if (!option_allowed(e->infer.kind, name))
            diag_error((*slot)->loc, "unknown option '%s' for %s (options: %s)", name,
                       method_names[e->infer.kind], method_options[e->infer.kind]);
        else
            check_infer_option(c, e, name, slot);
    }
}

static Type *check_infer_method(Checker *c, Node *e) {
    Node *m = e->infer.method;
    if (m->kind != N_CALL || m->call.callee->kind != N_NAME) {
        diag_error(m->loc, "expected an inference method such as is(particles = 1000)");
        return NULL;
    }
    const char *name = m->call.callee->name.name;
    if (strcmp(name, "is") == 0) e->infer.kind = INFER_IS;
    else if (strcmp(name, "smc") == 0) e->infer.kind = INFER_SMC;
    else if (strcmp(name, "vi") == 0) e->infer.kind = INFER_VI;
    else {
        diag_error(m->loc, "unknown inference method '%s' (available: is, smc, vi)", name);
        return NULL;
    }
    check_infer_options(c, e, m);
    if (e->infer.kind == INFER_VI && !e->infer.guide) {
        diag_error(m->loc, "vi needs a guide: vi(guide = q, ...)");
        return NULL;
    }
    if (e->infer.kind == INFER_VI) vec_push(c->a, &c->vi_infers, e);
    return ty_unit;
}

static Symbol *inferred_model(Checker *c, Node *call) {
    if (call->kind != N_CALL || call->call.callee->kind != N_NAME) {
        diag_error(call->loc, "infer expects a model call such as m(args)");
        return NULL;
    }
    Node *callee = call->call.callee;
    Symbol *sym = lookup(c, callee->name.name);
    if (!sym || sym->kind != SYM_MODEL) {
        diag_error(callee->loc, sym ? "'%s' is not a model" : "undefined model '%s'", callee->name.name);
        return NULL;
    }
    callee->name.sym = sym;
    return sym;
}

static void check_args_against(Checker *c, Node *e, const char *name, Type **params, int n);

/* Inference inside a model would run once per particle, on streams that threads would make
 * irreproducible: it is refused. */
static Type *check_infer(Checker *c, Node *e) {
    if (c->model) {
        diag_error(e->loc, "'infer' cannot run inside a model");
        return ty_error;
    }
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

static void check_observe(Checker *c, Node *s) {
    check_checkpoint_place(c, s, "observe");
    check_expr(c, s->observe.value, NULL);
    Type *d = check_dist(c, s->observe.dist);
    if (!is_poison(d)) coerce(c, &s->observe.value, d->elem);
}

static void check_weight_stmt(Checker *c, Node *s) {
    check_checkpoint_place(c, s, s->kind == N_REWARD ? "reward" : "potential");
    check_expect(c, &s->stmt.expr, ty_real);
}

static Type *check_expr_kind(Checker *c, Node *e, Type *hint) {
    switch (e->kind) {
    case N_INT: return ty_int;
    case N_REAL: return ty_real;
    case N_BOOL: return ty_bool;
    case N_STRING: return ty_string;
    case N_NAME: return check_name(c, e);
    case N_UNARY: return check_unary(c, e);
    case N_BINARY: return check_binary(c, e);
    case N_CALL: return check_call(c, e);
    case N_INDEX: return check_index(c, e);
    case N_FIELD: return check_field(c, e);
    case N_ARRAY: return check_array(c, e, hint);
    case N_COMPREHENSION: return check_comprehension(c, e, hint);
    case N_IF: return check_if(c, e, hint);
    case N_BLOCK: return check_block(c, e, hint);
    case N_CONVERT: return ty_real;
    case N_SAMPLE: return check_sample(c, e);
    case N_INFER: return check_infer(c, e);
    default:
        diag_error(e->loc, "expected an expression");
        return ty_error;
    }
}

/* Only blocks and ifs in statement position keep checkpoints legal inside them: anything
 * else would leave a half-evaluated expression live across a suspension of the model. */
static Type *check_expr(Checker *c, Node *e, Type *hint) {
    bool stmt_level = c->stmt_level, dist_ok = c->dist_ok;
    c->dist_ok = false;
    if (!((e->kind == N_BLOCK || e->kind == N_IF) && hint == ty_unit)) c->stmt_level = false;
    e->type = check_expr_kind(c, e, hint);
    c->stmt_level = stmt_level;
    if (e->type->kind == TY_DIST && !dist_ok) {
        diag_error(e->loc, "a distribution can only be used in sample, observe or lpdf");
        e->type = ty_error;
    }
    return e->type;
}

static Type *check_dist(Checker *c, Node *e) {
    c->dist_ok = true;
    Type *t = check_expr(c, e, NULL);
    if (!is_poison(t) && t->kind != TY_DIST)
        diag_error(e->loc, "expected a distribution, found %s", tname(c, t));
    return t->kind == TY_DIST ? t : ty_error;
}

/* ---- statements ---- */

static bool diverges(const Node *s) {
    switch (s->kind) {
    case N_RETURN: case N_BREAK: case N_CONTINUE: return true;
    case N_EXPR_STMT: return s->stmt.expr->type && s->stmt.expr->type->kind == TY_NEVER;
    default: return false;
    }
}

static Type *check_block(Checker *c, Node *b, Type *hint) {
    scope_push(c);
    bool never = false;
    for (int i = 0; i < b->block.stmts.len; i++) {
        Node *s = b->block.stmts.items[i];
        check_stmt(c, s, false);
        never = never || diverges(s);
    }
    Type *t = ty_unit;
    if (b->block.value) t = check_expr(c, b->block.value, hint);
    scope_pop(c);
    return never ? ty_never : t;
}

static void forget_global(Checker *c, Symbol *old) {
    PtrVec *v = &c->globals->syms;
    for (int i = 0; i < v->len; i++)
        if (v->items[i] == old) v->items[i] = v->items[--v->len];
}

/* In a REPL cell, a top-level declaration may reuse a global's name: with a type the global
 * can hold it assigns the same global (NULL: declare as usual after forgetting the old). */
static Symbol *redeclare_global(Checker *c, const char *name, Type *t, Loc loc, bool *failed) {
    Symbol *old = scope_find_local(c->globals, name);
    *failed = false;
    if (!c->session || !old || old->kind != SYM_GLOBAL) return NULL;
    if (ty_equal(old->type, t) || t->kind == TY_ERROR) return old;
    if (old->used_by) {
        diag_error(loc, "cannot redefine '%s' as %s: '%s' uses it as %s", name, tname(c, t),
                   old->used_by, tname(c, old->type));
        *failed = true;
        return NULL;
    }
    forget_global(c, old);
    return NULL;
}

static void check_let(Checker *c, Node *s, bool top_level) {
    Type *t;
    const char *outer_site = c->site_name;
    c->site_name = s->let.name;
    if (s->let.ann) {
        t = check_expect(c, &s->let.init, s->let.ann);
    } else {
        t = check_expr(c, s->let.init, NULL);
        if (t->kind == TY_UNIT || t->kind == TY_NEVER) {
            diag_error(s->let.init->loc, "cannot bind a value of type %s", tname(c, t));
            t = ty_error;
        }
    }
    c->site_name = outer_site;
    bool failed = false;
    Symbol *sym = top_level ? redeclare_global(c, s->let.name, t, s->loc, &failed) : NULL;
    if (!sym && !failed) sym = declare(c, top_level ? SYM_GLOBAL : SYM_LOCAL, s->let.name, t, s->loc, s);
    if (sym) sym->is_var = s->let.is_var;
    s->let.sym = sym;
}

static Node *assign_root(Node *target) {
    while (target->kind == N_INDEX) target = target->index.base;
    return target;
}

static const char *why_not_assignable(const Symbol *sym) {
    if (sym->kind == SYM_PARAM) return "cannot assign to parameter '%s'";
    if (sym->kind == SYM_FN) return "cannot assign to function '%s'";
    if (sym->decl && sym->decl->kind == N_DATA) return "cannot assign to data variable '%s'";
    if (sym->decl && (sym->decl->kind == N_FOR || sym->decl->kind == N_COMPREHENSION))
        return "cannot assign to loop variable '%s'";
    return "cannot assign to '%s': it is declared with let";
}

static void check_assign(Checker *c, Node *s) {
    Node *root = assign_root(s->assign.target);
    Type *t = check_expr(c, s->assign.target, NULL);
    Symbol *sym = root->kind == N_NAME ? root->name.sym : NULL;
    if (sym && !sym->is_var) {
        diag_error(root->loc, why_not_assignable(sym), sym->name);
        check_expr(c, s->assign.value, NULL);
        return;
    }
    const char *outer_site = c->site_name;
    c->site_name = root->kind == N_NAME ? root->name.name : NULL;
    check_expect(c, &s->assign.value, t);
    c->site_name = outer_site;
}

static void check_for(Checker *c, Node *s) {
    check_range(c, s->for_.lo, s->for_.hi);
    scope_push(c);
    s->for_.sym = declare_loop_var(c, s->for_.var, s);
    c->loop_depth++;
    vec_push(c->a, &c->loops, s->for_.sym);
    check_expr(c, s->for_.body, ty_unit);
    c->loops.len--;
    c->loop_depth--;
    scope_pop(c);
}

static void check_while(Checker *c, Node *s) {
    check_condition(c, s->while_.cond);
    c->loop_depth++;
    c->while_depth++;
    check_expr(c, s->while_.body, ty_unit);
    c->while_depth--;
    c->loop_depth--;
}

static void check_return(Checker *c, Node *s) {
    if (!c->fn) {
        diag_error(s->loc, "'return' outside a function");
        if (s->stmt.expr) check_expr(c, s->stmt.expr, NULL);
        return;
    }
    Type *ret = c->fn->fn.ret ? c->fn->fn.ret : ty_unit;
    if (!s->stmt.expr) {
        if (ret->kind != TY_UNIT)
            diag_error(s->loc, "function '%s' must return a value of type %s", c->fn->fn.name, tname(c, ret));
        return;
    }
    if (ret->kind == TY_UNIT) {
        Type *t = check_expr(c, s->stmt.expr, NULL);
        if (t->kind != TY_UNIT && !is_poison(t))
            diag_error(s->stmt.expr->loc, "function '%s' does not return a value", c->fn->fn.name);
        return;
    }
    check_expect(c, &s->stmt.expr, ret);
}

/* param name: real = init - a variational parameter, at the top level of a guide body. */
static void check_param_decl(Checker *c, Node *s) {
    if (!c->in_guide || c->loop_depth || !c->stmt_level) {
        diag_error(s->loc, "'param' declarations belong at the top level of a guide");
        return;
    }
    Type *t = s->let.ann ? s->let.ann : ty_real;
    if (t->kind != TY_REAL) diag_error(s->loc, "a param must be a real (for now), found %s", tname(c, t));
    if (!s->let.init) diag_error(s->loc, "param '%s' needs an initial value: param %s: real = ...", s->let.name, s->let.name);
    else check_expect(c, &s->let.init, ty_real);
    s->let.sym = declare(c, SYM_LOCAL, s->let.name, ty_real, s->loc, s);
    vec_push(c->a, &c->model->fn.gparams, s);
}

static void check_loop_jump(Checker *c, Node *s) {
    if (c->loop_depth == 0)
        diag_error(s->loc, "'%s' outside a loop", s->kind == N_BREAK ? "break" : "continue");
}

static void check_nested_item(Checker *c, Node *s) {
    const char *what = s->kind == N_FN ? "fn" : s->kind == N_MODEL ? "model" : s->kind == N_GUIDE ? "guide" : "data";
    diag_error(s->loc, "'%s' definitions are only allowed at top level", what);
}

static void check_stmt(Checker *c, Node *s, bool top_level) {
    switch (s->kind) {
    case N_LET: check_let(c, s, top_level); break;
    case N_ASSIGN: check_assign(c, s); break;
    case N_EXPR_STMT: check_expr(c, s->stmt.expr, ty_unit); break;
    case N_FOR: check_for(c, s); break;
    case N_WHILE: check_while(c, s); break;
    case N_RETURN: check_return(c, s); break;
    case N_BREAK: case N_CONTINUE: check_loop_jump(c, s); break;
    case N_FN: case N_MODEL: case N_GUIDE: case N_DATA: check_nested_item(c, s); break;
    case N_OBSERVE: check_observe(c, s); break;
    case N_REWARD: case N_POTENTIAL: check_weight_stmt(c, s); break;
    case N_PARAM_DECL: check_param_decl(c, s); break;
    default: check_expr(c, s, ty_unit); break;
    }
}

/* ---- items ---- */

static bool is_prelude(const Symbol *sym) {
    return sym->loc.src && strcmp(sym->loc.src->name, "<prelude>") == 0;
}

/* A program may define its own version of a prelude function: the prelude's one is hidden
 * (it stays in the program, unused, and the optimizer drops it). */
static void forget_prelude_fn(Checker *c, Symbol *old) {
    PtrVec *v = &c->globals->syms;
    for (int i = 0; i < v->len; i++)
        if (v->items[i] == old) v->items[i] = v->items[--v->len];
}

static void declare_fn(Checker *c, Node *f) {
    Type **params = arena_alloc(c->a, sizeof(Type *) * (size_t)(f->fn.params.len + 1));
    for (int i = 0; i < f->fn.params.len; i++) params[i] = ((Param *)f->fn.params.items[i])->type;
    Type *ret = f->fn.ret ? f->fn.ret : ty_unit;
    Type *t = ty_fn(c->a, params, f->fn.params.len, ret);
    Symbol *old = scope_find_local(c->globals, f->fn.name);
    if (old && !is_prelude(old)) {
        diag_error(f->loc, "'%s' is already defined", f->fn.name);
        return;
    }
    if (old) forget_prelude_fn(c, old);
    SymKind kind = f->kind == N_MODEL ? SYM_MODEL : f->kind == N_GUIDE ? SYM_GUIDE : SYM_FN;
    f->fn.sym = declare(c, kind, f->fn.name, t, f->loc, f);
}

static void check_fn_body(Checker *c, Node *f) {
    Type *ret = f->fn.ret ? f->fn.ret : ty_unit;
    Node *body = f->fn.body;
    Type *t = check_block(c, body, ret);
    body->type = t;
    if (ret->kind == TY_UNIT || t->kind == TY_NEVER || t->kind == TY_ERROR) return;
    if (!body->block.value || t->kind == TY_UNIT) {
        diag_error(f->loc, "function '%s' must return a value of type %s", f->fn.name, tname(c, ret));
        return;
    }
    coerce(c, &body->block.value, ret);
}

static void check_fn(Checker *c, Node *f) {
    scope_push(c);
    for (int i = 0; i < f->fn.params.len; i++) {
        Param *p = f->fn.params.items[i];
        p->sym = declare(c, SYM_PARAM, p->name, p->type, p->loc, NULL);
    }
    c->fn = f;
    check_fn_body(c, f);
    c->fn = NULL;
    scope_pop(c);
}

/* A guide is checked like a model without observations: sample sites and `param`s. */
static void check_guide(Checker *c, Node *g) {
    if (g->fn.ret) diag_error(g->loc, "guide '%s' must not return a value", g->fn.name);
    c->model = g;
    c->in_guide = true;
    c->stmt_level = true;
    check_fn(c, g);
    c->stmt_level = false;
    c->in_guide = false;
    c->model = NULL;
}

/* A model body is checked like a function's, with sample sites and checkpoints allowed. */
static void check_model(Checker *c, Node *m) {
    Type *ret = m->fn.ret ? m->fn.ret : ty_unit;
    if (ret->kind != TY_UNIT && ret->kind != TY_REAL && ret->kind != TY_INT && ret->kind != TY_BOOL)
        diag_error(m->loc, "model '%s' returns %s; models return real, int, bool or nothing (for now)",
                   m->fn.name, tname(c, ret));
    c->model = m;
    c->stmt_level = true;
    check_fn(c, m);
    c->stmt_level = false;
    c->model = NULL;
}

static void check_data(Checker *c, Node *d) {
    int depth;
    if (ty_base(d->let.ann, &depth)->kind == TY_STRING)
        diag_error(d->loc, "data variable '%s': strings are not supported as data", d->let.name);
    if (d->let.init) check_expect(c, &d->let.init, d->let.ann);
    bool failed = false;
    d->let.sym = redeclare_global(c, d->let.name, d->let.ann, d->loc, &failed);
    if (!d->let.sym && !failed) d->let.sym = declare(c, SYM_GLOBAL, d->let.name, d->let.ann, d->loc, d);
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
                       tname(c, gs->type), tname(c, ms->type));
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

static void pair_vi(Checker *c, Node *e) {
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
static void pair_unused_guides(Checker *c, Program *prog) {
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

static bool check_items(Checker *c, Program *prog);

bool check_program(Arena *a, Program *prog) {
    Checker c = {.a = a};
    scope_push(&c);
    c.globals = c.scope;
    return check_items(&c, prog);
}

bool check_session(Arena *a, Program *prog, SessionGlobal *globals, int nglobals) {
    Checker c = {.a = a, .session = true};
    scope_push(&c);
    c.globals = c.scope;
    for (int i = 0; i < nglobals; i++) {
        Symbol *sym = arena_alloc(a, sizeof *sym);
        *sym = (Symbol){.kind = SYM_GLOBAL, .name = globals[i].name, .type = globals[i].type,
                        .is_var = globals[i].is_var};
        vec_push(a, &c.scope->syms, sym);
        globals[i].sym = sym;
    }
    return check_items(&c, prog);
}

static bool check_items(Checker *c0, Program *prog) {
    Checker c = *c0;
    int errors_before = diag_error_count();
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_FN || n->kind == N_MODEL || n->kind == N_GUIDE) declare_fn(&c, n);
    }
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_FN) check_fn(&c, n);
        else if (n->kind == N_DATA) check_data(&c, n);
        else if (n->kind == N_MODEL) check_model(&c, n);
        else if (n->kind == N_GUIDE) check_guide(&c, n);
        else check_stmt(&c, n, true);
    }
    if (diag_error_count() == errors_before)
        for (int i = 0; i < c.vi_infers.len; i++) pair_vi(&c, c.vi_infers.items[i]);
    if (diag_error_count() == errors_before) pair_unused_guides(&c, prog);
    return diag_error_count() == errors_before;
}
