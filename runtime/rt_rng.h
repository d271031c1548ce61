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
uint32_t rt_rng_u32(rt_rng *r);
uint64_t rt_rng_u64(rt_rng *r);          /* two words: first is the low half */
double rt_rng_uniform(rt_rng *r);        /* k / 2^53 for a 53-bit k != 0: strictly in (0,1) */

/* A child stream id from up to three integers, e.g. (generation, particle index, 0);
 * splitmix64 finalizers chained, so nearby inputs give unrelated ids. */
uint64_t rt_rng_stream_id(uint64_t a, uint64_t b, uint64_t c);

/* Wraps r as a gsl_rng in caller-provided storage (no allocation) so GSL's samplers can
 * draw from it; valid while r lives. get() returns a 32-bit word, get_double() the
 * uniform above. Returns storage. */
gsl_rng *rt_rng_gsl(rt_rng *r, gsl_rng *storage);

#endif
