/* ngvoice voicemail: runs the voicemail daemon, or checks its configuration. */
#include <stdio.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
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

/* --check: the file and the identities it names; a summary when valid. */
static int
check(const char *config)
{
	struct vm_config *cfg;
	struct conf_err err;
	char msg[600], why[400];
	size_t nports = 0;

	if (vm_config_load(&cfg, config, &err) != 0) {
		fprintf(stderr, "%s\n", conf_err_str(&err, msg, sizeof(msg)));
		return 1;
	}
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

static int
vm_alloc_h(void **dp, struct event_base *base, const char *config,
    struct conf_err *err)
{
	struct voicemail *vm;
	int rc = vm_alloc(&vm, base, config, err);

	if (rc == 0)
		*dp = vm;
	return rc;
}

static int
vm_start_h(void *d)
{
	return vm_start(d);
}

static void
vm_free_h(void *d)
{
	vm_free(d);
}

int
cli_voicemail(int argc, char **argv)
{
	static const struct daemon_cli dc = {
	    .name = "voicemail",
	    .usage = usage,
	    .check = check,
	    .base_new = media_event_base_new,
	    .alloc = vm_alloc_h,
	    .start = vm_start_h,
	    .free = vm_free_h,
	};

	return daemon_main(&dc, argc, argv);
}
