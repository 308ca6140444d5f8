/* Unit tests for lib/sdp: parser, a=crypto, offer/answer and the encoder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/sa.h"
#include "sdp/sdp.h"

/* baresip 3.x offering AES_CM_128_HMAC_SHA1_80 only, with a video line. */
static const char baresip_offer[] =
    "v=0\r\n"
    "o=- 1894365401 2072521713 IN IP4 192.168.1.20\r\n"
    "s=-\r\n"
    "c=IN IP4 192.168.1.20\r\n"
    "t=0 0\r\n"
    "m=audio 10022 RTP/SAVP 96 0 8 101\r\n"
    "b=AS:128\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-rsize\r\n"
    "a=ssrc:1480927251 cname:3a1b2c3d-aaaa\r\n"
    "a=rtcp-mux\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:AdgrA1I+1ARpI4TPx+Z7l5UjhR/ovvDgdlZpH9OF\r\n"
    "m=video 10024 RTP/SAVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:qHrD8JZJah78njFtfykT1lBC+x0AU5Vi9P/SF2s7\r\n";

/* linphone 5: four suites, telephone-event at three rates. */
static const char linphone_offer[] =
    "v=0\r\n"
    "o=alice 3184 1225 IN IP4 10.0.0.7\r\n"
    "s=Talk\r\n"
    "c=IN IP4 10.0.0.7\r\n"
    "t=0 0\r\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL "
    "voip-metrics\r\n"
    "m=audio 7078 RTP/SAVP 96 97 98 0 8 18 101 99 100\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 useinbandfec=1\r\n"
    "a=rtpmap:97 speex/16000\r\n"
    "a=fmtp:97 vbr=on\r\n"
    "a=rtpmap:98 speex/8000\r\n"
    "a=fmtp:98 vbr=on\r\n"
    "a=fmtp:18 annexb=yes\r\n"
    "a=rtpmap:101 telephone-event/48000\r\n"
    "a=rtpmap:99 telephone-event/16000\r\n"
    "a=rtpmap:100 telephone-event/8000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:+V6/t8KttlwI2AW4V3EXxOJQeqYqHK8vgTahjl2M\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
    "inline:WGlNmRv8naq28132OFQVQxzJf9NPfOxWuGlT6yqj\r\n"
    "a=crypto:3 AES_256_CM_HMAC_SHA1_80 "
    "inline:eugewKxFaj4jNyr8Ci0hOjgy6jsHed49fVG9UHf4dnTOR+D4J4iIWXOSTSLXuA==\r\n"
    "a=crypto:4 AES_256_CM_HMAC_SHA1_32 "
    "inline:akT6orA3TusLaBgaqswhqGuYOHICcJjQdTFKBlDAH8a4LzmCFhe2chtwkw69Mg==\r\n"
    "a=rtcp-fb:* trr-int 1000\r\n"
    "a=rtcp-fb:* ccm tmmbr\r\n";

#define K256 "iZLP7bds308s27xmZZ7fMwycIO2FRhnnk/Br1Q/d1zYNd30YIIF9FkGUn3c="
#define K128 "sExqh5iE+ILVuHiQVTuKoDrHCFVWjdv9EXnMcQ=="
#define K80  "AdgrA1I+1ARpI4TPx+Z7l5UjhR/ovvDgdlZpH9OF"
#define K32  "qHrD8JZJah78njFtfykT1lBC+x0AU5Vi9P/SF2s7"

/* A CUCM/CUBE-style offer in the notes' order: 256GCM, 128GCM, 80, 32. */
static const char cube_offer[] =
    "v=0\r\n"
    "o=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.1.1.1\r\n"
    "s=SIP Call\r\n"
    "c=IN IP4 10.1.1.50\r\n"
    "t=0 0\r\n"
    "m=audio 24580 RTP/SAVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=ptime:20\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=crypto:1 AEAD_AES_256_GCM inline:" K256 "\r\n"
    "a=crypto:2 AEAD_AES_128_GCM inline:" K128 "\r\n"
    "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" K80 "\r\n"
    "a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:" K32 "\r\n";

/* The same suites in the opposite order, session-level c= only, LF ends. */
static const char cube_reversed[] =
    "v=0\n"
    "o=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.1.1.1\n"
    "s=SIP Call\n"
    "c=IN IP4 10.1.1.51\n"
    "t=0 0\n"
    "m=audio 24582 RTP/SAVP 8 0\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" K32 "\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" K80 "\n"
    "a=crypto:3 AEAD_AES_128_GCM inline:" K128 "\n"
    "a=crypto:4 AEAD_AES_256_GCM inline:" K256 "\n";

static struct sdp_policy
policy(enum srtp_option o)
{
	return (struct sdp_policy){.secure_rtp = true,
	    .srtp = o,
	    .pcmu = true,
	    .pcma = true,
	    .telephone_event = true};
}

static void
parse_ok(struct sdp_session *s, const char *sdp)
{
	char err[SDP_ERR_MAX];
	int rc = sdp_parse(s, sdp, strlen(sdp), err, sizeof(err));

	if (rc)
		fail_msg("sdp_parse: %s", err);
}

static void
decode(const char *b64, uint8_t *out, size_t want)
{
	size_t n;

	assert_int_equal(sdp_base64_decode(b64, strlen(b64), out, 64, &n), 0);
	assert_int_equal(n, want);
}

/* Answers offer with option o and returns the chosen suite and tag. */
static int
answer(const char *offer, struct sdp_policy pol, struct sdp_neg *n,
    char *reason, size_t len)
{
	struct sdp_session s;

	parse_ok(&s, offer);
	return sdp_answer(n, &s, &pol, reason, len);
}

/* The encoders do not NUL-terminate; the tests use string functions. */
static int
terminate(struct buf *b, int rc)
{
	if (rc == 0 && buf_append(b, "", 1) == 0)
		b->len--;
	return rc;
}

static int
enc_answer(struct buf *b, const struct sdp_local *l,
    const struct sdp_session *offer, const struct sdp_neg *n)
{
	return terminate(b, sdp_encode_answer(b, l, offer, n));
}

static int
enc_offer(struct buf *b, const struct sdp_local *l, const struct sdp_offer *o)
{
	return terminate(b, sdp_encode_offer(b, l, o));
}

static void
test_parse_baresip(void **state)
{
	struct sdp_session s;
	const struct sdp_media *m;

	(void)state;
	parse_ok(&s, baresip_offer);
	assert_int_equal(s.version, 0);
	assert_true(slice_eq_cstr(s.origin.username, "-"));
	assert_true(slice_eq_cstr(s.origin.sess_id, "1894365401"));
	assert_true(slice_eq_cstr(s.origin.sess_version, "2072521713"));
	assert_true(slice_eq_cstr(s.origin.addr, "192.168.1.20"));
	assert_true(slice_eq_cstr(s.name, "-"));
	assert_true(s.c.set);
	assert_int_equal(s.nmedia, 2);
	m = &s.media[0];
	assert_true(slice_eq_cstr(m->type, "audio"));
	assert_int_equal(m->port, 10022);
	assert_true(slice_eq_cstr(m->proto, "RTP/SAVP"));
	assert_true(slice_eq_cstr(m->fmts, "96 0 8 101"));
	assert_int_equal(m->nfmt, 4);
	assert_int_equal(m->fmt[3], 101);
	assert_int_equal(m->nrtpmap, 4);
	assert_int_equal(m->nfmtp, 2);
	assert_true(slice_eq_cstr(sdp_media_rtpmap(m, 96)->params, "2"));
	assert_int_equal(sdp_media_rtpmap(m, 96)->rate, 48000);
	assert_int_equal(m->ncrypto, 1);
	assert_true(m->rtcp_mux);
	assert_int_equal(m->dir, SDP_SENDRECV);
	assert_int_equal(s.media[1].dir, SDP_DIR_UNSET);
	assert_ptr_equal(sdp_media_conn(&s, m), &s.c);
}

static void
test_answer_baresip(void **state)
{
	struct sdp_session s, a;
	struct sdp_policy pol = policy(SRTP_OPT_ALL);
	struct sdp_neg n;
	struct sdp_local l = {.username = "ngvoice",
	    .sess_id = 42,
	    .sess_version = 1,
	    .name = "ngvoice"};
	struct sdp_crypto c;
	struct buf b;
	uint8_t k[30];
	char reason[SDP_REASON_MAX], ip[64];

	(void)state;
	parse_ok(&s, baresip_offer);
	assert_int_equal(sdp_answer(&n, &s, &pol, reason, sizeof(reason)), 0);
	assert_int_equal(n.media_index, 0);
	assert_true(n.srtp);
	assert_int_equal(n.suite, SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(n.tag, 1);
	assert_int_equal(n.key_len, 30);
	decode(K80, k, 30);
	assert_memory_equal(n.rx_key, k, 30);
	assert_memory_not_equal(n.tx_key, k, 30);
	assert_int_equal(n.pt, 0);
	assert_false(n.pcma);
	assert_int_equal(n.te_pt, 101);
	assert_true(n.rtcp_mux);
	assert_int_equal(n.dir, SDP_SENDRECV);
	assert_string_equal(sa_ntop(&n.remote, ip, sizeof(ip)), "192.168.1.20");
	assert_int_equal(sa_port(&n.remote), 10022);
	assert_int_equal(sa_port(&n.remote_rtcp), 10022);

	/* PCMA only: the offerer's second G.711. */
	pol.pcmu = false;
	sdp_neg_wipe(&n);
	assert_int_equal(sdp_answer(&n, &s, &pol, reason, sizeof(reason)), 0);
	assert_int_equal(n.pt, 8);
	assert_true(n.pcma);
	pol.pcmu = true;
	sdp_neg_wipe(&n);
	assert_int_equal(sdp_answer(&n, &s, &pol, reason, sizeof(reason)), 0);

	/* The answer: audio with our key, video declined. */
	assert_int_equal(sa_set_str(&l.addr, "192.168.1.5", 20000), 0);
	buf_init(&b);
	assert_int_equal(enc_answer(&b, &l, &s, &n), 0);
	assert_non_null(strstr(b.p, "m=audio 20000 RTP/SAVP 0 101\r\n"));
	assert_non_null(strstr(b.p, "m=video 0 RTP/SAVP 96\r\n"));
	assert_non_null(strstr(b.p, "o=ngvoice 42 1 IN IP4 192.168.1.5\r\n"));
	assert_non_null(strstr(b.p, "c=IN IP4 192.168.1.5\r\n"));
	assert_non_null(strstr(b.p, "a=fmtp:101 0-15\r\n"));
	assert_non_null(strstr(b.p, "a=ptime:20\r\n"));
	assert_non_null(strstr(b.p, "a=sendrecv\r\n"));
	parse_ok(&a, b.p);
	assert_int_equal(a.nmedia, 2);
	assert_int_equal(a.media[0].ncrypto, 1);
	assert_int_equal(a.media[1].ncrypto, 0);
	assert_int_equal(a.media[1].port, 0);
	assert_int_equal(
	    sdp_crypto_parse(&c, a.media[0].crypto[0], NULL, 0), 0);
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.suite, SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_memory_equal(c.key, n.tx_key, 30);
	sdp_crypto_wipe(&c);
	sdp_neg_wipe(&n);
	buf_free(&b);

	/* GCM only: baresip's single SHA1 suite is refused with a reason. */
	pol = policy(SRTP_OPT_GCM);
	assert_int_equal(
	    sdp_answer(&n, &s, &pol, reason, sizeof(reason)), ENOTSUP);
	assert_string_equal(reason,
	    "no acceptable SRTP suite: offered AES_CM_128_HMAC_SHA1_80; "
	    "allowed AEAD_AES_256_GCM, AEAD_AES_128_GCM");
}

/* The first of a and b in the option's order. */
static enum srtp_suite
first_of(enum srtp_option o, enum srtp_suite a, enum srtp_suite b)
{
	const enum srtp_suite *l;
	size_t n = srtp_option_suites(o, &l);

	for (size_t i = 0; i < n; i++) {
		if (l[i] == a || l[i] == b)
			return l[i];
	}
	return SRTP_SUITE_COUNT;
}

static void
test_linphone(void **state)
{
	struct sdp_session s;
	struct sdp_crypto c;
	struct sdp_neg n;
	char reason[SDP_REASON_MAX];
	enum srtp_suite want;

	(void)state;
	parse_ok(&s, linphone_offer);
	assert_int_equal(s.media[0].nfmt, 9);
	assert_int_equal(s.media[0].ncrypto, 4);
	assert_int_equal(
	    sdp_crypto_parse(&c, s.media[0].crypto[0], NULL, 0), 0);
	assert_int_equal(c.key_len, 30);
	assert_int_equal(
	    sdp_crypto_parse(&c, s.media[0].crypto[2], reason, sizeof(reason)),
	    ENOTSUP);
	assert_int_equal(c.tag, 3);
	assert_true(slice_eq_cstr(c.suite_name, "AES_256_CM_HMAC_SHA1_80"));
	assert_non_null(strstr(reason, "unsupported"));
	assert_int_equal(
	    sdp_crypto_parse(&c, s.media[0].crypto[3], NULL, 0), ENOTSUP);

	assert_int_equal(answer(linphone_offer, policy(SRTP_OPT_ALL), &n,
	                     reason, sizeof(reason)),
	    0);
	/* The server's order decides between _80 and _32. */
	want = first_of(SRTP_OPT_ALL, SRTP_AES_CM_128_HMAC_SHA1_80,
	    SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(n.suite, want);
	assert_int_equal(n.tag, want == SRTP_AES_CM_128_HMAC_SHA1_80 ? 1 : 2);
	assert_int_equal(n.pt, 0);
	assert_int_equal(n.te_pt, 100); /* the 8000 Hz one */
	assert_int_equal(sa_port(&n.remote_rtcp), 7079);
	sdp_neg_wipe(&n);

	assert_int_equal(answer(linphone_offer, policy(SRTP_OPT_GCM256), &n,
	                     reason, sizeof(reason)),
	    ENOTSUP);
	assert_string_equal(reason,
	    "no acceptable SRTP suite: offered AES_CM_128_HMAC_SHA1_80, "
	    "AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, "
	    "AES_256_CM_HMAC_SHA1_32; allowed AEAD_AES_256_GCM");
}

static void
test_cisco_keys(void **state)
{
	struct sdp_crypto c;
	uint8_t k[44];

	(void)state;
	assert_int_equal(
	    sdp_crypto_parse(
	        &c, SLICE_LIT("1 AEAD_AES_256_GCM inline:" K256), NULL, 0),
	    0);
	assert_int_equal(c.suite, SRTP_AEAD_AES_256_GCM);
	assert_int_equal(c.key_len, 44);
	decode(K256, k, 44);
	assert_memory_equal(c.key, k, 44);
	sdp_crypto_wipe(&c);
	assert_int_equal(
	    sdp_crypto_parse(
	        &c, SLICE_LIT("2 AEAD_AES_128_GCM inline:" K128), NULL, 0),
	    0);
	assert_int_equal(c.suite, SRTP_AEAD_AES_128_GCM);
	assert_int_equal(c.key_len, 28);
	assert_int_equal(c.tag, 2);
	sdp_crypto_wipe(&c);
	/* Swapped: each key has the other suite's length. */
	assert_int_equal(
	    sdp_crypto_parse(
	        &c, SLICE_LIT("1 AEAD_AES_128_GCM inline:" K256), NULL, 0),
	    EBADMSG);
	assert_int_equal(
	    sdp_crypto_parse(
	        &c, SLICE_LIT("1 AEAD_AES_256_GCM inline:" K128), NULL, 0),
	    EBADMSG);
	/* 30 bytes is a SHA1 suite's size, not GCM's 28. */
	assert_int_equal(
	    sdp_crypto_parse(
	        &c, SLICE_LIT("1 AEAD_AES_128_GCM inline:" K80), NULL, 0),
	    EBADMSG);
}

static void
test_cube_options(void **state)
{
	struct sdp_neg n;
	char reason[SDP_REASON_MAX], ip[64];

	(void)state;
	for (int o = 0; o < SRTP_OPT_COUNT; o++) {
		assert_int_equal(answer(cube_offer, policy((enum srtp_option)o),
		                     &n, reason, sizeof(reason)),
		    0);
		assert_int_equal(n.suite, SRTP_AEAD_AES_256_GCM);
		assert_int_equal(n.tag, 1);
		assert_int_equal(n.key_len, 44);
		sdp_neg_wipe(&n);
		/* The server's order wins even when 256 GCM comes last. */
		assert_int_equal(
		    answer(cube_reversed, policy((enum srtp_option)o), &n,
		        reason, sizeof(reason)),
		    0);
		assert_int_equal(n.suite, SRTP_AEAD_AES_256_GCM);
		assert_int_equal(n.tag, 4);
		assert_int_equal(n.pt, 8);
		assert_int_equal(n.te_pt, -1);
		assert_string_equal(
		    sa_ntop(&n.remote, ip, sizeof(ip)), "10.1.1.51");
		sdp_neg_wipe(&n);
	}
	assert_int_equal(answer(cube_offer, policy(SRTP_OPT_ALL), &n, reason,
	                     sizeof(reason)),
	    0);
	assert_int_equal(n.ptime, 20);
	assert_string_equal(sa_ntop(&n.remote, ip, sizeof(ip)), "10.1.1.50");
	sdp_neg_wipe(&n);
}

/* An offer with the given crypto lines, on RTP/SAVP unless proto given. */
static const char *
offer_with(char *mem, size_t len, const char *proto, const char *lines)
{
	snprintf(mem, len,
	    "v=0\r\n"
	    "o=- 1 1 IN IP4 10.1.1.1\r\n"
	    "s=-\r\n"
	    "c=IN IP4 10.1.1.9\r\n"
	    "t=0 0\r\n"
	    "m=audio 4000 %s 0\r\n"
	    "%s",
	    proto ? proto : "RTP/SAVP", lines);
	return mem;
}

static void
test_single_suites(void **state)
{
	struct sdp_neg n;
	char reason[SDP_REASON_MAX], mem[2048];

	(void)state;
	offer_with(mem, sizeof(mem), NULL,
	    "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" K80 "\r\n");
	assert_int_equal(
	    answer(mem, policy(SRTP_OPT_GCM256), &n, reason, sizeof(reason)),
	    ENOTSUP);
	assert_string_equal(reason,
	    "no acceptable SRTP suite: offered AES_CM_128_HMAC_SHA1_80; "
	    "allowed AEAD_AES_256_GCM");
	assert_int_equal(
	    answer(mem, policy(SRTP_OPT_ALL), &n, reason, sizeof(reason)), 0);
	assert_int_equal(n.tag, 7);
	sdp_neg_wipe(&n);

	offer_with(mem, sizeof(mem), NULL,
	    "a=crypto:3 AEAD_AES_128_GCM inline:" K128 "\r\n");
	assert_int_equal(
	    answer(mem, policy(SRTP_OPT_GCM), &n, reason, sizeof(reason)), 0);
	assert_int_equal(n.suite, SRTP_AEAD_AES_128_GCM);
	sdp_neg_wipe(&n);
	assert_int_equal(
	    answer(mem, policy(SRTP_OPT_GCM256), &n, reason, sizeof(reason)),
	    ENOTSUP);

	/* An allowed suite with a bad key says why in the reason. */
	offer_with(mem, sizeof(mem), NULL,
	    "a=crypto:1 AEAD_AES_256_GCM inline:" K128 "\r\n");
	assert_int_equal(
	    answer(mem, policy(SRTP_OPT_GCM256), &n, reason, sizeof(reason)),
	    ENOTSUP);
	assert_non_null(strstr(reason, "key is 28 bytes, needs 44"));

	/* MKI and UNENCRYPTED_SRTP lines are skipped for the next one. */
	offer_with(mem, sizeof(mem), NULL,
	    "a=crypto:1 AEAD_AES_256_GCM inline:" K256 "|1:4\r\n"
	    "a=crypto:2 AEAD_AES_256_GCM inline:" K256 " UNENCRYPTED_SRTP\r\n"
	    "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" K80 "|2^31\r\n");
	assert_int_equal(
	    answer(mem, policy(SRTP_OPT_ALL), &n, reason, sizeof(reason)), 0);
	assert_int_equal(n.tag, 3);
	sdp_neg_wipe(&n);

	/* RTP/AVP without crypto: 488 when secure RTP is required. */
	offer_with(mem, sizeof(mem), "RTP/AVP", "");
	assert_int_equal(
	    answer(mem, policy(SRTP_OPT_ALL), &n, reason, sizeof(reason)),
	    ENOTSUP);
	assert_string_equal(
	    reason, "secure RTP required: offer is RTP/AVP without a=crypto");
	struct sdp_policy plain = policy(SRTP_OPT_ALL);
	plain.secure_rtp = false;
	assert_int_equal(answer(mem, plain, &n, reason, sizeof(reason)), 0);
	assert_false(n.srtp);
	assert_true(slice_eq_cstr(n.proto, "RTP/AVP"));

	/* Best-effort SDES on RTP/AVP: used when usable. */
	offer_with(mem, sizeof(mem), "RTP/AVP",
	    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" K80 "\r\n");
	assert_int_equal(answer(mem, plain, &n, reason, sizeof(reason)), 0);
	assert_true(n.srtp);
	sdp_neg_wipe(&n);
	plain.srtp = SRTP_OPT_GCM256;
	assert_int_equal(answer(mem, plain, &n, reason, sizeof(reason)), 0);
	assert_false(n.srtp);
	assert_string_equal(reason, "");

	/* RTP/SAVP without crypto can never be answered. */
	offer_with(mem, sizeof(mem), NULL, "");
	assert_int_equal(
	    answer(mem, plain, &n, reason, sizeof(reason)), ENOTSUP);
	assert_non_null(strstr(reason, "without a=crypto"));

	/* DTLS-SRTP is not ours. */
	offer_with(mem, sizeof(mem), "UDP/TLS/RTP/SAVP", "");
	assert_int_equal(
	    answer(mem, policy(SRTP_OPT_ALL), &n, reason, sizeof(reason)),
	    ENOTSUP);
	assert_non_null(strstr(reason, "UDP/TLS/RTP/SAVP not supported"));
}

static void
test_crypto_params(void **state)
{
	struct sdp_crypto c;
	char err[SDP_ERR_MAX];

	(void)state;
	/* Unpadded base64 */
	assert_int_equal(sdp_crypto_parse(&c,
	                     SLICE_LIT("1 AEAD_AES_128_GCM "
	                               "inline:sExqh5iE+ILVuHiQVTuKoDrHCFVWjdv9"
	                               "EXnMcQ"),
	                     NULL, 0),
	    0);
	assert_int_equal(c.key_len, 28);
	/* Tags */
	assert_int_equal(
	    sdp_crypto_parse(&c,
	        SLICE_LIT("0 AES_CM_128_HMAC_SHA1_80 inline:" K80), NULL, 0),
	    0);
	assert_int_equal(c.tag, 0);
	assert_int_equal(
	    sdp_crypto_parse(&c,
	        SLICE_LIT("999999999 AES_CM_128_HMAC_SHA1_80 inline:" K80),
	        NULL, 0),
	    0);
	assert_int_equal(c.tag, 999999999);
	assert_int_equal(
	    sdp_crypto_parse(&c,
	        SLICE_LIT("1000000000 AES_CM_128_HMAC_SHA1_80 inline:" K80),
	        err, sizeof(err)),
	    EBADMSG);
	assert_string_equal(err, "crypto: bad tag");
	assert_int_equal(
	    sdp_crypto_parse(&c,
	        SLICE_LIT("-1 AES_CM_128_HMAC_SHA1_80 inline:" K80), NULL, 0),
	    EBADMSG);
	/* Lifetime and MKI */
	assert_int_equal(
	    sdp_crypto_parse(&c,
	        SLICE_LIT("1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|2^20|1:4"),
	        NULL, 0),
	    0);
	assert_int_equal(c.lifetime, 1u << 20);
	assert_true(c.has_mki);
	assert_int_equal(c.mki, 1);
	assert_int_equal(c.mki_len, 4);
	assert_int_equal(
	    sdp_crypto_parse(&c,
	        SLICE_LIT("1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|1048576"),
	        NULL, 0),
	    0);
	assert_int_equal(c.lifetime, 1048576);
	assert_false(c.has_mki);
	assert_int_equal(
	    sdp_crypto_parse(&c,
	        SLICE_LIT("1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|7:2"), NULL,
	        0),
	    0);
	assert_int_equal(c.lifetime, 0);
	assert_int_equal(c.mki, 7);
	static const char *const bad[] = {
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|2^64",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|0",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|1:4|2^20",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|1:0",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|1:129",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "|2^20|1:4|x",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "x",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:" K80 "=",
	    "1 AES_CM_128_HMAC_SHA1_32 inline:AdgrA1I+1ARpI4TPx+Z7l5Ujh!/ov"
	    "vDgdlZpH9OF",
	    /* non-zero bits after the last byte */
	    "1 AEAD_AES_128_GCM inline:sExqh5iE+ILVuHiQVTuKoDrHCFVWjdv9EXnMcR==",
	    "1 AES_CM_128_HMAC_SHA1_32 uri:http://example.com/key",
	    "1 AES_CM_128_HMAC_SHA1_32",
	    "1",
	    "",
	    "x AES_CM_128_HMAC_SHA1_32 inline:" K80,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sdp_crypto_parse(
		        &c, slice_cstr(bad[i]), err, sizeof(err)) != EBADMSG)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(c.key_len, 0);
		/* Reasons never quote the key. */
		assert_null(strstr(err, "AdgrA1I"));
	}
	/* Several key-params: the first is used. */
	assert_int_equal(sdp_crypto_parse(&c,
	                     SLICE_LIT("1 AES_CM_128_HMAC_SHA1_80 inline:" K80
	                               "|2^20|1:4;inline:" K32 "|2^20|2:4"),
	                     NULL, 0),
	    0);
	assert_int_equal(c.nkeys, 2);
	uint8_t k[30];
	decode(K80, k, 30);
	assert_memory_equal(c.key, k, 30);
	/* Session parameters: noted or ignored. */
	assert_int_equal(sdp_crypto_parse(&c,
	                     SLICE_LIT("1 AES_CM_128_HMAC_SHA1_80 inline:" K80
	                               " KDR=0 WSH=64 UNENCRYPTED_SRTCP "
	                               "FUTURE_PARAM=1"),
	                     NULL, 0),
	    0);
	assert_int_equal(c.flags, SDP_CRYPTO_UNENCRYPTED_SRTCP);
	assert_int_equal(sdp_crypto_parse(&c,
	                     SLICE_LIT("1 AES_CM_128_HMAC_SHA1_80 inline:" K80
	                               " KDR=24 UNAUTHENTICATED_SRTP"),
	                     NULL, 0),
	    0);
	assert_int_equal(c.flags, SDP_CRYPTO_KDR | SDP_CRYPTO_UNAUTHENTICATED);
	/* Suites: case-insensitive, known-unsupported and unknown. */
	enum srtp_suite s;
	assert_int_equal(
	    sdp_crypto_suite(SLICE_LIT("aead_aes_256_gcm"), &s), 0);
	assert_int_equal(s, SRTP_AEAD_AES_256_GCM);
	assert_int_equal(
	    sdp_crypto_suite(SLICE_LIT("F8_128_HMAC_SHA1_80"), &s), ENOTSUP);
	assert_int_equal(
	    sdp_crypto_suite(SLICE_LIT("AES_CM_256_HMAC_SHA1_80"), &s),
	    ENOTSUP);
	assert_int_equal(
	    sdp_crypto_parse(
	        &c, SLICE_LIT("5 F8_128_HMAC_SHA1_80 inline:" K80), NULL, 0),
	    ENOTSUP);
	assert_int_equal(c.tag, 5);
	assert_int_equal(sdp_crypto_parse(&c,
	                     SLICE_LIT("5 NO_SUCH_SUITE inline:" K80), NULL, 0),
	    ENOTSUP);
	sdp_crypto_wipe(&c);
}

static void
test_base64(void **state)
{
	uint8_t in[46], out[46];
	struct buf b;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(in); len++) {
		buf_init(&b);
		assert_int_equal(sdp_base64_encode(&b, in, len), 0);
		assert_int_equal(b.len, (len + 2) / 3 * 4);
		assert_int_equal(
		    sdp_base64_decode(b.p, b.len, out, sizeof(out), &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(in, out, len);
		/* and without the padding */
		while (b.len && b.p[b.len - 1] == '=')
			b.len--;
		assert_int_equal(
		    sdp_base64_decode(b.p, b.len, out, sizeof(out), &n), 0);
		assert_int_equal(n, len);
		buf_free(&b);
	}
	assert_int_equal(sdp_base64_decode("QUJD", 4, out, 2, &n), ENOMEM);
	assert_int_equal(n, 0);
	assert_int_equal(sdp_base64_decode("QUJDR", 5, out, 8, &n), EBADMSG);
	assert_int_equal(sdp_base64_decode("QQ=", 3, out, 8, &n), EBADMSG);
	assert_int_equal(sdp_base64_decode("Q===", 4, out, 8, &n), EBADMSG);
	assert_int_equal(sdp_base64_decode("QQ==", 4, out, 8, &n), 0);
	assert_int_equal(sdp_base64_decode("Q=Q=", 4, out, 8, &n), EBADMSG);
}

static void
expect_bad(const char *sdp, const char *what)
{
	struct sdp_session s;
	char err[SDP_ERR_MAX];

	if (sdp_parse(&s, sdp, strlen(sdp), err, sizeof(err)) != EBADMSG)
		fail_msg("accepted (%s): %s", what, sdp);
	if (strstr(err, what) == NULL)
		fail_msg("reason '%s' lacks '%s'", err, what);
}

#define HDR "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"

static void
test_malformed(void **state)
{
	struct sdp_session s;
	char err[SDP_ERR_MAX];

	(void)state;
	expect_bad("", "empty SDP");
	expect_bad("o=- 1 1 IN IP4 1.2.3.4\r\n", "line 1 (o=): SDP must start");
	expect_bad("v=1\r\n", "version must be 0");
	expect_bad("V=0\r\n", "line 1 (V=): not <letter>=<value>");
	expect_bad("v=0\r\nhello\r\n", "line 2 (h=)");
	expect_bad("v=0\r\n=x\r\n", "line 2 (==)");
	expect_bad("v=0\r\ns=-\r\n", "no o= line");
	expect_bad("v=0\r\no=- 1 1 IN IP4\r\n", "line 2 (o=): needs 6 fields");
	expect_bad("v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n", "numeric");
	expect_bad("v=0\r\no=- 1 1 IN IP4 1.2.3.4 x\r\n", "more than 6");
	expect_bad(HDR "c=IN IP4\r\n", "line 5 (c=)");
	expect_bad(HDR "m=audio 70000 RTP/AVP 0\r\n", "line 5 (m=): bad port");
	expect_bad(HDR "m=audio x RTP/AVP 0\r\n", "bad port");
	expect_bad(HDR "m=audio 4000/0 RTP/AVP 0\r\n", "bad port count");
	expect_bad(HDR "m=audio 4000\r\n", "needs media, port and proto");
	expect_bad(HDR "m=audio 4000 RTP/AVP 128\r\n", "bad payload type");
	expect_bad(HDR "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
	    "line 6 (a=): bad a=rtpmap: needs encoding/rate");
	expect_bad(HDR "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/0\r\n",
	    "clock rate");
	expect_bad(HDR "m=audio 4000 RTP/AVP 0\r\na=rtpmap:300 PCMU/8000\r\n",
	    "payload type");
	expect_bad(HDR "m=audio 4000 RTP/AVP 0\r\na=ptime:abc\r\n", "ptime");
	expect_bad(HDR "m=audio 4000 RTP/AVP 0\r\na=rtcp:0\r\n", "rtcp");
	expect_bad(HDR "m=audio 4000 RTP/AVP 0\r\no=- 1 1 IN IP4 1.2.3.4\r\n",
	    "misplaced o=");
	expect_bad(HDR "t=now\r\n", "bad t=");
	expect_bad(HDR "v=0\r\n", "repeated v=");
	expect_bad("v=0\r\nm=audio 1 RTP/AVP 0\r\n", "m= before o=");

	/* NUL and bare CR inside a line */
	static const char nul[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=a\0b\r\n";
	assert_int_equal(
	    sdp_parse(&s, nul, sizeof(nul) - 1, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "line 3 (s=): NUL"));
	expect_bad("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=a\rb\r\n", "CR");

	/* bounds: m= lines, line count, body size, line length */
	char big[SDP_MAX_LEN + 64];
	size_t n = 0;
	n += (size_t)snprintf(big + n, sizeof(big) - n, HDR);
	for (int i = 0; i < SDP_MAX_MEDIA + 1; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		    "m=audio %d RTP/AVP 0\r\n", 1000 + i);
	expect_bad(big, "more than 8 m= lines");
	n = (size_t)snprintf(big, sizeof(big), HDR);
	for (int i = 0; i < SDP_MAX_LINES; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "a=x\r\n");
	expect_bad(big, "more than 256 lines");
	memset(big, 'a', sizeof(big));
	assert_int_equal(
	    sdp_parse(&s, big, SDP_MAX_LEN + 1, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "too long"));
	n = (size_t)snprintf(big, sizeof(big), HDR "i=");
	memset(big + n, 'x', SDP_MAX_LINE);
	n += SDP_MAX_LINE;
	memcpy(big + n, "\r\n", 3);
	expect_bad(big, "line 5 (i=): line longer");

	/* NULL arguments */
	assert_int_equal(sdp_parse(NULL, "v=0", 3, NULL, 0), EINVAL);
	assert_int_equal(sdp_parse(&s, NULL, 3, NULL, 0), EINVAL);
}

static void
test_liberal(void **state)
{
	struct sdp_session s;

	(void)state;
	/* No final newline, double spaces, blank lines, unknown letters,
	 * a multicast TTL, decimal ptime, fmtp for non-RTP formats. */
	parse_ok(&s, "v=0\n"
	             "o=-  7  8 IN IP4 1.2.3.4\n"
	             "\n"
	             "s=\n"
	             "c=IN IP4 224.2.1.1/127\n"
	             "x=whatever\n"
	             "t=0 0\n"
	             "a=recvonly\n"
	             "m=audio  5004  RTP/AVP  0  8\n"
	             "a=ptime:20.0\n"
	             "m=application 5005 UDP/BFCP *\n"
	             "a=fmtp:* x\n"
	             "m=audio 5006 RTP/AVP 0\n"
	             "a=inactive");
	assert_true(slice_eq_cstr(s.origin.sess_id, "7"));
	assert_true(slice_eq_cstr(s.c.addr, "224.2.1.1"));
	assert_int_equal(s.nmedia, 3);
	assert_int_equal(s.media[0].nfmt, 2);
	assert_int_equal(s.media[0].ptime, 20);
	assert_int_equal(s.media[0].dir, SDP_RECVONLY);
	assert_int_equal(s.media[1].nfmt, 0);
	assert_true(slice_eq_cstr(s.media[1].fmts, "*"));
	assert_int_equal(s.media[2].dir, SDP_INACTIVE);
}

static void
test_addresses(void **state)
{
	struct sdp_session s, a;
	struct sdp_neg n;
	struct sdp_policy pol = policy(SRTP_OPT_ALL);
	struct sdp_local l = {.sess_id = 1, .sess_version = 2};
	struct buf b;
	char reason[SDP_REASON_MAX], ip[64];

	(void)state;
	/* IPv6 c= at media level overrides the session's IPv4 one. */
	parse_ok(&s, "v=0\r\n"
	             "o=- 1 1 IN IP6 2001:db8::5\r\n"
	             "s=-\r\n"
	             "c=IN IP4 192.0.2.1\r\n"
	             "t=0 0\r\n"
	             "m=video 6000 RTP/AVP 96\r\n"
	             "m=audio 6002 RTP/SAVP 8 101\r\n"
	             "c=IN IP6 2001:db8::7\r\n"
	             "a=rtpmap:101 telephone-event/8000\r\n"
	             "a=rtcp:6009 IN IP6 2001:db8::8\r\n"
	             "a=sendonly\r\n"
	             "a=crypto:1 AEAD_AES_128_GCM inline:" K128 "\r\n");
	assert_int_equal(sdp_answer(&n, &s, &pol, reason, sizeof(reason)), 0);
	assert_int_equal(n.media_index, 1);
	assert_int_equal(sa_family(&n.remote), AF_INET6);
	assert_string_equal(sa_ntop(&n.remote, ip, sizeof(ip)), "2001:db8::7");
	assert_int_equal(sa_port(&n.remote), 6002);
	assert_string_equal(
	    sa_ntop(&n.remote_rtcp, ip, sizeof(ip)), "2001:db8::8");
	assert_int_equal(sa_port(&n.remote_rtcp), 6009);
	assert_int_equal(n.dir, SDP_RECVONLY);
	assert_int_equal(n.pt, 8);
	assert_int_equal(n.te_pt, 101);

	assert_int_equal(sa_set_str(&l.addr, "2001:db8::1", 30000), 0);
	buf_init(&b);
	assert_int_equal(enc_answer(&b, &l, &s, &n), 0);
	assert_non_null(strstr(b.p, "o=- 1 2 IN IP6 2001:db8::1\r\n"));
	assert_non_null(strstr(b.p, "c=IN IP6 2001:db8::1\r\n"));
	assert_non_null(strstr(b.p, "m=video 0 RTP/AVP 96\r\n"));
	assert_non_null(strstr(b.p, "a=recvonly\r\n"));
	assert_non_null(strstr(b.p, "a=crypto:1 AEAD_AES_128_GCM inline:"));
	parse_ok(&a, b.p);
	assert_int_equal(a.nmedia, 2);
	assert_int_equal(a.media[1].port, 30000);
	assert_int_equal(a.media[1].nfmt, 2);
	sdp_neg_wipe(&n);
	buf_free(&b);

	/* A host name, no c= at all, no audio, no codec. */
	static const char *const cases[][2] = {
	    {HDR "c=IN IP4 pbx.example.com\r\nm=audio 1 RTP/AVP 0\r\n",
	        "not an IP address"},
	    {HDR "m=audio 1 RTP/AVP 0\r\n", "no c= line"},
	    {HDR "c=IN IP4 1.2.3.4\r\nm=video 1 RTP/AVP 96\r\n",
	        "no audio stream offered"},
	    {HDR "c=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n",
	        "no audio stream offered"},
	    {HDR "c=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 18 9\r\n",
	        "no acceptable codec: offered 18 9; allowed PCMU PCMA"},
	    {HDR "c=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 96\r\n"
	         "a=rtpmap:96 PCMU/16000\r\n",
	        "no acceptable codec"},
	};
	pol.secure_rtp = false;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok(&s, cases[i][0]);
		assert_int_equal(
		    sdp_answer(&n, &s, &pol, reason, sizeof(reason)), ENOTSUP);
		if (strstr(reason, cases[i][1]) == NULL)
			fail_msg("reason '%s' lacks '%s'", reason, cases[i][1]);
	}
	/* A dynamic payload type for PCMU is fine. */
	parse_ok(&s, HDR "c=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 96\r\n"
	                 "a=rtpmap:96 pcmu/8000/1\r\n");
	assert_int_equal(sdp_answer(&n, &s, &pol, reason, sizeof(reason)), 0);
	assert_int_equal(n.pt, 96);
	/* A declined first audio line does not stop a usable second one. */
	parse_ok(&s, HDR "c=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 18\r\n"
	                 "m=audio 3 RTP/AVP 8\r\n");
	assert_int_equal(sdp_answer(&n, &s, &pol, reason, sizeof(reason)), 0);
	assert_int_equal(n.media_index, 1);
	assert_string_equal(reason, "");
}

/* Delayed offer: we offer, a peer with another option answers, we read it. */
static void
test_offer_roundtrip(void **state)
{
	struct sdp_offer o;
	struct sdp_session off, ans;
	struct sdp_neg us, peer;
	struct sdp_local lo = {.username = "ngvoice",
	    .sess_id = 99,
	    .sess_version = 1,
	    .name = "ngvoice"};
	struct sdp_local lp = {.sess_id = 5, .sess_version = 5};
	struct buf bo, ba;
	char reason[SDP_REASON_MAX];
	const enum srtp_suite *list;
	size_t nlist;

	(void)state;
	assert_int_equal(sa_set_str(&lo.addr, "10.0.0.1", 16384), 0);
	assert_int_equal(sa_set_str(&lp.addr, "10.0.0.2", 20000), 0);
	for (int opt = 0; opt < SRTP_OPT_COUNT; opt++) {
		for (int popt = 0; popt < SRTP_OPT_COUNT; popt++) {
			struct sdp_policy pol = policy((enum srtp_option)opt);
			struct sdp_policy ppol = policy((enum srtp_option)popt);

			assert_int_equal(sdp_offer_make(&o, &pol), 0);
			nlist = srtp_option_suites(pol.srtp, &list);
			assert_int_equal(o.ncrypto, nlist);
			buf_init(&bo);
			assert_int_equal(enc_offer(&bo, &lo, &o), 0);
			assert_non_null(
			    strstr(bo.p, "m=audio 16384 RTP/SAVP 0 8 101\r\n"));
			assert_non_null(strstr(bo.p, "a=fmtp:101 0-15\r\n"));
			parse_ok(&off, bo.p);
			assert_int_equal(off.media[0].ncrypto, nlist);

			int rc = sdp_answer(
			    &peer, &off, &ppol, reason, sizeof(reason));
			/* Any two options share AEAD_AES_256_GCM. */
			assert_int_equal(rc, 0);
			assert_int_equal(peer.suite, SRTP_AEAD_AES_256_GCM);
			buf_init(&ba);
			assert_int_equal(enc_answer(&ba, &lp, &off, &peer), 0);
			parse_ok(&ans, ba.p);
			assert_int_equal(sdp_offer_answered(&us, &o, &ans,
			                     reason, sizeof(reason)),
			    0);
			assert_true(us.srtp);
			assert_int_equal(us.suite, peer.suite);
			assert_int_equal(us.tag, peer.tag);
			assert_int_equal(us.key_len, 44);
			assert_memory_equal(us.tx_key, peer.rx_key, 44);
			assert_memory_equal(us.rx_key, peer.tx_key, 44);
			assert_int_equal(us.pt, 0);
			assert_int_equal(us.te_pt, 101);
			assert_int_equal(sa_port(&us.remote), 20000);
			sdp_neg_wipe(&us);
			sdp_neg_wipe(&peer);
			sdp_offer_wipe(&o);
			buf_free(&bo);
			buf_free(&ba);
		}
	}

	/* A plain offer, and answers we must refuse. */
	struct sdp_policy pol = policy(SRTP_OPT_ALL);
	pol.secure_rtp = false;
	pol.pcmu = false;
	assert_int_equal(sdp_offer_make(&o, &pol), 0);
	buf_init(&bo);
	assert_int_equal(enc_offer(&bo, &lo, &o), 0);
	assert_non_null(strstr(bo.p, "m=audio 16384 RTP/AVP 8 101\r\n"));
	assert_null(strstr(bo.p, "a=crypto"));
	buf_free(&bo);
	parse_ok(&ans, HDR "c=IN IP4 1.2.3.4\r\nm=audio 9 RTP/AVP 8\r\n");
	assert_int_equal(
	    sdp_offer_answered(&us, &o, &ans, reason, sizeof(reason)), 0);
	assert_true(us.pcma);
	assert_int_equal(us.te_pt, -1);
	parse_ok(&ans, HDR "c=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 8\r\n");
	assert_int_equal(
	    sdp_offer_answered(&us, &o, &ans, reason, sizeof(reason)), ENOTSUP);
	assert_string_equal(reason, "answer rejected the audio stream");
	parse_ok(&ans, HDR "c=IN IP4 1.2.3.4\r\nm=audio 9 RTP/AVP 0\r\n");
	assert_int_equal(
	    sdp_offer_answered(&us, &o, &ans, reason, sizeof(reason)), ENOTSUP);

	pol.secure_rtp = true;
	pol.srtp = SRTP_OPT_GCM;
	assert_int_equal(sdp_offer_make(&o, &pol), 0);
	/* Wrong tag, and a right tag with the wrong suite. */
	parse_ok(&ans, HDR "c=IN IP4 1.2.3.4\r\nm=audio 9 RTP/SAVP 8\r\n"
	                   "a=crypto:5 AEAD_AES_256_GCM inline:" K256 "\r\n"
	                   "a=crypto:2 AEAD_AES_256_GCM inline:" K256 "\r\n");
	assert_int_equal(
	    sdp_offer_answered(&us, &o, &ans, reason, sizeof(reason)), ENOTSUP);
	assert_non_null(strstr(reason, "no a=crypto matching"));
	parse_ok(&ans, HDR "c=IN IP4 1.2.3.4\r\nm=audio 9 RTP/SAVP 8\r\n"
	                   "a=crypto:2 AEAD_AES_128_GCM inline:" K128 "\r\n");
	assert_int_equal(
	    sdp_offer_answered(&us, &o, &ans, reason, sizeof(reason)), 0);
	assert_int_equal(us.tag, 2);
	assert_memory_equal(us.tx_key, o.key[1], 28);
	sdp_neg_wipe(&us);
	sdp_offer_wipe(&o);

	/* Caller bugs */
	assert_int_equal(sdp_offer_make(&o, NULL), EINVAL);
	pol.pcma = pol.pcmu = false;
	assert_int_equal(sdp_offer_make(&o, &pol), EINVAL);
	lo.username = "has space";
	assert_int_equal(enc_offer(&bo, &lo, &o), EINVAL);
}

/* Fuzz finding: a crypto line whose fields are split by tabs and carry
 * control and 8-bit bytes: the 488 reason (a SIP header) and the parse error
 * (a log line) quote it, but only as printable ASCII without quotes. */
static void
test_reason_sanitized(void **state)
{
	/* tests/fuzz/corpus/sdp/regress-crypto-tab-suite.sdp */
	static const char offer[] =
	    "v=0\n"
	    "o=CiscoSystemsCCM-SIP 2000 1 IN IP4 10.1.1.1\n"
	    "s=SIP Call\n"
	    "c=IN IP4 10.1.0.5\n"
	    "m=audio 24582 RTP/SAVP 8 0\n"
	    "a==aud\x9f"
	    "\x90"
	    "\xdf"
	    "\xcd"
	    "\xcb"
	    "\xca"
	    "\xc7"
	    "\xcd"
	    " RTP/SAVP 8 0\n"
	    "a=crypto:2\x09"
	    "\x09"
	    "\xa7"
	    "\x01"
	    "\x09"
	    "zzzzzzzzypto:2 AEAD_AES_256_GCM inline:iZLP7bds308s27xmZ7fZMwFcIO2FRhnnk/Bypto:1 7ES_CM_128_HM\x09"
	    "\x09"
	    "\x09"
	    "\x09"
	    "zzzzzzzzzzzz\x09"
	    "\x09"
	    "\x09"
	    "\x09"
	    "\x09"
	    "\x09"
	    "QQQP 9 0\n"
	    "a=crypto:1 AESU/AVPCM1_08_HM\x09"
	    "\x09"
	    "\x09"
	    "\x09"
	    "zzzzzzzzzzzzzz\xff"
	    "\xff"
	    "\xff"
	    "\xff"
	    "\xff"
	    "\xff"
	    "\xff"
	    "\xff"
	    "zzzzzzzzz\x09"
	    "\x09"
	    "\x09"
	    "\x09"
	    "\x09"
	    "\x09"
	    "QQQ/d1zYN\x97"
	    "d32YIDF9Fk6c=\n"
	    "";
	struct sdp_neg n;
	char reason[SDP_REASON_MAX];

	(void)state;
	assert_int_equal(
	    answer(offer, policy(SRTP_OPT_ALL), &n, reason, sizeof(reason)),
	    ENOTSUP);
	assert_true(reason[0] != '\0');
	for (const char *q = reason; *q; q++)
		assert_true(*q >= 0x20 && *q < 0x7f && *q != '"');
	sdp_neg_wipe(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_baresip),
	    cmocka_unit_test(test_answer_baresip),
	    cmocka_unit_test(test_linphone),
	    cmocka_unit_test(test_cisco_keys),
	    cmocka_unit_test(test_cube_options),
	    cmocka_unit_test(test_single_suites),
	    cmocka_unit_test(test_crypto_params),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_liberal),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_offer_roundtrip),
	    cmocka_unit_test(test_reason_sanitized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
