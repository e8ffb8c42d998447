#include <stdio.h>
#include "cli.h"
int cli_img(int argc, char **argv) { fprintf(stderr, "lvqcow img: no subcommands built\n"); return 1; }
