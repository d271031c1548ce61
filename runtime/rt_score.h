/* rt_score.h - score mode: a model's joint log density at given site values, as the sum of
 * its log prior, log likelihood (observe), rewards and, over an unconstrained vector of its
 * continuous sites, the log-Jacobian of their transforms; with its gradient from the model's
 * gradient specialization (DESIGN.md section 8). The client of HMC/NUTS and of the tests.
 *
 * The unconstrained vector u holds one coordinate per continuous sample site, in the order
 * a run of the model meets them (so the model's sites must not depend on the values of
 * others: fixed structure). A site's support (the distribution table's column) picks its
 * transform: the real line x = u; positive x = exp(u); the unit interval x = logistic(u);
 * an interval (lo, hi) x = lo + (hi - lo) logistic(u). */
#ifndef PPL_RT_SCORE_H
#define PPL_RT_SCORE_H
#include "rt_infer.h"

/* The terms of log p by kind. */
enum { RT_PART_PRIOR, RT_PART_LIK, RT_PART_REWARD, RT_PART_JACOBIAN, RT_PART_COUNT };
typedef struct rt_score_parts { double part[RT_PART_COUNT]; } rt_score_parts;

/* The number of coordinates of u for model m on args (one run with every u = 0). A model
 * with a discrete site has no unconstrained vector: an error at loc naming the site. */
int64_t rt_score_dim(const rt_model *m, const void *args, const char *loc);
/* log p(x(u)) + log |det dx/du| at u (n coordinates), its terms in *parts (NULL: not
 * wanted), its gradient in grad[0 .. n) (NULL: not wanted), the sites' values x(u) in
 * x[0 .. n) (NULL: not wanted). A run that meets more or fewer than n continuous sites
 * is an error at loc. */
double rt_score(const rt_model *m, const void *args, const double *u, int64_t n, double *grad, double *x,
                rt_score_parts *parts, const char *loc);

#endif
