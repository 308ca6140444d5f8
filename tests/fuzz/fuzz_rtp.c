/* libFuzzer driver for lib/media/rtp: RTP headers and RFC 4733 events. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
	if (!ok)
		abort();
}

/* One packet: parse, check the result lies inside the input, rebuild. */
static void
one_packet(const uint8_t *p, size_t n, struct rtp_tev_rx *st)
{
	struct rtp_pkt pk, again;
	struct rtp_tev ev, ev2;
	uint8_t b[RTP_HDR_SIZE + 64];
	uint8_t tb[RTP_TEV_SIZE];
	char keys[2];
	size_t hl, nk;

	(void)rtp_is_rtcp(p, n);
	if (rtp_parse(&pk, p, n) != 0)
		return;
	check(pk.payload >= p && pk.payload + pk.plen <= p + n);
	check(RTP_HDR_SIZE + 4u * pk.cc + pk.plen + pk.pad <= n);
	check(pk.h.pt < 128);

	/* The fixed header survives a rebuild. */
	hl = rtp_build(b, sizeof(b), &pk.h);
	check(hl == RTP_HDR_SIZE);
	memcpy(b + hl, pk.payload, pk.plen < 64 ? pk.plen : 64);
	check(rtp_parse(&again, b, hl + (pk.plen < 64 ? pk.plen : 64)) == 0);
	check(again.h.marker == pk.h.marker && again.h.pt == pk.h.pt &&
	      again.h.seq == pk.h.seq && again.h.ts == pk.h.ts &&
	      again.h.ssrc == pk.h.ssrc);

	/* Any payload may be offered as a telephone-event. */
	if (rtp_tev_decode(&ev, pk.payload, pk.plen) != 0) {
		check(pk.plen < RTP_TEV_SIZE);
		return;
	}
	check(ev.volume < 64);
	rtp_tev_encode(tb, &ev);
	check(rtp_tev_decode(&ev2, tb, sizeof(tb)) == 0);
	check(ev2.event == ev.event && ev2.end == ev.end &&
	      ev2.volume == ev.volume && ev2.duration == ev.duration);
	nk = rtp_tev_rx_feed(st, pk.h.ts, &ev, keys);
	check(nk <= 2);
	for (size_t i = 0; i < nk; i++) {
		uint8_t e;
		check(rtp_tev_from_char(keys[i], &e) == 0);
		check(rtp_tev_char(e) == keys[i]);
	}
}

/*
 * The input is the whole first packet, and also a sequence of packets,
 * each preceded by a length byte, fed to one receiver state (duplicate
 * removal must never report more than two keys per packet).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_tev_rx st;
	size_t off = 0;

	memset(&st, 0, sizeof(st));
	one_packet(data, size, &st);
	memset(&st, 0, sizeof(st));
	while (off < size) {
		size_t n = data[off++];
		if (n > size - off)
			n = size - off;
		one_packet(data + off, n, &st);
		off += n;
	}
	return 0;
}
