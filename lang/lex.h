/* lex.h - tokens of the ppl surface syntax (DESIGN.md section 2).
 * The lexer turns a Source into an array of tokens, inserting NEWLINE tokens by Go's rule. */
#ifndef PPL_LEX_H
#define PPL_LEX_H
#include "arena.h"
#include "diag.h"

/* X(kind, spelling): punctuation and operators. */
#define TOKEN_PUNCT(X) \
    X(LPAREN, "(") X(RPAREN, ")") X(LBRACKET, "[") X(RBRACKET, "]") \
    X(LBRACE, "{") X(RBRACE, "}") X(COMMA, ",") X(SEMI, ";") X(COLON, ":") \
    X(DOT, ".") X(DOTDOT, "..") X(ARROW, "->") X(TILDE, "~") \
    X(PLUS, "+") X(MINUS, "-") X(STAR, "*") X(SLASH, "/") X(PERCENT, "%") X(CARET, "^") \
    X(ASSIGN, "=") X(EQ, "==") X(NE, "!=") X(LT, "<") X(LE, "<=") X(GT, ">") X(GE, ">=") \
    X(AND, "&&") X(OR, "||") X(NOT, "!")

/* X(kind, spelling): reserved words. */
#define TOKEN_KEYWORDS(X) \
    X(FN, "fn") X(LET, "let") X(VAR, "var") X(IF, "if") X(ELSE, "else") X(FOR, "for") \
    X(IN, "in") X(WHILE, "while") X(RETURN, "return") X(BREAK, "break") X(CONTINUE, "continue") \
    X(TRUE, "true") X(FALSE, "false") X(DATA, "data") X(MODEL, "model") X(GUIDE, "guide") \
    X(SAMPLE, "sample") X(OBSERVE, "observe") X(REWARD, "reward") X(POTENTIAL, "potential") X(CONDITION, "condition") \
    X(PARAM, "param") X(INFER, "infer") X(BY, "by") X(AS, "as") X(OBJECTIVE, "objective")

typedef enum TokKind {
    TK_EOF, TK_NEWLINE, TK_IDENT, TK_INT, TK_REAL, TK_STRING, TK_ERROR,
#define X(k, s) TK_##k,
    TOKEN_PUNCT(X) TOKEN_KEYWORDS(X)
#undef X
    TK_COUNT
} TokKind;

typedef struct Token {
    TokKind kind;
    Loc loc;
    const char *text;   /* the token's spelling (arena copy); for STRING the decoded value */
    int len;            /* length of `text` */
    long long ival;     /* TK_INT */
    double rval;        /* TK_REAL */
} Token;

typedef struct TokenList { Token *toks; int len; } TokenList;

/* Lexes the whole source. Errors are reported through diag_error; the list always ends in TK_EOF. */
TokenList lex_source(Arena *a, const Source *src);
const char *lex_kind_name(TokKind k);   /* "identifier", "'('", "'fn'", ... */
void lex_dump(const TokenList *tl);      /* --dump-tokens: one token per line */

#endif
