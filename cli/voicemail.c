/* ngvoice voicemail: runs the voicemail daemon, or checks its configuration. */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/log.h"
#include "media/stream.h"
#include "voicemail/vm.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ngvoice voicemail --config FILE [--check] [--debug]\n\n"
	    "Runs the voicemail server (the guide's Unity Connection side): "
	    "port groups\nand ports answering the call manager over TLS with "
	    "SRTP, greetings,\nmessages into mailboxes, MWI, subscriber "
	    "sign-in. On start and on\n`ngvoice portgroup reset` it downloads "
	    "the call manager's ITL.\n\n"
	    "  --config FILE  the configuration (docs/voicemail-config.md)\n"
	    "  --check        validate the file and exit: 0 when valid, 1 "
	    "with file:line\n"
	    "  --debug        log every connection, transaction and key "
	    "press\n\n"
	    "Signals: SIGHUP re-reads the file (certificates and trust apply "
	    "to new\nconnections; changed server lists mark the port group "
	    "\"Reset Required\"),\nSIGTERM stops.\n");
}

int
cli_voicemail(int argc, char **argv)
{
	const char *config = NULL;
	bool check = false;
	struct conf_err err;
	struct voicemail *vm;
	char msg[600];
	int opt, rc;
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'd':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config == NULL) {
		fprintf(
		    stderr, "ngvoice voicemail: --config FILE is required\n");
		usage(stderr);
		return 2;
	}
	if (check) {
		struct vm_config *cfg;
		size_t nports = 0;
		if (vm_config_load(&cfg, config, &err) != 0) {
			fprintf(stderr, "%s\n",
			    conf_err_str(&err, msg, sizeof(msg)));
			return 1;
		}
		char why[400];
		if (vm_check_identities(cfg, why, sizeof(why)) != 0) {
			fprintf(stderr, "%s: %s\n", config, why);
			vm_config_free(cfg);
			return 1;
		}
		for (size_t i = 0; i < cfg->ngroups; i++)
			nports += cfg->groups[i].ports
			              ? cfg->groups[i].ports->number_of_ports
			              : 0;
		printf("%s: valid: %zu port group(s), %zu port(s), %zu "
		       "mailbox(es)\n",
		    config, cfg->ngroups, nports, cfg->nmailboxes);
		vm_config_free(cfg);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = media_event_base_new();
	if (base == NULL)
		return 1;
	if (vm_alloc(&vm, base, config, &err) != 0) {
		fprintf(stderr, "%s\n", conf_err_str(&err, msg, sizeof(msg)));
		event_base_free(base);
		return 1;
	}
	if ((rc = vm_start(vm)) != 0) {
		log_err("voicemail: not started (%s)", strerror(rc));
		vm_free(vm);
		event_base_free(base);
		return 1;
	}
	event_base_dispatch(base);
	vm_free(vm);
	event_base_free(base);
	return 0;
}
