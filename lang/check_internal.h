/* check_internal.h - the checker's state and the helpers shared by its files.
 * check.c holds the core checker, check_prob.c the probabilistic constructs. */
#ifndef PPL_CHECK_INTERNAL_H
#define PPL_CHECK_INTERNAL_H
#include "check.h"

/* A scope's symbols in declaration order, and past a few of them a hash table over their
 * names too (open addressing, at most half full): a program of 40 000 top-level lets must
 * not take a linear search per name. */
typedef struct Scope {
    struct Scope *parent;
    PtrVec syms;
    Symbol **table;
    int cap;            /* slots in table: 0 or a power of two */
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
    bool in_objective;   /* c->fn is an objective: draws(K) is allowed */
    Node *prechecked;    /* an argument already checked (check_expr returns its type once) */
    PtrVec vi_infers;    /* `infer ... by vi(...)` nodes: their sites are paired at the end */
    PtrVec enum_infers;  /* `infer ... by enumerate()` nodes: their models' sites are checked at the end */
} Checker;

/* check.c */
const char *check_tname(Checker *c, const Type *t);
Symbol *check_lookup(Checker *c, const char *name);
Symbol *check_declare(Checker *c, SymKind kind, const char *name, Type *type, Loc loc, Node *decl);
bool check_is_poison(const Type *t);
bool check_coerce(Checker *c, Node **slot, Type *want);
Type *check_expect(Checker *c, Node **slot, Type *want);
Type *check_expr(Checker *c, Node *e, Type *hint);
Type *check_dist(Checker *c, Node *e);
void check_args_against(Checker *c, Node *e, const char *name, Type **params, int n);
/* logp(m(args), post, i), logp(m(args), names, values), predict(m(args), post) */
Type *check_model_builtin(Checker *c, Node *e, const char *name, int id);
void check_fn(Checker *c, Node *f);

/* check_tensor.c: tensor builtins, arithmetic and indexing, with static shapes where known.
 * check_tensor_overload: whether builtin id also takes a tensor first argument. */
bool check_tensor_overload(int id);
bool check_tensor_only(int id);
Type *check_tensor_builtin(Checker *c, Node *e, const char *name, int id);
Type *check_tensor_binary(Checker *c, Node *e, Type *l, Type *r);
Type *check_tensor_index(Checker *c, Node *e, Type *base);
Type *check_tensor_join(Type *x, Type *y);
/* observe t ~ normal(mu, sigma) for a tensor t, observe k ~ categorical_logits(L): true if s is one */
bool check_tensor_observe(Checker *c, Node *s, Type *vt);

/* check_prob.c */
int check_dist_lookup(const char *name);
Type *check_dist_call(Checker *c, Node *e, int kind);
Type *check_sample(Checker *c, Node *e);
Type *check_infer(Checker *c, Node *e);
void check_observe(Checker *c, Node *s);
void check_weight_stmt(Checker *c, Node *s);
void check_condition_stmt(Checker *c, Node *s);
void check_param_decl(Checker *c, Node *s);
void check_guide(Checker *c, Node *g);
void check_objective(Checker *c, Node *o);
Type *check_draws(Checker *c, Node *e);
void check_model(Checker *c, Node *m);
void check_pair_vi(Checker *c, Node *e);
void check_enumerable(Checker *c, Node *e);
void check_pair_unused_guides(Checker *c, Program *prog);
Symbol *check_default_objective(Checker *c);
void check_model_mode_objectives(Program *prog);

#endif
