/* arena.h - bump allocation for everything the front end and code generator make.
 * One arena per compilation (or REPL cell); it is freed at once, never piecewise. */
#ifndef PPL_ARENA_H
#define PPL_ARENA_H
#include <stddef.h>

typedef struct ArenaBlock ArenaBlock;
typedef struct Arena { ArenaBlock *head; } Arena;

void *arena_alloc(Arena *a, size_t size);          /* zeroed, 16-byte aligned */
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);

/* A growable array of pointers living in an arena (old storage is simply abandoned). */
typedef struct PtrVec { void **items; int len, cap; } PtrVec;
void vec_push(Arena *a, PtrVec *v, void *item);

#endif
