/*
 * SDP (RFC 4566): a zero-copy parser into a fixed struct, SDES a=crypto
 * (RFC 4568, RFC 6188 and RFC 7714 suite names), audio offer/answer
 * (RFC 3264) for the voicemail server and the encoder for what we send.
 *
 * The parser allocates nothing: every slice in struct sdp_session borrows the
 * caller's buffer, which must outlive the struct. Key material is copied only
 * into struct sdp_crypto, struct sdp_neg and struct sdp_offer, which have
 * wipe functions; the caller wipes them when the SRTP contexts are made.
 */
#ifndef NGV_SDP_SDP_H
#define NGV_SDP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/sa.h"
#include "core/slice.h"
#include "media/srtp.h"

/* Bounds checked before anything else is parsed. */
#define SDP_MAX_LEN    16384 /* whole body, bytes */
#define SDP_MAX_LINES  256
#define SDP_MAX_LINE   2048 /* one line without its CRLF */
#define SDP_MAX_MEDIA  8    /* m= sections */
#define SDP_MAX_FMTS   32   /* formats kept per m= line; more are ignored */
#define SDP_MAX_RTPMAP 32   /* a=rtpmap kept per m= line */
#define SDP_MAX_FMTP   16   /* a=fmtp kept per m= line */
#define SDP_MAX_CRYPTO 8    /* a=crypto kept per m= line */
#define SDP_ERR_MAX    128  /* a good size for parse error buffers */
#define SDP_REASON_MAX 256  /* a good size for offer/answer reasons */

enum sdp_dir {
	SDP_DIR_UNSET = 0, /* not given: sendrecv (RFC 3264 section 5.1) */
	SDP_SENDRECV,
	SDP_SENDONLY,
	SDP_RECVONLY,
	SDP_INACTIVE,
};

/* c= (or a=rtcp's address part): "IN IP4 192.0.2.1"; TTL and count dropped. */
struct sdp_conn {
	bool set;
	struct slice nettype;  /* "IN" */
	struct slice addrtype; /* "IP4" or "IP6" */
	struct slice addr;     /* an IP literal or, rarely, a host name */
};

struct sdp_rtpmap {
	unsigned pt;
	struct slice enc;    /* "PCMU", "telephone-event" */
	uint32_t rate;       /* clock rate */
	struct slice params; /* channels; empty when absent */
};

struct sdp_fmtp {
	unsigned pt;
	struct slice params; /* "0-15" */
};

struct sdp_media {
	struct slice type;  /* "audio", "video", "application", ... */
	uint16_t port;      /* 0 = disabled */
	unsigned nports;    /* the /n after the port, 1 when absent */
	struct slice proto; /* "RTP/AVP", "RTP/SAVP", "RTP/SAVPF", ... */
	struct slice fmts;  /* the whole format list, as written */
	unsigned fmt[SDP_MAX_FMTS]; /* numeric formats (payload types) */
	size_t nfmt;
	struct sdp_conn c;
	struct sdp_rtpmap rtpmap[SDP_MAX_RTPMAP];
	size_t nrtpmap;
	struct sdp_fmtp fmtp[SDP_MAX_FMTP];
	size_t nfmtp;
	/* a=crypto values after "crypto:", unparsed: sdp_crypto_parse() */
	struct slice crypto[SDP_MAX_CRYPTO];
	size_t ncrypto;
	enum sdp_dir dir; /* effective: the session's when the media has none */
	unsigned ptime;   /* ms, 0 when absent */
	uint16_t rtcp_port; /* a=rtcp, 0 when absent */
	struct sdp_conn rtcp_c;
	bool rtcp_mux;
};

struct sdp_session {
	unsigned version; /* v=, always 0 */
	struct {
		struct slice username;
		struct slice sess_id; /* digits; may exceed 64 bits */
		struct slice sess_version;
		struct slice nettype;
		struct slice addrtype;
		struct slice addr;
	} origin;
	struct slice name; /* s= */
	struct sdp_conn c; /* session-level c= */
	enum sdp_dir dir;  /* session-level direction attribute */
	struct sdp_media media[SDP_MAX_MEDIA];
	size_t nmedia;
};

/*
 * Parses an SDP body of n bytes at p (CRLF or LF line ends). The result
 * borrows p. Returns 0, EINVAL (NULL arguments) or EBADMSG with a short
 * reason naming the line in err ("line 5 (m=): bad port"); err may be NULL.
 */
int sdp_parse(
    struct sdp_session *s, const char *p, size_t n, char *err, size_t errlen);

/* The rtpmap of payload type pt in m, or NULL. */
const struct sdp_rtpmap *sdp_media_rtpmap(
    const struct sdp_media *m, unsigned pt);
/* The connection address that applies to m: its own c= or the session's. */
const struct sdp_conn *sdp_media_conn(
    const struct sdp_session *s, const struct sdp_media *m);

/* ---- a=crypto (RFC 4568 section 9.1) ---- */

/* Session parameters we note; any other is ignored. */
#define SDP_CRYPTO_UNENCRYPTED_SRTP  0x01u
#define SDP_CRYPTO_UNENCRYPTED_SRTCP 0x02u
#define SDP_CRYPTO_UNAUTHENTICATED   0x04u
#define SDP_CRYPTO_KDR               0x08u /* KDR= other than 0 */
#define SDP_CRYPTO_FEC               0x10u /* FEC_ORDER= or FEC_KEY= */

struct sdp_crypto {
	uint32_t tag;            /* 0..999999999 */
	struct slice suite_name; /* as written: borrows the line */
	enum srtp_suite suite;   /* valid when sdp_crypto_parse() returned 0 */
	uint8_t key[SRTP_MAX_KEY_SALT]; /* master key || master salt */
	size_t key_len;
	uint64_t lifetime; /* in packets, 0 when absent */
	bool has_mki;
	uint32_t mki;     /* MKI value */
	unsigned mki_len; /* bytes of MKI in each packet, 1..128 */
	unsigned flags;   /* SDP_CRYPTO_* */
	unsigned nkeys;   /* key-params given; only the first is used */
};

/*
 * Maps a suite name to our enum, accepting the RFC spelling in any case.
 * Returns 0, ENOTSUP for a suite we know but do not implement (RFC 6188's
 * AES_256_CM_HMAC_SHA1_80, F8_128_HMAC_SHA1_80, ...) or do not know at all.
 */
int sdp_crypto_suite(struct slice name, enum srtp_suite *sp);

/*
 * Parses the value of one a=crypto attribute (what follows "crypto:"):
 * "tag suite inline:key||salt[|lifetime][|MKI:len][;inline:...] [params]".
 * The key is base64 (padded or not) and must decode to exactly the suite's
 * key and salt length. On success c->key holds it; on failure c holds no
 * key, and tag and suite_name are set when they could be read.
 * Returns 0, ENOTSUP (suite known but unsupported, or unknown: skip the
 * line) or EBADMSG (malformed), with a reason in err (may be NULL) that
 * never contains key material.
 */
int sdp_crypto_parse(
    struct sdp_crypto *c, struct slice val, char *err, size_t errlen);
void sdp_crypto_wipe(struct sdp_crypto *c);

/*
 * Base64 (RFC 4648 standard alphabet), padding optional on input. Decoding
 * writes at most cap bytes to out and sets *outlen; EBADMSG on a bad
 * character, bad padding or non-zero trailing bits, ENOMEM when out is too
 * small (what was written is wiped).
 */
int sdp_base64_decode(
    const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);
/* Appends the padded encoding of n bytes to b. */
int sdp_base64_encode(struct buf *b, const uint8_t *p, size_t n);

/* ---- offer/answer for audio (RFC 3264) ---- */

struct sdp_policy {
	bool secure_rtp;       /* SRTP required: no plain RTP accepted */
	enum srtp_option srtp; /* the "SRTP Ciphers" option */
	bool pcmu;             /* G.711 mu-law allowed */
	bool pcma;             /* G.711 A-law allowed */
	bool telephone_event;  /* RFC 4733 events wanted */
};

/*
 * The outcome of a negotiation: what the media stream needs. Our key is
 * the one we send with (srtp_alloc for the sending direction), the peer's
 * is the one it sends with (for the receiving direction). Wipe it with
 * sdp_neg_wipe() once the SRTP contexts exist.
 */
struct sdp_neg {
	size_t media_index; /* the audio m= line in the offer */
	struct sa remote;   /* where to send RTP */
	struct sa remote_rtcp;
	bool rtcp_mux;      /* the peer offered a=rtcp-mux */
	unsigned pt;        /* G.711 payload type */
	bool pcma;          /* false: PCMU */
	int te_pt;          /* telephone-event payload type, -1 for none */
	unsigned ptime;     /* the peer's a=ptime, 0 when absent */
	enum sdp_dir dir;   /* our direction (sendonly offer -> recvonly) */
	struct slice proto; /* the proto we answer with: borrows the offer */
	bool srtp;
	enum srtp_suite suite;
	uint32_t tag;                      /* the chosen crypto tag */
	uint8_t tx_key[SRTP_MAX_KEY_SALT]; /* ours */
	uint8_t rx_key[SRTP_MAX_KEY_SALT]; /* the peer's */
	size_t key_len;                    /* of each key */
};
void sdp_neg_wipe(struct sdp_neg *n);

/*
 * Answers an offer: the first usable audio m= line (RTP over UDP, port
 * non-zero, an allowed G.711 codec by the offerer's order); crypto by the
 * server's order of the policy's option among the offered a=crypto lines,
 * with a fresh key of ours. On success n is filled (with the remote address
 * from the media or session c=).
 * Returns 0, EINVAL, ENOTSUP (not acceptable: answer 488 with reason, e.g.
 * "no acceptable SRTP suite: offered AES_CM_128_HMAC_SHA1_80; allowed
 * AEAD_AES_256_GCM"; SDP_REASON_MAX bytes hold it), or EIO (no random
 * bytes).
 */
int sdp_answer(struct sdp_neg *n, const struct sdp_session *offer,
    const struct sdp_policy *pol, char *reason, size_t reasonlen);

/* What goes in o=, s= and c= of everything we send. */
struct sdp_local {
	const char *username; /* o= user, "-" when NULL */
	uint64_t sess_id;
	uint64_t sess_version; /* bump it for each new offer/answer */
	const char *name;      /* s=, "-" when NULL */
	struct sa addr;        /* our RTP address and port */
};

/*
 * Writes the answer for a negotiation made by sdp_answer(): every m= line
 * of the offer in its order, the chosen one with our address, codec,
 * telephone-event, ptime 20, direction and exactly one a=crypto carrying
 * the offer's tag and our key; the others with port 0. Returns 0, EINVAL
 * or ENOMEM (b->err).
 */
int sdp_encode_answer(struct buf *b, const struct sdp_local *l,
    const struct sdp_session *offer, const struct sdp_neg *n);

/* An offer we made (delayed-offer INVITE, test phone): keys per tag. */
struct sdp_offer {
	bool secure_rtp;
	bool pcmu, pcma;
	int te_pt;      /* 101, or -1 */
	size_t ncrypto; /* tags are 1..ncrypto, in the option's order */
	enum srtp_suite suite[SRTP_SUITE_COUNT];
	uint8_t key[SRTP_SUITE_COUNT][SRTP_MAX_KEY_SALT];
};

/*
 * Makes an offer: PCMU and PCMA as the policy allows, telephone-event 101,
 * and with secure_rtp one a=crypto per suite of the option with fresh keys
 * (RTP/SAVP), else plain RTP/AVP. Returns 0, EINVAL or EIO.
 */
int sdp_offer_make(struct sdp_offer *o, const struct sdp_policy *pol);
void sdp_offer_wipe(struct sdp_offer *o);
/* Writes the offer; returns 0, EINVAL or ENOMEM. */
int sdp_encode_offer(
    struct buf *b, const struct sdp_local *l, const struct sdp_offer *o);

/*
 * Reads the answer to our offer: the first audio m= line with a port,
 * one of our codecs, and (for a secure offer) an a=crypto whose tag and
 * suite match one we offered. Fills n with our key for that tag (tx) and
 * the peer's (rx). Returns 0, EINVAL or ENOTSUP with a reason.
 */
int sdp_offer_answered(struct sdp_neg *n, const struct sdp_offer *o,
    const struct sdp_session *answer, char *reason, size_t reasonlen);

const char *sdp_dir_name(enum sdp_dir d);

#endif
