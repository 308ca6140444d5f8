/* The ngvoice command: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_cmd commands[] = {
    {"callmanager",
        "run the call manager daemon (or --check its configuration)",
        cli_callmanager},
    {"cert", "identity certificates, CSRs, a lab CA, trust stores", cli_cert},
    {"itl", "the ITL trust file: build, show, verify", cli_itl},
    {"lab", "set up the guide on loopback and verify it", cli_lab},
    {"phone",
        "a secure SIP phone for tests: register, dial, play, record, digits",
        cli_phone},
    {"portgroup", "reset a port group of a running voicemail server",
        cli_portgroup},
    {"reload", "make a running daemon re-read its configuration", cli_reload},
    {"status",
        "trunks, lines, calls; ports, port groups, mailboxes of a daemon",
        cli_status},
    {"version", "print the version", cli_version},
    {"voicemail", "run the voicemail daemon (or --check its configuration)",
        cli_voicemail},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: ngvoice <command> [options]\n\n"
	           "ngvoice: a secure (NGE) SIP call manager and voicemail "
	           "server.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'ngvoice <command> --help' for the options of one "
	           "command.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "ngvoice: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
