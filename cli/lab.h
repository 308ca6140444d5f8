/* ngvoice lab: the parts of the lab, sharing the files it generates. */
#ifndef NGV_CLI_LAB_H
#define NGV_CLI_LAB_H

#include <stdbool.h>

#include "media/srtp.h"
#include "tls/profile.h"

struct event_base;

struct lab_files {
	const char *dir;
	const char *cm_rsa, *cm_rsa_key, *cm_ec, *cm_ec_key, *cm_trust;
	const char *vm_rsa, *vm_rsa_key, *vm_ec, *vm_ec_key, *vm_trust;
	const char *phone, *phone_key;
};

/* What the lab runs with: the guide's options to try, and --keep. */
struct lab_opts {
	enum tls_ciphers tls;  /* TLS Ciphers of both daemons and the phones */
	enum srtp_option srtp; /* SRTP Ciphers of both daemons and the phones */
	bool keep;             /* leave the system running afterwards */
	bool ca;               /* identities signed by a lab CA (--ca) */
};

typedef void(lab_step_fn)(void *arg, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Runs the system part: both daemons, the ITL, phones, calls. prompts is
 * the voicemail prompts directory. Returns 1 when every step passed.
 */
int lab_system(struct event_base *base, const struct lab_files *f,
    const struct lab_opts *o, const char *prompts, lab_step_fn *step,
    void *arg);

#endif
