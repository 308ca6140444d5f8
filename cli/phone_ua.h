/* A small secure SIP user agent for administrators and tests: register, dial, play, record, digits, MWI. */
#ifndef NGV_CLI_PHONE_UA_H
#define NGV_CLI_PHONE_UA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/srtp.h"
#include "sip/transport.h"
#include "tls/profile.h"

struct event_base;
struct phone_ua;

/* What to do with an INVITE that reaches the registered line. */
enum phone_incoming {
	PHONE_IN_BUSY,   /* 486 Busy Here (default) */
	PHONE_IN_ANSWER, /* auto-answer with an SDP answer (sdp_answer) */
	PHONE_IN_RING,   /* 180 Ringing and never answer (no-answer tests) */
};

/* Everything here is borrowed and must outlive the phone. */
struct phone_ua_conf {
	const char *registrar; /* "host:port" (IPv6 as "[::1]:5061") */
	const char *user;      /* the line: 1001 */
	const char *password;  /* its digest password, NULL: none */
	const char *domain;    /* of From/To/AOR; NULL: the registrar host */
	enum sip_proto proto;
	/* TLS: identity (optional), trust store, "TLS Ciphers" option. */
	const char *cert, *key;
	const char *trust;    /* NULL: the server is not verified (warned) */
	const char *tls_name; /* NULL: the registrar host, unless an IP */
	enum tls_ciphers tls_ciphers;
	/* SRTP: secure_rtp off offers plain RTP/AVP. */
	bool secure_rtp;
	enum srtp_option srtp_option;
	/* An explicit suite list in offer order; nsuites 0: srtp_option. */
	enum srtp_suite suites[SRTP_SUITE_COUNT];
	size_t nsuites;
	unsigned expires; /* REGISTER expiry in s, 0: 600 */
	enum phone_incoming incoming;
	const char *local_ip; /* media and Contact address; NULL: guessed */
};

/* One digit to send in a call, at a time counted from the answer. */
struct phone_digit {
	char digit; /* 0-9 * # A-D */
	uint32_t at_ms;
};

#define PHONE_MAX_DIGITS 32

/* The media of a call (outgoing, or incoming with PHONE_IN_ANSWER). */
struct phone_call_opts {
	const char *play;   /* WAV file to play once, NULL: silence */
	const char *record; /* WAV file for what is heard, NULL: none */
	struct phone_digit digits[PHONE_MAX_DIGITS];
	size_t ndigits;
	uint32_t duration_ms; /* hang up after; 0: wait for the far end */
};

enum phone_event {
	PHONE_EV_REGISTERED,   /* 200 to REGISTER */
	PHONE_EV_REG_FAILED,   /* final failure: see report reg_* */
	PHONE_EV_UNREGISTERED, /* the Expires: 0 REGISTER finished */
	PHONE_EV_RINGING,      /* 180/183 */
	PHONE_EV_ANSWERED,     /* 200 with a usable SDP answer, ACK sent */
	PHONE_EV_CALL_FAILED,  /* no call: final status or error in report */
	PHONE_EV_DIGIT_SENT,   /* an INFO for one digit was answered */
	PHONE_EV_CALL_ENDED,   /* after BYE (ours or theirs) */
	PHONE_EV_MWI,          /* a message-summary NOTIFY was answered 200 */
	PHONE_EV_INCOMING,     /* an INVITE arrived (answered per policy) */
};

/*
 * Called from the event loop, never from inside a phone_ua_* call. The
 * handler may call any phone_ua_* function except phone_ua_free(), and
 * may break the loop.
 */
typedef void(phone_event_h)(enum phone_event ev, void *arg);

/* What a phone saw; strings are NUL-terminated, empty when unknown. */
struct phone_report {
	bool registered;
	uint16_t reg_status; /* last final answer to REGISTER, 0: none */
	char reg_reason[128];
	uint16_t call_status;  /* final answer to the INVITE, 0: none */
	char call_reason[256]; /* its reason phrase, or why we gave up */
	char security[32];     /* Call-Info security= of the answer */
	char tls_version[16];  /* of the flow to the registrar */
	char tls_cipher[64];
	bool srtp; /* the call's media is SRTP */
	enum srtp_suite suite;
	char codec[8]; /* PCMU, PCMA */
	uint64_t tx_packets, rx_packets, rx_dropped;
	uint32_t heard_ms; /* recorded (or received) audio */
	bool ended_by_peer;
	unsigned digits_sent, digits_refused; /* INFO answered 2xx / other */
	uint16_t digit_status;                /* last INFO answer */
	int mwi; /* -1: no NOTIFY seen; 0 no; 1 yes */
	unsigned mwi_notifies;
	char mwi_counts[64]; /* Voice-Message value, e.g. "2/0" */
	unsigned incoming;   /* INVITEs that reached us */
	char incoming_from[128];
};

/*
 * Makes a phone on base: a SIP stack (listeners on local_ip for UDP or
 * TCP; for TLS only with an identity), TLS contexts, the media loop.
 * Returns 0, EINVAL (bad configuration, logged), ENOMEM, EPROTO (TLS
 * files) or a socket errno. h is called for each event.
 */
int phone_ua_alloc(struct phone_ua **uap, struct event_base *base,
    const struct phone_ua_conf *conf, phone_event_h *h, void *arg);
/* Ends everything at once (no BYE, no un-REGISTER). NULL is fine. */
void phone_ua_free(struct phone_ua *ua);

/* REGISTERs the line, answering 401/407 once per nonce. 0 or an errno. */
int phone_ua_register(struct phone_ua *ua);
/* REGISTERs with Expires: 0; PHONE_EV_UNREGISTERED follows. */
int phone_ua_unregister(struct phone_ua *ua);

/*
 * Calls number (a user part, or a full sip:/sips: URI) through the
 * registrar with an SDP offer; o (copied) says what to do once answered.
 * Returns 0 (then ANSWERED or CALL_FAILED follows), EPROTO (a call is up)
 * or an errno.
 */
int phone_ua_dial(
    struct phone_ua *ua, const char *number, const struct phone_call_opts *o);
/* The media of incoming calls answered by PHONE_IN_ANSWER (copied). */
void phone_ua_set_answer_opts(
    struct phone_ua *ua, const struct phone_call_opts *o);
/*
 * Hangs up: BYE when up (CALL_ENDED follows), CANCEL while our INVITE is
 * pending (CALL_FAILED with 487 follows), 480 to a ringing incoming call.
 */
int phone_ua_hangup(struct phone_ua *ua);
/* True while a call is set up or up. */
bool phone_ua_in_call(const struct phone_ua *ua);

/* Fills r with what was seen so far (media counters of the current call). */
void phone_ua_report(const struct phone_ua *ua, struct phone_report *r);

/* Parses "5@2.0,#@3.5" (digit@seconds after answer). 0 or EINVAL. */
int phone_digits_parse(struct phone_call_opts *o, const char *s);

#endif
