/* The voicemail daemon's internal state, shared by its modules (not a library header). */
#ifndef NGV_VOICEMAIL_VM_H
#define NGV_VOICEMAIL_VM_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/list.h"
#include "core/sa.h"
#include "sip/trans.h"
#include "voicemail/config.h"

struct event_base;
struct event;
struct ctl;
struct media_loop;
struct media_clip;
struct store;
struct vm_call;
struct vm_itl_fetch;
struct buf;

/* A loaded prompt (prompts_dir/NAME.wav). */
struct vm_prompt {
	char *name;
	struct media_clip *clip;
};

/* One voicemail port: carries at most one call. */
struct vm_port {
	unsigned number; /* 1-based, as the guide's port list */
	struct vm_call *call;
	unsigned long calls; /* calls taken since start */
};

/* A SIP server of a port group at run time (resolved). */
struct vm_server_rt {
	char *host;
	uint16_t port, tls_port;
	struct sa addr; /* resolved, port 0 */
	bool resolved;
};

/* A port group at run time. */
struct vm_group_rt {
	struct voicemail *vm;
	const struct vm_port_group *cfg;
	enum sip_proto proto;         /* of its SIP security profile */
	struct vm_server_rt *servers; /* owned copy: a reset replaces it */
	size_t nservers;
	char **tftp; /* owned copy of the TFTP server list */
	size_t ntftp;
	struct vm_port *ports;
	size_t nports;
	bool reset_required; /* the file's server lists differ */
	/* ITL state, for status */
	char itl_source[340];
	char itl_signer[512];
	unsigned itl_records;
	time_t itl_fetched; /* wall clock, 0 = never */
	char itl_error[2048];
	STACK_OF(X509) * itl_certs;     /* trusted from the ITL */
	struct vm_itl_fetch *itl_fetch; /* in progress, NULL otherwise */
};

struct voicemail {
	struct event_base *base;
	struct vm_config *cfg;
	char *cfg_path;
	struct sip_stack *stack;
	SSL_CTX *tls_server;
	SSL_CTX *tls_client;
	struct media_loop *media;
	struct store *store;
	struct vm_prompt *prompts;
	size_t nprompts;
	struct media_clip **greetings; /* per mailbox: standard, busy */
	struct vm_group_rt *groups;
	size_t ngroups;
	struct list calls; /* struct vm_call */
	struct ctl *control;
	struct event *sig_hup, *sig_term, *sig_int;
	struct event *mwi_timer;
	struct sa sip_addr, tls_addr; /* bound listeners */
	struct sa rtp_addr;
	unsigned long calls_total, calls_refused;
	unsigned long mwi_sent, mwi_failed;
};

/* daemon.c */
int vm_alloc(struct voicemail **vp, struct event_base *base, const char *path,
    struct conf_err *err);
int vm_start(struct voicemail *vm);
/* --check: the identities load and are valid now; why says what is not. */
int vm_check_identities(struct vm_config *cfg, char *why, size_t whysz);
void vm_free(struct voicemail *vm);
/* Our address for Via/Contact toward a peer of this family over proto. */
void vm_local_addr(struct voicemail *vm, enum sip_proto proto, int family,
    struct sa *la, char *host, size_t hostsz);
const struct media_clip *vm_prompt(
    const struct voicemail *vm, const char *name);
/* The mailbox's greeting clip (0 standard, 1 busy), NULL for a spoken one. */
const struct media_clip *vm_greeting(
    const struct voicemail *vm, const struct vm_mailbox *mb, bool busy);
/* Rebuilds the TLS contexts with the port groups' ITL certificates. */
int vm_tls_refresh(struct voicemail *vm);
/* Re-reads the port group from the file and fetches its ITL again. */
int vm_group_reset(
    struct voicemail *vm, const char *name, char *msg, size_t msgsz);

/* call.c */
void vm_calls_init(struct voicemail *vm);
void vm_calls_free(struct voicemail *vm);
void vm_call_invite(struct voicemail *vm, struct vm_group_rt *g,
    const struct sip_msg *m, const struct sip_rx *rx);
/* A request inside a call's dialog (ACK, BYE, INFO, re-INVITE). */
bool vm_call_in_dialog(
    struct voicemail *vm, const struct sip_msg *m, const struct sip_rx *rx);
/* The SIP server's connection is gone: its calls end (recordings kept). */
void vm_calls_conn_lost(struct voicemail *vm, struct sip_conn *conn);
/* Appends the ports and their calls as JSON. */
void vm_calls_json(struct voicemail *vm, struct buf *b);
/* "TLS1.2 ECDHE-...; SRTP AEAD_AES_256_GCM" of a port's call. */
void vm_call_describe(const struct vm_call *c, char *out, size_t outsz);

/* mwi.c */
/* Sends what the store marks pending for a mailbox (or all with NULL). */
void vm_mwi_kick(struct voicemail *vm, const char *mailbox);
int vm_mwi_start(struct voicemail *vm);
void vm_mwi_stop(struct voicemail *vm);

/* control.c */
int vm_control_start(struct voicemail *vm);
void vm_control_stop(struct voicemail *vm);

#endif
