/* RTP headers (RFC 3550) and telephone-events (RFC 4733). */
#ifndef NGV_MEDIA_RTP_H
#define NGV_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_VERSION  2
#define RTP_HDR_SIZE 12

struct rtp_hdr {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
};

/* A parsed packet; payload points into the caller's buffer (borrowed). */
struct rtp_pkt {
	struct rtp_hdr h;
	uint8_t cc;           /* CSRC count (the CSRCs are skipped) */
	bool ext;             /* a header extension was skipped */
	uint16_t ext_profile; /* its "defined by profile" field */
	size_t pad;           /* padding bytes removed */
	const uint8_t *payload;
	size_t plen;
};

/*
 * Parses an RTP packet: version 2, CSRCs and the header extension skipped,
 * padding removed (RFC 3550 5.1, 5.3.1). Errors: EINVAL, EBADMSG (too
 * short, wrong version, padding or extension past the end).
 */
int rtp_parse(struct rtp_pkt *p, const uint8_t *buf, size_t len);

/* Writes the 12-byte fixed header (no CSRC, no extension). Returns the
 * header length or 0 when cap is too small. */
size_t rtp_build(uint8_t *buf, size_t cap, const struct rtp_hdr *h);

/* RTCP multiplexed on the RTP port (RFC 5761 4): the second byte is an RTCP
 * packet type (192..223 covers SR 200 ... XR 207 and the rest). */
bool rtp_is_rtcp(const uint8_t *buf, size_t len);

/* ---- RFC 4733 telephone-event payload ---- */

#define RTP_TEV_SIZE 4

struct rtp_tev {
	uint8_t event; /* 0-9, 10 '*', 11 '#', 12-15 'A'-'D', ... */
	bool end;
	uint8_t volume;    /* 0..63, -dBm0 */
	uint16_t duration; /* in timestamp units */
};

/* Decodes the first event of a payload (RFC 4733 2.3). Errors: EBADMSG. */
int rtp_tev_decode(struct rtp_tev *ev, const uint8_t *p, size_t n);
void rtp_tev_encode(uint8_t out[RTP_TEV_SIZE], const struct rtp_tev *ev);
/* '0'..'9', '*', '#', 'A'..'D', or '\0' for other events. */
char rtp_tev_char(uint8_t event);
/* The event of a key; EINVAL for another character. */
int rtp_tev_from_char(char c, uint8_t *evp);

/*
 * Receiver state that turns the stream of event packets into key presses:
 * an event is reported once, at its first end packet (the sender repeats
 * the end packet, RFC 4733 2.5.1.4); an event whose end packets were all
 * lost is reported when the next event starts.
 */
struct rtp_tev_rx {
	bool active; /* an event is in progress or was just reported */
	bool reported;
	uint8_t event;
	uint32_t ts; /* its RTP timestamp (the event's identity) */
};

/* Feeds one event packet with its RTP timestamp; writes 0, 1 or 2 key
 * characters to out and returns how many. */
size_t rtp_tev_rx_feed(
    struct rtp_tev_rx *st, uint32_t ts, const struct rtp_tev *ev, char out[2]);

#endif
