/* RTP headers (RFC 3550) and telephone-events (RFC 4733). */
#include "media/rtp.h"

#include <errno.h>

int
rtp_parse(struct rtp_pkt *p, const uint8_t *buf, size_t len)
{
	size_t off;

	if (p == NULL || (buf == NULL && len > 0))
		return EINVAL;
	if (len < RTP_HDR_SIZE || (buf[0] >> 6) != RTP_VERSION)
		return EBADMSG;
	p->cc = buf[0] & 0x0f;
	p->ext = (buf[0] & 0x10) != 0;
	p->ext_profile = 0;
	p->h.marker = (buf[1] & 0x80) != 0;
	p->h.pt = buf[1] & 0x7f;
	p->h.seq = (uint16_t)(buf[2] << 8 | buf[3]);
	p->h.ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
	          (uint32_t)buf[6] << 8 | buf[7];
	p->h.ssrc = (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
	            (uint32_t)buf[10] << 8 | buf[11];
	off = RTP_HDR_SIZE + 4u * p->cc;
	if (off > len)
		return EBADMSG;
	if (p->ext) {
		/* RFC 3550 5.3.1: 16-bit profile, 16-bit length in words. */
		size_t words;
		if (len - off < 4)
			return EBADMSG;
		p->ext_profile = (uint16_t)(buf[off] << 8 | buf[off + 1]);
		words = (size_t)(buf[off + 2] << 8 | buf[off + 3]);
		off += 4;
		if (len - off < 4 * words)
			return EBADMSG;
		off += 4 * words;
	}
	p->pad = 0;
	if (buf[0] & 0x20) {
		/* The last byte counts the padding, itself included. */
		uint8_t pad = buf[len - 1];
		if (pad == 0 || pad > len - off)
			return EBADMSG;
		p->pad = pad;
	}
	p->payload = buf + off;
	p->plen = len - off - p->pad;
	return 0;
}

size_t
rtp_build(uint8_t *buf, size_t cap, const struct rtp_hdr *h)
{
	if (buf == NULL || h == NULL || cap < RTP_HDR_SIZE)
		return 0;
	buf[0] = RTP_VERSION << 6;
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | (h->pt & 0x7f));
	buf[2] = (uint8_t)(h->seq >> 8);
	buf[3] = (uint8_t)h->seq;
	buf[4] = (uint8_t)(h->ts >> 24);
	buf[5] = (uint8_t)(h->ts >> 16);
	buf[6] = (uint8_t)(h->ts >> 8);
	buf[7] = (uint8_t)h->ts;
	buf[8] = (uint8_t)(h->ssrc >> 24);
	buf[9] = (uint8_t)(h->ssrc >> 16);
	buf[10] = (uint8_t)(h->ssrc >> 8);
	buf[11] = (uint8_t)h->ssrc;
	return RTP_HDR_SIZE;
}

bool
rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	return buf != NULL && len >= 8 && (buf[0] >> 6) == RTP_VERSION &&
	       buf[1] >= 192 && buf[1] <= 223;
}

int
rtp_tev_decode(struct rtp_tev *ev, const uint8_t *p, size_t n)
{
	if (ev == NULL || p == NULL || n < RTP_TEV_SIZE)
		return EBADMSG;
	ev->event = p[0];
	ev->end = (p[1] & 0x80) != 0;
	ev->volume = p[1] & 0x3f;
	ev->duration = (uint16_t)(p[2] << 8 | p[3]);
	return 0;
}

void
rtp_tev_encode(uint8_t out[RTP_TEV_SIZE], const struct rtp_tev *ev)
{
	out[0] = ev->event;
	out[1] = (uint8_t)((ev->end ? 0x80 : 0) | (ev->volume & 0x3f));
	out[2] = (uint8_t)(ev->duration >> 8);
	out[3] = (uint8_t)ev->duration;
}

char
rtp_tev_char(uint8_t event)
{
	static const char keys[] = "0123456789*#ABCD";

	return event < 16 ? keys[event] : '\0';
}

int
rtp_tev_from_char(char c, uint8_t *evp)
{
	uint8_t e;

	if (c >= '0' && c <= '9')
		e = (uint8_t)(c - '0');
	else if (c == '*')
		e = 10;
	else if (c == '#')
		e = 11;
	else if (c >= 'A' && c <= 'D')
		e = (uint8_t)(12 + c - 'A');
	else if (c >= 'a' && c <= 'd')
		e = (uint8_t)(12 + c - 'a');
	else
		return EINVAL;
	if (evp != NULL)
		*evp = e;
	return 0;
}

size_t
rtp_tev_rx_feed(
    struct rtp_tev_rx *st, uint32_t ts, const struct rtp_tev *ev, char out[2])
{
	size_t n = 0;
	char c;

	if (st == NULL || ev == NULL || out == NULL)
		return 0;
	/* A late packet of an earlier event (reordered end) is old news. */
	if (st->active && (int32_t)(ts - st->ts) < 0)
		return 0;
	if (!st->active || ts != st->ts || ev->event != st->event) {
		/* A new event: the previous one lost all its end packets. */
		if (st->active && !st->reported &&
		    (c = rtp_tev_char(st->event)) != '\0')
			out[n++] = c;
		st->active = true;
		st->reported = false;
		st->event = ev->event;
		st->ts = ts;
	}
	if (ev->end && !st->reported) {
		st->reported = true;
		if ((c = rtp_tev_char(ev->event)) != '\0')
			out[n++] = c;
	}
	return n;
}
