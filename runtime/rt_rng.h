/* rt_rng.h - counter-based random streams on Philox4x32-10 (Random123): a draw is a pure
 * function of (seed, stream, counter), so runs are reproducible across JIT, AOT and threads. */
#ifndef PPL_RT_RNG_H
#define PPL_RT_RNG_H
#include <stdint.h>
#include <gsl/gsl_rng.h>

/* One stream. Block `counter` of stream `stream` under `seed` is Philox4x32-10 with
 * key {seed lo, seed hi} and counter {counter lo, counter hi, stream lo, stream hi};
 * its four words are handed out in order. A plain struct: copying it forks nothing,
 * it duplicates the position (use a new stream id for an independent child). */
typedef struct rt_rng {
    uint64_t seed, stream, counter;   /* counter: index of the next block to generate */
    uint32_t buf[4];                  /* the current block */
    int avail;                        /* words of buf not yet handed out (0..4) */
} rt_rng;

void rt_rng_init(rt_rng *r, uint64_t seed, uint64_t stream);
void rt_rng_refill(rt_rng *r);           /* the next block into buf (for the inline draws) */
double rt_rng_uniform(rt_rng *r);        /* k / 2^53 for a 53-bit k != 0: strictly in (0,1) */
double rt_rng_normal(rt_rng *r);         /* a standard normal draw (rt_normal.c) */

/* Blocks counter, counter + 1, ... of one stream into out[0 .. n), in one loop. */
void rt_rng_blocks(uint64_t seed, uint64_t stream, uint64_t counter, int64_t n, uint32_t (*out)[4]);
/* Starts r on stream `stream` with two words handed out before the stream's own: a way to
 * give many short-lived streams their first draw from one shared stream (SMC gives each
 * particle two words of a per-step stream, a quarter of the Philox work of a block each). */
void rt_rng_init_prefix(rt_rng *r, uint64_t seed, uint64_t stream, const uint32_t prefix[2]);

/* Inline: the samplers draw a word or two per value, usually without a refill. */
static inline uint32_t rt_rng_u32(rt_rng *r)
{
    if (r->avail == 0)
        rt_rng_refill(r);
    return r->buf[4 - r->avail--];
}

static inline uint64_t rt_rng_u64(rt_rng *r)   /* two words: the first is the low half */
{
    uint64_t lo = rt_rng_u32(r);
    return lo | (uint64_t)rt_rng_u32(r) << 32;
}

/* A child stream id from up to three integers, e.g. (generation, particle index, 0);
 * splitmix64 finalizers chained, so nearby inputs give unrelated ids. */
uint64_t rt_rng_stream_id(uint64_t a, uint64_t b, uint64_t c);

/* Wraps r as a gsl_rng in caller-provided storage (no allocation) so GSL's samplers can
 * draw from it; valid while r lives. get() returns a 32-bit word, get_double() the
 * uniform above. Returns storage. */
gsl_rng *rt_rng_gsl(rt_rng *r, gsl_rng *storage);

#endif
