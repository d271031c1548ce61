/* check_tensor.c - static typing of tensors: their builtins, arithmetic and indexing.
 * A tensor type carries its shape when literals make it known, so mismatches are compile errors. */
#include "check_internal.h"
#include "builtins.h"
#include "diag.h"
#include <stdio.h>
#include <string.h>

bool check_tensor_overload(int id) {
    return id == BI_SUM || id == BI_MEAN || id == BI_EXP || id == BI_LOG || id == BI_TANH || id == BI_ROWS;
}

bool check_tensor_only(int id) {
    switch (id) {
#define X(ID, name) case BI_##ID:
    TENSOR_BUILTINS(X)
#undef X
        return true;
    default: return false;
    }
}

static bool known(const Type *t) {
    if (t->kind != TY_TENSOR || t->rank == 0) return false;
    for (int k = 0; k < t->rank; k++)
        if (t->dim[k] <= 0) return false;
    return true;
}

/* "[2, 3]", or "tensor" when unknown */
static const char *shape_name(Checker *c, const Type *t) {
    if (!known(t)) return "tensor";
    const char *s = "[";
    for (int k = 0; k < t->rank; k++) s = arena_printf(c->a, "%s%s%lld", s, k ? ", " : "", t->dim[k]);
    return arena_printf(c->a, "%s]", s);
}

/* A tensor type whose shape is that of t (or unknown). */
static Type *same_shape(const Type *t) { return t->kind == TY_TENSOR && known(t) ? (Type *)t : ty_tensor; }

Type *check_tensor_join(Type *x, Type *y) {
    if (!known(x) || !known(y) || x->rank != y->rank) return ty_tensor;
    for (int k = 0; k < x->rank; k++)
        if (x->dim[k] != y->dim[k]) return ty_tensor;
    return x;
}

static Node *arg(Node *e, int i) { return e->call.args.items[i]; }
static Node **slot(Node *e, int i) { return (Node **)&e->call.args.items[i]; }

static Type *expect_tensor(Checker *c, Node *e, int i, const char *name) {
    Type *t = check_expr(c, arg(e, i), NULL);
    if (!check_is_poison(t) && t->kind != TY_TENSOR)
        diag_error(arg(e, i)->loc, "'%s' expects a tensor, found %s", name, check_tname(c, t));
    return t->kind == TY_TENSOR ? t : ty_tensor;
}

static bool arity(Node *e, const char *name, int lo, int hi) {
    int n = e->call.args.len;
    if (n >= lo && n <= hi) return true;
    if (lo == hi) diag_error(e->call.callee->loc, "'%s' expects %d argument%s, found %d", name, lo, lo == 1 ? "" : "s", n);
    else diag_error(e->call.callee->loc, "'%s' expects %d to %d arguments, found %d", name, lo, hi, n);
    return false;
}

/* The value of an int literal, or of a name bound by `let` to one (outside the REPL, where a
 * later cell may bind the name again), else 0 (not known). */
static long long literal(Checker *c, Node *e) {
    if (e->kind == N_INT) return e->ival;
    Symbol *s = e->kind == N_NAME ? e->name.sym : NULL;
    if (c->session || !s || s->is_var || !s->decl || s->decl->kind != N_LET || !s->decl->let.init) return 0;
    return s->decl->let.init->kind == N_INT ? s->decl->let.init->ival : 0;
}

/* zeros(d0, d1?, d2?), randn(...), full(x, d0, ...): dims from `first` on, ints. */
static Type *check_dims(Checker *c, Node *e, const char *name, int first) {
    if (!arity(e, name, first + 1, first + 3)) return ty_tensor;
    long long dim[3];
    int rank = e->call.args.len - first;
    for (int k = 0; k < rank; k++) {
        check_expect(c, slot(e, first + k), ty_int);
        dim[k] = literal(c, arg(e, first + k));
        if (arg(e, first + k)->kind == N_INT && dim[k] < 1)
            diag_error(arg(e, first + k)->loc, "'%s': a tensor dimension must be at least 1, found %lld", name,
                       (long long)arg(e, first + k)->ival);
    }
    return ty_tensor_shaped(c->a, rank, dim);
}

/* tensor(xs): from a real[] or real[][] */
static Type *check_from_array(Checker *c, Node *e) {
    if (!arity(e, "tensor", 1, 1)) return ty_tensor;
    Type *t = check_expr(c, arg(e, 0), NULL);
    int depth;
    const Type *base = ty_base(t, &depth);
    if (!check_is_poison(t) && !(base->kind == TY_REAL && (depth == 1 || depth == 2)))
        diag_error(arg(e, 0)->loc, "'tensor' expects a real[] or real[][], found %s", check_tname(c, t));
    return ty_tensor;
}

/* matmul(a, b): [m, k] x [k, n], [m, k] x [k], [k] x [k, n], [b, m, k] x [k, n] */
static Type *check_matmul(Checker *c, Node *e) {
    if (!arity(e, "matmul", 2, 2)) return ty_tensor;
    Type *a = expect_tensor(c, e, 0, "matmul"), *b = expect_tensor(c, e, 1, "matmul");
    if (!known(a) || !known(b)) return ty_tensor;
    if (b->rank > 2 || a->dim[a->rank - 1] != b->dim[0]) {
        diag_error(e->loc, "matmul: shapes %s and %s do not match (%s)", shape_name(c, a), shape_name(c, b),
                   b->rank > 2 ? "the second operand has rank 1 or 2" : "inner dimensions differ");
        return ty_tensor;
    }
    long long dim[3];
    int r = 0;
    for (int k = 0; k + 1 < a->rank; k++) dim[r++] = a->dim[k];
    if (b->rank == 2) dim[r++] = b->dim[1];
    if (r == 0) dim[r++] = 1;
    return ty_tensor_shaped(c->a, r, dim);
}

/* sum(t), mean(t): a real; sum(t, axis), mean(t, axis): a tensor without that axis */
static Type *check_reduce(Checker *c, Node *e, const char *name) {
    if (!arity(e, name, 1, 2)) return ty_error;
    Type *t = expect_tensor(c, e, 0, name);
    if (e->call.args.len == 1) return ty_real;
    check_expect(c, slot(e, 1), ty_int);
    long long axis = arg(e, 1)->kind == N_INT ? arg(e, 1)->ival : -1;
    if (!known(t) || axis < 0) return ty_tensor;
    if (axis >= t->rank) {
        diag_error(arg(e, 1)->loc, "%s: axis %lld is out of range for a tensor of shape %s", name, axis, shape_name(c, t));
        return ty_tensor;
    }
    long long dim[3];
    int r = 0;
    for (int k = 0; k < t->rank; k++)
        if (k != axis) dim[r++] = t->dim[k];
    if (r == 0) dim[r++] = 1;
    return ty_tensor_shaped(c->a, r, dim);
}

/* rmsnorm(t, gain?), layernorm(t, gain?) */
static Type *check_norm(Checker *c, Node *e, const char *name) {
    if (!arity(e, name, 1, 2)) return ty_tensor;
    Type *t = expect_tensor(c, e, 0, name);
    if (e->call.args.len == 2) {
        Type *g = expect_tensor(c, e, 1, name);
        if (known(t) && known(g) && (g->rank != 1 || g->dim[0] != t->dim[t->rank - 1]))
            diag_error(arg(e, 1)->loc, "%s: the gain has shape %s, but the input's last axis is %lld long (shape %s)",
                       name, shape_name(c, g), t->dim[t->rank - 1], shape_name(c, t));
    }
    return same_shape(t);
}

/* rows(t, idx: int[]) */
static Type *check_rows(Checker *c, Node *e) {
    if (!arity(e, "rows", 2, 2)) return ty_tensor;
    Type *t = expect_tensor(c, e, 0, "rows");
    check_expect(c, slot(e, 1), ty_array(c->a, ty_int));
    if (known(t) && t->rank != 2)
        diag_error(arg(e, 0)->loc, "rows: expects a rank-2 tensor, found shape %s", shape_name(c, t));
    return ty_tensor;
}

/* concat(a, b, axis = 0) */
static Type *check_concat(Checker *c, Node *e) {
    if (!arity(e, "concat", 2, 3)) return ty_tensor;
    Type *a = expect_tensor(c, e, 0, "concat"), *b = expect_tensor(c, e, 1, "concat");
    if (e->call.args.len == 3) check_expect(c, slot(e, 2), ty_int);
    long long axis = e->call.args.len == 3 ? (arg(e, 2)->kind == N_INT ? arg(e, 2)->ival : -1) : 0;
    if (!known(a) || !known(b) || axis < 0) return ty_tensor;
    bool ok = a->rank == b->rank && axis < a->rank;
    for (int k = 0; ok && k < a->rank; k++) ok = k == axis || a->dim[k] == b->dim[k];
    if (!ok) {
        diag_error(e->loc, "concat: shapes %s and %s do not join along axis %lld", shape_name(c, a), shape_name(c, b), axis);
        return ty_tensor;
    }
    long long dim[3];
    for (int k = 0; k < a->rank; k++) dim[k] = a->dim[k] + (k == axis ? b->dim[k] : 0);
    return ty_tensor_shaped(c->a, a->rank, dim);
}

static Type *check_transpose(Checker *c, Node *e) {
    if (!arity(e, "transpose", 1, 1)) return ty_tensor;
    Type *t = expect_tensor(c, e, 0, "transpose");
    if (!known(t)) return ty_tensor;
    if (t->rank != 2) {
        diag_error(arg(e, 0)->loc, "transpose: expects a rank-2 tensor, found shape %s", shape_name(c, t));
        return ty_tensor;
    }
    return ty_tensor_shaped(c->a, 2, (long long[]){t->dim[1], t->dim[0]});
}

/* reshape(t, d0, d1?, d2?) */
static Type *check_reshape(Checker *c, Node *e) {
    if (!arity(e, "reshape", 2, 4)) return ty_tensor;
    Type *t = expect_tensor(c, e, 0, "reshape");
    Type *r = check_dims(c, e, "reshape", 1);
    if (known(t) && known(r)) {
        long long n = 1, m = 1;
        for (int k = 0; k < t->rank; k++) n *= t->dim[k];
        for (int k = 0; k < r->rank; k++) m *= r->dim[k];
        if (n != m) diag_error(e->loc, "reshape: a tensor of shape %s has %lld elements, not %lld", shape_name(c, t), n, m);
    }
    return r;
}

Type *check_tensor_builtin(Checker *c, Node *e, const char *name, int id) {
    switch (id) {
    case BI_ZEROS: case BI_ONES: case BI_RANDN: return check_dims(c, e, name, 0);
    case BI_FULL:
        if (e->call.args.len >= 1) check_expect(c, slot(e, 0), ty_real);
        return check_dims(c, e, name, 1);
    case BI_TENSOR: return check_from_array(c, e);
    case BI_SHAPE: case BI_RANK: case BI_NUMEL: case BI_TO_ARRAY:
        if (arity(e, name, 1, 1)) expect_tensor(c, e, 0, name);
        return id == BI_SHAPE ? ty_array(c->a, ty_int) : id == BI_TO_ARRAY ? ty_array(c->a, ty_real) : ty_int;
    case BI_RESHAPE: return check_reshape(c, e);
    case BI_TRANSPOSE: return check_transpose(c, e);
    case BI_MATMUL: return check_matmul(c, e);
    case BI_SUM: case BI_MEAN: return check_reduce(c, e, name);
    case BI_RMSNORM: case BI_LAYERNORM: return check_norm(c, e, name);
    case BI_ROWS: return check_rows(c, e);
    case BI_CONCAT: return check_concat(c, e);
    default:   /* elementwise functions, softmax, log_softmax */
        if (!arity(e, name, 1, 1)) return ty_tensor;
        return same_shape(expect_tensor(c, e, 0, name));
    }
}

/* The broadcast shape of two known shapes (numpy's rule), or NULL with an error. */
static Type *broadcast(Checker *c, Node *e, Type *l, Type *r) {
    int rank = l->rank > r->rank ? l->rank : r->rank;
    long long dim[3];
    for (int k = 0; k < rank; k++) {
        int kl = k - (rank - l->rank), kr = k - (rank - r->rank);
        long long a = kl >= 0 ? l->dim[kl] : 1, b = kr >= 0 ? r->dim[kr] : 1;
        if (a != b && a != 1 && b != 1) {
            diag_error(e->loc, "%s: shapes %s and %s do not broadcast (axis %d: %lld against %lld)",
                       lex_kind_name(e->binary.op), shape_name(c, l), shape_name(c, r), k, a, b);
            return ty_tensor;
        }
        dim[k] = a > b ? a : b;
    }
    return ty_tensor_shaped(c->a, rank, dim);
}

/* t op u, t op x, x op t for + - * / (x a number, made real) */
Type *check_tensor_binary(Checker *c, Node *e, Type *l, Type *r) {
    TokKind op = e->binary.op;
    if (op != TK_PLUS && op != TK_MINUS && op != TK_STAR && op != TK_SLASH) return NULL;
    if (l->kind == TY_TENSOR && r->kind == TY_TENSOR) return known(l) && known(r) ? broadcast(c, e, l, r) : ty_tensor;
    if (l->kind == TY_TENSOR && ty_is_numeric(r)) return check_coerce(c, &e->binary.rhs, ty_real), same_shape(l);
    if (r->kind == TY_TENSOR && ty_is_numeric(l)) return check_coerce(c, &e->binary.lhs, ty_real), same_shape(r);
    return NULL;
}

/* t[i], t[i, j], t[i, j, k]: a real */
Type *check_tensor_index(Checker *c, Node *e, Type *base) {
    int n = 1 + (e->index.col != NULL) + (e->index.third != NULL);
    if (known(base) && n != base->rank)
        diag_error(e->loc, "a tensor of shape %s takes %d ind%s, found %d", shape_name(c, base), base->rank,
                   base->rank == 1 ? "ex" : "ices", n);
    return ty_real;
}

static bool same_dims(const Type *x, const Type *y) {
    if (x->rank != y->rank) return false;
    for (int k = 0; k < x->rank; k++)
        if (x->dim[k] != y->dim[k]) return false;
    return true;
}

/* observe t ~ normal(mu, sigma): mu a tensor of t's shape or a real, sigma a real */
static void check_observe_normal(Checker *c, Node *s, Type *vt) {
    Node *d = s->observe.dist;
    if (!arity(d, "normal", 2, 2)) return;
    Type *mu = check_expr(c, arg(d, 0), NULL);
    if (mu->kind == TY_TENSOR) {
        if (known(mu) && known(vt) && !same_dims(mu, vt))
            diag_error(arg(d, 0)->loc, "normal: the observed tensor has shape %s, but the mean has shape %s",
                       shape_name(c, vt), shape_name(c, mu));
    } else if (!check_is_poison(mu)) {
        check_coerce(c, slot(d, 0), ty_real);
    }
    check_expect(c, slot(d, 1), ty_real);
    d->call.dist = check_dist_lookup("normal") + 1;
    d->type = ty_wrap(c->a, TY_DIST, ty_real);
}

/* observe ks ~ categorical_logits(L): ks an int[] (L of shape [len(ks), K]) or an int (L of [K]) */
static void check_observe_categorical(Checker *c, Node *s, Type *vt) {
    Node *d = s->observe.dist;
    d->type = ty_wrap(c->a, TY_DIST, ty_int);
    if (!arity(d, "categorical_logits", 1, 1)) return;
    Type *L = expect_tensor(c, d, 0, "categorical_logits");
    bool many = vt->kind == TY_ARRAY && vt->elem->kind == TY_INT;
    if (!check_is_poison(vt) && !many && vt->kind != TY_INT) {
        diag_error(s->observe.value->loc, "categorical_logits observes an int or an int[], found %s", check_tname(c, vt));
        return;
    }
    if (known(L) && L->rank != (many ? 2 : 1))
        diag_error(arg(d, 0)->loc, "categorical_logits: %s needs logits of rank %d, found shape %s",
                   many ? "an int[] of labels" : "one label", many ? 2 : 1, shape_name(c, L));
}

bool check_tensor_observe(Checker *c, Node *s, Type *vt) {
    Node *d = s->observe.dist;
    bool named = d->kind == N_CALL && d->call.callee->kind == N_NAME && !check_lookup(c, d->call.callee->name.name);
    if (named && strcmp(d->call.callee->name.name, "categorical_logits") == 0) {
        check_observe_categorical(c, s, vt);
        return true;
    }
    if (vt->kind != TY_TENSOR) return false;
    if (named && strcmp(d->call.callee->name.name, "normal") == 0) check_observe_normal(c, s, vt);
    else diag_error(d->loc, "a tensor can only be observed against normal(...)");
    return true;
}
