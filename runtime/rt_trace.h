/* rt_trace.h - sample-site values by column: per step of an inference run, one column of
 * values per address and block of particles, plus SMC's ancestor vectors; paths at the end.
 *
 * Layout. Particles are grouped in blocks of RT_TRACE_BLOCK slots (SMC's blocks, so one
 * thread owns a block while it runs and recording takes no lock). A step (an SMC advance;
 * importance sampling has one) has a chunk per block that recorded something: the block's
 * columns in the order its particles first recorded them, each an address (site id, index
 * count, indices), the block's values and a presence bitmap (a particle that did not reach
 * the site, or took another branch, has its bit clear; values are never sentinels). Values,
 * bitmaps and ancestors live in GC_malloc_atomic memory, which the collector does not scan.
 *
 * Ancestry. Columns of a step are indexed by slot at that step's generation (the number of
 * resampling steps before it). Resampling g stores anc[g][j], the slot at generation g of
 * the particle that holds slot j afterwards. rt_trace_finish turns these, in one backward
 * pass, into lineages: lin[g][i], the slot at generation g of final particle i's ancestor.
 *
 * Reading. rt_site_map numbers the distinct addresses once, in order of first appearance,
 * and reads a particle's value at an address through its lineage. */
#ifndef PPL_RT_TRACE_H
#define PPL_RT_TRACE_H
#include <stdbool.h>
#include <stdint.h>

enum { RT_TRACE_BLOCK = 4096 };

typedef struct rt_col {
    int64_t *addr;       /* site id, index count k, indices 1..k */
    double *v;           /* one value per slot of the chunk */
    uint64_t *present;   /* bit k: slot lo + k recorded this address */
    int64_t aid;         /* the address's number in the columns (rt_trace_finish) */
} rt_col;

typedef struct rt_chunk {   /* one block of particles in one step */
    rt_col *cols;
    int64_t ncols, cap;
    int64_t *index, icap;   /* open-addressing index of cols (1 + col), when there are many */
    int64_t lo, len;        /* first slot and number of slots */
} rt_chunk;

typedef struct rt_tstep { int64_t gen; rt_chunk **blocks; } rt_tstep;

typedef struct rt_columns {
    int64_t n, nblocks;
    rt_tstep *steps;
    int64_t nsteps, capsteps;
    int32_t **anc;           /* per resampling; lineages once finished */
    int64_t ngen, capgen;
    bool finished;
    int64_t naddr;           /* distinct addresses, once finished */
} rt_columns;

/* A recorder: where rt_record puts particle i's values in the current step. One per thread
 * (rt_particle.trace points at it); rt_trace_particle switches particles. */
typedef struct rt_trace {
    rt_columns *cols;
    rt_chunk *chunk;         /* particle i's block in the current step (NULL until it records) */
    int64_t step, i, pos;    /* pos: records particle i has made in this step */
} rt_trace;

rt_columns *rt_columns_new(int64_t n);
/* Starts a step (before any particle of it records); returns its number. */
int64_t rt_columns_step(rt_columns *c);
/* Resampling: slot dst[k] gets a copy of slot src[k]; other slots keep their particle. */
void rt_columns_resample(rt_columns *c, const int64_t *src, const int64_t *dst, int64_t ncopies);
/* The lineages and the numbering of addresses; idempotent. No steps may follow. */
void rt_trace_finish(rt_columns *c);

/* A recorder for the last step of c. */
rt_trace rt_trace_recorder(rt_columns *c);
/* The records that follow are slot i's (in increasing i within a block, as the engines run). */
static inline void rt_trace_particle(rt_trace *t, int64_t i)
{
    t->i = i;
    t->pos = 0;
    t->chunk = t->cols->steps[t->step].blocks[i / RT_TRACE_BLOCK];
}
/* Forgets what slot i recorded in this step (importance sampling: a dead particle). */
void rt_trace_drop(rt_trace *t);
void rt_trace_put(rt_trace *t, int64_t site, int64_t nidx, const int64_t *idx, double value);

/* ---- reading ---- */

typedef struct rt_site_ref { int64_t gen; rt_col **byblock; } rt_site_ref;

/* The distinct addresses of a finished trace, numbered in order of first appearance: particle
 * by particle (only those with keep[i], when keep is given), step by step, and within a step
 * in the order the step's columns were first recorded. */
typedef struct rt_site_map {
    const rt_columns *cols;
    int64_t count;
    const int64_t **addr;    /* per address: site id, k, indices */
    rt_site_ref **refs;      /* per address: the steps that hold it */
    int64_t *nrefs;
} rt_site_map;

rt_site_map rt_site_map_build(rt_columns *c, const bool *keep);
/* Final particle i's value at address a: true and *v when it has one. */
bool rt_site_value(const rt_site_map *m, int64_t a, int64_t i, double *v);
/* Final particle i's path in the old record layout, oldest step first: words
 * [site, k, idx.., value bits] into out (up to cap words); returns the words it needs. */
int64_t rt_trace_path(const rt_columns *c, int64_t i, int64_t *out, int64_t cap);

#endif
