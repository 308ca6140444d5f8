/* ngvoice portgroup reset: the guide's Reset button for a port group of a running voicemail server. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ngvoice portgroup reset NAME (--config FILE | --socket "
	    "PATH)\n\n"
	    "Resets a port group of a running voicemail server, as the "
	    "guide's Reset\nbutton: it re-reads the port group's SIP and TFTP "
	    "servers from the file\nand downloads the call manager's ITL "
	    "again (https://<tftp-host>:6972/\nITLFile.tlv). Needed after "
	    "the server lists change (\"Reset Required\").\n");
}

int
cli_portgroup(int argc, char **argv)
{
	const char *config = NULL, *sock = NULL;
	char path[512], req[300];
	int opt;
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, 's'},
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
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 2 != argc || strcmp(argv[optind], "reset") != 0 ||
	    !config == !sock) {
		usage(stderr);
		return 2;
	}
	if (config) {
		if (cli_conf_value(
		        config, "control_socket", path, sizeof(path)) != 0) {
			fprintf(stderr,
			    "ngvoice portgroup: %s sets no control_socket: add "
			    "control_socket = PATH to [general]\n",
			    config);
			return 1;
		}
		sock = path;
	}
	snprintf(req, sizeof(req), "reset %s\n", argv[optind + 1]);
	char out[4096];
	if (cli_ctl_request(sock, req, out, sizeof(out)) != 0)
		return 1;
	fputs(out, stdout);
	return strstr(out, "\"ok\":true") ? 0 : 1;
}
