/* ast.c - syntax tree nodes: allocation, kind names and the --dump-ast printer.
 * The dump is an S-expression per item; a node whose children are all leaves fits on one line. */
#include "ast.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Node *ast_new(Arena *a, NodeKind kind, Loc loc) {
    Node *n = arena_alloc(a, sizeof *n);
    n->kind = kind;
    n->loc = loc;
    return n;
}

static const char *const kind_names[] = {
#define X(k, s) s,
    NODE_KINDS(X)
#undef X
};

bool ast_is_definition(const Node *n) {
    return n->kind == N_FN || n->kind == N_MODEL || n->kind == N_GUIDE || n->kind == N_OBJECTIVE;
}

const char *ast_kind_name(NodeKind k) {
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

/* The dump first builds a tree of S-expressions (a head string and children), then lays it out. */
typedef struct Sx { const char *head; PtrVec kids; } Sx;

static Sx *sx_new(Arena *a, const char *head) {
    Sx *s = arena_alloc(a, sizeof *s);
    s->head = head;
    return s;
}

static void sx_add(Arena *a, Sx *s, Sx *kid) { vec_push(a, &s->kids, kid); }

static Sx *dump_node(Arena *a, const Node *n);

/* Adds a child for node n; absent optional children (NULL) are left out. */
static void add_node(Arena *a, Sx *s, const Node *n) {
    if (n) sx_add(a, s, dump_node(a, n));
}

/* `(label child)`, e.g. `(value (name x))` or `(named particles (int 100))` */
static void add_labeled(Arena *a, Sx *s, const char *label, const Node *n) {
    Sx *l = sx_new(a, label);
    add_node(a, l, n);
    sx_add(a, s, l);
}

/* The operator as written: lex_kind_name gives "'+'", the dump shows "+". */
static const char *op_text(Arena *a, TokKind op) {
    const char *q = lex_kind_name(op);
    size_t n = strlen(q);
    return n >= 2 && q[0] == '\'' ? arena_strndup(a, q + 1, n - 2) : q;
}

/* The shortest decimal that reads back as the same double, always with a '.' or exponent. */
static const char *real_text(Arena *a, double v) {
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".eEni")) strcat(buf, ".0");
    return arena_strndup(a, buf, strlen(buf));
}

/* A string literal in source form, escapes restored. */
static const char *quoted(Arena *a, const char *s, int len) {
    char *out = arena_alloc(a, 2 * (size_t)len + 3), *o = out;
    *o++ = '"';
    for (int i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\n') { *o++ = '\\'; *o++ = 'n'; }
        else if (c == '\t') { *o++ = '\\'; *o++ = 't'; }
        else if (c == '\\' || c == '"') { *o++ = '\\'; *o++ = c; }
        else *o++ = c;
    }
    *o++ = '"';
    return out;
}

/* "let x : real[]", "var x", "data y : real[]", "param mu : real" */
static const char *binding_head(Arena *a, const Node *n) {
    const char *kw = n->kind == N_LET ? (n->let.is_var ? "var" : "let") : ast_kind_name(n->kind);
    if (!n->let.ann) return arena_printf(a, "%s %s", kw, n->let.name);
    return arena_printf(a, "%s %s : %s", kw, n->let.name, ty_name(a, n->let.ann));
}

/* The node's kind and its non-node fields: names, operators, literal values. */
static const char *dump_head(Arena *a, const Node *n) {
    const char *k = ast_kind_name(n->kind);
    switch (n->kind) {
    case N_INT: return arena_printf(a, "int %lld", n->ival);
    case N_REAL: return arena_printf(a, "real %s", real_text(a, n->rval));
    case N_BOOL: return n->bval ? "bool true" : "bool false";
    case N_STRING: return arena_printf(a, "string %s", quoted(a, n->str.s, n->str.len));
    case N_NAME: return arena_printf(a, "name %s", n->name.name);
    case N_UNARY: case N_BINARY: return arena_printf(a, "%s %s", k, op_text(a, n->binary.op));
    case N_FIELD: return arena_printf(a, "field %s", n->field.field);
    case N_COMPREHENSION: return arena_printf(a, "comprehension %s", n->compr.var);
    case N_FOR: return arena_printf(a, "for %s", n->for_.var);
    case N_FN: case N_MODEL: case N_GUIDE: case N_OBJECTIVE: return arena_printf(a, "%s %s", k, n->fn.name);
    case N_LET: case N_DATA: case N_PARAM_DECL: return binding_head(a, n);
    case N_SAMPLE:
        if (!n->sample.as_name) return k;
        return arena_printf(a, "sample as %s", quoted(a, n->sample.as_name, (int)strlen(n->sample.as_name)));
    default: return k;
    }
}

static void dump_call(Arena *a, Sx *s, const Node *n) {
    add_node(a, s, n->call.callee);
    for (int i = 0; i < n->call.args.len; i++) {
        const char *name = n->call.argnames.len > i ? n->call.argnames.items[i] : NULL;
        if (name) add_labeled(a, s, arena_printf(a, "named %s", name), n->call.args.items[i]);
        else add_node(a, s, n->call.args.items[i]);
    }
}

static void dump_fn(Arena *a, Sx *s, const Node *n) {
    for (int i = 0; i < n->fn.params.len; i++) {
        const Param *pm = n->fn.params.items[i];
        sx_add(a, s, sx_new(a, arena_printf(a, "param %s %s", pm->name, pm->type ? ty_name(a, pm->type) : "?")));
    }
    if (n->fn.ret) sx_add(a, s, sx_new(a, arena_printf(a, "ret %s", ty_name(a, n->fn.ret))));
    add_node(a, s, n->fn.body);
}

static void dump_nodes(Arena *a, Sx *s, const PtrVec *v) {
    for (int i = 0; i < v->len; i++) add_node(a, s, v->items[i]);
}

/* The node's children, in source order. */
static void dump_kids(Arena *a, Sx *s, const Node *n) {
    switch (n->kind) {
    case N_UNARY: case N_CONVERT: add_node(a, s, n->binary.lhs); break;
    case N_BINARY: add_node(a, s, n->binary.lhs); add_node(a, s, n->binary.rhs); break;
    case N_CALL: dump_call(a, s, n); break;
    case N_INDEX:
        add_node(a, s, n->index.base); add_node(a, s, n->index.index);
        if (n->index.col) add_node(a, s, n->index.col);
        if (n->index.third) add_node(a, s, n->index.third);
        break;
    case N_FIELD: add_node(a, s, n->field.base); break;
    case N_ARRAY: dump_nodes(a, s, &n->array.elems); break;
    case N_COMPREHENSION:
        add_node(a, s, n->compr.body); add_node(a, s, n->compr.lo); add_node(a, s, n->compr.hi); break;
    case N_IF:
        add_node(a, s, n->if_.cond); add_node(a, s, n->if_.then); add_node(a, s, n->if_.els); break;
    case N_BLOCK:
        dump_nodes(a, s, &n->block.stmts);
        if (n->block.value) add_labeled(a, s, "value", n->block.value);
        break;
    case N_SAMPLE: add_node(a, s, n->sample.dist); break;
    case N_INFER: add_node(a, s, n->infer.model_call); add_node(a, s, n->infer.method); break;
    case N_LET: case N_DATA: case N_PARAM_DECL: add_node(a, s, n->let.init); break;
    case N_ASSIGN: add_node(a, s, n->assign.target); add_node(a, s, n->assign.value); break;
    case N_EXPR_STMT: case N_RETURN: case N_REWARD: case N_POTENTIAL: case N_CONDITION: add_node(a, s, n->stmt.expr); break;
    case N_FOR:
        add_node(a, s, n->for_.lo); add_node(a, s, n->for_.hi); add_node(a, s, n->for_.body); break;
    case N_WHILE: add_node(a, s, n->while_.cond); add_node(a, s, n->while_.body); break;
    case N_OBSERVE: add_node(a, s, n->observe.value); add_node(a, s, n->observe.dist); break;
    case N_FN: case N_MODEL: case N_GUIDE: case N_OBJECTIVE: dump_fn(a, s, n); break;
    default: break;
    }
}

static Sx *dump_node(Arena *a, const Node *n) {
    Sx *s = sx_new(a, dump_head(a, n));
    if (n->type) s->head = arena_printf(a, "%s <%s>", s->head, ty_name(a, n->type));
    dump_kids(a, s, n);
    return s;
}

static bool sx_flat(const Sx *s) {
    for (int i = 0; i < s->kids.len; i++)
        if (((Sx *)s->kids.items[i])->kids.len) return false;
    return true;
}

/* One line when every child is a leaf, else one child per line indented two more spaces. */
static void sx_print(const Sx *s, int indent) {
    printf("(%s", s->head);
    bool flat = sx_flat(s);
    for (int i = 0; i < s->kids.len; i++) {
        if (flat) putchar(' ');
        else printf("\n%*s", indent + 2, "");
        sx_print(s->kids.items[i], indent + 2);
    }
    putchar(')');
}

void ast_dump(const Program *p) {
    Arena a = {0};
    for (int i = 0; i < p->items.len; i++) {
        sx_print(dump_node(&a, p->items.items[i]), 0);
        putchar('\n');
    }
    arena_free(&a);
}
