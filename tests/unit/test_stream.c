/* Tests for lib/media/stream: the media loop over real UDP on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media/g711.h"
#include "media/rtp.h"
#include "media/srtp.h"
#include "media/stream.h"
#include "media/wav.h"

static char dir[64];
static struct event_base *base;
static struct media_loop *ml;

static const char *
tpath(const char *name)
{
	static char p[4][128];
	static unsigned k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the loop until *flag is set or ms pass; returns *flag. */
static bool
run_until(const bool *flag, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (!*flag && now_ms() < end) {
		struct timeval tv = {0, 2000};
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return *flag;
}

static void
run_for(unsigned ms)
{
	bool never = false;

	run_until(&never, ms);
}

static int
setup(void **state)
{
	struct media_loop_opts o;

	(void)state;
	strcpy(dir, "/tmp/ngv-stream-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	base = event_base_new();
	memset(&o, 0, sizeof(o));
	sa_set_str(&o.local, "127.0.0.1", 0);
	o.nsockets = 4;
	o.tick_ms = 5;
	if (base == NULL || media_loop_alloc(&ml, base, &o) != 0)
		return -1;
	return srtp_init() == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];
	struct media_loop_stats st;

	(void)state;
	media_loop_get_stats(ml, &st);
	if (st.streams != 0)
		return -1;
	media_loop_free(ml);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A known signal: a pseudo-random walk in +-20000 (loud, not silence). */
static int16_t *
make_signal(size_t n, uint32_t seed)
{
	int16_t *s = malloc(n * sizeof(*s));
	uint32_t x = seed;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		s[i] = (int16_t)((int32_t)((x >> 8) % 40001u) - 20000);
	}
	return s;
}

struct pair {
	struct media_stream *a, *b;
	struct sa la, lb;
};

static void
pair_make(struct pair *p, enum media_codec codec)
{
	assert_int_equal(media_stream_alloc(&p->a, ml, &p->la), 0);
	assert_int_equal(media_stream_alloc(&p->b, ml, &p->lb), 0);
	assert_int_equal(media_stream_set_remote(p->a, &p->lb, codec, 101), 0);
	assert_int_equal(media_stream_set_remote(p->b, &p->la, codec, 101), 0);
}

static void
pair_free(struct pair *p)
{
	media_stream_free(p->a);
	media_stream_free(p->b);
}

/* ---- a raw peer: a plain UDP socket that speaks RTP by hand ---- */

struct peer {
	int fd;
	struct sa addr;
	uint16_t seq;
	uint32_t ts, ssrc;
	struct srtp *tx; /* owned, may be NULL */
};

static void
peer_open(struct peer *p)
{
	socklen_t sl = sizeof(p->addr.u.ss);

	memset(p, 0, sizeof(*p));
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(p->fd >= 0);
	sa_set_str(&p->addr, "127.0.0.1", 0);
	assert_int_equal(bind(p->fd, &p->addr.u.sa, p->addr.len), 0);
	assert_int_equal(getsockname(p->fd, &p->addr.u.sa, &sl), 0);
	p->addr.len = sl;
	p->seq = 1000;
	p->ts = 50000;
	p->ssrc = 0x11223344;
}

static void
peer_close(struct peer *p)
{
	close(p->fd);
	srtp_free(p->tx);
}

static void
peer_sendraw(struct peer *p, const struct sa *to, const uint8_t *b, size_t n)
{
	assert_int_equal(
	    sendto(p->fd, b, n, 0, &to->u.sa, to->len), (ssize_t)n);
}

/* Builds (and protects) one packet into b; returns its length. */
static size_t
peer_build(struct peer *p, uint8_t *b, uint8_t pt, bool marker, uint32_t ts,
    const uint8_t *pl, size_t n)
{
	struct rtp_hdr h = {marker, pt, p->seq++, ts, p->ssrc};
	size_t len = rtp_build(b, 512, &h);

	memcpy(b + len, pl, n);
	len += n;
	if (p->tx != NULL)
		assert_int_equal(srtp_protect(p->tx, b, &len, 512), 0);
	return len;
}

/* Sends 20 ms of G.711 audio (160 samples of pcm). */
static void
peer_audio(
    struct peer *p, const struct sa *to, enum media_codec c, const int16_t *pcm)
{
	uint8_t pl[160], b[512];
	size_t len;

	if (c == MEDIA_PCMA)
		g711_alaw_enc_buf(pl, pcm, 160);
	else
		g711_ulaw_enc_buf(pl, pcm, 160);
	len = peer_build(p, b, (uint8_t)c, false, p->ts, pl, 160);
	p->ts += 160;
	peer_sendraw(p, to, b, len);
}

/* One key press as a phone sends it: three updates, three end packets
 * with the same timestamp (RFC 4733 2.5.1.4). */
static void
peer_key(struct peer *p, const struct sa *to, char key)
{
	struct rtp_tev ev = {0, false, 10, 0};
	uint8_t pl[4], b[512];

	assert_int_equal(rtp_tev_from_char(key, &ev.event), 0);
	for (int i = 0; i < 6; i++) {
		size_t len;
		ev.end = i >= 3;
		ev.duration = (uint16_t)(160 * (i < 3 ? i + 1 : 4));
		rtp_tev_encode(pl, &ev);
		len = peer_build(p, b, 101, i == 0, p->ts, pl, 4);
		peer_sendraw(p, to, b, len);
	}
	p->ts += 800;
}

/* ---- handlers ---- */

struct result {
	bool done;
	int calls;
	enum media_end why;
	uint32_t ms;
	char keys[32];
	size_t nkeys;
	struct media_stream *free_me; /* freed by the handler when set */
};

static void
play_h(enum media_end why, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->why = why;
	r->done = true;
	if (r->free_me != NULL) {
		media_stream_free(r->free_me);
		r->free_me = NULL;
	}
}

static void
record_h(enum media_end why, uint32_t ms, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->why = why;
	r->ms = ms;
	r->done = true;
	if (r->free_me != NULL) {
		media_stream_free(r->free_me);
		r->free_me = NULL;
	}
}

static void
dtmf_h(char digit, void *arg)
{
	struct result *r = arg;

	if (r->nkeys < sizeof(r->keys) - 1)
		r->keys[r->nkeys++] = digit;
	r->calls++;
	if (r->free_me != NULL) {
		media_stream_free(r->free_me);
		r->free_me = NULL;
	}
}

static int16_t *
load(const char *path, size_t *np)
{
	int16_t *pcm = NULL;
	char err[256];

	if (wav_load(path, &pcm, np, NULL, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return pcm;
}

/* ---- tests ---- */

static void
play_to_record(enum media_codec codec, enum media_rec_format fmt,
    const char *file, bool with_srtp)
{
	const size_t n = 8000; /* one second: 50 packets */
	int16_t *sig = make_signal(n, 7), *got;
	struct media_clip *clip;
	const struct media_clip *list[1];
	struct media_rec_opts ro = {fmt, 0, 0, false, 0};
	struct result pr = {0}, rr = {0};
	struct media_stream_stats sa_st, sb_st;
	struct pair p;
	uint32_t ms = 0;
	size_t nb;

	assert_int_equal(media_clip_from_pcm(&clip, "signal", sig, n), 0);
	assert_int_equal(media_clip_ms(clip), 1000);
	list[0] = clip;
	pair_make(&p, codec);
	if (with_srtp) {
		uint8_t k1[30], k2[30];
		struct srtp *atx, *arx, *btx, *brx;
		for (int i = 0; i < 30; i++) {
			k1[i] = (uint8_t)(i + 1);
			k2[i] = (uint8_t)(0x80 + i);
		}
		assert_int_equal(
		    srtp_alloc(&atx, SRTP_AES_CM_128_HMAC_SHA1_80, k1, 30), 0);
		assert_int_equal(
		    srtp_alloc(&brx, SRTP_AES_CM_128_HMAC_SHA1_80, k1, 30), 0);
		assert_int_equal(
		    srtp_alloc(&btx, SRTP_AES_CM_128_HMAC_SHA1_80, k2, 30), 0);
		assert_int_equal(
		    srtp_alloc(&arx, SRTP_AES_CM_128_HMAC_SHA1_80, k2, 30), 0);
		media_stream_set_srtp(p.a, atx, arx);
		media_stream_set_srtp(p.b, btx, brx);
	}
	assert_int_equal(
	    media_stream_record(p.b, tpath(file), &ro, record_h, &rr), 0);
	assert_int_equal(media_stream_play(p.a, list, 1, play_h, &pr), 0);
	assert_true(media_stream_playing(p.a));
	assert_false(pr.done); /* never from inside the call */
	assert_true(run_until(&pr.done, 10000));
	assert_int_equal(pr.calls, 1);
	assert_int_equal(pr.why, MEDIA_END_DONE);
	assert_false(media_stream_playing(p.a));
	run_for(100); /* the last packets reach B */
	assert_int_equal(media_stream_stop_record(p.b, &ms), 0);
	assert_int_equal(media_stream_stop_record(p.b, &ms), EPROTO);
	assert_int_equal(rr.calls, 0); /* stopped by the caller: no call */
	assert_int_equal(ms, 1000);

	media_stream_get_stats(p.a, &sa_st);
	media_stream_get_stats(p.b, &sb_st);
	assert_int_equal(sa_st.tx_packets, 50);
	assert_int_equal(sb_st.rx_packets, 50);
	assert_int_equal(sb_st.rx_auth_fail, 0);

	got = load(tpath(file), &nb);
	assert_int_equal(nb, n);
	for (size_t i = 0; i < n; i++) {
		/* Exactly the G.711 round trip of each sample. */
		int16_t want = codec == MEDIA_PCMA
		                   ? g711_alaw_dec(g711_alaw_enc(sig[i]))
		                   : g711_ulaw_dec(g711_ulaw_enc(sig[i]));
		int32_t d = got[i] - sig[i];
		if (fmt == MEDIA_REC_PCM16 ||
		    (fmt == MEDIA_REC_ULAW) == (codec == MEDIA_PCMU)) {
			if (got[i] != want)
				fail_msg(
				    "sample %zu: %d, want %d", i, got[i], want);
		}
		/* Within G.711's error (twice when transcoded). */
		if (d < -1400 || d > 1400)
			fail_msg("sample %zu: %d vs %d", i, got[i], sig[i]);
	}
	free(got);
	pair_free(&p);
	media_clip_free(clip);
	free(sig);
}

static void
test_play_record_pcmu(void **state)
{
	(void)state;
	play_to_record(MEDIA_PCMU, MEDIA_REC_PCM16, "pcmu.wav", false);
}

static void
test_play_record_pcma(void **state)
{
	(void)state;
	play_to_record(MEDIA_PCMA, MEDIA_REC_PCM16, "pcma.wav", false);
}

static void
test_play_record_coded(void **state)
{
	(void)state;
	play_to_record(MEDIA_PCMU, MEDIA_REC_ULAW, "ulaw.wav", false);
	play_to_record(MEDIA_PCMA, MEDIA_REC_ALAW, "alaw.wav", false);
	play_to_record(MEDIA_PCMA, MEDIA_REC_ULAW, "trans.wav", false);
}

static void
test_play_record_srtp(void **state)
{
	(void)state;
	play_to_record(MEDIA_PCMU, MEDIA_REC_PCM16, "srtp.wav", true);
}

/* A stream plays a list of clips back to back; the peer sees one RTP
 * stream with consecutive sequence numbers and timestamps. */
static void
test_clip_list_on_the_wire(void **state)
{
	int16_t *s1 = make_signal(1000, 1), *s2 = make_signal(600, 2);
	struct media_clip *c1, *c2;
	const struct media_clip *list[3];
	struct media_stream *ms;
	struct result pr = {0};
	struct peer peer;
	struct sa local;
	uint8_t b[1500];
	struct rtp_pkt pk;
	uint16_t seq0 = 0;
	uint32_t ts0 = 0, ssrc = 0;
	int npk = 0;

	(void)state;
	peer_open(&peer);
	assert_int_equal(media_clip_from_pcm(&c1, "one", s1, 1000), 0);
	assert_int_equal(media_clip_from_pcm(&c2, "two", s2, 600), 0);
	list[0] = c1;
	list[1] = c2;
	list[2] = c1;
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	assert_int_equal(media_stream_play(ms, list, 3, play_h, &pr), 0);
	assert_true(run_until(&pr.done, 10000));
	/* 2600 samples: 16 full packets and one padded with silence. */
	for (;;) {
		ssize_t r = recv(peer.fd, b, sizeof(b), MSG_DONTWAIT);
		if (r < 0)
			break;
		assert_int_equal(rtp_parse(&pk, b, (size_t)r), 0);
		assert_int_equal(pk.plen, 160);
		assert_int_equal(pk.h.pt, 0);
		if (npk == 0) {
			assert_true(pk.h.marker);
			seq0 = pk.h.seq;
			ts0 = pk.h.ts;
			ssrc = pk.h.ssrc;
		} else {
			assert_false(pk.h.marker);
			assert_int_equal(pk.h.seq, (uint16_t)(seq0 + npk));
			assert_int_equal(pk.h.ts, ts0 + 160u * (uint32_t)npk);
			assert_int_equal(pk.h.ssrc, ssrc);
		}
		for (int i = 0; i < 160; i++) {
			size_t at = (size_t)npk * 160 + (size_t)i;
			uint8_t want = at < 1000   ? c1->ulaw[at]
			               : at < 1600 ? c2->ulaw[at - 1000]
			               : at < 2600 ? c1->ulaw[at - 1600]
			                           : G711_ULAW_SILENCE;
			assert_int_equal(pk.payload[i], want);
		}
		npk++;
	}
	assert_int_equal(npk, 17);
	media_stream_free(ms);
	media_clip_free(c1);
	media_clip_free(c2);
	free(s1);
	free(s2);
	peer_close(&peer);
}

static void
test_dtmf_once_per_press(void **state)
{
	struct media_stream *ms;
	struct result dr = {0};
	struct media_stream_stats st;
	struct peer peer;
	struct sa local;
	const char *keys = "159*#0D";
	bool never = false;

	(void)state;
	peer_open(&peer);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	media_stream_set_dtmf_h(ms, dtmf_h, &dr);
	for (const char *k = keys; *k; k++)
		peer_key(&peer, &local, *k);
	/* The same key twice is two presses. */
	peer_key(&peer, &local, '7');
	peer_key(&peer, &local, '7');
	run_until(&never, 300);
	assert_string_equal(dr.keys, "159*#0D77");
	assert_int_equal(dr.calls, 9);
	media_stream_get_stats(ms, &st);
	assert_int_equal(st.rx_dtmf, 9);
	assert_int_equal(st.rx_packets, 9 * 6);
	media_stream_free(ms);
	peer_close(&peer);
}

/* Keys sent with media_stream_send_dtmf() arrive once each at a peer
 * stream, in order, with the event packets RFC 4733 asks for. */
static void
test_dtmf_send(void **state)
{
	struct pair p;
	struct result dr = {0};
	struct media_stream_stats sa_st, sb_st;
	bool never = false;

	(void)state;
	pair_make(&p, MEDIA_PCMU);
	media_stream_set_dtmf_h(p.b, dtmf_h, &dr);
	assert_int_equal(media_stream_send_dtmf(p.a, 'x', 100), EINVAL);
	for (const char *k = "24680#"; *k; k++)
		assert_int_equal(media_stream_send_dtmf(p.a, *k, 100), 0);
	run_until(&never, 1500);
	assert_string_equal(dr.keys, "24680#");
	assert_int_equal(dr.calls, 6);
	media_stream_get_stats(p.a, &sa_st);
	media_stream_get_stats(p.b, &sb_st);
	/* 100 ms: 5 packets, the last repeated twice more: 7 per key. */
	assert_int_equal(sa_st.tx_packets, 6 * 7);
	assert_int_equal(sb_st.rx_dtmf, 6);
	pair_free(&p);

	/* No telephone-event negotiated: refused. */
	struct media_stream *ms;
	struct sa local, remote;
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	remote = local;
	assert_int_equal(
	    media_stream_set_remote(ms, &remote, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_stream_send_dtmf(ms, '1', 100), ENOTSUP);
	media_stream_free(ms);
}

static void
test_dtmf_handler_frees_stream(void **state)
{
	struct media_stream *ms;
	struct result dr = {0};
	struct peer peer;
	struct sa local;

	(void)state;
	peer_open(&peer);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	media_stream_set_dtmf_h(ms, dtmf_h, &dr);
	dr.free_me = ms;
	/* Several keys in one receive batch: the first frees the stream. */
	peer_key(&peer, &local, '1');
	peer_key(&peer, &local, '2');
	peer_key(&peer, &local, '3');
	run_for(200);
	assert_int_equal(dr.calls, 1);
	assert_string_equal(dr.keys, "1");
	assert_null(dr.free_me);
	peer_close(&peer);
}

static void
test_record_max_length(void **state)
{
	int16_t *sig = make_signal(160 * 100, 3);
	struct media_rec_opts ro = {MEDIA_REC_PCM16, 1000, 0, false, 0};
	struct media_stream *ms;
	struct result rr = {0};
	struct peer peer;
	struct sa local;
	int16_t *got;
	size_t nb;

	(void)state;
	peer_open(&peer);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	assert_int_equal(
	    media_stream_record(ms, tpath("max.wav"), &ro, record_h, &rr), 0);
	assert_int_equal(
	    media_stream_record(ms, tpath("max2.wav"), &ro, record_h, &rr),
	    EPROTO);
	/* Two seconds of audio, as fast as the socket takes it. */
	for (int i = 0; i < 100; i++) {
		peer_audio(&peer, &local, MEDIA_PCMU, sig + 160 * i);
		if (i % 20 == 19)
			run_for(5);
	}
	assert_true(run_until(&rr.done, 5000));
	assert_int_equal(rr.calls, 1);
	assert_int_equal(rr.why, MEDIA_END_MAX);
	assert_int_equal(rr.ms, 1000);
	run_for(50);
	assert_int_equal(rr.calls, 1);
	got = load(tpath("max.wav"), &nb);
	assert_int_equal(nb, 8000);
	for (size_t i = 0; i < nb; i++)
		assert_int_equal(got[i], g711_ulaw_dec(g711_ulaw_enc(sig[i])));
	free(got);
	/* The recording is over; stopping it now is a state error. */
	assert_int_equal(media_stream_stop_record(ms, NULL), EPROTO);
	media_stream_free(ms);
	free(sig);
	peer_close(&peer);
}

static void
test_record_silence(void **state)
{
	int16_t *sig = make_signal(4000, 4);
	int16_t quiet[160];
	struct media_rec_opts ro = {MEDIA_REC_ULAW, 60000, 1000, false, 0};
	struct media_stream *ms;
	struct result rr = {0};
	struct peer peer;
	struct sa local;
	int16_t *got;
	size_t nb;

	(void)state;
	for (int i = 0; i < 160; i++)
		quiet[i] = (int16_t)(i % 2 ? 40 : -40); /* line noise */
	peer_open(&peer);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	assert_int_equal(
	    media_stream_record(ms, tpath("silence.wav"), &ro, record_h, &rr),
	    0);
	/* Half a second of speech, then two seconds of quiet; one lost
	 * packet of quiet is filled in. */
	for (int i = 0; i < 25; i++)
		peer_audio(&peer, &local, MEDIA_PCMU, sig + 160 * i);
	for (int i = 0; i < 100; i++) {
		if (i == 10) {
			peer.ts += 160;
			continue;
		}
		peer_audio(&peer, &local, MEDIA_PCMU, quiet);
		if (i % 20 == 19)
			run_for(5);
	}
	assert_true(run_until(&rr.done, 5000));
	assert_int_equal(rr.calls, 1);
	assert_int_equal(rr.why, MEDIA_END_SILENCE);
	/* The trailing silence is cut: only the speech stays. */
	assert_int_equal(rr.ms, 500);
	got = load(tpath("silence.wav"), &nb);
	assert_int_equal(nb, 4000);
	free(got);
	media_stream_free(ms);
	free(sig);
	peer_close(&peer);
}

/* A peer that sends nothing: the recording still ends by silence, and the
 * handler may free the stream. */
static void
test_record_nothing_received(void **state)
{
	struct media_rec_opts ro = {MEDIA_REC_PCM16, 0, 200, true, 0};
	struct media_stream *ms;
	struct result rr = {0};
	struct peer peer;
	struct sa local;
	struct stat st;

	(void)state;
	peer_open(&peer);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	assert_int_equal(
	    media_stream_record(ms, tpath("nothing.wav"), &ro, record_h, &rr),
	    0);
	rr.free_me = ms;
	assert_true(run_until(&rr.done, 5000));
	assert_int_equal(rr.why, MEDIA_END_SILENCE);
	assert_int_equal(rr.ms, 0);
	assert_null(rr.free_me);
	assert_int_equal(stat(tpath("nothing.wav"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 44);
	peer_close(&peer);
}

static void
test_record_stop_on_hash(void **state)
{
	int16_t *sig = make_signal(1600, 5);
	struct media_rec_opts ro = {MEDIA_REC_PCM16, 0, 0, true, 0};
	struct media_stream *ms;
	struct result rr = {0}, dr = {0};
	struct peer peer;
	struct sa local;

	(void)state;
	peer_open(&peer);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	media_stream_set_dtmf_h(ms, dtmf_h, &dr);
	assert_int_equal(
	    media_stream_record(ms, tpath("hash.wav"), &ro, record_h, &rr), 0);
	for (int i = 0; i < 10; i++)
		peer_audio(&peer, &local, MEDIA_PCMU, sig + 160 * i);
	peer_key(&peer, &local, '5');
	peer_key(&peer, &local, '#');
	assert_true(run_until(&rr.done, 5000));
	assert_int_equal(rr.why, MEDIA_END_DONE);
	assert_int_equal(rr.ms, 200);
	/* Other keys go to the DTMF handler; the '#' that ended the
	 * recording does not. A '#' after it is an ordinary key. */
	peer_key(&peer, &local, '#');
	run_for(100);
	assert_string_equal(dr.keys, "5#");
	assert_int_equal(rr.calls, 1);
	media_stream_free(ms);
	free(sig);
	peer_close(&peer);
}

/* The disk fills up: the recording ends with MEDIA_END_ERROR, and the file
 * keeps what could be written. */
static void
test_record_write_error(void **state)
{
	int16_t *sig = make_signal(160 * 150, 10);
	struct media_rec_opts ro = {MEDIA_REC_PCM16, 0, 0, false, 0};
	struct media_stream *ms;
	struct result rr = {0};
	struct rlimit old, lim;
	struct peer peer;
	struct sa local;
	int16_t *got;
	size_t nb;

	(void)state;
	peer_open(&peer);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	assert_int_equal(
	    media_stream_record(ms, tpath("full.wav"), &ro, record_h, &rr), 0);
	/* A file size limit stands in for a full disk (EFBIG). */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 20000;
	setrlimit(RLIMIT_FSIZE, &lim);
	for (int i = 0; i < 150; i++) {
		peer_audio(&peer, &local, MEDIA_PCMU, sig + 160 * i);
		if (i % 10 == 9)
			run_for(20);
	}
	assert_true(run_until(&rr.done, 5000));
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rr.calls, 1);
	assert_int_equal(rr.why, MEDIA_END_ERROR);
	got = load(tpath("full.wav"), &nb);
	assert_true(nb >= 8000 && nb < 10000);
	free(got);
	media_stream_free(ms);
	free(sig);
	peer_close(&peer);
}

/* Checks a recording against the signal sent (PCMU into PCM16). */
static void
check_recording(const char *path, const int16_t *sig, size_t n)
{
	size_t nb;
	int16_t *got = load(path, &nb);

	assert_int_equal(nb, n);
	for (size_t i = 0; i < n; i++)
		if (got[i] != g711_ulaw_dec(g711_ulaw_enc(sig[i])))
			fail_msg("%s: sample %zu: %d", path, i, got[i]);
	free(got);
}

/*
 * media_stream_end_record(): the call returns without the file being
 * closed (no handler inside it), the recording is off the stream at once,
 * the handler comes later from the loop with the length, and the file is
 * whole. Once with the stream kept (and recording again), once with the
 * stream freed right after, as a call that hangs up does.
 */
static void
end_record_async(bool free_stream)
{
	const size_t n = 8000;
	int16_t *sig = make_signal(n, 11);
	struct media_clip *clip;
	const struct media_clip *list[1];
	struct media_rec_opts ro = {MEDIA_REC_PCM16, 0, 0, true, 0};
	struct result pr = {0}, rr = {0}, er = {0}, er2 = {0};
	struct media_loop_stats lst;
	const char *file = free_stream ? "end_free.wav" : "end.wav";
	char path[128];
	struct pair p;

	snprintf(path, sizeof(path), "%s", tpath(file));
	assert_int_equal(media_clip_from_pcm(&clip, "signal", sig, n), 0);
	list[0] = clip;
	pair_make(&p, MEDIA_PCMU);
	assert_int_equal(media_stream_record(p.b, path, &ro, record_h, &rr), 0);
	assert_int_equal(media_stream_play(p.a, list, 1, play_h, &pr), 0);
	assert_true(run_until(&pr.done, 10000));
	run_for(100); /* the last packets reach B */

	assert_int_equal(media_stream_end_record(NULL, record_h, &er), EINVAL);
	assert_int_equal(media_stream_end_record(p.b, record_h, &er), 0);
	assert_int_equal(er.calls, 0); /* never from inside the call */
	media_loop_get_stats(ml, &lst);
	assert_int_equal(lst.recording, 0); /* off the stream at once */
	assert_int_equal(media_stream_end_record(p.b, record_h, &er2), EPROTO);
	if (free_stream) {
		media_stream_free(p.b);
		p.b = NULL;
	} else {
		/* the stream is free to record again */
		assert_int_equal(
		    media_stream_record(
		        p.b, tpath("end_again.wav"), &ro, record_h, &rr),
		    0);
		assert_int_equal(media_stream_end_record(p.b, NULL, NULL), 0);
	}
	assert_true(run_until(&er.done, 5000));
	assert_int_equal(er.calls, 1);
	assert_int_equal(er.why, MEDIA_END_DONE);
	assert_int_equal(er.ms, 1000);
	run_for(50);
	assert_int_equal(er.calls, 1);
	assert_int_equal(er2.calls, 0);
	assert_int_equal(rr.calls, 0); /* the stream's own handler: never */
	check_recording(path, sig, n);
	pair_free(&p);
	media_clip_free(clip);
	free(sig);
}

static void
test_record_end_async(void **state)
{
	(void)state;
	end_record_async(false);
}

static void
test_record_end_async_freed(void **state)
{
	(void)state;
	end_record_async(true);
}

/*
 * A recording that ended by itself (maximum length) whose handler has not
 * been called yet is taken over, with its reason, and its stream freed.
 */
static void
test_record_end_takes_over(void **state)
{
	int16_t *sig = make_signal(160 * 100, 12);
	struct media_rec_opts ro = {MEDIA_REC_PCM16, 1000, 0, false, 0};
	struct media_stream *ms;
	struct media_loop_stats lst;
	struct result rr = {0}, er = {0};
	struct peer peer;
	struct sa local;
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s", tpath("over.wav"));
	peer_open(&peer);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	assert_int_equal(media_stream_record(ms, path, &ro, record_h, &rr), 0);
	for (int i = 0; i < 100; i++)
		peer_audio(&peer, &local, MEDIA_PCMU, sig + 160 * i);
	/*
	 * One loop turn at a time until the recording has ended: its
	 * handler needs the writer to close the file and a later turn to
	 * see that, so it cannot have been called yet.
	 */
	for (int i = 0; i < 5000; i++) {
		media_loop_get_stats(ml, &lst);
		if (lst.recording == 0)
			break;
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_int_equal(lst.recording, 0);
	assert_int_equal(rr.calls, 0);
	assert_int_equal(media_stream_end_record(ms, record_h, &er), 0);
	media_stream_free(ms);
	assert_true(run_until(&er.done, 5000));
	assert_int_equal(er.why, MEDIA_END_MAX);
	assert_int_equal(er.ms, 1000);
	run_for(50);
	assert_int_equal(er.calls, 1);
	assert_int_equal(rr.calls, 0);
	check_recording(path, sig, 8000);
	free(sig);
	peer_close(&peer);
}

#define END_MANY 12

/*
 * Many calls hang up at once while recording: every recording is ended
 * without waiting and its stream freed; media_loop_drain() (shutdown)
 * makes every handler call before it returns.
 */
static void
test_record_end_many_drain(void **state)
{
	const size_t n = 4000;
	int16_t *sig = make_signal(n, 13);
	struct media_clip *clip;
	const struct media_clip *list[1];
	struct media_rec_opts ro = {MEDIA_REC_PCM16, 0, 0, false, 0};
	struct result pr[END_MANY], er[END_MANY];
	struct pair p[END_MANY];
	struct media_loop_opts o;
	struct media_loop *phones;
	char name[32];

	(void)state;
	memset(pr, 0, sizeof(pr));
	memset(er, 0, sizeof(er));
	/* The callers get a socket each, as phones have their addresses. */
	memset(&o, 0, sizeof(o));
	sa_set_str(&o.local, "127.0.0.1", 0);
	o.nsockets = END_MANY;
	assert_int_equal(media_loop_alloc(&phones, base, &o), 0);
	assert_int_equal(media_clip_from_pcm(&clip, "signal", sig, n), 0);
	list[0] = clip;
	for (int i = 0; i < END_MANY; i++) {
		assert_int_equal(
		    media_stream_alloc(&p[i].a, phones, &p[i].la), 0);
		assert_int_equal(media_stream_alloc(&p[i].b, ml, &p[i].lb), 0);
		assert_int_equal(
		    media_stream_set_remote(p[i].a, &p[i].lb, MEDIA_PCMU, 101),
		    0);
		assert_int_equal(
		    media_stream_set_remote(p[i].b, &p[i].la, MEDIA_PCMU, 101),
		    0);
		snprintf(name, sizeof(name), "many_end%d.wav", i);
		assert_int_equal(media_stream_record(p[i].b, tpath(name), &ro,
		                     record_h, &er[i]),
		    0);
		assert_int_equal(
		    media_stream_play(p[i].a, list, 1, play_h, &pr[i]), 0);
	}
	assert_true(run_until(&pr[END_MANY - 1].done, 10000));
	run_for(150);
	for (int i = 0; i < END_MANY; i++) {
		assert_true(pr[i].done);
		assert_int_equal(
		    media_stream_end_record(p[i].b, record_h, &er[i]), 0);
		pair_free(&p[i]);
	}
	media_loop_drain(ml);
	for (int i = 0; i < END_MANY; i++) {
		assert_int_equal(er[i].calls, 1);
		assert_int_equal(er[i].why, MEDIA_END_DONE);
		assert_int_equal(er[i].ms, 500);
		snprintf(name, sizeof(name), "many_end%d.wav", i);
		check_recording(tpath(name), sig, n);
	}
	run_for(50);
	for (int i = 0; i < END_MANY; i++)
		assert_int_equal(er[i].calls, 1);
	media_loop_free(phones);
	media_clip_free(clip);
	free(sig);
}

/* SRTP receive: a tampered packet and a replayed one are dropped and
 * counted; the recording holds exactly the genuine audio. */
static void
test_srtp_tamper_and_replay(void **state)
{
	const size_t n = 160 * 30;
	int16_t *sig = make_signal(n, 6), *got;
	struct media_rec_opts ro = {MEDIA_REC_PCM16, 0, 0, false, 0};
	struct media_stream *ms;
	struct media_stream_stats st;
	struct media_loop_stats lst0, lst;
	struct result rr = {0};
	struct srtp *rx;
	struct peer peer;
	struct sa local;
	uint8_t key[30], b[512], pl[160];
	uint32_t ms_len;
	size_t nb;

	(void)state;
	for (int i = 0; i < 30; i++)
		key[i] = (uint8_t)(3 * i + 7);
	peer_open(&peer);
	assert_int_equal(
	    srtp_alloc(&peer.tx, SRTP_AES_CM_128_HMAC_SHA1_80, key, 30), 0);
	assert_int_equal(
	    srtp_alloc(&rx, SRTP_AES_CM_128_HMAC_SHA1_80, key, 30), 0);
	media_loop_get_stats(ml, &lst0);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	media_stream_set_srtp(ms, NULL, rx);
	assert_int_equal(
	    media_stream_record(ms, tpath("tamper.wav"), &ro, record_h, &rr),
	    0);
	for (size_t i = 0; i < n / 160; i++) {
		size_t len;
		g711_ulaw_enc_buf(pl, sig + 160 * i, 160);
		len = peer_build(&peer, b, 0, false, peer.ts, pl, 160);
		peer.ts += 160;
		if (i == 10) {
			/* A forged copy first: one payload bit flipped. */
			uint8_t bad[512];
			memcpy(bad, b, len);
			bad[40] ^= 0x01;
			peer_sendraw(&peer, &local, bad, len);
		}
		peer_sendraw(&peer, &local, b, len);
		if (i == 20)
			peer_sendraw(&peer, &local, b, len); /* replayed */
	}
	run_for(200);
	assert_int_equal(media_stream_stop_record(ms, &ms_len), 0);
	assert_int_equal(ms_len, 600);
	media_stream_get_stats(ms, &st);
	assert_int_equal(st.rx_auth_fail, 1);
	assert_int_equal(st.rx_replay, 1);
	assert_int_equal(st.rx_packets, 30);
	assert_int_equal(st.rx_ssrc, peer.ssrc);
	media_loop_get_stats(ml, &lst);
	assert_int_equal(lst.rx_auth_fail - lst0.rx_auth_fail, 1);
	assert_int_equal(lst.rx_replay - lst0.rx_replay, 1);
	got = load(tpath("tamper.wav"), &nb);
	assert_int_equal(nb, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], g711_ulaw_dec(g711_ulaw_enc(sig[i])));
	free(got);

	/* RTCP on the RTP port (rtcp-mux): taken, checked, dropped. */
	size_t len = 28;
	memset(b, 0, sizeof(b));
	b[0] = 0x80;
	b[1] = 200;
	b[3] = 6;
	memcpy(b + 4, &peer.ssrc, 4);
	assert_int_equal(srtcp_protect(peer.tx, b, &len, sizeof(b)), 0);
	peer_sendraw(&peer, &local, b, len);
	run_for(50);
	media_loop_get_stats(ml, &lst);
	assert_int_equal(lst.rx_rtcp - lst0.rx_rtcp, 1);
	assert_int_equal(lst.rx_malformed, lst0.rx_malformed);
	media_stream_free(ms);
	free(sig);
	peer_close(&peer);
}

static void
test_demux_and_errors(void **state)
{
	struct media_stream *ms, *other;
	struct media_loop_stats lst0, lst;
	struct peer peer, stranger;
	struct sa local, l2, v6;
	uint8_t junk[20] = {0x80, 0};
	const struct media_clip *bad[1] = {NULL};

	(void)state;
	peer_open(&peer);
	peer_open(&stranger);
	media_loop_get_stats(ml, &lst0);
	assert_int_equal(media_stream_alloc(&ms, ml, &local), 0);
	/* No remote yet: nothing is matched. */
	peer_sendraw(&peer, &local, junk, sizeof(junk));
	run_for(30);
	media_loop_get_stats(ml, &lst);
	assert_int_equal(lst.rx_unknown - lst0.rx_unknown, 1);

	assert_int_equal(
	    media_stream_set_remote(ms, &peer.addr, MEDIA_PCMU, 101), 0);
	peer_sendraw(&stranger, &local, junk, sizeof(junk));
	junk[0] = 0x40; /* not RTP version 2 */
	peer_sendraw(&peer, &local, junk, sizeof(junk));
	run_for(30);
	media_loop_get_stats(ml, &lst);
	assert_int_equal(lst.rx_unknown - lst0.rx_unknown, 2);
	assert_int_equal(lst.rx_malformed - lst0.rx_malformed, 1);
	assert_int_equal(lst.rx_packets, lst0.rx_packets);

	/* Streams on one socket cannot share a peer; the loop hands out its
	 * four sockets round robin. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(media_stream_alloc(&other, ml, &l2), 0);
		media_stream_free(other);
	}
	assert_int_equal(media_stream_alloc(&other, ml, &l2), 0);
	assert_true(sa_eq(&l2, &local));
	assert_int_equal(
	    media_stream_set_remote(other, &peer.addr, MEDIA_PCMU, 0),
	    EADDRINUSE);
	/* ...but moving a stream to a new peer frees the old one. */
	assert_int_equal(
	    media_stream_set_remote(ms, &stranger.addr, MEDIA_PCMA, 0), 0);
	assert_int_equal(
	    media_stream_set_remote(other, &peer.addr, MEDIA_PCMU, 0), 0);
	sa_set_str(&v6, "::1", 4000);
	assert_int_equal(
	    media_stream_set_remote(other, &v6, MEDIA_PCMU, 0), EAFNOSUPPORT);
	assert_int_equal(
	    media_stream_set_remote(other, &peer.addr, 9, 0), EINVAL);
	assert_int_equal(
	    media_stream_play(other, bad, 1, play_h, NULL), EINVAL);
	media_stream_free(other);
	media_stream_free(ms);
	media_stream_free(NULL);
	peer_close(&peer);
	peer_close(&stranger);
}

static void
test_play_replace_stop_empty(void **state)
{
	int16_t *sig = make_signal(8000, 8);
	struct media_clip *clip;
	const struct media_clip *list[1];
	struct result r1 = {0}, r2 = {0}, r3 = {0}, r4 = {0};
	struct pair p;

	(void)state;
	assert_int_equal(media_clip_from_pcm(&clip, "s", sig, 1600), 0);
	list[0] = clip;
	pair_make(&p, MEDIA_PCMU);
	/* Replaced: the first handler is never called. */
	assert_int_equal(media_stream_play(p.a, list, 1, play_h, &r1), 0);
	run_for(30);
	assert_int_equal(media_stream_play(p.a, list, 1, play_h, &r2), 0);
	assert_true(run_until(&r2.done, 5000));
	assert_int_equal(r1.calls, 0);
	assert_int_equal(r2.calls, 1);

	/* Stopped: no call. */
	assert_int_equal(media_stream_play(p.a, list, 1, play_h, &r3), 0);
	media_stream_stop_play(p.a);
	assert_false(media_stream_playing(p.a));
	run_for(300);
	assert_int_equal(r3.calls, 0);

	/* An empty list ends at once, from the loop; the handler frees the
	 * stream it played on. */
	r4.free_me = p.a;
	assert_int_equal(media_stream_play(p.a, NULL, 0, play_h, &r4), 0);
	assert_int_equal(r4.calls, 0);
	assert_true(run_until(&r4.done, 5000));
	assert_int_equal(r4.calls, 1);
	assert_null(r4.free_me);
	media_stream_free(p.b);
	media_clip_free(clip);
	free(sig);
}

/* ---- many calls at once ---- */

#define NPAIRS 200

struct many {
	int played, recorded;
	bool all;
};

static struct many many;

static void
many_play_h(enum media_end why, void *arg)
{
	(void)arg;
	assert_int_equal(why, MEDIA_END_DONE);
	many.played++;
}

static void
many_record_h(enum media_end why, uint32_t ms, void *arg)
{
	(void)arg;
	assert_int_equal(why, MEDIA_END_MAX);
	assert_int_equal(ms, 500);
	if (++many.recorded == 2 * NPAIRS)
		many.all = true;
}

/*
 * 200 calls at once, each playing and recording on both ends. The server
 * side (the shared loop) has 4 sockets; the phones get a loop of their
 * own with a socket each, as 200 phones would have 200 addresses.
 */
static void
test_many_pairs(void **state)
{
	int16_t *sig = make_signal(4000, 9);
	struct media_clip *clip;
	const struct media_clip *list[1];
	struct media_rec_opts ro = {MEDIA_REC_ULAW, 500, 0, false, 0};
	struct media_loop_stats lst0, lst, pst;
	struct media_loop_opts o;
	struct media_loop *phones;
	struct pair *p = calloc(NPAIRS, sizeof(*p));
	uint64_t early;
	char name[32];

	(void)state;
	assert_non_null(p);
	memset(&many, 0, sizeof(many));
	memset(&o, 0, sizeof(o));
	sa_set_str(&o.local, "127.0.0.1", 0);
	o.nsockets = NPAIRS;
	assert_int_equal(media_loop_alloc(&phones, base, &o), 0);
	assert_int_equal(media_clip_from_pcm(&clip, "s", sig, 4000), 0);
	list[0] = clip;
	media_loop_get_stats(ml, &lst0);
	for (int i = 0; i < NPAIRS; i++) {
		enum media_codec c = i % 2 ? MEDIA_PCMA : MEDIA_PCMU;
		assert_int_equal(media_stream_alloc(&p[i].a, ml, &p[i].la), 0);
		assert_int_equal(
		    media_stream_alloc(&p[i].b, phones, &p[i].lb), 0);
		assert_int_equal(
		    media_stream_set_remote(p[i].a, &p[i].lb, c, 101), 0);
		assert_int_equal(
		    media_stream_set_remote(p[i].b, &p[i].la, c, 101), 0);
		snprintf(name, sizeof(name), "many-a%d.wav", i);
		assert_int_equal(media_stream_record(p[i].a, tpath(name), &ro,
		                     many_record_h, NULL),
		    0);
		snprintf(name, sizeof(name), "many-b%d.wav", i);
		assert_int_equal(media_stream_record(p[i].b, tpath(name), &ro,
		                     many_record_h, NULL),
		    0);
	}
	for (int i = 0; i < NPAIRS; i++) {
		assert_int_equal(
		    media_stream_play(p[i].a, list, 1, many_play_h, NULL), 0);
		assert_int_equal(
		    media_stream_play(p[i].b, list, 1, many_play_h, NULL), 0);
	}
	media_loop_get_stats(ml, &lst);
	assert_int_equal(lst.playing, NPAIRS);
	assert_int_equal(lst.recording, NPAIRS);

	/* Paced, not burst: a tenth of a second in, most packets of each
	 * half-second clip are still to come. */
	run_for(100);
	media_loop_get_stats(ml, &lst);
	early = lst.tx_packets - lst0.tx_packets;
	assert_true(early > 0);
	assert_true(early < (uint64_t)NPAIRS * 25);

	assert_true(run_until(&many.all, 30000));
	run_for(100);
	assert_int_equal(many.played, 2 * NPAIRS);
	media_loop_get_stats(ml, &lst);
	media_loop_get_stats(phones, &pst);
	assert_int_equal(lst.tx_packets - lst0.tx_packets, NPAIRS * 25);
	assert_int_equal(lst.rx_packets - lst0.rx_packets, NPAIRS * 25);
	assert_int_equal(lst.tx_errors, lst0.tx_errors);
	assert_int_equal(lst.rx_unknown, lst0.rx_unknown);
	assert_int_equal(pst.tx_packets, NPAIRS * 25);
	assert_int_equal(pst.rx_packets, NPAIRS * 25);
	assert_int_equal(lst.streams, NPAIRS);
	assert_int_equal(lst.playing, 0);
	assert_int_equal(lst.recording, 0);
	print_message("%d calls: server tx_late %llu, max_late_us %llu\n",
	    NPAIRS, (unsigned long long)(lst.tx_late - lst0.tx_late),
	    (unsigned long long)lst.max_late_us);
	for (int i = 0; i < NPAIRS; i++) {
		struct media_stream_stats sa_st, sb_st;
		media_stream_get_stats(p[i].a, &sa_st);
		media_stream_get_stats(p[i].b, &sb_st);
		assert_int_equal(sa_st.rx_packets, 25);
		assert_int_equal(sb_st.rx_packets, 25);
		assert_int_equal(sa_st.tx_packets, 25);
		pair_free(&p[i]);
	}
	/* Spot check recordings at both ends (PCMA calls are transcoded). */
	for (int k = 0; k < 2; k++) {
		size_t nb;
		int16_t *got =
		    load(tpath(k ? "many-a7.wav" : "many-b8.wav"), &nb);
		assert_int_equal(nb, 4000);
		for (size_t i = 0; i < nb; i++) {
			int32_t d = got[i] - sig[i];
			assert_true(d > -1400 && d < 1400);
		}
		free(got);
	}
	media_loop_free(phones);
	media_clip_free(clip);
	free(sig);
	free(p);
}

static void
test_clip_load(void **state)
{
	int16_t pcm[800];
	struct wav_writer *w;
	struct media_clip *c;
	char err[256] = "";

	(void)state;
	for (int i = 0; i < 800; i++)
		pcm[i] = (int16_t)(i * 40 - 16000);
	assert_int_equal(wav_writer_open(&w, tpath("clip.wav"), WAV_PCM16), 0);
	assert_int_equal(wav_writer_write(w, pcm, 800), 0);
	assert_int_equal(wav_writer_close(w, NULL), 0);
	assert_int_equal(
	    media_clip_load(&c, tpath("clip.wav"), err, sizeof(err)), 0);
	assert_int_equal(c->samples, 800);
	assert_int_equal(media_clip_ms(c), 100);
	assert_memory_equal(c->pcm, pcm, sizeof(pcm));
	for (int i = 0; i < 800; i++) {
		assert_int_equal(c->ulaw[i], g711_ulaw_enc(pcm[i]));
		assert_int_equal(c->alaw[i], g711_alaw_enc(pcm[i]));
	}
	media_clip_free(c);
	assert_int_equal(
	    media_clip_load(&c, tpath("none.wav"), err, sizeof(err)), ENOENT);
	assert_non_null(strstr(err, "none.wav"));
}

/* The prompts made at build time (prompts/gen.sh) load as clips and
 * hold sound, not silence. */
static void
test_prompts_load(void **state)
{
#ifdef NGV_PROMPTS_DIR
	DIR *d = opendir(NGV_PROMPTS_DIR);
	struct dirent *de;
	int n = 0;

	(void)state;
	if (d == NULL)
		skip();
	while ((de = readdir(d)) != NULL) {
		struct media_clip *c;
		char path[512], err[256];
		uint64_t peak = 0;
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".wav") != 0)
			continue;
		snprintf(
		    path, sizeof(path), "%s/%s", NGV_PROMPTS_DIR, de->d_name);
		if (media_clip_load(&c, path, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_true(media_clip_ms(c) >= 200);
		for (size_t i = 0; i < c->samples; i++) {
			int32_t v = c->pcm[i] < 0 ? -c->pcm[i] : c->pcm[i];
			if ((uint64_t)v > peak)
				peak = (uint64_t)v;
		}
		if (peak < 2000)
			fail_msg("%s: peak %llu: silent?", path,
			    (unsigned long long)peak);
		media_clip_free(c);
		n++;
	}
	closedir(d);
	assert_true(n >= 30);
#else
	(void)state;
	skip();
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clip_load),
	    cmocka_unit_test(test_prompts_load),
	    cmocka_unit_test(test_play_record_pcmu),
	    cmocka_unit_test(test_play_record_pcma),
	    cmocka_unit_test(test_play_record_coded),
	    cmocka_unit_test(test_play_record_srtp),
	    cmocka_unit_test(test_clip_list_on_the_wire),
	    cmocka_unit_test(test_dtmf_once_per_press),
	    cmocka_unit_test(test_dtmf_handler_frees_stream),
	    cmocka_unit_test(test_dtmf_send),
	    cmocka_unit_test(test_record_max_length),
	    cmocka_unit_test(test_record_silence),
	    cmocka_unit_test(test_record_nothing_received),
	    cmocka_unit_test(test_record_stop_on_hash),
	    cmocka_unit_test(test_record_write_error),
	    cmocka_unit_test(test_record_end_async),
	    cmocka_unit_test(test_record_end_async_freed),
	    cmocka_unit_test(test_record_end_takes_over),
	    cmocka_unit_test(test_record_end_many_drain),
	    cmocka_unit_test(test_srtp_tamper_and_replay),
	    cmocka_unit_test(test_demux_and_errors),
	    cmocka_unit_test(test_play_replace_stop_empty),
	    cmocka_unit_test(test_many_pairs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
