/* check.c - name resolution and static typing of a parsed Program: the core checker.
 * Sets node->type on expressions, resolves names to Symbols, inserts int -> real conversions. */
#include "check_internal.h"
#include "builtins.h"
#include <string.h>

static void check_stmt(Checker *c, Node *s, bool top_level);
static Type *check_block(Checker *c, Node *b, Type *hint);

const char *check_tname(Checker *c, const Type *t) { return ty_name(c->a, t); }

/* ---- scopes ---- */

static void scope_push(Checker *c) {
    Scope *s = arena_alloc(c->a, sizeof *s);
    s->parent = c->scope;
    c->scope = s;
}

static void scope_pop(Checker *c) { c->scope = c->scope->parent; }

enum { SCOPE_LINEAR = 8 };   /* scopes this small are searched, not hashed */

static unsigned name_hash(const char *s) {   /* FNV-1a */
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void table_put(Symbol **table, int cap, Symbol *sym) {
    unsigned i = name_hash(sym->name) & (unsigned)(cap - 1);
    while (table[i]) i = (i + 1) & (unsigned)(cap - 1);
    table[i] = sym;
}

/* Adds sym to the scope (its name is not there yet); builds or doubles the table as needed. */
static void scope_add(Arena *a, Scope *s, Symbol *sym) {
    vec_push(a, &s->syms, sym);
    if (s->syms.len <= SCOPE_LINEAR) return;
    if (2 * s->syms.len > s->cap) {
        int cap = s->cap ? 2 * s->cap : 4 * SCOPE_LINEAR;
        s->table = arena_alloc(a, (size_t)cap * sizeof *s->table);
        memset(s->table, 0, (size_t)cap * sizeof *s->table);
        s->cap = cap;
        for (int i = 0; i < s->syms.len; i++) table_put(s->table, cap, s->syms.items[i]);
        return;
    }
    table_put(s->table, s->cap, sym);
}

static Symbol *scope_find_local(Scope *s, const char *name) {
    if (s->cap) {
        for (unsigned i = name_hash(name) & (unsigned)(s->cap - 1); s->table[i]; i = (i + 1) & (unsigned)(s->cap - 1))
            if (strcmp(s->table[i]->name, name) == 0) return s->table[i];
        return NULL;
    }
    for (int i = 0; i < s->syms.len; i++) {
        Symbol *sym = s->syms.items[i];
        if (strcmp(sym->name, name) == 0) return sym;
    }
    return NULL;
}

Symbol *check_lookup(Checker *c, const char *name) {
    for (Scope *s = c->scope; s; s = s->parent) {
        Symbol *sym = scope_find_local(s, name);
        if (sym) return sym;
    }
    return NULL;
}

Symbol *check_declare(Checker *c, SymKind kind, const char *name, Type *type, Loc loc, Node *decl) {
    if (scope_find_local(c->scope, name)) {
        diag_error(loc, "'%s' is already defined in this scope", name);
        return NULL;
    }
    Symbol *sym = arena_alloc(c->a, sizeof *sym);
    *sym = (Symbol){.kind = kind, .name = name, .type = type, .loc = loc, .decl = decl};
    scope_add(c->a, c->scope, sym);
    return sym;
}

/* ---- type agreement ---- */

bool check_is_poison(const Type *t) { return t->kind == TY_ERROR || t->kind == TY_NEVER; }

static Node *convert_to_real(Checker *c, Node *e) {
    Node *cv = ast_new(c->a, N_CONVERT, e->loc);
    cv->binary.lhs = e;
    cv->type = ty_real;
    return cv;
}

/* Makes *slot usable where `want` is expected: converts int to real, reports a mismatch. */
bool check_coerce(Checker *c, Node **slot, Type *want) {
    Node *e = *slot;
    if (e->type->kind == TY_NEVER && want->kind > TY_UNIT) {   /* fail("..."): fits any type */
        e->type = want;
        return true;
    }
    if (e->type->kind == TY_INT && want->kind == TY_REAL) {
        *slot = convert_to_real(c, e);
        return true;
    }
    if (ty_assignable(e->type, want)) return true;
    diag_error(e->loc, "type mismatch: expected %s, found %s", check_tname(c, want), check_tname(c, e->type));
    return false;
}

/* Coerces the value an if-branch yields (a block's trailing value, or a nested if). */
static void coerce_branch(Checker *c, Node *branch, Type *want) {
    if (branch->kind == N_BLOCK && branch->block.value) {
        check_coerce(c, &branch->block.value, want);
    } else if (branch->kind == N_IF) {
        coerce_branch(c, branch->if_.then, want);
        if (branch->if_.els) coerce_branch(c, branch->if_.els, want);
    }
    if (!check_is_poison(branch->type)) branch->type = want;
}

/* The type two branches agree on, or NULL: never gives way, int joins real. */
static Type *join(Type *x, Type *y) {
    if (x->kind == TY_NEVER || x->kind == TY_ERROR) return y;
    if (y->kind == TY_NEVER || y->kind == TY_ERROR) return x;
    if (x->kind == TY_TENSOR && y->kind == TY_TENSOR) return check_tensor_join(x, y);
    if (ty_equal(x, y)) return x;
    if (ty_is_numeric(x) && ty_is_numeric(y)) return ty_real;
    return NULL;
}

Type *check_expect(Checker *c, Node **slot, Type *want) {
    check_expr(c, *slot, want);
    check_coerce(c, slot, want);
    return want;
}

/* ---- expressions ---- */

static Type *check_name(Checker *c, Node *e) {
    Symbol *sym = check_lookup(c, e->name.name);
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
    if (sym->kind == SYM_OBJECTIVE) {
        diag_error(e->loc, "'%s' is an objective: use it as `vi(objective = %s)`", sym->name, sym->name);
        return ty_error;
    }
    return sym->type;
}

static Type *check_unary(Checker *c, Node *e) {
    Type *t = check_expr(c, e->binary.lhs, NULL);
    if (check_is_poison(t)) return ty_error;
    if (e->binary.op == TK_MINUS && ty_is_numeric(t)) return t;
    if (e->binary.op == TK_MINUS && t->kind == TY_TENSOR) return t;
    if (e->binary.op == TK_NOT && t->kind == TY_BOOL) return t;
    diag_error(e->loc, "operator %s cannot be applied to %s", lex_kind_name(e->binary.op), check_tname(c, t));
    return ty_error;
}

static bool is_real_array(const Type *t) { return t->kind == TY_ARRAY && t->elem->kind == TY_REAL; }

static Type *binary_result(Checker *c, Node *e, Type *l, Type *r) {
    if (l->kind == TY_MAT || r->kind == TY_MAT)   /* the matrix-vector product X * w only */
        return e->binary.op == TK_STAR && l->kind == TY_MAT && is_real_array(r) ? r : NULL;
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
        return num || (l->kind == r->kind && (l->kind == TY_BOOL || l->kind == TY_STRING)) ? ty_bool : NULL;
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
    Type *r = check_expr(c, e->binary.rhs, l->kind == TY_MAT ? ty_array(c->a, ty_real) : NULL);
    if (check_is_poison(l) || check_is_poison(r)) return ty_error;
    Type *t = l->kind == TY_TENSOR || r->kind == TY_TENSOR ? check_tensor_binary(c, e, l, r) : binary_result(c, e, l, r);
    if (!t) {
        diag_error(e->loc, "operator %s cannot be applied to %s and %s", lex_kind_name(e->binary.op),
                   check_tname(c, l), check_tname(c, r));
        return ty_error;
    }
    promote_operands(c, e, t);
    return t;
}

static void check_int_index(Checker *c, Node *i) {
    Type *t = check_expr(c, i, NULL);
    if (!check_is_poison(t) && t->kind != TY_INT)
        diag_error(i->loc, "index must be int, found %s", check_tname(c, t));
}

/* a[i] for an array, X[i, j] for a mat */
static Type *check_index(Checker *c, Node *e) {
    Type *base = check_expr(c, e->index.base, NULL);
    check_int_index(c, e->index.index);
    if (e->index.col) check_int_index(c, e->index.col);
    if (e->index.third) check_int_index(c, e->index.third);
    if (check_is_poison(base)) return ty_error;
    if (base->kind == TY_TENSOR) return check_tensor_index(c, e, base);
    if (e->index.third) {
        diag_error(e->index.third->loc, "only a tensor takes three indices");
        return ty_error;
    }
    if (base->kind == TY_MAT && !e->index.col) {
        diag_error(e->loc, "a mat takes two indices: X[i, j]");
        return ty_error;
    }
    if (base->kind == TY_MAT) return ty_real;
    if (e->index.col && base->kind == TY_ARRAY) {
        diag_error(e->index.col->loc, "an array takes one index; for an array of arrays write a[i][j]");
        return ty_error;
    }
    if (base->kind != TY_ARRAY) {
        diag_error(e->index.base->loc, "cannot index a value of type %s", check_tname(c, base));
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
        if (!elem || check_is_poison(elem)) elem = t;
        else if (!want && elem->kind == TY_INT && t->kind == TY_REAL) elem = ty_real;
    }
    if (want) elem = want;
    if (check_is_poison(elem)) return ty_error;
    if (elem->kind == TY_UNIT) {
        diag_error(e->loc, "array elements cannot have type ()");
        return ty_error;
    }
    for (int i = 0; i < el->len; i++) check_coerce(c, (Node **)&el->items[i], elem);
    return ty_array(c->a, elem);
}

static void check_range(Checker *c, Node *lo, Node *hi) {
    Type *tl = check_expr(c, lo, NULL), *th = check_expr(c, hi, NULL);
    if (!check_is_poison(tl) && tl->kind != TY_INT)
        diag_error(lo->loc, "range bounds must be int, found %s", check_tname(c, tl));
    if (!check_is_poison(th) && th->kind != TY_INT)
        diag_error(hi->loc, "range bounds must be int, found %s", check_tname(c, th));
}

static Symbol *declare_loop_var(Checker *c, const char *name, Node *decl) {
    Symbol *sym = check_declare(c, SYM_LOCAL, name, ty_int, decl->loc, decl);
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
    if (check_is_poison(t)) return ty_error;
    if (t->kind == TY_UNIT) {
        diag_error(e->compr.body->loc, "array elements cannot have type ()");
        return ty_error;
    }
    return ty_array(c->a, t);
}

static void check_condition(Checker *c, Node *cond) {
    Type *t = check_expr(c, cond, NULL);
    if (!check_is_poison(t) && t->kind != TY_BOOL)
        diag_error(cond->loc, "condition must be bool, found %s", check_tname(c, t));
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
        diag_error(e->loc, "if branches have different types: %s and %s", check_tname(c, th), check_tname(c, te));
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
        if (strcmp(f, "log_evidence") == 0 || strcmp(f, "ess") == 0 || strcmp(f, "pareto_k") == 0 ||
            strcmp(f, "min_ess") == 0)
            return ty_real;
        if (strcmp(f, "resamples") == 0 || strcmp(f, "ancestors") == 0) return ty_int;
        if (strcmp(f, "ess_history") == 0 || strcmp(f, "history") == 0 || strcmp(f, "params") == 0 ||
            strcmp(f, "weights") == 0 || strcmp(f, "values") == 0)
            return ty_array(c->a, ty_real);
    }
    if (t->kind == TY_DRAWS && (strcmp(f, "logw") == 0 || strcmp(f, "logq") == 0)) return ty_array(c->a, ty_real);
    if (t->kind == TY_DRAWS && strcmp(f, "logz") == 0) return ty_real;
    if (!check_is_poison(t)) diag_error(e->loc, "unknown field '%s' for a value of type %s", e->field.field, check_tname(c, t));
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

void check_args_against(Checker *c, Node *e, const char *name, Type **params, int n) {
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
    if (check_is_poison(t)) return ty_error;
    if (id == BI_MEAN && is_numeric_posterior(t)) return ty_real;
    if (!is_num_array(t)) {
        diag_error(((Node *)e->call.args.items[0])->loc, "'%s' expects an int[] or real[] array%s, found %s",
                   name, id == BI_MEAN ? " or a posterior of numbers" : "", check_tname(c, t));
        return ty_error;
    }
    return id == BI_MEAN ? ty_real : t->elem;
}

static Type *check_min_max(Checker *c, Node *e, const char *name, BuiltinId id) {
    if (e->call.args.len == 1) return check_array_reduction(c, e, name, id);
    if (!check_arity(e, name, 2)) return ty_error;
    Type *l = check_expr(c, e->call.args.items[0], NULL);
    Type *r = check_expr(c, e->call.args.items[1], NULL);
    if (check_is_poison(l) || check_is_poison(r)) return ty_error;
    Type *t = ty_is_numeric(l) && ty_is_numeric(r) ? join(l, r) : NULL;
    if (!t) {
        diag_error(e->call.callee->loc, "'%s' expects two numbers or one array, found %s and %s", name,
                   check_tname(c, l), check_tname(c, r));
        return ty_error;
    }
    check_coerce(c, arg_slot(e, 0), t);
    check_coerce(c, arg_slot(e, 1), t);
    return t;
}

static Type *check_print(Checker *c, Node *e) {
    for (int i = 0; i < e->call.args.len; i++) {
        Node *arg = e->call.args.items[i];
        Type *t = check_expr(c, arg, NULL);
        if (t->kind == TY_UNIT || t->kind == TY_FN || t->kind == TY_NEVER)
            diag_error(arg->loc, "cannot print a value of type %s", check_tname(c, t));
    }
    return ty_unit;
}

static Type *check_len(Checker *c, Node *e) {
    if (!check_arity(e, "len", 1)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (!check_is_poison(t) && t->kind != TY_ARRAY)
        diag_error(arg->loc, "'len' expects an array, found %s", check_tname(c, t));
    return ty_int;
}

static Type *check_abs(Checker *c, Node *e) {
    if (!check_arity(e, "abs", 1)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (check_is_poison(t) || ty_is_numeric(t)) return check_is_poison(t) ? ty_error : t;
    diag_error(arg->loc, "'abs' expects a number, found %s", check_tname(c, t));
    return ty_error;
}

/* mean(post, "x[3]"), sd(post, "x[3]"), quantile(post, q, "x[3]"): a site's statistic, for a
 * posterior of any type */
static Type *check_site_stat(Checker *c, Node *e, const char *name, BuiltinId id) {
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (id == BI_QUANTILE) check_expect(c, arg_slot(e, 1), ty_real);
    check_expect(c, arg_slot(e, e->call.args.len - 1), ty_string);
    if (!check_is_poison(t) && t->kind != TY_POSTERIOR)
        diag_error(arg->loc, "'%s' of a site expects a posterior, found %s", name, check_tname(c, t));
    return ty_real;
}

/* sd(post), quantile(post, q) */
static Type *check_posterior_stat(Checker *c, Node *e, const char *name, BuiltinId id) {
    int want = id == BI_QUANTILE ? 2 : 1;
    if (id != BI_PLOT && e->call.args.len == want + 1) return check_site_stat(c, e, name, id);
    if (!check_arity(e, name, want)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (id == BI_QUANTILE) check_expect(c, arg_slot(e, 1), ty_real);
    if (!check_is_poison(t) && !is_numeric_posterior(t))
        diag_error(arg->loc, "'%s' expects a posterior of numbers, found %s", name, check_tname(c, t));
    return ty_real;
}

/* lpdf(D, v): the log density of D at v */
static Type *check_lpdf(Checker *c, Node *e) {
    if (!check_arity(e, "lpdf", 2)) return ty_error;
    Type *d = check_dist(c, e->call.args.items[0]);
    check_expr(c, e->call.args.items[1], NULL);
    if (!check_is_poison(d)) check_coerce(c, arg_slot(e, 1), d->elem);
    return ty_real;
}

/* stop_grad(x): x, a real or real[], with derivative 0 */
static Type *check_stop_grad(Checker *c, Node *e) {
    if (!check_arity(e, "stop_grad", 1)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (t->kind == TY_INT) return check_coerce(c, arg_slot(e, 0), ty_real), ty_real;
    if (check_is_poison(t) || t->kind == TY_REAL || (t->kind == TY_ARRAY && t->elem->kind == TY_REAL))
        return check_is_poison(t) ? ty_error : t;
    diag_error(arg->loc, "'stop_grad' expects a real or real[], found %s", check_tname(c, t));
    return ty_error;
}

/* fail("message"): stops the program with a runtime error at the call */
static Type *check_fail(Checker *c, Node *e) {
    static Type *one_string[1];
    one_string[0] = ty_string;
    check_args_against(c, e, "fail", one_string, 1);
    return ty_never;
}

/* rows(X), cols(X): a mat's shape */
static Type *check_mat_shape(Checker *c, Node *e, const char *name) {
    if (!check_arity(e, name, 1)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *t = check_expr(c, arg, NULL);
    if (!check_is_poison(t) && t->kind != TY_MAT)
        diag_error(arg->loc, "'%s' expects a mat, found %s", name, check_tname(c, t));
    return ty_int;
}

/* mat(rows): a mat from a real[][] of equal-length rows (checked at run time) */
static Type *check_mat_build(Checker *c, Node *e) {
    if (!check_arity(e, "mat", 1)) return ty_error;
    Node *arg = e->call.args.items[0];
    Type *want = ty_array(c->a, ty_array(c->a, ty_real));
    Type *t = check_expr(c, arg, want);
    if (!check_is_poison(t) && !ty_equal(t, want))
        diag_error(arg->loc, "'mat' expects the rows as a real[][], found %s", check_tname(c, t));
    return ty_mat;
}

static Type *check_builtin_kind(Checker *c, Node *e, const char *name, BuiltinId id);

/* A tensor builtin, or a builtin whose first argument is a tensor (sum(t), exp(t)), goes to
 * check_tensor.c; that argument is checked once. */
static Type *check_builtin(Checker *c, Node *e, const char *name, BuiltinId id) {
    if (check_tensor_only(id)) return check_tensor_builtin(c, e, name, id);
    if (!check_tensor_overload(id) || e->call.args.len == 0) return check_builtin_kind(c, e, name, id);
    Node *first = e->call.args.items[0];
    Type *t = check_expr(c, first, NULL);
    c->prechecked = first;
    t = t->kind == TY_TENSOR ? check_tensor_builtin(c, e, name, id) : check_builtin_kind(c, e, name, id);
    c->prechecked = NULL;
    return t;
}

static Type *check_builtin_kind(Checker *c, Node *e, const char *name, BuiltinId id) {
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
        if (id == BI_MEAN && e->call.args.len == 2) return check_site_stat(c, e, name, id);
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
    case BI_DRAWS: return check_draws(c, e);
    case BI_STOP_GRAD: return check_stop_grad(c, e);
    case BI_FAIL: return check_fail(c, e);
    case BI_ROWS: case BI_COLS: return check_mat_shape(c, e, name);
    case BI_MAT: return check_mat_build(c, e);
    case BI_LOGP: case BI_PREDICT: return check_model_builtin(c, e, name, id);
    default:   /* MATH_BUILTINS: real -> real */
        check_args_against(c, e, name, one_real, 1);
        return ty_real;
    }
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
    Symbol *sym = check_lookup(c, name);
    if (!sym) {
        BuiltinId id = builtin_lookup(name);
        if (id != BI_NONE) {
            e->call.builtin = id;
            return check_builtin(c, e, name, id);
        }
        int kind = check_dist_lookup(name);
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
    if (sym->kind == SYM_OBJECTIVE) {
        diag_error(callee->loc, "'%s' is an objective: use it as `vi(objective = %s(...))`", name, name);
        return ty_error;
    }
    if (sym->kind != SYM_FN) {
        diag_error(callee->loc, "'%s' is not a function", name);
        return ty_error;
    }
    check_args_against(c, e, name, sym->type->params, sym->type->nparams);
    return sym->type->ret;
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
Type *check_expr(Checker *c, Node *e, Type *hint) {
    if (e == c->prechecked) {   /* an overloaded builtin's first argument, checked to pick the overload */
        c->prechecked = NULL;
        return e->type;
    }
    bool stmt_level = c->stmt_level, dist_ok = c->dist_ok;
    c->dist_ok = false;
    if (!((e->kind == N_BLOCK || e->kind == N_IF) && hint == ty_unit)) c->stmt_level = false;
    int errors = diag_error_count();
    e->type = check_expr_kind(c, e, hint);
    c->stmt_level = stmt_level;
    if (e->type->kind == TY_ERROR && diag_error_count() == errors)   /* an operand never yields */
        diag_error(e->loc, "this expression has no value: a part of it never yields one (it fails or returns)");
    if (e->type->kind == TY_DIST && !dist_ok) {
        diag_error(e->loc, "a distribution can only be used in sample, observe or lpdf");
        e->type = ty_error;
    }
    return e->type;
}

Type *check_dist(Checker *c, Node *e) {
    c->dist_ok = true;
    Type *t = check_expr(c, e, NULL);
    if (!check_is_poison(t) && t->kind != TY_DIST)
        diag_error(e->loc, "expected a distribution, found %s", check_tname(c, t));
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
    if (ty_equal(old->type, t) || t->kind == TY_ERROR) {
        if (old->type->kind == TY_TENSOR && t->kind == TY_TENSOR)   /* it may now hold another shape */
            old->type = check_tensor_join(old->type, t);
        return old;
    }
    if (old->used_by) {
        diag_error(loc, "cannot redefine '%s' as %s: '%s' uses it as %s", name, check_tname(c, t),
                   old->used_by, check_tname(c, old->type));
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
            diag_error(s->let.init->loc, "cannot bind a value of type %s", check_tname(c, t));
            t = ty_error;
        }
    }
    c->site_name = outer_site;
    if (s->let.is_var && t->kind == TY_TENSOR) t = ty_tensor;   /* a var may later hold another shape */
    bool failed = false;
    Symbol *sym = top_level ? redeclare_global(c, s->let.name, t, s->loc, &failed) : NULL;
    if (!sym && !failed) sym = check_declare(c, top_level ? SYM_GLOBAL : SYM_LOCAL, s->let.name, t, s->loc, s);
    if (sym) sym->is_var = s->let.is_var;
    s->let.sym = sym;
}

static Node *mat_element(Node *target) {
    for (; target->kind == N_INDEX; target = target->index.base)
        if (target->index.col) return target;
    return NULL;
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
    Node *elem = mat_element(s->assign.target);
    if (elem && !check_is_poison(t)) {
        diag_error(elem->loc, "cannot assign to an element of a mat (mats are immutable; build a new one with mat(...))");
        check_expr(c, s->assign.value, NULL);
        return;
    }
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
            diag_error(s->loc, "function '%s' must return a value of type %s", c->fn->fn.name, check_tname(c, ret));
        return;
    }
    if (ret->kind == TY_UNIT) {
        Type *t = check_expr(c, s->stmt.expr, NULL);
        if (t->kind != TY_UNIT && !check_is_poison(t))
            diag_error(s->stmt.expr->loc, "function '%s' does not return a value", c->fn->fn.name);
        return;
    }
    check_expect(c, &s->stmt.expr, ret);
}

static void check_loop_jump(Checker *c, Node *s) {
    if (c->loop_depth == 0)
        diag_error(s->loc, "'%s' outside a loop", s->kind == N_BREAK ? "break" : "continue");
}

static void check_nested_item(Checker *c, Node *s) {
    diag_error(s->loc, "'%s' definitions are only allowed at top level", ast_kind_name(s->kind));
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
    case N_FN: case N_MODEL: case N_GUIDE: case N_OBJECTIVE: case N_DATA: check_nested_item(c, s); break;
    case N_OBSERVE: check_observe(c, s); break;
    case N_REWARD: case N_POTENTIAL: check_weight_stmt(c, s); break;
    case N_CONDITION: check_condition_stmt(c, s); break;
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
    if (f->kind == N_OBJECTIVE && f->fn.ret && f->fn.ret->kind != TY_REAL)
        diag_error(f->loc, "objective '%s' must have a real value, not %s", f->fn.name, check_tname(c, f->fn.ret));
    if (f->kind == N_OBJECTIVE) f->fn.ret = ty_real;
    Type *ret = f->fn.ret ? f->fn.ret : ty_unit;
    Type *t = ty_fn(c->a, params, f->fn.params.len, ret);
    Symbol *old = scope_find_local(c->globals, f->fn.name);
    if (old && !is_prelude(old)) {
        diag_error(f->loc, "'%s' is already defined", f->fn.name);
        return;
    }
    if (old) forget_prelude_fn(c, old);
    SymKind kind = f->kind == N_MODEL ? SYM_MODEL : f->kind == N_GUIDE ? SYM_GUIDE
                 : f->kind == N_OBJECTIVE ? SYM_OBJECTIVE : SYM_FN;
    f->fn.sym = check_declare(c, kind, f->fn.name, t, f->loc, f);
}

static void check_fn_body(Checker *c, Node *f) {
    Type *ret = f->fn.ret ? f->fn.ret : ty_unit;
    Node *body = f->fn.body;
    Type *t = check_block(c, body, ret);
    body->type = t;
    if (ret->kind == TY_UNIT || t->kind == TY_NEVER || t->kind == TY_ERROR) return;
    if (!body->block.value || t->kind == TY_UNIT) {
        diag_error(f->loc, "function '%s' must return a value of type %s", f->fn.name, check_tname(c, ret));
        return;
    }
    check_coerce(c, &body->block.value, ret);
}

void check_fn(Checker *c, Node *f) {
    scope_push(c);
    for (int i = 0; i < f->fn.params.len; i++) {
        Param *p = f->fn.params.items[i];
        p->sym = check_declare(c, SYM_PARAM, p->name, p->type, p->loc, NULL);
    }
    c->fn = f;
    check_fn_body(c, f);
    c->fn = NULL;
    scope_pop(c);
}

static void check_data(Checker *c, Node *d) {
    int depth;
    const Type *base = ty_base(d->let.ann, &depth);
    if (base->kind == TY_STRING)
        diag_error(d->loc, "data variable '%s': strings are not supported as data", d->let.name);
    else if ((base->kind == TY_MAT || base->kind == TY_TENSOR) && depth > 0)
        diag_error(d->loc, "data variable '%s': arrays of %ss are not supported as data", d->let.name,
                   ty_name(c->a, base));
    if (d->let.init) check_expect(c, &d->let.init, d->let.ann);
    bool failed = false;
    d->let.sym = redeclare_global(c, d->let.name, d->let.ann, d->loc, &failed);
    if (!d->let.sym && !failed) d->let.sym = check_declare(c, SYM_GLOBAL, d->let.name, d->let.ann, d->loc, d);
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
        scope_add(a, c.scope, sym);
        globals[i].sym = sym;
    }
    return check_items(&c, prog);
}

static bool check_items(Checker *c0, Program *prog) {
    Checker c = *c0;
    int errors_before = diag_error_count();
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (ast_is_definition(n)) declare_fn(&c, n);
    }
    for (int i = 0; i < prog->items.len; i++) {
        Node *n = prog->items.items[i];
        if (n->kind == N_FN) check_fn(&c, n);
        else if (n->kind == N_DATA) check_data(&c, n);
        else if (n->kind == N_MODEL) check_model(&c, n);
        else if (n->kind == N_GUIDE) check_guide(&c, n);
        else if (n->kind == N_OBJECTIVE) check_objective(&c, n);
        else check_stmt(&c, n, true);
    }
    if (diag_error_count() == errors_before)
        for (int i = 0; i < c.vi_infers.len; i++) check_pair_vi(&c, c.vi_infers.items[i]);
    if (diag_error_count() == errors_before)
        for (int i = 0; i < c.enum_infers.len; i++) check_enumerable(&c, c.enum_infers.items[i]);
    if (diag_error_count() == errors_before) check_pair_unused_guides(&c, prog);
    check_model_mode_objectives(prog);
    if (!c.session && diag_error_count() == errors_before) check_site_reads(c.a, prog);
    return diag_error_count() == errors_before;
}
