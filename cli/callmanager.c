/* ngvoice callmanager: runs the call manager daemon, or checks its configuration. */
#include <event2/event.h>
#include <stdio.h>

#include "callmgr/cm.h"
#include "cli/cli.h"
#include "daemon/daemon.h"

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

/* --check: the file and the identities it names; a summary when valid. */
static int
check(const char *config)
{
	struct cm_config *cfg;
	struct conf_err err;
	char msg[600], why[400];

	if (cm_config_load(&cfg, config, &err) != 0) {
		fprintf(stderr, "%s\n", conf_err_str(&err, msg, sizeof(msg)));
		return 1;
	}
	if (cm_check_identities(cfg, why, sizeof(why)) != 0) {
		fprintf(stderr, "%s: %s\n", config, why);
		cm_config_free(cfg);
		return 1;
	}
	printf("%s: valid: %zu trunk(s), %zu route pattern(s), %zu "
	       "directory number(s), %zu voicemail pilot(s)\n",
	    config, cfg->ntrunks, cfg->nroutes, cfg->ndns, cfg->npilots);
	cm_config_free(cfg);
	return 0;
}

static int
cm_alloc_h(void **dp, struct event_base *base, const char *config,
    struct conf_err *err)
{
	struct callmgr *cm;
	int rc = cm_alloc(&cm, base, config, err);

	if (rc == 0)
		*dp = cm;
	return rc;
}

static int
cm_start_h(void *d)
{
	return cm_start(d);
}

static void
cm_free_h(void *d)
{
	cm_free(d);
}

int
cli_callmanager(int argc, char **argv)
{
	static const struct daemon_cli dc = {
	    .name = "callmanager",
	    .usage = usage,
	    .check = check,
	    .base_new = daemon_event_base_new,
	    .alloc = cm_alloc_h,
	    .start = cm_start_h,
	    .free = cm_free_h,
	};

	return daemon_main(&dc, argc, argv);
}
