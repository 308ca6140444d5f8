/* ngvoice callmanager: runs the call manager daemon, or checks its configuration. */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "callmgr/cm.h"
#include "cli/cli.h"
#include "core/log.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ngvoice callmanager --config FILE [--check] [--debug]\n\n"
	    "Runs the call manager (the guide's Unified CM side): registrar "
	    "for the\ndirectory numbers, SIP trunks with their security "
	    "profiles and OPTIONS ping.\n\n"
	    "  --config FILE  the configuration (docs/callmanager-config.md)\n"
	    "  --check        validate the file and exit: 0 when valid, 1 "
	    "with file:line\n"
	    "  --debug        log every connection and transaction\n\n"
	    "Signals: SIGHUP re-reads the file (certificates, trust and TLS "
	    "Ciphers\napply to new connections), SIGTERM stops.\n");
}

int
cli_callmanager(int argc, char **argv)
{
	const char *config = NULL;
	bool check = false;
	struct conf_err err;
	struct callmgr *cm;
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
		fprintf(stderr, "ngvoice callmanager: --config FILE is "
		                "required\n");
		usage(stderr);
		return 2;
	}
	if (check) {
		struct cm_config *cfg;
		if (cm_config_load(&cfg, config, &err) != 0) {
			fprintf(stderr, "%s\n",
			    conf_err_str(&err, msg, sizeof(msg)));
			return 1;
		}
		char why[400];
		if (cm_check_identities(cfg, why, sizeof(why)) != 0) {
			fprintf(stderr, "%s: %s\n", config, why);
			cm_config_free(cfg);
			return 1;
		}
		printf("%s: valid: %zu trunk(s), %zu route pattern(s), %zu "
		       "directory number(s), %zu voicemail pilot(s)\n",
		    config, cfg->ntrunks, cfg->nroutes, cfg->ndns,
		    cfg->npilots);
		cm_config_free(cfg);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	if (base == NULL)
		return 1;
	if (cm_alloc(&cm, base, config, &err) != 0) {
		fprintf(stderr, "%s\n", conf_err_str(&err, msg, sizeof(msg)));
		event_base_free(base);
		return 1;
	}
	if ((rc = cm_start(cm)) != 0) {
		log_err("callmanager: not started (%s)", strerror(rc));
		cm_free(cm);
		event_base_free(base);
		return 1;
	}
	event_base_dispatch(base);
	cm_free(cm);
	event_base_free(base);
	return 0;
}
