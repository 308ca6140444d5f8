/* The call manager daemon's internal state, shared by its modules (not a library header). */
#ifndef NGV_CALLMGR_CM_H
#define NGV_CALLMGR_CM_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "callmgr/config.h"
#include "core/list.h"
#include "core/sa.h"
#include "sip/auth.h"
#include "sip/trans.h"

struct event_base;
struct event;
struct ctl;
struct buf;

/* One registered contact of a line (RFC 3261 10.3). */
struct cm_binding {
	struct list le;
	char *contact;     /* the Contact value as registered */
	char *uri;         /* its URI */
	time_t expires_at; /* monotonic seconds */
	char *callid;
	uint32_t cseq;
	enum sip_proto proto; /* the flow it registered over */
	struct sa src;
	struct sip_conn *conn; /* referenced for TCP/TLS flows */
	char *user_agent;
};

/* A directory number's runtime state. */
struct cm_line {
	const struct cm_dn *dn;
	struct list bindings;
	bool mwi_on;         /* the message waiting lamp */
	char mwi_counts[64]; /* "2/0" from Voice-Message, may be empty */
};

enum cm_dest_state { CM_DEST_UNKNOWN, CM_DEST_UP, CM_DEST_DOWN };

/* A trunk destination's OPTIONS ping state (protocol-notes 4). */
struct cm_dest_rt {
	struct cm_trunk_rt *trunk;
	const struct cm_destination *dest;
	struct sa addr;
	bool resolved;
	enum cm_dest_state state;
	double last_rtt_ms;
	uint16_t last_status; /* last response code, 0: none */
	char last_error[128];
	struct event *timer;
	struct sip_ctrans *ping; /* in flight, NULL otherwise */
	double t_sent;
};

enum cm_trunk_status {
	CM_TRUNK_UNKNOWN_NO_PING, /* "Unknown - OPTIONS Ping not enabled" */
	CM_TRUNK_FULL,            /* "Full Service" */
	CM_TRUNK_PARTIAL,         /* "Partial Service" */
	CM_TRUNK_NONE,            /* "No Service" */
};

struct cm_trunk_rt {
	struct callmgr *cm;
	const struct cm_trunk *cfg;
	enum sip_proto proto;
	struct cm_dest_rt *dests;
	size_t ndests;
	enum cm_trunk_status status;
	time_t status_since;           /* wall clock */
	bool warned_srtp, warned_keys; /* once-per-trunk warnings said */
};

struct authfail;

struct callmgr {
	struct event_base *base;
	struct cm_config *cfg;
	char *cfg_path;
	struct sip_stack *stack;
	SSL_CTX *tls_server;
	SSL_CTX *tls_client;
	struct sip_auth_server *auth;
	struct cm_line *lines; /* one per configured DN, same order */
	size_t nlines;
	struct cm_trunk_rt *trunks; /* one per configured trunk */
	size_t ntrunks;
	struct event *sweep;
	struct event *sig_hup, *sig_term, *sig_int;
	struct sa sip_addr, tls_addr; /* bound listeners */
	struct list calls;            /* struct cm_call */
	struct ctl *control;
	struct authfail *authfail; /* failures per source (authfail.c) */
	struct cm_config *retired; /* replaced configurations calls still use */
	/* failures per source (authfail.c) */ /* unix socket for `ngvoice status` */
	struct cm_tftp *tftp; /* HTTPS :6972 (tftp.c), NULL: not serving */
};

/* daemon.c */
int cm_alloc(struct callmgr **cmp, struct event_base *base, const char *path,
    struct conf_err *err);
int cm_start(struct callmgr *cm);
/* --check: the identities load and are valid now; why says what is not. */
int cm_check_identities(struct cm_config *cfg, char *why, size_t whysz);
void cm_free(struct callmgr *cm);
time_t cm_now(void);
/*
 * Our address for a Via or Contact toward a peer of this family over
 * proto: the listener's, else the UDP/TCP one; its text form in host.
 */
void cm_local_addr(struct callmgr *cm, enum sip_proto proto, int family,
    struct sa *la, char *host, size_t hostsz);
double cm_now_ms(void);

/* registrar.c */
void cm_registrar_init(struct callmgr *cm);
void cm_registrar_free(struct callmgr *cm);
void cm_registrar_request(
    struct callmgr *cm, const struct sip_msg *m, const struct sip_rx *rx);
void cm_registrar_sweep(struct callmgr *cm);
/* After a reload (cm->cfg is new): lines rebuilt, registrations and lamp
 * states kept for the numbers that remain. */
int cm_registrar_rebind(struct callmgr *cm, const struct cm_config *old);
struct cm_line *cm_line_find(struct callmgr *cm, const char *number);
/* Digest on a trunk (its profile's Enable Digest Authentication): false
 * when the request was answered (401/403). */
bool cm_trunk_authorised(struct callmgr *cm, const struct sip_msg *m,
    const struct sip_rx *rx, const char *trunk);

/* call.c */
void cm_calls_init(struct callmgr *cm);
void cm_calls_free(struct callmgr *cm);
/* A new INVITE; caller is the line it came from, NULL for a trunk. */
void cm_call_invite(struct callmgr *cm, const struct sip_msg *m,
    const struct sip_rx *rx, const struct cm_dn *caller);
/* A request inside a call's dialog; false when it belongs to none. */
bool cm_call_in_dialog(
    struct callmgr *cm, const struct sip_msg *m, const struct sip_rx *rx);

/* A TCP/TLS connection is gone: calls that lived on it end. */
void cm_calls_conn_lost(struct callmgr *cm, struct sip_conn *conn, int err);

/* Appends the calls as a JSON array. */
void cm_calls_json(struct callmgr *cm, struct buf *b);

/* authfail.c */
/* A failed authentication from peer: counted; logged once per interval. */
void cm_authfail_note(struct callmgr *cm, const struct sa *peer,
    const char *what, const char *user);
/* True when peer failed too often lately: refuse without checking. */
bool cm_authfail_blocked(struct callmgr *cm, const struct sa *peer);
void cm_authfail_free(struct callmgr *cm);

/* control.c */
int cm_control_start(struct callmgr *cm);
void cm_control_stop(struct callmgr *cm);

/* mwi.c */
void cm_mwi_request(struct callmgr *cm, const struct sip_msg *m,
    const struct sip_rx *rx, const struct cm_trunk_rt *trunk);
/* Sends the lamp state to one binding, or to all with only NULL. */
void cm_mwi_notify_line(
    struct callmgr *cm, struct cm_line *l, struct cm_binding *only);

/* trunk.c */
int cm_trunks_start(struct callmgr *cm);
void cm_trunks_free(struct callmgr *cm);
/* After a reload: trunks rebuilt from cm->cfg, their status kept by name. */
int cm_trunks_restart(struct callmgr *cm);
const char *cm_trunk_status_label(enum cm_trunk_status s);

#endif
