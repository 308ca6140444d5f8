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
	    "usage: ngvoice status [trunks|lines|calls|all] [--json]\n"
	    "                      (--config FILE | --socket PATH)\n\n"
	    "Asks a running call manager through its control socket "
	    "([enterprise]\ncontrol_socket): trunks with their SIP trunk status "
	    "and time in it (\"Time In\nFull Service: 0 day 0 hour 3 "
	    "minute\"), each destination and its last OPTIONS;\nlines with "
	    "their registrations; calls. --json prints the daemon's JSON.\n");
}

int
cli_status(int argc, char **argv)
{
	const char *config = NULL, *sock = NULL, *what = "all";
	char path[512], req[64], buf[8192];
	bool json = false;
	struct sockaddr_un sun;
	int opt, fd;
	ssize_t n;
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
	if (strcmp(what, "trunks") && strcmp(what, "lines") &&
	    strcmp(what, "calls") && strcmp(what, "all")) {
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
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ngvoice status: %s: path too long\n", sock);
		return 1;
	}
	memcpy(sun.sun_path, sock, strlen(sock));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr,
		    "ngvoice status: cannot reach the call manager at %s: %s\n",
		    sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	snprintf(req, sizeof(req), "%s%s\n", json ? "" : "text ", what);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}
