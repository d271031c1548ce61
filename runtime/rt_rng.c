/* rt_rng.c - Philox4x32-10 streams (Random123's header-only implementation), 53-bit
 * uniforms, stream-id hashing and an adapter that lets GSL's samplers draw from a stream. */
#include <Random123/philox.h>
#include "rt_rng.h"

void rt_rng_init(rt_rng *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->counter = 0;
    r->avail = 0;
}

/* Computes block r->counter into r->buf and advances the counter. */
static void rt_rng_refill(rt_rng *r)
{
    philox4x32_ctr_t ctr = {{(uint32_t)r->counter, (uint32_t)(r->counter >> 32),
                             (uint32_t)r->stream, (uint32_t)(r->stream >> 32)}};
    philox4x32_key_t key = {{(uint32_t)r->seed, (uint32_t)(r->seed >> 32)}};
    philox4x32_ctr_t out = philox4x32(ctr, key);
    for (int i = 0; i < 4; i++)
        r->buf[i] = out.v[i];
    r->counter++;
    r->avail = 4;
}

uint32_t rt_rng_u32(rt_rng *r)
{
    if (r->avail == 0)
        rt_rng_refill(r);
    return r->buf[4 - r->avail--];
}

uint64_t rt_rng_u64(rt_rng *r)
{
    uint64_t lo = rt_rng_u32(r);
    return lo | (uint64_t)rt_rng_u32(r) << 32;
}

/* The top 53 bits of a u64 over 2^53; zero is redrawn (probability 2^-53), so the result
 * is never 0, and the largest value 1 - 2^-53 is exact, so it is never 1. */
double rt_rng_uniform(rt_rng *r)
{
    uint64_t k;
    do
        k = rt_rng_u64(r) >> 11;
    while (k == 0);
    return (double)k * 0x1p-53;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t rt_rng_stream_id(uint64_t a, uint64_t b, uint64_t c)
{
    return splitmix64(splitmix64(splitmix64(a) ^ b) ^ c);
}

/* ---- the GSL adapter: a gsl_rng whose state pointer is the rt_rng itself ---- */

static void rt_gsl_set(void *state, unsigned long seed)
{
    rt_rng *r = state;
    rt_rng_init(r, seed, r->stream);
}

static unsigned long rt_gsl_get(void *state)
{
    return rt_rng_u32(state);
}

static double rt_gsl_get_double(void *state)
{
    return rt_rng_uniform(state);
}

static const gsl_rng_type rt_gsl_type = {
    "ppl-philox4x32-10", 0xffffffffUL, 0, 0, rt_gsl_set, rt_gsl_get, rt_gsl_get_double,
};

gsl_rng *rt_rng_gsl(rt_rng *r, gsl_rng *storage)
{
    storage->type = &rt_gsl_type;
    storage->state = r;
    return storage;
}
