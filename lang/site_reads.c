/* site_reads.c - which infer calls must keep their sample sites' values (trace = true by
 * default) and every draw's value and weight (is's draws = true): those whose posterior the
 * program may read them of. Statistics of the return value (mean, sd, quantile, plot) and
 * the fields (log_evidence, ess, params, ...) read no site, and of those only quantile,
 * plot, weights and values need the draws; a statistic of a site reads the sites;
 * printing a posterior, logp, predict, passing it to a function, storing it or returning it
 * may. A posterior bound by `let` is decided by every use of its name. Not run on REPL
 * cells (a later cell may print the value), where every infer keeps its sites. */
#include "check.h"
#include "ast.h"
#include "builtins.h"
#include "rt_methods.h"
#include <string.h>

/* How a posterior is used: its sites (and draws) may be read; its draws only (quantile,
 * plot); or only running sums (mean, sd, the fields). */
typedef enum Use { USE_ANY, USE_DRAWS, USE_STAT } Use;

/* The infer nodes bound by a `let`, decided once every name has been seen. */
typedef struct Binding { Node *infer; Symbol *sym; } Binding;
typedef struct Reads { Arena *a; Binding *bind; int nbind, cap; } Reads;

static void walk(Reads *r, Node *n, Use use, Symbol *bound);

static void walk_vec(Reads *r, PtrVec *v) {
    for (int i = 0; i < v->len; i++) walk(r, v->items[i], USE_ANY, NULL);
}

static void bind(Reads *r, Node *infer, Symbol *sym) {
    if (r->nbind == r->cap) {
        int cap = r->cap ? 2 * r->cap : 16;
        Binding *b = arena_alloc(r->a, sizeof *b * (size_t)cap);
        for (int i = 0; i < r->nbind; i++) b[i] = r->bind[i];
        r->bind = b, r->cap = cap;
    }
    r->bind[r->nbind++] = (Binding){infer, sym};
}

/* A statistic of a site (`mean(post, "x[3]")`, `quantile(post, q, "x")`) reads the sites. */
static Use first_arg_use(const Node *call) {
    int builtin = call->call.builtin, n = call->call.args.len;
    if ((builtin == BI_MEAN || builtin == BI_SD) && n == 1) return USE_STAT;
    if ((builtin == BI_QUANTILE && n == 2) || builtin == BI_PLOT) return USE_DRAWS;
    return USE_ANY;
}

static void walk_call(Reads *r, Node *n) {
    for (int i = 0; i < n->call.args.len; i++)
        walk(r, n->call.args.items[i], i == 0 ? first_arg_use(n) : USE_ANY, NULL);
}

/* post.weights and post.values are the draws, and k-hat is fitted to the largest weights;
 * the other fields are statistics. */
static Use field_use(const Node *n) {
    const char *f = n->field.field;
    return !strcmp(f, "weights") || !strcmp(f, "values") || !strcmp(f, "pareto_k") ? USE_DRAWS : USE_STAT;
}

static void decide(Node *infer, bool sites, bool draws) {
    infer->infer.drop_sites = !sites;
    infer->infer.drop_draws = !sites && !draws;
}

/* n's value is used as `use`; bound: the `let` symbol it initializes (NULL: none). */
static void walk(Reads *r, Node *n, Use use, Symbol *bound) {
    if (!n) return;
    switch (n->kind) {
    case N_NAME:
        if (n->name.sym) {
            n->name.sym->reads_sites |= use == USE_ANY;
            n->name.sym->reads_draws |= use == USE_DRAWS;
        }
        return;
    case N_INFER:
        if (bound) bind(r, n, bound);
        else decide(n, use == USE_ANY, use == USE_DRAWS);
        walk(r, n->infer.model_call, USE_ANY, NULL);
        for (int k = 0; n->infer.opt && k < RT_NOPTIONS; k++) walk(r, n->infer.opt[k], USE_ANY, NULL);
        return;
    case N_FIELD: walk(r, n->field.base, field_use(n), NULL); return;
    case N_CALL: walk_call(r, n); return;
    case N_IF:
        walk(r, n->if_.cond, USE_ANY, NULL);
        walk(r, n->if_.then, use, bound);
        walk(r, n->if_.els, use, bound);
        return;
    case N_BLOCK: {
        bool value_seen = false;
        for (int i = 0; i < n->block.stmts.len; i++) {
            Node *s = n->block.stmts.items[i];
            bool is_value = n->block.value && s->kind == N_EXPR_STMT && s->stmt.expr == n->block.value;
            value_seen |= is_value;
            walk(r, s, is_value ? use : USE_ANY, is_value ? bound : NULL);
        }
        if (!value_seen) walk(r, n->block.value, use, bound);
        return;
    }
    case N_EXPR_STMT: walk(r, n->stmt.expr, use, bound); return;
    case N_LET: case N_DATA: case N_PARAM_DECL:
        walk(r, n->let.init, USE_ANY, n->let.is_var ? NULL : n->let.sym);
        return;
    case N_UNARY: case N_BINARY: case N_CONVERT:
        walk(r, n->binary.lhs, USE_ANY, NULL);
        walk(r, n->binary.rhs, USE_ANY, NULL);
        return;
    case N_INDEX:
        walk(r, n->index.base, USE_ANY, NULL);
        walk(r, n->index.index, USE_ANY, NULL);
        walk(r, n->index.col, USE_ANY, NULL);
        return;
    case N_ARRAY: walk_vec(r, &n->array.elems); return;
    case N_COMPREHENSION:
        walk(r, n->compr.body, USE_ANY, NULL);
        walk(r, n->compr.lo, USE_ANY, NULL);
        walk(r, n->compr.hi, USE_ANY, NULL);
        return;
    case N_SAMPLE: walk(r, n->sample.dist, USE_ANY, NULL); return;
    case N_ASSIGN:
        walk(r, n->assign.target, USE_ANY, NULL);
        walk(r, n->assign.value, USE_ANY, NULL);
        return;
    case N_RETURN: case N_REWARD: case N_POTENTIAL: case N_CONDITION: walk(r, n->stmt.expr, USE_ANY, NULL); return;
    case N_FOR:
        walk(r, n->for_.lo, USE_ANY, NULL);
        walk(r, n->for_.hi, USE_ANY, NULL);
        walk(r, n->for_.body, USE_ANY, NULL);
        return;
    case N_WHILE:
        walk(r, n->while_.cond, USE_ANY, NULL);
        walk(r, n->while_.body, USE_ANY, NULL);
        return;
    case N_OBSERVE:
        walk(r, n->observe.value, USE_ANY, NULL);
        walk(r, n->observe.dist, USE_ANY, NULL);
        return;
    case N_FN: case N_MODEL: case N_GUIDE: case N_OBJECTIVE: walk(r, n->fn.body, USE_ANY, NULL); return;
    default: return;   /* literals, break, continue */
    }
}

void check_site_reads(Arena *a, Program *prog) {
    Reads r = {.a = a};
    for (int i = 0; i < prog->items.len; i++) walk(&r, prog->items.items[i], USE_ANY, NULL);
    for (int i = 0; i < r.nbind; i++) decide(r.bind[i].infer, r.bind[i].sym->reads_sites, r.bind[i].sym->reads_draws);
}
