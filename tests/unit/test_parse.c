/* test_parse.c - unit tests of lang/parse.c and lang/ast.c: precedence, statements, blocks,
 * error messages with recovery, nesting limits, and robustness on every prefix of a program. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"
#include "front_util.h"
#include "test_util.h"

static Program parse(const char *text) {
    TokenList tl = lex(text);
    Program p = {0};
    parse_program(&arena, &tl, &p);
    return p;
}

/* Parses text that must be error-free and have exactly one item. */
static Node *parse_one(const char *text) {
    Program p = parse(text);
    if (diag_error_count() != 0) fail_msg("unexpected errors in: %s", text);
    assert_int_equal(p.items.len, 1);
    return p.items.items[0];
}

static Node *item(Program *p, int i) { return p->items.items[i]; }

/* A compact one-line form of an expression, for checking the tree's shape. */
static void show(const Node *n, FILE *f) {
    switch (n->kind) {
    case N_INT: fprintf(f, "%lld", n->ival); break;
    case N_REAL: fprintf(f, "%g", n->rval); break;
    case N_NAME: fprintf(f, "%s", n->name.name); break;
    case N_UNARY:
        fprintf(f, "(%s ", n->binary.op == TK_MINUS ? "-" : "!");
        show(n->binary.lhs, f);
        fputc(')', f);
        break;
    case N_BINARY: {
        const char *op = lex_kind_name(n->binary.op);
        fprintf(f, "(%.*s ", (int)strlen(op) - 2, op + 1);
        show(n->binary.lhs, f);
        fputc(' ', f);
        show(n->binary.rhs, f);
        fputc(')', f);
        break;
    }
    case N_SAMPLE: fputs("(sample ", f); show(n->sample.dist, f); fputc(')', f); break;
    case N_CALL: fputs("(call ", f); show(n->call.callee, f); fprintf(f, "/%d)", n->call.args.len); break;
    case N_INDEX:
        show(n->index.base, f);
        fputc('[', f);
        show(n->index.index, f);
        fputc(']', f);
        break;
    case N_FIELD: show(n->field.base, f); fprintf(f, ".%s", n->field.field); break;
    default: fprintf(f, "<%s>", ast_kind_name(n->kind)); break;
    }
}

/* Checks the shape of the expression statement `text`. */
static void check_expr(const char *text, const char *want) {
    Node *n = parse_one(text);
    assert_int_equal(n->kind, N_EXPR_STMT);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    show(n->stmt.expr, f);
    fclose(f);
    if (strcmp(buf, want) != 0) {
        print_error("%s parsed as %s, expected %s\n", text, buf, want);
        free(buf);
        fail();
    }
    free(buf);
}

static void test_precedence(void **state) {
    check_expr("-(x - 2)^2 / 2", "(/ (- (^ (- x 2) 2)) 2)");
    check_expr("2^-1", "(^ 2 (- 1))");
    check_expr("2^3^2", "(^ 2 (^ 3 2))");
    check_expr("-x^2", "(- (^ x 2))");
    check_expr("a || b && c", "(|| a (&& b c))");
    check_expr("a && b || c", "(|| (&& a b) c)");
    check_expr("1 + 2 * 3", "(+ 1 (* 2 3))");
    check_expr("a - b - c", "(- (- a b) c)");
    check_expr("a / b % c", "(% (/ a b) c)");
    check_expr("!a == b", "(== (! a) b)");
    check_expr("a + 1 < b * 2 && c != d", "(&& (< (+ a 1) (* b 2)) (!= c d))");
    check_expr("f(x)[i].y^2", "(^ (call f/1)[i].y 2)");
    check_expr("sample normal(0, 1) * 2", "(* (sample (call normal/2)) 2)");
    check_expr("-sample d", "(- (sample d))");
    check_expr("((1))", "1");
    check_expr("1.5e3", "1500");
}

static void test_locations(void **state) {
    Node *e = parse_one("a +\n  b")->stmt.expr;
    assert_int_equal(e->kind, N_BINARY);
    assert_int_equal(e->loc.line, 1);
    assert_int_equal(e->loc.col, 3);
    e = parse_one("xs[i].f")->stmt.expr;
    assert_int_equal(e->kind, N_FIELD);
    assert_int_equal(e->loc.col, 7);
    assert_int_equal(e->field.base->kind, N_INDEX);
    assert_int_equal(e->field.base->loc.col, 3);
    Node *st = parse_one("  xs[i] = f(1) + 2");
    assert_int_equal(st->kind, N_ASSIGN);
    assert_int_equal(st->loc.col, 5);
    assert_int_equal(st->assign.value->loc.col, 16);
    assert_int_equal(st->assign.value->binary.lhs->loc.col, 11);
    st = parse_one("a * b");
    assert_int_equal(st->loc.col, 1);
    assert_int_equal(st->stmt.expr->loc.col, 3);
}

static void test_if_else(void **state) {
    Node *n = parse_one("let z = if c { 1 }\nelse { 2 }");
    assert_int_equal(n->kind, N_LET);
    assert_int_equal(n->let.init->kind, N_IF);
    assert_non_null(n->let.init->if_.els);
    n = parse_one("if a { 1 }\nelse if b { 2 }\nelse { 3 }")->stmt.expr;
    assert_int_equal(n->if_.els->kind, N_IF);
    assert_int_equal(n->if_.els->if_.els->kind, N_BLOCK);
    assert_null(n->if_.cond->type);
    /* without an else, the next line is a separate statement */
    Program p = parse("if c {}\nprint(1)");
    assert_int_equal(diag_error_count(), 0);
    assert_int_equal(p.items.len, 2);
    assert_null(item(&p, 0)->stmt.expr->if_.els);
    /* the condition stops at "{" */
    n = parse_one("if x { y }")->stmt.expr;
    assert_int_equal(n->if_.cond->kind, N_NAME);
    assert_int_equal(n->if_.then->block.value->kind, N_NAME);
}

static void test_named_args(void **state) {
    Node *c = parse_one("f(1, b = 2, c == 3,)")->stmt.expr;
    assert_int_equal(c->kind, N_CALL);
    assert_int_equal(c->call.args.len, 3);
    assert_int_equal(c->call.argnames.len, 3);
    assert_null(c->call.argnames.items[0]);
    assert_string_equal(c->call.argnames.items[1], "b");
    assert_null(c->call.argnames.items[2]);
    assert_int_equal(((Node *)c->call.args.items[2])->kind, N_BINARY);
    /* keywords may name arguments */
    c = parse_one("vi(guide = q, objective = elbo)")->stmt.expr;
    assert_string_equal(c->call.argnames.items[0], "guide");
    assert_string_equal(c->call.argnames.items[1], "objective");
    c = parse_one("g()")->stmt.expr;
    assert_int_equal(c->call.args.len, 0);
}

static void test_infer(void **state) {
    Node *n = parse_one("let post = infer lgssm(y) by smc(particles = 10000)");
    Node *inf = n->let.init;
    assert_int_equal(inf->kind, N_INFER);
    assert_int_equal(inf->infer.model_call->kind, N_CALL);
    assert_int_equal(inf->infer.method->kind, N_CALL);
    assert_string_equal(inf->infer.method->call.argnames.items[0], "particles");
}

static void test_arrays(void **state) {
    Node *n = parse_one("let xs = [x * 2 for i in 0 .. n + 1]")->let.init;
    assert_int_equal(n->kind, N_COMPREHENSION);
    assert_string_equal(n->compr.var, "i");
    assert_int_equal(n->compr.body->kind, N_BINARY);
    assert_int_equal(n->compr.lo->kind, N_INT);
    assert_int_equal(n->compr.hi->kind, N_BINARY);
    n = parse_one("[1, 2,\n 3,]")->stmt.expr;
    assert_int_equal(n->kind, N_ARRAY);
    assert_int_equal(n->array.elems.len, 3);
    n = parse_one("[]")->stmt.expr;
    assert_int_equal(n->kind, N_ARRAY);
    assert_int_equal(n->array.elems.len, 0);
}

static void test_block_value(void **state) {
    Node *f = parse_one("fn f(a: int, b: real[][],) -> int {\n  let c = 1\n  c + a\n}");
    assert_int_equal(f->kind, N_FN);
    assert_string_equal(f->fn.name, "f");
    assert_int_equal(f->fn.params.len, 2);
    Param *b = f->fn.params.items[1];
    assert_string_equal(b->name, "b");
    assert_int_equal(b->type->kind, TY_ARRAY);
    assert_int_equal(b->type->elem->kind, TY_ARRAY);
    assert_ptr_equal(b->type->elem->elem, ty_real);
    assert_ptr_equal(f->fn.ret, ty_int);
    Node *body = f->fn.body;
    assert_int_equal(body->block.stmts.len, 1);
    assert_non_null(body->block.value);
    assert_int_equal(body->block.value->kind, N_BINARY);
    body = parse_one("{ let a = 1 }")->stmt.expr;
    assert_int_equal(body->block.stmts.len, 1);
    assert_null(body->block.value);
    body = parse_one("{ x = 1; }")->stmt.expr;
    assert_null(body->block.value);
    assert_int_equal(((Node *)body->block.stmts.items[0])->kind, N_ASSIGN);
    Node *m = parse_one("model m() { }");
    assert_int_equal(m->kind, N_MODEL);
    assert_null(m->fn.ret);
}

static void test_statements(void **state) {
    Program p = parse("data y: real[]\ndata n: int = 10\nvar x = 1; let s: string = \"a\"\n"
                      "model m() {\n  for t in 0..n {\n    x[t] = sample normal(0, 1) as \"x\"\n"
                      "    observe y[t] ~ normal(x, 1)\n    if t > 2 { break } else { continue }\n  }\n"
                      "  while x < 3 { x = x + 1 }\n  reward -x\n  potential x / 2\n"
                      "  param mu: real = 0.5\n  return\n}\nfn g() { return 1 }\n");
    assert_int_equal(diag_error_count(), 0);
    assert_int_equal(p.items.len, 6);
    assert_int_equal(item(&p, 0)->kind, N_DATA);
    assert_null(item(&p, 0)->let.init);
    assert_int_equal(item(&p, 1)->let.init->ival, 10);
    assert_true(item(&p, 2)->let.is_var);
    assert_false(item(&p, 3)->let.is_var);
    assert_ptr_equal(item(&p, 3)->let.ann, ty_string);
    PtrVec *ms = &item(&p, 4)->fn.body->block.stmts;
    assert_int_equal(ms->len, 6);
    Node *loop = ms->items[0];
    assert_int_equal(loop->kind, N_FOR);
    assert_string_equal(loop->for_.var, "t");
    PtrVec *ls = &loop->for_.body->block.stmts;
    Node *as = ls->items[0];
    assert_int_equal(as->kind, N_ASSIGN);
    assert_int_equal(as->assign.target->kind, N_INDEX);
    assert_string_equal(as->assign.value->sample.as_name, "x");
    assert_int_equal(((Node *)ls->items[1])->kind, N_OBSERVE);
    Node *iff = loop->for_.body->block.value;
    assert_int_equal(iff->kind, N_IF);
    assert_int_equal(((Node *)iff->if_.then->block.stmts.items[0])->kind, N_BREAK);
    assert_int_equal(((Node *)ms->items[1])->kind, N_WHILE);
    assert_int_equal(((Node *)ms->items[2])->kind, N_REWARD);
    assert_int_equal(((Node *)ms->items[3])->kind, N_POTENTIAL);
    assert_int_equal(((Node *)ms->items[4])->kind, N_PARAM_DECL);
    Node *ret = ms->items[5];
    assert_int_equal(ret->kind, N_RETURN);
    assert_null(ret->stmt.expr);
    ret = item(&p, 5)->fn.body->block.stmts.items[0];
    assert_int_equal(ret->stmt.expr->ival, 1);
}

/* Errors in several statements are all reported, one each, and good statements survive. */
static void test_error_recovery(void **state) {
    Program p = parse("let a = 1 +* 2\nlet b = )\nlet c = 3\nfn f() {\n  let d = (1, 2)\n  let e = 4\n"
                      "  x y\n}\nlet g = [1, 2\nlet h = 5\n");
    /* '*', ')', ',', 'y', and 'let' where ']' belongs: no newlines inside [ ], so `let h` is lost */
    assert_int_equal(diag_error_count(), 5);
    assert_int_equal(p.items.len, 2);
    assert_string_equal(item(&p, 0)->let.name, "c");
    Node *f = item(&p, 1);
    assert_int_equal(f->kind, N_FN);
    assert_int_equal(f->fn.body->block.stmts.len, 1);
    assert_string_equal(((Node *)f->fn.body->block.stmts.items[0])->let.name, "e");
}

static void test_error_kinds(void **state) {
    parse("a < b < c");
    assert_int_equal(diag_error_count(), 1);
    diag_reset();
    parse("f(x) = 1\na.b = 2\nx[1] = 3\n(x) = 4");
    assert_int_equal(diag_error_count(), 2);
    diag_reset();
    parse("fn f() {\n  fn g() {}\n  model m() {}\n  data d: int\n}\n");
    assert_int_equal(diag_error_count(), 3);
    diag_reset();
    Program p = parse("let x: matrix = 1\nlet y: real[] = 2");
    assert_int_equal(diag_error_count(), 1);
    assert_int_equal(p.items.len, 2);
    assert_ptr_equal(item(&p, 0)->let.ann, ty_error);
    diag_reset();
    parse("}\nlet x = 1 }");
    assert_int_equal(diag_error_count(), 2);
    diag_reset();
    parse("fn f( {\n");
    assert_int_equal(diag_error_count(), 1);
    diag_reset();
    /* the lexer's error is the only one reported */
    parse("let x = 1 @ 2\nlet y = \"a\\q\"\nlet z = 1e");
    assert_int_equal(diag_error_count(), 3);
}

static char *repeat(const char *prefix, const char *unit, int n, const char *suffix) {
    size_t u = strlen(unit), len = strlen(prefix) + u * (size_t)n + strlen(suffix);
    char *s = malloc(len + 1), *o = s;
    o = stpcpy(o, prefix);
    for (int i = 0; i < n; i++) o = stpcpy(o, unit);
    strcpy(o, suffix);
    return s;
}

/* Deep nesting is one "nesting too deep" error, never a stack overflow. */
static void test_nesting_limit(void **state) {
    const char *cases[][3] = {
        {"", "(", ""}, {"x = ", "(", "1"}, {"", "{", ""}, {"", "[", "]"}, {"let x = ", "-", "1"},
        {"y = ", "if a {} else ", "{}"}, {"w = ", "infer ", "m"}, {"", "f(", ""}, {"", "2^", "2"},
        {"", "{\n", "}"}, {"", "while c {", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = repeat(cases[i][0], cases[i][1], 100000, cases[i][2]);
        diag_reset();
        parse(s);
        if (diag_error_count() != 1) fail_msg("case %zu (%s): %d errors", i, cases[i][1], diag_error_count());
        free(s);
        free_sources();
    }
    /* moderate nesting is fine */
    char *s = repeat("x = ", "(", 50, "1");
    char *t = repeat(s, ")", 50, "");
    diag_reset();
    parse(t);
    assert_int_equal(diag_error_count(), 0);
    free(s);
    free(t);
}

static const char program[] =
    "// a model\n"
    "data y: real[]\n"
    "fn square(x: real) -> real { x * x }\n"
    "model lgssm(y: real[]) -> real {\n"
    "  var x = sample normal(0, 1)\n"
    "  for t in 0 .. len(y) {\n"
    "    x = sample normal(0.9 * x, 1) as \"x\"\n"
    "    observe y[t] ~ normal(x, 0.5)\n"
    "  }\n"
    "  reward -(x - 2)^2 / 2\n"
    "  let zs = [z * 2 for z in 0..3]\n"
    "  if x > 0 { x } else if x < -1 { -x }\n"
    "  else { 0.0 }\n"
    "}\n"
    "let post = infer lgssm(y) by smc(particles = 10000, resample = \"stratified\")\n"
    "print(post.log_evidence, mean(post)); print(\"done\\n\")\n";

/* Every prefix of a valid program (and every one-byte deletion) parses without crashing. */
static void test_prefixes(void **state) {
    char buf[sizeof program];
    diag_reset();
    Program whole = parse(program);
    assert_int_equal(diag_error_count(), 0);
    assert_int_equal(whole.items.len, 6);
    for (size_t cut = 0; cut < sizeof program - 1; cut++) {
        memcpy(buf, program, cut);
        buf[cut] = 0;
        parse(buf);
        memcpy(buf + cut, program + cut + 1, sizeof program - cut - 1);
        parse(buf);
    }
}

static void dump_program(const void *p) { ast_dump(p); }

/* --dump-ast output for a small program. */
static void test_dump(void **state) {
    Program p = parse("let x = 1 + y\nfn f(a: int) -> real[] { g(a, n = 2.5, s = \"q\\n\") }\nvar z = -true");
    char out[1024];
    assert_true(capture_stdout(dump_program, &p, out, sizeof out) > 0);
    assert_string_equal(out,
        "(let x\n"
        "  (binary + (int 1) (name y)))\n"
        "(fn f\n"
        "  (param a int)\n"
        "  (ret real[])\n"
        "  (block\n"
        "    (value\n"
        "      (call\n"
        "        (name g)\n"
        "        (name a)\n"
        "        (named n (real 2.5))\n"
        "        (named s (string \"q\\n\"))))))\n"
        "(var z\n"
        "  (unary - (bool true)))\n");
    assert_string_equal(ast_kind_name(N_COMPREHENSION), "comprehension");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_if_else, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arrays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
