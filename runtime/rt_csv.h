/* rt_csv.h - posteriors as Stan-style CSV: `#` comment lines, a header row, one row of
 * weighted draws per particle. `ppl summary` reads it back; so can Stan's CSV readers. */
#ifndef PPL_RT_CSV_H
#define PPL_RT_CSV_H
#include <stdio.h>
#include "rt_infer.h"

/* The runtime's version, written on the CSV's first line ("0.1.0"). */
extern const char rt_version[];

/* Writes `post` to f:
 *   # ppl VERSION
 *   # LINE                 for each of the config_lines (e.g. "method = smc")
 *   # weighted draws: ..., # log_evidence = L, # ess = E, and for smc # resamples = K
 *   log_weight__,value,SITE,...            the header row
 *   one row per particle: normalized log weight, return value, each site's value
 * Sites are the sample-site addresses in order of first appearance over the particles,
 * named x, x.1 (for x[0]), x.2.3 (for x[1, 2]); a particle without the address has nan.
 * `value` is left out for a model without a return value. The same posterior and lines
 * give the same bytes. */
void rt_write_csv(FILE *f, const rt_posterior *post, const char *const *config_lines, int nconfig);

#endif
