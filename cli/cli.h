/* Subcommands of the ngvoice command, one file each. */
#ifndef NGV_CLI_H
#define NGV_CLI_H

struct cli_cmd {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
};

int cli_cert(int argc, char **argv);
int cli_itl(int argc, char **argv);
int cli_callmanager(int argc, char **argv);
int cli_lab(int argc, char **argv);
int cli_reload(int argc, char **argv);
int cli_version(int argc, char **argv);

#endif
