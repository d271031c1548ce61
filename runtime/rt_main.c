/* rt_main.c - main() of a standalone binary built by `ppl build`: runs the program's ppl_program.
 * Kept alone in its own object so the `ppl` driver, which has its own main, never pulls it in. */
#include "rt_program.h"

extern const rt_program ppl_program;
int main(int argc, char **argv) { return rt_program_main(argc, argv, &ppl_program); }
