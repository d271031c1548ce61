/* test_lex.c - unit tests of lang/lex.c: numbers, strings, keywords, locations, errors
 * and the newline rule (DESIGN.md section 2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lex.h"
#include "front_util.h"
#include "test_util.h"

#define END (-1)

/* Lexes `text` and checks the token kinds (a list ending in END, not counting the final EOF). */
static void check_kinds(const char *text, ...) {
    TokenList tl = lex(text);
    va_list ap;
    va_start(ap, text);
    int i = 0;
    for (int k; (k = va_arg(ap, int)) != END; i++) {
        if (i >= tl.len || (int)tl.toks[i].kind != k)
            fail_msg("%s: token %d is %s, expected %s", text, i,
                     i < tl.len ? lex_kind_name(tl.toks[i].kind) : "(none)", lex_kind_name((TokKind)k));
    }
    va_end(ap);
    assert_int_equal(tl.len, i + 1);
    assert_int_equal(tl.toks[i].kind, TK_EOF);
}

static void test_range_is_not_a_real(void **state) {
    check_kinds("0 .. n", TK_INT, TK_DOTDOT, TK_IDENT, TK_NEWLINE, END);
    check_kinds("0..n", TK_INT, TK_DOTDOT, TK_IDENT, TK_NEWLINE, END);
    check_kinds("0.5..1.5", TK_REAL, TK_DOTDOT, TK_REAL, TK_NEWLINE, END);
    check_kinds("x.y", TK_IDENT, TK_DOT, TK_IDENT, TK_NEWLINE, END);
    check_kinds("1.x", TK_INT, TK_DOT, TK_IDENT, TK_NEWLINE, END);
    assert_int_equal(diag_error_count(), 0);
}

static void test_numbers(void **state) {
    TokenList tl = lex("7 1.5 2e3 1.5E-2 3e+2 0.25 9223372036854775807");
    assert_int_equal(tl.toks[0].kind, TK_INT);
    assert_int_equal(tl.toks[0].ival, 7);
    assert_int_equal(tl.toks[1].kind, TK_REAL);
    assert_true(tl.toks[1].rval == 1.5);
    assert_int_equal(tl.toks[2].kind, TK_REAL);
    assert_true(tl.toks[2].rval == 2000.0);
    assert_true(tl.toks[3].rval == 0.015);
    assert_true(tl.toks[4].rval == 300.0);
    assert_true(tl.toks[5].rval == 0.25);
    assert_int_equal(tl.toks[6].kind, TK_INT);
    assert_true(tl.toks[6].ival == INT64_MAX);
    assert_string_equal(tl.toks[3].text, "1.5E-2");
    assert_int_equal(diag_error_count(), 0);
}

static void test_bad_numbers(void **state) {
    TokenList tl = lex("1e");
    assert_int_equal(tl.toks[0].kind, TK_ERROR);
    assert_int_equal(diag_error_count(), 1);
    tl = lex("2.5e+ x");
    assert_int_equal(tl.toks[0].kind, TK_ERROR);
    assert_int_equal(tl.toks[1].kind, TK_IDENT);
    assert_int_equal(diag_error_count(), 2);
    tl = lex("9223372036854775808");
    assert_int_equal(tl.toks[0].kind, TK_ERROR);
    assert_int_equal(diag_error_count(), 3);
}

static void test_strings(void **state) {
    TokenList tl = lex("\"a\\n\\t\\\\\\\"b\" \"\"");
    assert_int_equal(tl.toks[0].kind, TK_STRING);
    assert_int_equal(tl.toks[0].len, 6);
    assert_memory_equal(tl.toks[0].text, "a\n\t\\\"b", 6);
    assert_int_equal(tl.toks[1].kind, TK_STRING);
    assert_int_equal(tl.toks[1].len, 0);
    assert_int_equal(diag_error_count(), 0);
}

static void test_bad_strings(void **state) {
    TokenList tl = lex("\"abc\\q\" x");
    assert_int_equal(tl.toks[0].kind, TK_ERROR);
    assert_int_equal(tl.toks[1].kind, TK_IDENT);
    assert_int_equal(diag_error_count(), 1);
    tl = lex("\"abc\nx");
    assert_int_equal(tl.toks[0].kind, TK_ERROR);
    assert_int_equal(diag_error_count(), 2);
    tl = lex("\"abc\\");
    assert_int_equal(tl.toks[0].kind, TK_ERROR);
    assert_int_equal(diag_error_count(), 3);
}

static void test_keywords(void **state) {
    check_kinds("fn let var if else for in while return break continue",
                TK_FN, TK_LET, TK_VAR, TK_IF, TK_ELSE, TK_FOR, TK_IN, TK_WHILE, TK_RETURN, TK_BREAK,
                TK_CONTINUE, TK_NEWLINE, END);
    check_kinds("true false data model guide sample observe reward potential param infer by as objective",
                TK_TRUE, TK_FALSE, TK_DATA, TK_MODEL, TK_GUIDE, TK_SAMPLE, TK_OBSERVE, TK_REWARD,
                TK_POTENTIAL, TK_PARAM, TK_INFER, TK_BY, TK_AS, TK_OBJECTIVE, END);
    /* type names and near-keywords are plain identifiers */
    check_kinds("real int bool string fns _x1 sampled", TK_IDENT, TK_IDENT, TK_IDENT, TK_IDENT,
                TK_IDENT, TK_IDENT, TK_IDENT, TK_NEWLINE, END);
}

static void test_punctuation(void **state) {
    check_kinds("( ) [ ] { } , ; : . .. -> ~ + - * / % ^ = == != < <= > >= && || !",
                TK_LPAREN, TK_RPAREN, TK_LBRACKET, TK_RBRACKET, TK_LBRACE, TK_RBRACE, TK_COMMA,
                TK_SEMI, TK_COLON, TK_DOT, TK_DOTDOT, TK_ARROW, TK_TILDE, TK_PLUS, TK_MINUS, TK_STAR,
                TK_SLASH, TK_PERCENT, TK_CARET, TK_ASSIGN, TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
                TK_AND, TK_OR, TK_NOT, END);
    check_kinds("a<=-b", TK_IDENT, TK_LE, TK_MINUS, TK_IDENT, TK_NEWLINE, END);
}

static void test_newline_rule(void **state) {
    /* no NEWLINE inside ( or [ */
    check_kinds("f(a,\n b)\n", TK_IDENT, TK_LPAREN, TK_IDENT, TK_COMMA, TK_IDENT, TK_RPAREN,
                TK_NEWLINE, END);
    check_kinds("[1,\n2]", TK_LBRACKET, TK_INT, TK_COMMA, TK_INT, TK_RBRACKET, TK_NEWLINE, END);
    /* after } yes; after { no */
    check_kinds("{\nx\n}\ny", TK_LBRACE, TK_IDENT, TK_NEWLINE, TK_RBRACE, TK_NEWLINE, TK_IDENT,
                TK_NEWLINE, END);
    /* a brace inside parens turns newlines back on */
    check_kinds("f({\nx\n})", TK_IDENT, TK_LPAREN, TK_LBRACE, TK_IDENT, TK_NEWLINE, TK_RBRACE,
                TK_RPAREN, TK_NEWLINE, END);
    /* no NEWLINE after an operator */
    check_kinds("x +\n y", TK_IDENT, TK_PLUS, TK_IDENT, TK_NEWLINE, END);
    check_kinds("x +", TK_IDENT, TK_PLUS, END);
    /* after return/break/continue/literals */
    check_kinds("return\nbreak\ncontinue\ntrue\n\"s\"\n1.5\n]", TK_RETURN, TK_NEWLINE, TK_BREAK,
                TK_NEWLINE, TK_CONTINUE, TK_NEWLINE, TK_TRUE, TK_NEWLINE, TK_STRING, TK_NEWLINE,
                TK_REAL, TK_NEWLINE, TK_RBRACKET, TK_NEWLINE, END);
    /* never two in a row */
    check_kinds("x\n\n\n  \n// c\ny\n\n", TK_IDENT, TK_NEWLINE, TK_IDENT, TK_NEWLINE, END);
    check_kinds("\n\nx", TK_IDENT, TK_NEWLINE, END);
    check_kinds("", END);
}

static void test_comments(void **state) {
    check_kinds("x // comment ) (\ny", TK_IDENT, TK_NEWLINE, TK_IDENT, TK_NEWLINE, END);
    check_kinds("x /* a */ y", TK_IDENT, TK_IDENT, TK_NEWLINE, END);
    check_kinds("x /* a\n b */ y", TK_IDENT, TK_NEWLINE, TK_IDENT, TK_NEWLINE, END);
    check_kinds("x + /* a\n b */ y", TK_IDENT, TK_PLUS, TK_IDENT, TK_NEWLINE, END);
    check_kinds("/* /* not nested */ x", TK_IDENT, TK_NEWLINE, END);
    assert_int_equal(diag_error_count(), 0);
    TokenList tl = lex("x\n/* never closed\n\n");
    assert_int_equal(diag_error_count(), 1);
    assert_int_equal(tl.toks[2].kind, TK_ERROR);
    assert_int_equal(tl.toks[2].loc.line, 2);
    assert_int_equal(tl.toks[2].loc.col, 1);
}

static void test_locations(void **state) {
    TokenList tl = lex("let x\n  = 1.5 // c\n\t\"s\"");
    assert_int_equal(tl.toks[1].loc.line, 1);
    assert_int_equal(tl.toks[1].loc.col, 5);
    assert_int_equal(tl.toks[1].loc.offset, 4);
    assert_int_equal(tl.toks[2].kind, TK_NEWLINE);
    assert_int_equal(tl.toks[2].loc.col, 6);
    assert_int_equal(tl.toks[3].kind, TK_ASSIGN);
    assert_int_equal(tl.toks[3].loc.line, 2);
    assert_int_equal(tl.toks[3].loc.col, 3);
    assert_int_equal(tl.toks[4].loc.col, 5);
    assert_int_equal(tl.toks[6].kind, TK_STRING);
    assert_int_equal(tl.toks[6].loc.line, 3);
    assert_int_equal(tl.toks[6].loc.col, 2);
    assert_int_equal(tl.toks[6].loc.offset, 20);
    assert_string_equal(tl.toks[6].loc.src->name, "test.ppl");
}

static void test_unexpected_characters(void **state) {
    check_kinds("x @ y", TK_IDENT, TK_ERROR, TK_IDENT, TK_NEWLINE, END);
    assert_int_equal(diag_error_count(), 1);
    check_kinds("a & b | c $", TK_IDENT, TK_ERROR, TK_IDENT, TK_ERROR, TK_IDENT, TK_ERROR, TK_NEWLINE, END);
    assert_int_equal(diag_error_count(), 4);
    check_kinds("\x80 \x01 \xc3\xa9", TK_ERROR, TK_ERROR, TK_ERROR, TK_NEWLINE, END);
    assert_int_equal(diag_error_count(), 7);
}

/* Every byte, alone and after each prefix of a small program, lexes without crashing. */
static void test_any_bytes(void **state) {
    const char *prog = "let x = f(\"a\\n\", 1.5e3) /* c */ + [0..n]\n";
    char buf[128];
    for (int b = 1; b < 256; b++) {
        for (size_t cut = 0; cut <= strlen(prog); cut++) {
            snprintf(buf, sizeof buf, "%.*s%c%s", (int)cut, prog, b, prog + cut);
            TokenList tl = lex(buf);
            assert_int_equal(tl.toks[tl.len - 1].kind, TK_EOF);
            if (nsources == MAX_SOURCES) free_sources();
        }
    }
}

static void test_kind_names(void **state) {
    assert_string_equal(lex_kind_name(TK_EOF), "end of file");
    assert_string_equal(lex_kind_name(TK_NEWLINE), "newline");
    assert_string_equal(lex_kind_name(TK_IDENT), "identifier");
    assert_string_equal(lex_kind_name(TK_INT), "integer");
    assert_string_equal(lex_kind_name(TK_REAL), "number");
    assert_string_equal(lex_kind_name(TK_STRING), "string");
    assert_string_equal(lex_kind_name(TK_ERROR), "invalid token");
    assert_string_equal(lex_kind_name(TK_RPAREN), "')'");
    assert_string_equal(lex_kind_name(TK_FN), "'fn'");
    assert_string_equal(lex_kind_name(TK_DOTDOT), "'..'");
    for (int k = 0; k < TK_COUNT; k++) assert_non_null(lex_kind_name((TokKind)k));
}

static void dump_tokens(const void *tl) { lex_dump(tl); }

static void test_dump(void **state) {
    TokenList tl = lex("x = \"a\\n\"\n");
    char out[256];
    assert_true(capture_stdout(dump_tokens, &tl, out, sizeof out) > 0);
    assert_string_equal(out, "1:1 identifier x\n1:3 '=' =\n1:5 string \"a\\n\"\n1:10 newline\n2:1 end of file\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_range_is_not_a_real, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keywords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_punctuation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newline_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unexpected_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
