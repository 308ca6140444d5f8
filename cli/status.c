/* ngvoice status: trunks, lines and calls of a running call manager, from its control socket. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ngvoice status [WHAT] [--json] (--config FILE | --socket "
	    "PATH)\n\n"
	    "Asks a running daemon through its control socket (control_socket "
	    "in\n[enterprise] or [general]). WHAT is all (default) or:\n"
	    "  call manager:  trunks (SIP trunk status and \"Time In Full "
	    "Service\", each\n                 destination and its last "
	    "OPTIONS), lines, calls\n"
	    "  voicemail:     ports (busy/idle, the call's TLS suite and SRTP "
	    "suite),\n                 portgroups (\"Reset Required\", "
	    "servers, ITL), mailboxes,\n                 media (packets, "
	    "lateness, drops; --json)\n"
	    "--json prints the daemon's JSON.\n");
}

int
cli_status(int argc, char **argv)
{
	const char *config = NULL, *sock = NULL, *what = "all";
	char path[512], req[64];
	bool json = false;
	int opt;
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		what = argv[optind];
	if (strcmp(what, "trunks") != 0 && strcmp(what, "lines") != 0 &&
	    strcmp(what, "calls") != 0 && strcmp(what, "ports") != 0 &&
	    strcmp(what, "portgroups") != 0 && strcmp(what, "mailboxes") != 0 &&
	    strcmp(what, "media") != 0 && strcmp(what, "all") != 0) {
		fprintf(stderr, "ngvoice status: unknown '%s'\n", what);
		usage(stderr);
		return 2;
	}
	if (!config == !sock) {
		usage(stderr);
		return 2;
	}
	if (config) {
		if (cli_conf_value(
		        config, "control_socket", path, sizeof(path)) != 0) {
			fprintf(stderr,
			    "ngvoice status: %s sets no control_socket: add "
			    "control_socket = PATH to [enterprise]\n",
			    config);
			return 1;
		}
		sock = path;
	}
	snprintf(req, sizeof(req), "%s%s\n", json ? "" : "text ", what);
	static char out[1 << 20];
	if (cli_ctl_request(sock, req, out, sizeof(out)) != 0)
		return 1;
	fputs(out, stdout);
	return 0;
}
