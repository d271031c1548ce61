/* lex.c - the lexer: source text to an array of tokens, with Go's newline rule.
 * It reports bad input through diag_error, emits TK_ERROR in its place and never stops early. */
#include "lex.h"
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Lexer {
    Arena *a;
    const Source *src;
    const char *text;
    int pos, line, line_start;   /* current byte, its line and where that line starts */
    Token *toks;                 /* malloc'd while lexing, copied to the arena at the end */
    int len, cap;
    char *brackets;              /* open brackets: 'p' for ( and [, 'b' for { */
    int depth, bcap;
} Lexer;

static const struct { TokKind kind; const char *text; } punct[] = {
#define X(k, s) {TK_##k, s},
    TOKEN_PUNCT(X)
#undef X
};

static const struct { TokKind kind; const char *text; } keywords[] = {
#define X(k, s) {TK_##k, s},
    TOKEN_KEYWORDS(X)
#undef X
};

static const char *kind_names[TK_COUNT] = {
    [TK_EOF] = "end of file", [TK_NEWLINE] = "newline", [TK_IDENT] = "identifier",
    [TK_INT] = "integer", [TK_REAL] = "number", [TK_STRING] = "string",
    [TK_ERROR] = "invalid token",
#define X(k, s) [TK_##k] = "'" s "'",
    TOKEN_PUNCT(X) TOKEN_KEYWORDS(X)
#undef X
};

const char *lex_kind_name(TokKind k) {
    return (unsigned)k < TK_COUNT && kind_names[k] ? kind_names[k] : "?";
}

static Loc lex_loc(const Lexer *l, int pos) {
    return (Loc){.src = l->src, .line = l->line, .col = pos - l->line_start + 1, .offset = pos};
}

static Token *lex_push(Lexer *l, TokKind kind, int start, const char *text, int len) {
    if (l->len == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->toks = realloc(l->toks, sizeof(Token) * (size_t)l->cap);
        if (!l->toks) { fputs("ppl: out of memory\n", stderr); exit(70); }
    }
    Token *t = &l->toks[l->len++];
    *t = (Token){.kind = kind, .loc = lex_loc(l, start)};
    t->text = arena_strndup(l->a, text, (size_t)len);
    t->len = len;
    return t;
}

/* Token for the source bytes [start, l->pos). */
static Token *lex_push_span(Lexer *l, TokKind kind, int start) {
    return lex_push(l, kind, start, l->text + start, l->pos - start);
}

/* Bracket stack: newlines end statements only outside ( and [. */
static void lex_open(Lexer *l, char what) {
    if (l->depth == l->bcap) {
        l->bcap = l->bcap ? 2 * l->bcap : 64;
        l->brackets = realloc(l->brackets, (size_t)l->bcap);
        if (!l->brackets) { fputs("ppl: out of memory\n", stderr); exit(70); }
    }
    l->brackets[l->depth++] = what;
}

/* ) and ] close an open ( or [; } closes the nearest { and any ( or [ left open inside it,
 * so one missing ')' does not switch off newlines for the rest of the file. */
static void lex_close(Lexer *l, char what) {
    if (what == 'p') {
        if (l->depth > 0 && l->brackets[l->depth - 1] == 'p') l->depth--;
        return;
    }
    int d = l->depth;
    while (d > 0 && l->brackets[d - 1] != 'b') d--;
    if (d > 0) l->depth = d - 1;
}

/* Go's rule: a line break ends the statement when the last token could end one
 * and no ( or [ is open. TK_ERROR stands in for an operand, so it counts too. */
static void lex_newline(Lexer *l, int pos) {
    if (l->depth > 0 && l->brackets[l->depth - 1] == 'p') return;
    if (l->len == 0) return;
    switch (l->toks[l->len - 1].kind) {
    case TK_IDENT: case TK_INT: case TK_REAL: case TK_STRING: case TK_TRUE: case TK_FALSE:
    case TK_RPAREN: case TK_RBRACKET: case TK_RBRACE: case TK_RETURN: case TK_BREAK:
    case TK_CONTINUE: case TK_ERROR:
        lex_push(l, TK_NEWLINE, pos, "", 0);
        break;
    default: break;
    }
}

static void lex_next_line(Lexer *l) {
    l->line++;
    l->line_start = l->pos;
}

/* block_comment = "/" "*" ... "*" "/"  (does not nest; acts as a newline if it spans one) */
static void lex_block_comment(Lexer *l) {
    int start = l->pos, start_line = l->line, start_col = l->pos - l->line_start;
    bool spans_line = false;
    l->pos += 2;
    for (;;) {
        char c = l->text[l->pos];
        if (c == 0) {
            Loc loc = {l->src, start_line, start_col + 1, start};
            diag_error(loc, "unterminated block comment");
            Token *t = lex_push(l, TK_ERROR, start, "/*", 2);
            t->loc = loc;
            return;
        }
        if (c == '*' && l->text[l->pos + 1] == '/') { l->pos += 2; break; }
        l->pos++;
        if (c == '\n') {
            if (!spans_line) lex_newline(l, start);   /* still on the comment's first line */
            spans_line = true;
            lex_next_line(l);
        }
    }
}

/* Skips blanks and comments; newlines become NEWLINE tokens by the rule above. */
static void lex_skip_space(Lexer *l) {
    for (;;) {
        char c = l->text[l->pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            l->pos++;
        } else if (c == '\n') {
            lex_newline(l, l->pos);
            l->pos++;
            lex_next_line(l);
        } else if (c == '/' && l->text[l->pos + 1] == '/') {
            while (l->text[l->pos] && l->text[l->pos] != '\n') l->pos++;
        } else if (c == '/' && l->text[l->pos + 1] == '*') {
            lex_block_comment(l);
        } else {
            return;
        }
    }
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* ident = [A-Za-z_][A-Za-z0-9_]*  (keywords from TOKEN_KEYWORDS) */
static void lex_ident(Lexer *l) {
    int start = l->pos;
    while (is_ident_char(l->text[l->pos])) l->pos++;
    int n = l->pos - start;
    TokKind kind = TK_IDENT;
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if ((int)strlen(keywords[i].text) == n && memcmp(keywords[i].text, l->text + start, (size_t)n) == 0)
            kind = keywords[i].kind;
    lex_push_span(l, kind, start);
}

/* Scans an exponent `e [+-] digit+` if present; false when `e` has no digits after it. */
static bool lex_exponent(Lexer *l, bool *is_real) {
    char c = l->text[l->pos];
    if (c != 'e' && c != 'E') return true;
    int p = l->pos + 1;
    if (l->text[p] == '+' || l->text[p] == '-') p++;
    if (!is_digit(l->text[p])) { l->pos = p; return false; }   /* the bad token takes the sign */
    while (is_digit(l->text[p])) p++;
    l->pos = p;
    *is_real = true;
    return true;
}

/* number = digit+ [ "." digit+ ] [ exponent ]   ("0..n" is INT DOTDOT IDENT) */
static void lex_number(Lexer *l) {
    int start = l->pos;
    bool is_real = false;
    while (is_digit(l->text[l->pos])) l->pos++;
    if (l->text[l->pos] == '.' && is_digit(l->text[l->pos + 1])) {
        l->pos++;
        while (is_digit(l->text[l->pos])) l->pos++;
        is_real = true;
    }
    if (!lex_exponent(l, &is_real)) {
        while (is_ident_char(l->text[l->pos])) l->pos++;
        diag_error(lex_loc(l, start), "invalid number");
        lex_push_span(l, TK_ERROR, start);
        return;
    }
    Token *t = lex_push_span(l, is_real ? TK_REAL : TK_INT, start);
    if (is_real) { t->rval = strtod(t->text, NULL); return; }
    errno = 0;
    t->ival = strtoll(t->text, NULL, 10);
    if (errno == ERANGE) {
        diag_error(t->loc, "integer literal too large");
        t->kind = TK_ERROR;
    }
}

/* Decodes the escape whose letter is at l->pos (just after the backslash); false if unknown. */
static bool lex_escape(Lexer *l, char *out) {
    switch (l->text[l->pos]) {
    case 'n': *out = '\n'; break;
    case 't': *out = '\t'; break;
    case '\\': *out = '\\'; break;
    case '"': *out = '"'; break;
    default: return false;
    }
    l->pos++;
    return true;
}

/* Index of the quote closing the string that opens at `start`, or -1 if the line or file ends first. */
static int string_end(const char *s, int start) {
    int i = start + 1;
    while (s[i] && s[i] != '\n' && s[i] != '"')
        i += s[i] == '\\' && s[i + 1] && s[i + 1] != '\n' ? 2 : 1;
    return s[i] == '"' ? i : -1;
}

/* string = '"' { char | "\" ("n" | "t" | "\" | '"') } '"'   on one line; the token holds the decoded text */
static void lex_string(Lexer *l) {
    int start = l->pos, end = string_end(l->text, start);
    if (end < 0) {
        while (l->text[l->pos] && l->text[l->pos] != '\n') l->pos++;
        diag_error(lex_loc(l, start), "unterminated string literal");
        lex_push_span(l, TK_ERROR, start);
        return;
    }
    char *buf = arena_alloc(l->a, (size_t)(end - start));
    int n = 0;
    bool ok = true;
    for (l->pos = start + 1; l->pos < end;) {
        char c = l->text[l->pos++];
        if (c == '\\' && !lex_escape(l, &c)) {
            unsigned char e = (unsigned char)l->text[l->pos++];
            diag_error(lex_loc(l, l->pos - 2), "unknown escape sequence '\\%c'", isprint(e) ? e : '?');
            ok = false;
        }
        buf[n++] = c;
    }
    l->pos = end + 1;
    if (ok) lex_push(l, TK_STRING, start, buf, n);
    else lex_push_span(l, TK_ERROR, start);
}

/* Length of a well-formed UTF-8 sequence starting at s, or 0. */
static int utf8_len(const unsigned char *s) {
    int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] > 0xf4) return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

/* Anything else: the longest punctuation match, or an error token for one character. */
static void lex_punct(Lexer *l) {
    int start = l->pos, best = -1, best_len = 0;
    for (int i = 0; i < (int)(sizeof punct / sizeof punct[0]); i++) {
        int n = (int)strlen(punct[i].text);
        if (n > best_len && strncmp(l->text + start, punct[i].text, (size_t)n) == 0) { best = i; best_len = n; }
    }
    if (best >= 0) {
        l->pos += best_len;
        TokKind k = punct[best].kind;
        if (k == TK_LPAREN || k == TK_LBRACKET) lex_open(l, 'p');
        else if (k == TK_LBRACE) lex_open(l, 'b');
        else if (k == TK_RPAREN || k == TK_RBRACKET) lex_close(l, 'p');
        else if (k == TK_RBRACE) lex_close(l, 'b');
        lex_push_span(l, k, start);
        return;
    }
    const unsigned char *s = (const unsigned char *)l->text + start;
    int n = s[0] >= 0x80 ? utf8_len(s) : 1;
    if (n > 0 && (s[0] >= 0x80 || isprint(s[0])))
        diag_error(lex_loc(l, start), "unexpected character '%.*s'", n, (const char *)s);
    else
        diag_error(lex_loc(l, start), "unexpected byte 0x%02x", s[0]);
    l->pos += n > 0 ? n : 1;
    lex_push_span(l, TK_ERROR, start);
}

static void lex_token(Lexer *l) {
    char c = l->text[l->pos];
    if (is_ident_start(c)) lex_ident(l);
    else if (is_digit(c)) lex_number(l);
    else if (c == '"') lex_string(l);
    else lex_punct(l);
}

TokenList lex_source(Arena *a, const Source *src) {
    Lexer l = {.a = a, .src = src, .text = src->text, .line = 1};
    for (;;) {
        lex_skip_space(&l);
        if (!l.text[l.pos]) break;
        lex_token(&l);
    }
    lex_newline(&l, l.pos);
    lex_push(&l, TK_EOF, l.pos, "", 0);
    TokenList tl = {arena_alloc(a, sizeof(Token) * (size_t)l.len), l.len};
    memcpy(tl.toks, l.toks, sizeof(Token) * (size_t)l.len);
    free(l.toks);
    free(l.brackets);
    return tl;
}

/* Writes a string token's decoded text back in source form. */
static void lex_dump_string(const Token *t) {
    putchar('"');
    for (int i = 0; i < t->len; i++) {
        char c = t->text[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '\\' || c == '"') printf("\\%c", c);
        else putchar(c);
    }
    putchar('"');
}

void lex_dump(const TokenList *tl) {
    for (int i = 0; i < tl->len; i++) {
        const Token *t = &tl->toks[i];
        printf("%d:%d %s", t->loc.line, t->loc.col, lex_kind_name(t->kind));
        if (t->kind == TK_STRING) { putchar(' '); lex_dump_string(t); }
        else if (t->len > 0) printf(" %.*s", t->len, t->text);
        putchar('\n');
    }
}
