/* Helpers shared by the ngvoice subcommands. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/conf.h"

bool
cli_is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 ||
	       strcmp(s, "help") == 0;
}

int
cli_dispatch(const char *prog, const struct cli_cmd *subs, size_t n,
    const char *usage, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (cli_is_help(argv[1])) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s'\n\n", prog, argv[1]);
	fputs(usage, stderr);
	return 2;
}

int
cli_conf_value(const char *config, const char *key, char *out, size_t sz)
{
	struct conf *c;
	struct conf_err err;
	char msg[600];
	int rc = -1;

	if (conf_load(&c, config, &err) != 0) {
		fprintf(stderr, "%s\n", conf_err_str(&err, msg, sizeof(msg)));
		return -1;
	}
	for (size_t i = 0; i < c->nsecs && rc != 0; i++) {
		for (size_t j = 0; j < c->secs[i].nitems && rc != 0; j++) {
			if (strcmp(c->secs[i].items[j].key, key) == 0) {
				snprintf(
				    out, sz, "%s", c->secs[i].items[j].val);
				rc = 0;
			}
		}
	}
	conf_free(c);
	return rc;
}

char cli_progname[64];

void
cli_set_prog(char **argv, const char *cmd, const char *sub)
{
	snprintf(cli_progname, sizeof(cli_progname), "%s %s", cmd, sub);
	argv[0] = cli_progname;
	optind = 0; /* GNU getopt: start over for this subcommand */
}

int
cli_failf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return 1;
}

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "%s: ", cli_progname);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "Run '%s --help' for the options.\n", cli_progname);
	return 2;
}

int
cli_ctl_request(const char *sock, const char *req, char *out, size_t sz)
{
	struct sockaddr_un sun;
	size_t len = 0;
	ssize_t n;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "%s: path too long\n", sock);
		return 1;
	}
	memcpy(sun.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "cannot reach the daemon at %s: %s\n", sock,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return 1;
	}
	while (len + 1 < sz && (n = read(fd, out + len, sz - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
	return 0;
}
