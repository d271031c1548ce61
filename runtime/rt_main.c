/* rt_main.c - main() of a standalone binary built by `ppl build`: hands argv to rt_main.
 * Kept alone in its own object so the `ppl` driver, which has its own main, never pulls it in. */
#include "rt.h"

extern void ppl_main(void);
int main(int argc, char **argv) { return rt_main(argc, argv, ppl_main); }
