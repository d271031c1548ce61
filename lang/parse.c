/* parse.c - recursive-descent parser from tokens to the syntax tree (grammar: DESIGN.md section 2).
 * An error is reported once per statement; the parser then skips to the statement's end and goes on. */
#include "parse.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Deepest nesting of expressions and blocks (and length of operator chains, which nest
 * the tree just as deeply). It keeps this parser and every later recursive pass off the
 * end of the C stack, whatever the input. */
enum { MAX_DEPTH = 200 };

typedef struct Parser {
    Arena *a;
    const Token *toks;
    int pos, len;
    int depth;
    bool panic;   /* this statement already has an error: report nothing more until the next */
} Parser;

typedef Node *(*ParseFn)(Parser *p);

static Node *parse_expr(Parser *p);
static Node *parse_unary(Parser *p);
static Node *parse_postfix(Parser *p);
static Node *parse_block(Parser *p);
static Node *parse_if(Parser *p);

/* ---- tokens ---- */

static const Token *peek(Parser *p) { return &p->toks[p->pos]; }

static TokKind peek_kind_at(Parser *p, int ahead) {
    int i = p->pos + ahead;
    return p->toks[i < p->len ? i : p->len - 1].kind;
}

static bool at(Parser *p, TokKind k) { return peek(p)->kind == k; }

/* The list ends in TK_EOF, which is never consumed, so peek() is always valid. */
static const Token *advance(Parser *p) {
    const Token *t = peek(p);
    if (t->kind != TK_EOF) p->pos++;
    return t;
}

static bool accept(Parser *p, TokKind k) {
    if (!at(p, k)) return false;
    advance(p);
    return true;
}

static bool ends_stmt(TokKind k) {
    return k == TK_NEWLINE || k == TK_SEMI || k == TK_RBRACE || k == TK_EOF;
}

/* ---- errors ---- */

static Node *error_at(Parser *p, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reports unless the statement already failed; always returns NULL so callers can `return error_at(...)`. */
static Node *error_at(Parser *p, Loc loc, const char *fmt, ...) {
    if (p->panic) return NULL;
    p->panic = true;
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    diag_error(loc, "%s", buf);
    return NULL;
}

/* "expected WHAT, found X". A TK_ERROR was already reported by the lexer: fail silently. */
static Node *expected(Parser *p, const char *what) {
    const Token *t = peek(p);
    if (t->kind == TK_ERROR) { p->panic = true; return NULL; }
    if (t->kind == TK_IDENT)
        return error_at(p, t->loc, "expected %s, found identifier '%s'", what, t->text);
    return error_at(p, t->loc, "expected %s, found %s", what, lex_kind_name(t->kind));
}

static const Token *expect(Parser *p, TokKind k) {
    if (at(p, k)) return advance(p);
    expected(p, lex_kind_name(k));
    return NULL;
}

/* Counts one level of nesting; false (after reporting) past MAX_DEPTH. Callers save and
 * restore p->depth around the nested parse. */
static bool enter(Parser *p) {
    if (++p->depth <= MAX_DEPTH) return true;
    error_at(p, peek(p)->loc, "nesting too deep");
    return false;
}

/* Skips to the end of the failed statement: a NEWLINE or ';' outside any bracket group,
 * the '}' closing the current block (a stray '}' at top level is skipped), or EOF. */
static void parse_sync(Parser *p, bool top) {
    int depth = 0;
    for (;;) {
        TokKind k = peek(p)->kind;
        if (k == TK_EOF) return;
        if (depth == 0 && (k == TK_NEWLINE || k == TK_SEMI || (k == TK_RBRACE && !top))) return;
        if (k == TK_LPAREN || k == TK_LBRACKET || k == TK_LBRACE) depth++;
        else if ((k == TK_RPAREN || k == TK_RBRACKET || k == TK_RBRACE) && depth > 0) depth--;
        advance(p);
    }
}

/* ---- types ---- */

static Type *type_named(const Token *t) {
    static const struct { const char *name; Type **type; } names[] = {
        {"real", &ty_real}, {"int", &ty_int}, {"bool", &ty_bool}, {"string", &ty_string},
        {"mat", &ty_mat}, {"tensor", &ty_tensor},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(t->text, names[i].name) == 0) return *names[i].type;
    return NULL;
}

static Type *parse_type(Parser *p);

/* "posterior" "<" (type | "(" ")") ">": a posterior of a model's return type, such as
 * posterior<real>, or posterior<()> for a model without a value */
static Type *parse_posterior_type(Parser *p) {
    if (!expect(p, TK_LT)) return NULL;
    const Token *at = peek(p);
    Type *elem = ty_unit;
    if (accept(p, TK_LPAREN)) {
        if (!expect(p, TK_RPAREN)) return NULL;
    } else if (!(elem = parse_type(p))) {
        return NULL;
    }
    if (!expect(p, TK_GT)) return NULL;
    if (elem != ty_unit && elem != ty_real && elem != ty_int && elem != ty_bool && elem != ty_error) {
        error_at(p, at->loc, "a posterior is of real, int, bool or (), the types models return");
        return ty_error;
    }
    return elem == ty_error ? ty_error : ty_wrap(p->a, TY_POSTERIOR, elem);
}

/* type = IDENT {"[" "]"} | "posterior" "<" ... ">" {"[" "]"}
 * (an unknown name is reported and becomes ty_error) */
static Type *parse_type(Parser *p) {
    const Token *t = peek(p);
    if (t->kind != TK_IDENT) { expected(p, "type"); return NULL; }
    advance(p);
    Type *ty = strcmp(t->text, "posterior") == 0 ? parse_posterior_type(p) : type_named(t);
    if (!ty && strcmp(t->text, "posterior") == 0) return NULL;
    if (!ty) { error_at(p, t->loc, "unknown type '%s'", t->text); ty = ty_error; }
    while (accept(p, TK_LBRACKET)) {
        if (!expect(p, TK_RBRACKET)) return NULL;
        if (ty != ty_error) ty = ty_array(p->a, ty);
    }
    return ty;
}

/* ---- expressions ---- */

static Node *binary(Parser *p, const Token *op, Node *lhs, Node *rhs) {
    Node *n = ast_new(p->a, N_BINARY, op->loc);
    n->binary.op = op->kind;
    n->binary.lhs = lhs;
    n->binary.rhs = rhs;
    return n;
}

static bool is_one_of(TokKind k, const TokKind *ops) {
    for (; *ops != TK_EOF; ops++)
        if (*ops == k) return true;
    return false;
}

/* lhs { op rhs }, left-associative; `ops` ends with TK_EOF. */
static Node *parse_left_assoc(Parser *p, ParseFn next, const TokKind *ops) {
    int saved = p->depth;
    Node *lhs = next(p);
    while (lhs && is_one_of(peek(p)->kind, ops)) {
        const Token *op = advance(p);
        Node *rhs = enter(p) ? next(p) : NULL;
        lhs = rhs ? binary(p, op, lhs, rhs) : NULL;
    }
    p->depth = saved;
    return lhs;
}

/* "(" expr ")" */
static Node *parse_paren(Parser *p) {
    advance(p);
    Node *e = parse_expr(p);
    return e && expect(p, TK_RPAREN) ? e : NULL;
}

/* range = IDENT "in" expr ".." expr      (shared by `for` and comprehensions) */
static bool parse_range(Parser *p, const char **var, Node **lo, Node **hi) {
    const Token *v = expect(p, TK_IDENT);
    if (!v || !expect(p, TK_IN) || !(*lo = parse_expr(p)) || !expect(p, TK_DOTDOT)) return false;
    *var = v->text;
    return (*hi = parse_expr(p)) != NULL;
}

/* comprehension = "[" expr "for" range "]"      (the "[" and body already parsed) */
static Node *parse_comprehension(Parser *p, const Token *lb, Node *body) {
    advance(p);
    Node *n = ast_new(p->a, N_COMPREHENSION, lb->loc);
    n->compr.body = body;
    if (!parse_range(p, &n->compr.var, &n->compr.lo, &n->compr.hi)) return NULL;
    return expect(p, TK_RBRACKET) ? n : NULL;
}

/* array = "[" "]" | "[" expr {"," expr} [","] "]" | comprehension */
static Node *parse_array(Parser *p) {
    const Token *lb = advance(p);
    Node *n = ast_new(p->a, N_ARRAY, lb->loc);
    if (accept(p, TK_RBRACKET)) return n;
    Node *e = parse_expr(p);
    if (!e) return NULL;
    if (at(p, TK_FOR)) return parse_comprehension(p, lb, e);
    vec_push(p->a, &n->array.elems, e);
    while (accept(p, TK_COMMA) && !at(p, TK_RBRACKET)) {
        if (!(e = parse_expr(p))) return NULL;
        vec_push(p->a, &n->array.elems, e);
    }
    return expect(p, TK_RBRACKET) ? n : NULL;
}

/* infer = "infer" postfix "by" postfix */
static Node *parse_infer(Parser *p) {
    const Token *kw = advance(p);
    Node *n = ast_new(p->a, N_INFER, kw->loc);
    int saved = p->depth;
    if (enter(p) && (n->infer.model_call = parse_postfix(p)) && expect(p, TK_BY))
        n->infer.method = parse_postfix(p);
    p->depth = saved;
    return n->infer.method ? n : NULL;
}

static Node *literal(Parser *p, NodeKind kind) {
    const Token *t = advance(p);
    Node *n = ast_new(p->a, kind, t->loc);
    switch (kind) {
    case N_INT: n->ival = t->ival; break;
    case N_REAL: n->rval = t->rval; break;
    case N_BOOL: n->bval = t->kind == TK_TRUE; break;
    case N_STRING: n->str.s = t->text; n->str.len = t->len; break;
    default: n->name.name = t->text; break;
    }
    return n;
}

/* primary = INT | REAL | STRING | "true" | "false" | IDENT | "(" expr ")" | array
 *         | if_expr | block | infer */
static Node *parse_primary(Parser *p) {
    switch (peek(p)->kind) {
    case TK_INT: return literal(p, N_INT);
    case TK_REAL: return literal(p, N_REAL);
    case TK_STRING: return literal(p, N_STRING);
    case TK_TRUE: case TK_FALSE: return literal(p, N_BOOL);
    case TK_IDENT: return literal(p, N_NAME);
    case TK_LPAREN: return parse_paren(p);
    case TK_LBRACKET: return parse_array(p);
    case TK_IF: return parse_if(p);
    case TK_LBRACE: return parse_block(p);
    case TK_INFER: return parse_infer(p);
    default: return expected(p, "expression");
    }
}

/* A named argument's name: an identifier, or a keyword such as `guide` or `objective`. */
static bool is_arg_name(TokKind k) { return k == TK_IDENT || (k >= TK_FN && k < TK_COUNT); }

/* arg = IDENT "=" expr | expr */
static bool parse_arg(Parser *p, Node *call) {
    const char *name = NULL;
    if (is_arg_name(peek(p)->kind) && peek_kind_at(p, 1) == TK_ASSIGN) {
        name = advance(p)->text;
        advance(p);
    }
    Node *e = parse_expr(p);
    if (!e) return false;
    vec_push(p->a, &call->call.args, e);
    vec_push(p->a, &call->call.argnames, (void *)name);
    return true;
}

/* call = postfix "(" [arg {"," arg} [","]] ")"      (loc: the callee's first token) */
static Node *parse_call(Parser *p, Node *callee, Loc first) {
    advance(p);
    Node *n = ast_new(p->a, N_CALL, first);
    n->call.callee = callee;
    while (!at(p, TK_RPAREN)) {
        if (!parse_arg(p, n)) return NULL;
        if (!accept(p, TK_COMMA)) break;
    }
    return expect(p, TK_RPAREN) ? n : NULL;
}

/* index = postfix "[" expr ["," expr ["," expr]] "]"   (an element of a mat or a tensor) */
static Node *parse_index(Parser *p, Node *base) {
    const Token *lb = advance(p);
    Node *n = ast_new(p->a, N_INDEX, lb->loc);
    n->index.base = base;
    n->index.index = parse_expr(p);
    if (n->index.index && accept(p, TK_COMMA) && !(n->index.col = parse_expr(p))) return NULL;
    if (n->index.col && accept(p, TK_COMMA) && !(n->index.third = parse_expr(p))) return NULL;
    return n->index.index && expect(p, TK_RBRACKET) ? n : NULL;
}

/* field = postfix "." IDENT */
static Node *parse_field(Parser *p, Node *base) {
    advance(p);
    const Token *name = expect(p, TK_IDENT);
    if (!name) return NULL;
    Node *n = ast_new(p->a, N_FIELD, name->loc);
    n->field.base = base;
    n->field.field = name->text;
    return n;
}

/* postfix = primary { "(" args ")" | "[" expr "]" | "." IDENT }
 * A "{" is never a postfix operator, so `if x {` and `for i in 0 .. n {` need no special case. */
static Node *parse_postfix(Parser *p) {
    int saved = p->depth;
    Loc first = peek(p)->loc;
    Node *n = parse_primary(p);
    while (n && (at(p, TK_LPAREN) || at(p, TK_LBRACKET) || at(p, TK_DOT))) {
        if (!enter(p)) { n = NULL; break; }
        if (at(p, TK_LPAREN)) n = parse_call(p, n, first);
        else if (at(p, TK_LBRACKET)) n = parse_index(p, n);
        else n = parse_field(p, n);
    }
    p->depth = saved;
    return n;
}

static Node *parse_sample_as(Parser *p, const Token *kw, Node *dist);

/* power = ( "sample" postfix ["as" STRING] ["by" STRING] | postfix ) [ "^" unary ]
 * (right-associative, tighter than unary minus; `sample D^2` squares the draw) */
static Node *parse_power(Parser *p) {
    Node *base;
    if (at(p, TK_SAMPLE)) {
        const Token *kw = advance(p);
        Node *dist = parse_postfix(p);
        base = dist ? parse_sample_as(p, kw, dist) : NULL;
    } else {
        base = parse_postfix(p);
    }
    if (!base || !at(p, TK_CARET)) return base;
    const Token *op = advance(p);
    int saved = p->depth;
    Node *exp = enter(p) ? parse_unary(p) : NULL;
    p->depth = saved;
    return exp ? binary(p, op, base, exp) : NULL;
}

/* the ["as" STRING] ["by" STRING] after `sample D`: the site's name and, in a guide, its
 * gradient estimator */
static Node *parse_sample_as(Parser *p, const Token *kw, Node *dist) {
    Node *n = ast_new(p->a, N_SAMPLE, kw->loc);
    n->sample.dist = dist;
    if (accept(p, TK_AS)) {
        const Token *name = expect(p, TK_STRING);
        if (!name) return NULL;
        n->sample.as_name = name->text;
    }
    if (accept(p, TK_BY)) {
        const Token *by = expect(p, TK_STRING);
        if (!by) return NULL;
        n->sample.by = by->text;
        n->sample.by_loc = by->loc;
    }
    return n;
}

/* unary = ("-" | "!") unary | power */
static Node *parse_unary(Parser *p) {
    const Token *t = peek(p);
    if (t->kind != TK_MINUS && t->kind != TK_NOT) return parse_power(p);
    advance(p);
    int saved = p->depth;
    Node *operand = enter(p) ? parse_unary(p) : NULL;
    p->depth = saved;
    if (!operand) return NULL;
    Node *n = ast_new(p->a, N_UNARY, t->loc);
    n->binary.op = t->kind;
    n->binary.lhs = operand;
    return n;
}

/* mul = unary { ("*" | "/" | "%") unary } */
static Node *parse_mul(Parser *p) {
    static const TokKind ops[] = {TK_STAR, TK_SLASH, TK_PERCENT, TK_EOF};
    return parse_left_assoc(p, parse_unary, ops);
}

/* add = mul { ("+" | "-") mul } */
static Node *parse_add(Parser *p) {
    static const TokKind ops[] = {TK_PLUS, TK_MINUS, TK_EOF};
    return parse_left_assoc(p, parse_mul, ops);
}

static bool is_cmp(TokKind k) {
    return k == TK_EQ || k == TK_NE || k == TK_LT || k == TK_LE || k == TK_GT || k == TK_GE;
}

/* cmp = add [ ("==" | "!=" | "<" | "<=" | ">" | ">=") add ]     (no chains: a < b < c) */
static Node *parse_cmp(Parser *p) {
    Node *lhs = parse_add(p);
    if (!lhs || !is_cmp(peek(p)->kind)) return lhs;
    const Token *op = advance(p);
    Node *rhs = parse_add(p);
    if (!rhs) return NULL;
    if (is_cmp(peek(p)->kind)) return error_at(p, peek(p)->loc, "comparison operators cannot be chained");
    return binary(p, op, lhs, rhs);
}

/* and = cmp { "&&" cmp } */
static Node *parse_and(Parser *p) {
    static const TokKind ops[] = {TK_AND, TK_EOF};
    return parse_left_assoc(p, parse_cmp, ops);
}

/* or = and { "||" and } */
static Node *parse_or(Parser *p) {
    static const TokKind ops[] = {TK_OR, TK_EOF};
    return parse_left_assoc(p, parse_and, ops);
}

/* expr = or */
static Node *parse_expr(Parser *p) {
    int saved = p->depth;
    Node *n = enter(p) ? parse_or(p) : NULL;
    p->depth = saved;
    return n;
}

/* if_expr = "if" expr block [ "else" (block | if_expr) ]   (a newline may come before "else") */
static Node *parse_if_rest(Parser *p) {
    const Token *kw = advance(p);
    Node *n = ast_new(p->a, N_IF, kw->loc);
    if (!(n->if_.cond = parse_expr(p)) || !(n->if_.then = parse_block(p))) return NULL;
    if (at(p, TK_NEWLINE) && peek_kind_at(p, 1) == TK_ELSE) advance(p);
    if (!accept(p, TK_ELSE)) return n;
    n->if_.els = at(p, TK_IF) ? parse_if(p) : parse_block(p);
    return n->if_.els ? n : NULL;
}

static Node *parse_if(Parser *p) {
    int saved = p->depth;
    Node *n = enter(p) ? parse_if_rest(p) : NULL;
    p->depth = saved;
    return n;
}

/* ---- statements ---- */

static Node *parse_stmt(Parser *p, bool top);

/* sep = NEWLINE | ";" */
static void parse_seps(Parser *p) {
    while (at(p, TK_NEWLINE) || at(p, TK_SEMI)) advance(p);
}

/* end = NEWLINE | ";" | (lookahead "}" or EOF) */
static bool parse_end(Parser *p) {
    if (accept(p, TK_NEWLINE) || accept(p, TK_SEMI)) return true;
    if (at(p, TK_RBRACE) || at(p, TK_EOF)) return true;
    expected(p, "newline or ';' after statement");
    return false;
}

/* { stmt end {sep} } up to "}" (in a block) or EOF; a failed statement is skipped. */
static void parse_stmt_list(Parser *p, PtrVec *out, bool top) {
    parse_seps(p);
    while (!at(p, TK_EOF) && !(at(p, TK_RBRACE) && !top)) {
        int start = p->pos;
        p->panic = false;
        Node *n = parse_stmt(p, top);
        if (n && !parse_end(p)) n = NULL;
        if (n) vec_push(p->a, out, n);
        else parse_sync(p, top);
        if (p->pos == start) advance(p);   /* always make progress */
        parse_seps(p);
    }
}

/* A trailing expression statement is the block's value. */
static void take_value(Node *block) {
    PtrVec *s = &block->block.stmts;
    Node *last = s->len ? s->items[s->len - 1] : NULL;
    if (!last || last->kind != N_EXPR_STMT) return;
    block->block.value = last->stmt.expr;
    s->len--;
}

/* block = "{" {sep} { stmt end {sep} } "}" */
static Node *parse_block(Parser *p) {
    const Token *lb = expect(p, TK_LBRACE);
    if (!lb) return NULL;
    Node *n = ast_new(p->a, N_BLOCK, lb->loc);
    int saved = p->depth;
    if (enter(p)) parse_stmt_list(p, &n->block.stmts, false);
    p->depth = saved;
    if (!expect(p, TK_RBRACE)) return NULL;
    take_value(n);
    return n;
}

/* binding = IDENT [":" type] ["=" expr]     (the type or initializer may be required) */
static Node *parse_binding(Parser *p, Node *n, bool need_type, bool need_init) {
    const Token *name = expect(p, TK_IDENT);
    if (!name) return NULL;
    n->let.name = name->text;
    if ((need_type || at(p, TK_COLON)) && (!expect(p, TK_COLON) || !(n->let.ann = parse_type(p))))
        return NULL;
    if ((need_init || at(p, TK_ASSIGN)) && (!expect(p, TK_ASSIGN) || !(n->let.init = parse_expr(p))))
        return NULL;
    return n;
}

/* stmt = ("let" | "var") IDENT [":" type] "=" expr */
static Node *parse_let(Parser *p) {
    const Token *kw = advance(p);
    Node *n = ast_new(p->a, N_LET, kw->loc);
    n->let.is_var = kw->kind == TK_VAR;
    return parse_binding(p, n, false, true);
}

/* stmt = "param" IDENT ":" type "=" expr */
static Node *parse_param_decl(Parser *p) {
    Node *n = ast_new(p->a, N_PARAM_DECL, advance(p)->loc);
    return parse_binding(p, n, true, true);
}

/* data_decl = "data" IDENT ":" type ["=" expr] */
static Node *parse_data_decl(Parser *p) {
    Node *n = ast_new(p->a, N_DATA, advance(p)->loc);
    return parse_binding(p, n, true, false);
}

/* stmt = "for" IDENT "in" expr ".." expr block */
static Node *parse_for(Parser *p) {
    Node *n = ast_new(p->a, N_FOR, advance(p)->loc);
    if (!parse_range(p, &n->for_.var, &n->for_.lo, &n->for_.hi)) return NULL;
    return (n->for_.body = parse_block(p)) ? n : NULL;
}

/* stmt = "while" expr block */
static Node *parse_while(Parser *p) {
    Node *n = ast_new(p->a, N_WHILE, advance(p)->loc);
    if (!(n->while_.cond = parse_expr(p))) return NULL;
    return (n->while_.body = parse_block(p)) ? n : NULL;
}

/* stmt = "return" [expr] | "reward" expr | "potential" expr */
static Node *parse_keyword_expr(Parser *p, NodeKind kind) {
    Node *n = ast_new(p->a, kind, advance(p)->loc);
    if (kind == N_RETURN && ends_stmt(peek(p)->kind)) return n;
    return (n->stmt.expr = parse_expr(p)) ? n : NULL;
}

/* stmt = "observe" expr "~" expr */
static Node *parse_observe(Parser *p) {
    Node *n = ast_new(p->a, N_OBSERVE, advance(p)->loc);
    if (!(n->observe.value = parse_expr(p)) || !expect(p, TK_TILDE)) return NULL;
    return (n->observe.dist = parse_expr(p)) ? n : NULL;
}

/* params = [param {"," param} [","]] ")"      param = IDENT ":" type */
static bool parse_params(Parser *p, Node *fn) {
    while (!at(p, TK_RPAREN)) {
        const Token *name = expect(p, TK_IDENT);
        Type *ty = name && expect(p, TK_COLON) ? parse_type(p) : NULL;
        if (!ty) return false;
        Param *pm = arena_alloc(p->a, sizeof *pm);
        *pm = (Param){.name = name->text, .type = ty, .loc = name->loc};
        vec_push(p->a, &fn->fn.params, pm);
        if (!accept(p, TK_COMMA)) break;
    }
    return expect(p, TK_RPAREN) != NULL;
}

static NodeKind definition_kind(TokKind kw) {
    switch (kw) {
    case TK_FN: return N_FN;
    case TK_MODEL: return N_MODEL;
    case TK_GUIDE: return N_GUIDE;
    default: return N_OBJECTIVE;
    }
}

/* fn_def        = "fn" IDENT "(" [params] ")" ["->" type] block
 * model_def     = "model" IDENT "(" [params] ")" ["->" type] block
 * guide_def     = "guide" IDENT "(" [params] ")" block
 * objective_def = "objective" IDENT "(" [params] ")" block     (its value is a real) */
static Node *parse_fn_def(Parser *p) {
    const Token *kw = advance(p);
    Node *n = ast_new(p->a, definition_kind(kw->kind), kw->loc);
    const Token *name = expect(p, TK_IDENT);
    if (!name || !expect(p, TK_LPAREN) || !parse_params(p, n)) return NULL;
    n->fn.name = name->text;
    if (accept(p, TK_ARROW) && !(n->fn.ret = parse_type(p))) return NULL;
    return (n->fn.body = parse_block(p)) ? n : NULL;
}

static bool valid_target(const Node *e) {
    while (e->kind == N_INDEX) e = e->index.base;
    return e->kind == N_NAME;
}

/* stmt = expr "=" expr | expr      (an assignment is located at its target) */
static Node *parse_simple(Parser *p) {
    Loc first = peek(p)->loc;
    Node *e = parse_expr(p);
    if (!e) return NULL;
    if (!at(p, TK_ASSIGN)) {
        Node *n = ast_new(p->a, N_EXPR_STMT, first);
        n->stmt.expr = e;
        return n;
    }
    if (!valid_target(e)) return error_at(p, e->loc, "invalid assignment target");
    advance(p);
    Node *n = ast_new(p->a, N_ASSIGN, e->loc);
    n->assign.target = e;
    return (n->assign.value = parse_expr(p)) ? n : NULL;
}

/* stmt = let | var | for | while | return | break | continue | observe | reward | potential | condition
 *      | param | fn_def | model_def | guide_def | objective_def | data_decl (top level only)
 *      | assignment | expr */
static Node *parse_stmt(Parser *p, bool top) {
    const Token *t = peek(p);
    switch (t->kind) {
    case TK_LET: case TK_VAR: return parse_let(p);
    case TK_FOR: return parse_for(p);
    case TK_WHILE: return parse_while(p);
    case TK_RETURN: return parse_keyword_expr(p, N_RETURN);
    case TK_REWARD: return parse_keyword_expr(p, N_REWARD);
    case TK_POTENTIAL: return parse_keyword_expr(p, N_POTENTIAL);
    case TK_CONDITION: return parse_keyword_expr(p, N_CONDITION);
    case TK_BREAK: return ast_new(p->a, N_BREAK, advance(p)->loc);
    case TK_CONTINUE: return ast_new(p->a, N_CONTINUE, advance(p)->loc);
    case TK_OBSERVE: return parse_observe(p);
    case TK_PARAM: return parse_param_decl(p);
    case TK_FN: case TK_MODEL: case TK_GUIDE: case TK_OBJECTIVE: case TK_DATA:
        if (!top) return error_at(p, t->loc, "'%s' definitions are only allowed at top level", t->text);
        return t->kind == TK_DATA ? parse_data_decl(p) : parse_fn_def(p);
    default: return parse_simple(p);
    }
}

/* program = { sep } { (item | stmt) end } EOF */
void parse_program(Arena *a, const TokenList *tl, Program *prog) {
    if (tl->len == 0) return;
    Parser p = {.a = a, .toks = tl->toks, .len = tl->len};
    parse_stmt_list(&p, &prog->items, true);
}
