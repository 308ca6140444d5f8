/* ngvoice reload: asks a running daemon to re-read its configuration (SIGHUP). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ngvoice reload --config FILE | --pid-file FILE\n\n"
	    "Sends SIGHUP to the daemon whose pid_file the configuration "
	    "names\n([enterprise] pid_file for the call manager). The daemon "
	    "re-reads the file:\ncertificates, trust stores and TLS Ciphers "
	    "apply to new connections, open\nconnections keep their "
	    "sessions. A file with errors is refused and the\nrunning "
	    "configuration stays (the daemon logs why).\n");
}

int
cli_reload(int argc, char **argv)
{
	const char *config = NULL, *pidf = NULL;
	char path[512];
	int opt;
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			pidf = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!config == !pidf) {
		usage(stderr);
		return 2;
	}
	if (config) {
		if (cli_conf_value(config, "pid_file", path, sizeof(path)) !=
		    0) {
			fprintf(stderr,
			    "ngvoice reload: %s sets no pid_file: add pid_file "
			    "= PATH to [enterprise] and restart the daemon "
			    "once\n",
			    config);
			return 1;
		}
		pidf = path;
	}
	FILE *f = fopen(pidf, "r");
	char line[32];
	long pid = 0;
	/* strtol(), not fscanf(): a number too big is an error, not UB. */
	if (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *end;
		errno = 0;
		pid = strtol(line, &end, 10);
		end += strspn(end, " \t\r\n");
		if (errno != 0 || end == line || *end != '\0')
			pid = 0;
	}
	if (f == NULL || pid <= 1) {
		fprintf(stderr, "ngvoice reload: %s: no daemon pid (%s)\n",
		    pidf, f ? "unreadable content" : strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	if (kill((pid_t)pid, SIGHUP) != 0) {
		fprintf(stderr, "ngvoice reload: pid %ld from %s: %s\n", pid,
		    pidf, strerror(errno));
		return 1;
	}
	printf("reload requested from pid %ld\n", pid);
	return 0;
}
