/* Subcommands of the ngvoice command, one file each. */
#ifndef NGV_CLI_H
#define NGV_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct cli_cmd {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
};

int cli_cert(int argc, char **argv);
int cli_itl(int argc, char **argv);
/*
 * Runs the sub-command argv[1] of a command (ngvoice cert, ngvoice itl):
 * its function gets argc-1/argv+1; no argument or an unknown one prints
 * usage to stderr and returns 2, --help prints it to stdout.
 */
int cli_dispatch(const char *prog, const struct cli_cmd *subs, size_t n,
    const char *usage, int argc, char **argv);
/* The value of key in any section of a configuration file; -1 if none. */
int cli_conf_value(const char *config, const char *key, char *out, size_t sz);
/* The name of the running sub-command ("ngvoice cert generate"), for messages. */
extern char cli_progname[64];
/* Names the sub-command in argv[0] and resets getopt for its options. */
void cli_set_prog(char **argv, const char *cmd, const char *sub);
/* "PROG: message" on stderr; returns 1 (an error). */
int cli_failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: message" (when fmt) and where to find the options; returns 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True for --help, -h and help. */
bool cli_is_help(const char *s);

/*
 * Sends one request line to a daemon's control socket and reads the whole
 * answer into out (NUL-terminated, truncated to fit). Prints why on
 * stderr and returns 1 when the daemon cannot be reached.
 */
int cli_ctl_request(const char *sock, const char *req, char *out, size_t sz);

int cli_callmanager(int argc, char **argv);
int cli_portgroup(int argc, char **argv);
int cli_voicemail(int argc, char **argv);
int cli_lab(int argc, char **argv);
int cli_phone(int argc, char **argv);
int cli_reload(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_version(int argc, char **argv);

#endif
