/* front_util.h - what the lexer and parser tests share: one arena, the sources lexed into
 * it (kept until teardown or free_sources, as tokens and nodes point at them), and the
 * cmocka setup and teardown. Include after <cmocka.h> and lex.h or parse.h. */
#ifndef PPL_FRONT_UTIL_H
#define PPL_FRONT_UTIL_H

#include <stdlib.h>

#define MAX_SOURCES 256

static Arena arena;
static Source *sources[MAX_SOURCES];
static int nsources;

/* Frees the kept sources and the arena: every token and node made so far. */
static inline void free_sources(void) {
    for (int i = 0; i < nsources; i++) {
        free((char *)sources[i]->name);
        free((char *)sources[i]->text);
        free(sources[i]);
    }
    nsources = 0;
    arena_free(&arena);
}

static int setup(void **state) {
    diag_reset();
    return 0;
}

static int teardown(void **state) {
    free_sources();
    diag_reset();
    return 0;
}

/* Lexes text as test.ppl into the arena, first freeing everything when MAX_SOURCES are kept. */
static inline TokenList lex(const char *text) {
    if (nsources == MAX_SOURCES) free_sources();
    Source *s = source_from_string("test.ppl", text);
    sources[nsources++] = s;
    return lex_source(&arena, s);
}

#endif
