#include <stdio.h>
#include "cli.h"
int cli_serve(int argc, char **argv) { fprintf(stderr, "lvqcow serve: not built\n"); return 1; }
