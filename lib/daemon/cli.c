/* `ngvoice callmanager|voicemail`: the command line that checks a daemon's configuration or runs it. */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "core/log.h"
#include "daemon/daemon.h"

/* Runs the daemon on its loop until a signal breaks it: the exit status. */
static int
run(const struct daemon_cli *dc, const char *config)
{
	struct event_base *base;
	struct conf_err err;
	char msg[600];
	void *d;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if ((base = dc->base_new()) == NULL)
		return 1;
	if (dc->alloc(&d, base, config, &err) != 0) {
		fprintf(stderr, "%s\n", conf_err_str(&err, msg, sizeof(msg)));
		event_base_free(base);
		return 1;
	}
	if ((rc = dc->start(d)) != 0) {
		log_err("%s: not started (%s)", dc->name, strerror(rc));
		dc->free(d);
		event_base_free(base);
		return 1;
	}
	/* Log lines of one turn of the loop in one write(2). */
	(void)log_batch_start(base);
	event_base_dispatch(base);
	dc->free(d);
	log_batch_stop();
	event_base_free(base);
	return 0;
}

struct event_base *
daemon_event_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	/* epoll changes of one turn go in together: a TLS write adds and
	 * removes EV_WRITE within the turn, which then costs no epoll_ctl. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int
daemon_main(const struct daemon_cli *dc, int argc, char **argv)
{
	const char *config = NULL;
	bool check = false;
	int opt;
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
			dc->usage(stdout);
			return 0;
		default:
			dc->usage(stderr);
			return 2;
		}
	}
	if (config == NULL) {
		fprintf(stderr, "ngvoice %s: --config FILE is required\n",
		    dc->name);
		dc->usage(stderr);
		return 2;
	}
	return check ? dc->check(config) : run(dc, config);
}
