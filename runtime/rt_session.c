/* rt_session.c - the values of a REPL session's top-level variables, kept between cells.
 * Each cell's code loads the globals it may use at its start and stores them at its end. */
#include <string.h>
#include <gc.h>
#include "rt.h"

/* name -> 8-byte value (a double's bits, an int, or a pointer the collector must see) */
typedef struct Entry { const char *name; int64_t bits; } Entry;

static Entry *entries;        /* GC_MALLOC'd and registered as a root: values are traced */
static int64_t count, cap;

static Entry *find(const char *name) {
    for (int64_t i = 0; i < count; i++)
        if (strcmp(entries[i].name, name) == 0) return &entries[i];
    return NULL;
}

static void grow(void) { entries = rt_grow(entries, count, &cap, count + 1, sizeof *entries, true); }

void rt_session_store(const char *name, int64_t bits) {
    static bool rooted;
    if (!rooted) {
        GC_add_roots(&entries, (char *)&entries + sizeof entries);
        rooted = true;
    }
    Entry *e = find(name);
    if (!e) {
        if (count == cap) grow();
        char *copy = GC_MALLOC_ATOMIC(strlen(name) + 1);
        strcpy(copy, name);
        e = &entries[count++];
        e->name = copy;
    }
    e->bits = bits;
}

int64_t rt_session_load(const char *name) {
    Entry *e = find(name);
    return e ? e->bits : 0;
}

void rt_session_reset(void) { count = 0; }
