/* rt_trace.c - sample-site values by column (layout in rt_trace.h): recording without locks,
 * SMC's ancestor vectors turned into lineages by one backward pass, and the address map. */
#define GC_THREADS
#include <string.h>
#include <gc.h>
#include "rt_infer.h"

enum { INDEX_FROM = 8 };   /* a chunk with more columns than this gets a hash index */

static void *atomic_bytes(size_t n)
{
    void *p = GC_MALLOC_ATOMIC(n ? n : 1);
    if (!p)
        rt_failf(NULL, "out of memory recording sample sites");
    return p;
}

rt_columns *rt_columns_new(int64_t n)
{
    rt_columns *c = rt_alloc(sizeof *c, true);
    c->n = n;
    c->nblocks = (n + RT_TRACE_BLOCK - 1) / RT_TRACE_BLOCK;
    return c;
}

int64_t rt_columns_step(rt_columns *c)
{
    c->steps = rt_grow(c->steps, c->nsteps, &c->capsteps, c->nsteps + 1, sizeof *c->steps, true);
    rt_tstep *s = &c->steps[c->nsteps];
    s->gen = c->ngen;
    s->blocks = rt_alloc(sizeof *s->blocks * (size_t)(c->nblocks ? c->nblocks : 1), true);
    return c->nsteps++;
}

void rt_columns_resample(rt_columns *c, const int64_t *src, const int64_t *dst, int64_t ncopies)
{
    int32_t *anc = atomic_bytes(sizeof *anc * (size_t)c->n);
    for (int64_t j = 0; j < c->n; j++)
        anc[j] = (int32_t)j;
    for (int64_t k = 0; k < ncopies; k++)
        anc[dst[k]] = (int32_t)src[k];
    c->anc = rt_grow(c->anc, c->ngen, &c->capgen, c->ngen + 1, sizeof *c->anc, true);
    c->anc[c->ngen++] = anc;
}

/* ---- recording ---- */

rt_trace rt_trace_recorder(rt_columns *c)
{
    return (rt_trace){ .cols = c, .step = c->nsteps - 1, .i = -1 };
}

static uint64_t addr_hash(int64_t site, int64_t nidx, const int64_t *idx)
{
    uint64_t h = (0xcbf29ce484222325u ^ (uint64_t)site) * 0x100000001b3u;
    h = (h ^ (uint64_t)nidx) * 0x100000001b3u;
    for (int64_t k = 0; k < nidx; k++)
        h = (h ^ (uint64_t)idx[k]) * 0x100000001b3u;
    return h ^ (h >> 31);
}

static inline bool addr_is(const int64_t *a, int64_t site, int64_t nidx, const int64_t *idx)
{
    if (a[0] != site || a[1] != nidx)
        return false;
    for (int64_t k = 0; k < nidx; k++)
        if (a[2 + k] != idx[k])
            return false;
    return true;
}

static int64_t index_slot(const rt_chunk *ch, const int64_t *a)
{
    uint64_t mask = (uint64_t)ch->icap - 1, s = addr_hash(a[0], a[1], a + 2) & mask;
    while (ch->index[s] && !addr_is(ch->cols[ch->index[s] - 1].addr, a[0], a[1], a + 2))
        s = (s + 1) & mask;
    return (int64_t)s;
}

/* Keeps the index at most half full. */
static void index_rebuild(rt_chunk *ch)
{
    ch->icap = ch->icap ? 2 * ch->icap : 32;
    ch->index = atomic_bytes(sizeof *ch->index * (size_t)ch->icap);
    memset(ch->index, 0, sizeof *ch->index * (size_t)ch->icap);
    for (int64_t k = 0; k < ch->ncols; k++)
        ch->index[index_slot(ch, ch->cols[k].addr)] = k + 1;
}

static rt_chunk *new_chunk(rt_trace *t)
{
    rt_chunk *ch = rt_alloc(sizeof *ch, true);
    int64_t b = t->i / RT_TRACE_BLOCK;
    ch->lo = b * RT_TRACE_BLOCK;
    ch->len = t->cols->n - ch->lo < RT_TRACE_BLOCK ? t->cols->n - ch->lo : RT_TRACE_BLOCK;
    t->cols->steps[t->step].blocks[b] = ch;
    return ch;
}

static rt_col *add_col(rt_chunk *ch, int64_t site, int64_t nidx, const int64_t *idx)
{
    ch->cols = rt_grow(ch->cols, ch->ncols, &ch->cap, ch->ncols + 1, sizeof *ch->cols, true);
    rt_col *c = &ch->cols[ch->ncols++];
    c->addr = atomic_bytes(8 * (size_t)(2 + nidx));
    c->addr[0] = site, c->addr[1] = nidx;
    if (nidx)
        memcpy(c->addr + 2, idx, 8 * (size_t)nidx);
    c->v = atomic_bytes(sizeof *c->v * (size_t)ch->len);
    size_t words = (size_t)(ch->len + 63) / 64;
    c->present = atomic_bytes(8 * words);
    memset(c->present, 0, 8 * words);
    if (ch->ncols > INDEX_FROM) {
        if (2 * ch->ncols > ch->icap)
            index_rebuild(ch);
        else
            ch->index[index_slot(ch, c->addr)] = ch->ncols;
    }
    return c;
}

/* The column of an address in the chunk when it is not the one at the particle's record
 * position (put tries that first: the particles of a block usually run alike). */
static rt_col *find_col(rt_chunk *ch, int64_t site, int64_t nidx, const int64_t *idx)
{
    if (ch->ncols > INDEX_FROM) {
        int64_t key[2 + 16], *a = nidx <= 16 ? key : atomic_bytes(8 * (size_t)(2 + nidx));
        a[0] = site, a[1] = nidx;
        if (nidx)
            memcpy(a + 2, idx, 8 * (size_t)nidx);
        int64_t s = index_slot(ch, a);
        return ch->index[s] ? &ch->cols[ch->index[s] - 1] : add_col(ch, site, nidx, idx);
    }
    for (int64_t k = 0; k < ch->ncols; k++)
        if (addr_is(ch->cols[k].addr, site, nidx, idx))
            return &ch->cols[k];
    return add_col(ch, site, nidx, idx);
}

static inline void put(rt_trace *t, int64_t site, int64_t nidx, const int64_t *idx, double value)
{
    rt_chunk *ch = t->chunk ? t->chunk : (t->chunk = new_chunk(t));
    int64_t pos = t->pos++;
    rt_col *c = &ch->cols[pos];
    if (__builtin_expect(pos >= ch->ncols || !addr_is(c->addr, site, nidx, idx), 0))
        c = find_col(ch, site, nidx, idx);
    int64_t k = t->i - ch->lo;
    c->v[k] = value;
    c->present[k >> 6] |= 1ull << (k & 63);
}

void rt_trace_put(rt_trace *t, int64_t site, int64_t nidx, const int64_t *idx, double value)
{
    put(t, site, nidx, idx, value);
}

/* A particle without a recorder keeps nothing (generated code skips the call then too). */
void rt_record(rt_particle *p, int64_t site, int64_t nidx, const int64_t *idx, double value)
{
    if (p->trace)
        put(p->trace, site, nidx, idx, value);
}

rt_trace *rt_post_trace(rt_posterior *p)
{
    if (!p->recorder) {
        p->sites = rt_columns_new(p->n);
        rt_columns_step(p->sites);
        p->recorder = rt_alloc(sizeof *p->recorder, true);
        *p->recorder = rt_trace_recorder(p->sites);
    }
    return p->recorder;
}

void rt_trace_drop(rt_trace *t)
{
    rt_chunk *ch = t->chunk;
    if (!ch || t->pos == 0)
        return;
    int64_t k = t->i - ch->lo;
    for (int64_t j = 0; j < ch->ncols; j++)
        ch->cols[j].present[k >> 6] &= ~(1ull << (k & 63));
    t->pos = 0;
}

/* ---- the end: lineages and addresses ---- */

/* Backward over the resamplings: lin[g][i] = anc[g][lin[g + 1][i]], lin[ngen] the identity;
 * each ancestor vector is overwritten by its lineage through one scratch vector. */
static void lineages(rt_columns *c)
{
    if (c->ngen == 0)
        return;
    int32_t *tmp = atomic_bytes(sizeof *tmp * (size_t)c->n);
    const int32_t *next = NULL;
    for (int64_t g = c->ngen - 1; g >= 0; g--) {
        int32_t *anc = c->anc[g];
        for (int64_t i = 0; i < c->n; i++)
            tmp[i] = anc[next ? next[i] : i];
        memcpy(anc, tmp, sizeof *tmp * (size_t)c->n);
        next = anc;
    }
    GC_FREE(tmp);
}

/* Numbers the distinct addresses of all columns (col->aid), in no particular order. */
typedef struct AddrSet { int64_t *slots, cap, count; const int64_t **addr; int64_t acap; } AddrSet;

static int64_t addrset_slot(const AddrSet *s, const int64_t *a)
{
    uint64_t mask = (uint64_t)s->cap - 1, h = addr_hash(a[0], a[1], a + 2) & mask;
    while (s->slots[h] && !addr_is(s->addr[s->slots[h] - 1], a[0], a[1], a + 2))
        h = (h + 1) & mask;
    return (int64_t)h;
}

static int64_t addrset_id(AddrSet *s, const int64_t *a)
{
    if (2 * (s->count + 1) > s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->slots = atomic_bytes(8 * (size_t)s->cap);
        memset(s->slots, 0, 8 * (size_t)s->cap);
        for (int64_t k = 0; k < s->count; k++)
            s->slots[addrset_slot(s, s->addr[k])] = k + 1;
    }
    int64_t h = addrset_slot(s, a);
    if (!s->slots[h]) {
        s->addr = rt_grow(s->addr, s->count, &s->acap, s->count + 1, sizeof *s->addr, true);
        s->addr[s->count] = a;
        s->slots[h] = ++s->count;
    }
    return s->slots[h] - 1;
}

void rt_trace_finish(rt_columns *c)
{
    if (c->finished)
        return;
    lineages(c);
    AddrSet set = { 0 };
    for (int64_t s = 0; s < c->nsteps; s++)
        for (int64_t b = 0; b < c->nblocks; b++) {
            rt_chunk *ch = c->steps[s].blocks[b];
            for (int64_t k = 0; ch && k < ch->ncols; k++)
                ch->cols[k].aid = addrset_id(&set, ch->cols[k].addr);
        }
    c->naddr = set.count;
    c->finished = true;
}

/* ---- reading ---- */

static int64_t slot_at(const rt_columns *c, int64_t gen, int64_t i)
{
    return gen < c->ngen ? c->anc[gen][i] : i;
}

static bool col_has(const rt_col *col, int64_t k) { return col->present[k >> 6] >> (k & 63) & 1; }

/* Per address, the steps holding it, each with its column per block. */
static void map_refs(rt_site_map *m, rt_columns *c, const int64_t *order)
{
    for (int64_t s = 0; s < c->nsteps; s++)
        for (int64_t b = 0; b < c->nblocks; b++) {
            rt_chunk *ch = c->steps[s].blocks[b];
            for (int64_t k = 0; ch && k < ch->ncols; k++) {
                int64_t a = order[ch->cols[k].aid];
                if (a < 0)
                    continue;
                m->addr[a] = ch->cols[k].addr;
                rt_site_ref *r = m->nrefs[a] ? &m->refs[a][m->nrefs[a] - 1] : NULL;
                if (!r || r->gen != s) {   /* gen holds the step until the end of this loop */
                    int64_t cap = m->nrefs[a];
                    m->refs[a] = rt_grow(m->refs[a], m->nrefs[a], &cap, m->nrefs[a] + 1, sizeof *r, true);
                    r = &m->refs[a][m->nrefs[a]++];
                    r->gen = s;
                    r->byblock = rt_alloc(sizeof *r->byblock * (size_t)c->nblocks, true);
                }
                r->byblock[b] = &ch->cols[k];
            }
        }
    for (int64_t a = 0; a < m->count; a++)
        for (int64_t r = 0; r < m->nrefs[a]; r++)
            m->refs[a][r].gen = c->steps[m->refs[a][r].gen].gen;
}

/* Numbers addresses by first appearance: particle by particle, step by step, and in a
 * step in its chunk's column order. Stops once every address has a number. */
static int64_t order_addresses(const rt_columns *c, const bool *keep, int64_t *order)
{
    int64_t count = 0;
    for (int64_t a = 0; a < c->naddr; a++)
        order[a] = -1;
    for (int64_t i = 0; i < c->n && count < c->naddr; i++) {
        if (keep && !keep[i])
            continue;
        for (int64_t s = 0; s < c->nsteps; s++) {
            int64_t slot = slot_at(c, c->steps[s].gen, i);
            rt_chunk *ch = c->steps[s].blocks[slot / RT_TRACE_BLOCK];
            for (int64_t k = 0; ch && k < ch->ncols; k++)
                if (order[ch->cols[k].aid] < 0 && col_has(&ch->cols[k], slot - ch->lo))
                    order[ch->cols[k].aid] = count++;
        }
    }
    return count;
}

rt_site_map rt_site_map_build(rt_columns *c, const bool *keep)
{
    rt_trace_finish(c);
    rt_site_map m = { .cols = c };
    int64_t *order = atomic_bytes(8 * (size_t)(c->naddr ? c->naddr : 1));
    m.count = order_addresses(c, keep, order);
    size_t n = (size_t)(m.count ? m.count : 1);
    m.addr = rt_alloc(sizeof *m.addr * n, true);
    m.refs = rt_alloc(sizeof *m.refs * n, true);
    m.nrefs = atomic_bytes(sizeof *m.nrefs * n);
    memset(m.nrefs, 0, sizeof *m.nrefs * n);
    map_refs(&m, c, order);
    GC_FREE(order);
    return m;
}

bool rt_site_value(const rt_site_map *m, int64_t a, int64_t i, double *v)
{
    for (int64_t r = 0; r < m->nrefs[a]; r++) {
        const rt_site_ref *ref = &m->refs[a][r];
        int64_t slot = slot_at(m->cols, ref->gen, i);
        const rt_col *col = ref->byblock[slot / RT_TRACE_BLOCK];
        int64_t k = slot % RT_TRACE_BLOCK;
        if (col && col_has(col, k)) {
            *v = col->v[k];
            return true;
        }
    }
    return false;
}

int64_t rt_trace_path(const rt_columns *c, int64_t i, int64_t *out, int64_t cap)
{
    int64_t len = 0;
    for (int64_t s = 0; s < c->nsteps; s++) {
        int64_t slot = slot_at(c, c->steps[s].gen, i);
        rt_chunk *ch = c->steps[s].blocks[slot / RT_TRACE_BLOCK];
        for (int64_t k = 0; ch && k < ch->ncols; k++) {
            const rt_col *col = &ch->cols[k];
            if (!col_has(col, slot - ch->lo))
                continue;
            int64_t w = 3 + col->addr[1];
            if (len + w <= cap) {
                memcpy(out + len, col->addr, 8 * (size_t)(w - 1));
                memcpy(out + len + w - 1, &col->v[slot - ch->lo], 8);
            }
            len += w;
        }
    }
    return len;
}
