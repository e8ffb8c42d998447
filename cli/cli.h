/* cli: the admin commands of the lvqcow binary. */
#ifndef LQ_CLI_H
#define LQ_CLI_H

struct cli_command {
	const char *name;
	const char *help;
	int (*run)(int argc, char **argv);
};

int cli_img(int argc, char **argv);
int cli_serve(int argc, char **argv);

#endif
