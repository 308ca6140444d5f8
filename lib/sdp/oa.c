/* SDP offer/answer for audio (RFC 3264) with SDES keys, and the encoder. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/secure.h"
#include "sdp/sdp.h"

/* A truncating writer for reason strings that go into a SIP 488. */
struct rbuf {
	char *p;
	size_t cap;
	size_t len;
};

static void rb_printf(struct rbuf *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rb_printf(struct rbuf *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->p == NULL || r->len + 1 >= r->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->p + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n;
	if (r->len >= r->cap)
		r->len = r->cap - 1;
}

/*
 * Appends text from the peer, keeping only characters that are safe in a
 * quoted SIP header value, and at most 40 of them.
 */
static void
rb_peer(struct rbuf *r, struct slice s)
{
	char tmp[41];
	size_t n = s.n < 40 ? s.n : 40;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		          (c >= 'a' && c <= 'z') || c == '_' || c == '-' ||
		          c == '/' || c == '.' || c == ' ';
		tmp[i] = ok ? (char)c : '?';
	}
	tmp[n] = '\0';
	rb_printf(r, "%s", tmp);
}

static void
rb_init(struct rbuf *r, char *p, size_t cap)
{
	r->p = cap ? p : NULL;
	r->cap = cap;
	r->len = 0;
	if (r->p)
		r->p[0] = '\0';
}

static void
rb_allowed(struct rbuf *r, enum srtp_option opt)
{
	const enum srtp_suite *list;
	size_t n = srtp_option_suites(opt, &list);

	rb_printf(r, "; allowed ");
	for (size_t i = 0; i < n; i++) {
		const struct srtp_suite_info *si = srtp_suite_info(list[i]);
		rb_printf(r, "%s%s", i ? ", " : "", si ? si->name : "?");
	}
}

/* ---- helpers on the parsed offer ---- */

enum codec { CODEC_NONE, CODEC_PCMU, CODEC_PCMA };

static enum codec
codec_of(const struct sdp_media *m, unsigned pt)
{
	const struct sdp_rtpmap *r = sdp_media_rtpmap(m, pt);

	if (r == NULL) /* static payload types (RFC 3551 table 4) */
		return pt == 0 ? CODEC_PCMU : pt == 8 ? CODEC_PCMA : CODEC_NONE;
	if (r->rate != 8000 || (r->params.n && !slice_eq_cstr(r->params, "1")))
		return CODEC_NONE;
	if (slice_caseeq_cstr(r->enc, "PCMU"))
		return CODEC_PCMU;
	if (slice_caseeq_cstr(r->enc, "PCMA"))
		return CODEC_PCMA;
	return CODEC_NONE;
}

static int
te_of(const struct sdp_media *m)
{
	for (size_t i = 0; i < m->nfmt; i++) {
		const struct sdp_rtpmap *r = sdp_media_rtpmap(m, m->fmt[i]);
		if (r && r->rate == 8000 &&
		    slice_caseeq_cstr(r->enc, "telephone-event"))
			return (int)m->fmt[i];
	}
	return -1;
}

/* RTP over UDP, plain or SDES-secured; *savp says which. */
static bool
proto_ok(struct slice proto, bool *savp)
{
	*savp = slice_caseeq_cstr(proto, "RTP/SAVP") ||
	        slice_caseeq_cstr(proto, "RTP/SAVPF");
	return *savp || slice_caseeq_cstr(proto, "RTP/AVP") ||
	       slice_caseeq_cstr(proto, "RTP/AVPF");
}

static int
conn_sa(const struct sdp_conn *c, uint16_t port, struct sa *a)
{
	int fam;

	if (!slice_caseeq_cstr(c->nettype, "IN"))
		return EBADMSG;
	if (slice_caseeq_cstr(c->addrtype, "IP4"))
		fam = AF_INET;
	else if (slice_caseeq_cstr(c->addrtype, "IP6"))
		fam = AF_INET6;
	else
		return EBADMSG;
	if (sa_set(a, c->addr, port) != 0 || sa_family(a) != fam)
		return EBADMSG;
	return 0;
}

/* A parsed crypto line we can run: none of the options we do not do. */
static bool
crypto_usable(const struct sdp_crypto *c)
{
	return !c->has_mki &&
	       !(c->flags &
	           (SDP_CRYPTO_UNENCRYPTED_SRTP | SDP_CRYPTO_UNENCRYPTED_SRTCP |
	               SDP_CRYPTO_UNAUTHENTICATED | SDP_CRYPTO_KDR |
	               SDP_CRYPTO_FEC));
}

/*
 * Picks the offered a=crypto line by the server's order of the option
 * (protocol-notes 2.2): the offerer's order does not matter. Among lines
 * of the same suite the first usable one wins. Returns 0 with *out set
 * (the caller wipes it) or ENOTSUP with a reason.
 */
static int
pick_crypto(const struct sdp_media *m, enum srtp_option opt,
    struct sdp_crypto *out, struct rbuf *r)
{
	struct sdp_crypto c[SDP_MAX_CRYPTO];
	int rc[SDP_MAX_CRYPTO];
	char why[SDP_MAX_CRYPTO][SDP_ERR_MAX];
	const enum srtp_suite *list;
	size_t nlist = srtp_option_suites(opt, &list);
	int found = -1;

	for (size_t i = 0; i < m->ncrypto; i++) {
		rc[i] = sdp_crypto_parse(
		    &c[i], m->crypto[i], why[i], sizeof(why[i]));
		if (rc[i] == 0 && !crypto_usable(&c[i])) {
			snprintf(why[i], sizeof(why[i]),
			    "crypto tag %u: %s not supported", c[i].tag,
			    c[i].has_mki ? "MKI" : "session parameters");
			rc[i] = ENOTSUP;
		}
	}
	for (size_t k = 0; k < nlist && found < 0; k++) {
		for (size_t i = 0; i < m->ncrypto; i++) {
			if (rc[i] == 0 && c[i].suite == list[k]) {
				found = (int)i;
				break;
			}
		}
	}
	if (found >= 0)
		*out = c[found];
	else {
		/* Name what was offered and what we allow, and why a line of
		 * an allowed suite could not be used, if one was there. */
		const char *detail = NULL;

		rb_printf(r, "no acceptable SRTP suite: offered ");
		for (size_t i = 0; i < m->ncrypto; i++) {
			struct slice t, rest = m->crypto[i];
			enum srtp_suite s;

			/* the suite is the second token */
			for (int j = 0; j < 2; j++) {
				while (rest.n &&
				       (*rest.p == ' ' || *rest.p == '\t')) {
					rest.p++;
					rest.n--;
				}
				t = rest;
				/* tokens end at a space or a tab, as in
				 * sdp_crypto_parse() */
				t.n = 0;
				while (t.n < rest.n && rest.p[t.n] != ' ' &&
				       rest.p[t.n] != '\t')
					t.n++;
				rest.p += t.n;
				rest.n -= t.n;
			}
			rb_printf(r, "%s", i ? ", " : "");
			rb_peer(r, t);
			if (detail == NULL && rc[i] != 0 &&
			    sdp_crypto_suite(t, &s) == 0) {
				for (size_t k = 0; k < nlist; k++) {
					if (list[k] == s)
						detail = why[i];
				}
			}
		}
		rb_allowed(r, opt);
		if (detail && detail[0]) {
			/* it may quote the offer: printable, no quotes */
			char d[SDP_ERR_MAX];
			size_t k;
			for (k = 0; detail[k] && k + 1 < sizeof(d); k++) {
				unsigned char ch = (unsigned char)detail[k];
				d[k] = ch >= 0x20 && ch < 0x7f && ch != '"'
				           ? (char)ch
				           : '?';
			}
			d[k] = '\0';
			rb_printf(r, " (%s)", d);
		}
	}
	for (size_t i = 0; i < m->ncrypto; i++) {
		if ((int)i != found)
			sdp_crypto_wipe(&c[i]);
	}
	secure_wipe(c, sizeof(c));
	return found >= 0 ? 0 : ENOTSUP;
}

static enum sdp_dir
answer_dir(enum sdp_dir offered)
{
	switch (offered) {
	case SDP_SENDONLY:
		return SDP_RECVONLY;
	case SDP_RECVONLY:
		return SDP_SENDONLY;
	case SDP_INACTIVE:
		return SDP_INACTIVE;
	default:
		return SDP_SENDRECV;
	}
}

/* Where RTCP goes: a=rtcp (RFC 3605), the RTP port with rtcp-mux, or +1. */
static void
set_rtcp(struct sdp_neg *n, const struct sdp_media *m)
{
	n->remote_rtcp = n->remote;
	n->rtcp_mux = m->rtcp_mux;
	if (m->rtcp_port) {
		if (!m->rtcp_c.set ||
		    conn_sa(&m->rtcp_c, m->rtcp_port, &n->remote_rtcp) != 0) {
			n->remote_rtcp = n->remote;
			sa_set_port(&n->remote_rtcp, m->rtcp_port);
		}
	} else if (!m->rtcp_mux && m->port < 65535) {
		sa_set_port(&n->remote_rtcp, (uint16_t)(m->port + 1));
	}
}

/* One audio m= line: 0, EIO, or ENOTSUP with the reason in r. */
static int
answer_media(struct sdp_neg *n, const struct sdp_session *offer, size_t idx,
    const struct sdp_policy *pol, struct rbuf *r)
{
	const struct sdp_media *m = &offer->media[idx];
	const struct sdp_conn *c;
	struct sdp_crypto cr;
	bool savp;
	int rc;

	if (!proto_ok(m->proto, &savp)) {
		rb_printf(r, "audio transport ");
		rb_peer(r, m->proto);
		rb_printf(r, " not supported (RTP/AVP, RTP/SAVP)");
		return ENOTSUP;
	}
	n->pt = 0;
	enum codec found = CODEC_NONE;
	for (size_t i = 0; i < m->nfmt && found == CODEC_NONE; i++) {
		enum codec k = codec_of(m, m->fmt[i]);
		if ((k == CODEC_PCMU && pol->pcmu) ||
		    (k == CODEC_PCMA && pol->pcma)) {
			found = k;
			n->pt = m->fmt[i];
		}
	}
	if (found == CODEC_NONE) {
		rb_printf(r, "no acceptable codec: offered ");
		rb_peer(r, m->fmts);
		rb_printf(r, "; allowed%s%s", pol->pcmu ? " PCMU" : "",
		    pol->pcma ? " PCMA" : "");
		return ENOTSUP;
	}
	n->pcma = found == CODEC_PCMA;
	c = sdp_media_conn(offer, m);
	if (c == NULL) {
		rb_printf(r, "no c= line for the audio stream");
		return ENOTSUP;
	}
	if (conn_sa(c, m->port, &n->remote) != 0) {
		rb_printf(r, "audio connection address is not an IP address");
		return ENOTSUP;
	}

	n->srtp = false;
	if (m->ncrypto) {
		rc = pick_crypto(m, pol->srtp, &cr, r);
		if (rc == 0) {
			const struct srtp_suite_info *si =
			    srtp_suite_info(cr.suite);
			n->srtp = true;
			n->suite = cr.suite;
			n->tag = cr.tag;
			n->key_len = cr.key_len;
			memcpy(n->rx_key, cr.key, cr.key_len);
			sdp_crypto_wipe(&cr);
			if (si == NULL ||
			    si->key_len + si->salt_len != n->key_len) {
				rb_printf(r, "internal: suite size mismatch");
				return ENOTSUP;
			}
			if (secure_random(n->tx_key, n->key_len) != 0)
				return EIO;
		} else if (savp || pol->secure_rtp) {
			return ENOTSUP;
		} else {
			/* Best-effort SDES on RTP/AVP that we cannot use:
			 * plain RTP is allowed, so answer without crypto. */
			rb_init(r, r->p, r->cap);
		}
	} else if (savp) {
		rb_printf(r, "RTP/SAVP offered without a=crypto (SDES)");
		return ENOTSUP;
	} else if (pol->secure_rtp) {
		rb_printf(r, "secure RTP required: offer is RTP/AVP without "
		             "a=crypto");
		return ENOTSUP;
	}

	n->media_index = idx;
	n->proto = m->proto;
	n->te_pt = pol->telephone_event ? te_of(m) : -1;
	n->ptime = m->ptime;
	n->dir = answer_dir(m->dir);
	set_rtcp(n, m);
	return 0;
}

int
sdp_answer(struct sdp_neg *n, const struct sdp_session *offer,
    const struct sdp_policy *pol, char *reason, size_t reasonlen)
{
	struct rbuf r, tmp;
	char tmpmem[SDP_REASON_MAX];
	bool any = false;
	int rc;

	rb_init(&r, reason, reasonlen);
	if (n == NULL || offer == NULL || pol == NULL ||
	    (!pol->pcmu && !pol->pcma) || (unsigned)pol->srtp >= SRTP_OPT_COUNT)
		return EINVAL;
	memset(n, 0, sizeof(*n));
	n->te_pt = -1;
	for (size_t i = 0; i < offer->nmedia; i++) {
		const struct sdp_media *m = &offer->media[i];

		if (!slice_caseeq_cstr(m->type, "audio") || m->port == 0)
			continue;
		/* The first audio line's reason is the one to report. */
		rb_init(&tmp, tmpmem, sizeof(tmpmem));
		rc = answer_media(n, offer, i, pol, any ? &tmp : &r);
		if (rc == 0) {
			if (r.p)
				r.p[0] = '\0';
			return 0;
		}
		sdp_neg_wipe(n);
		memset(n, 0, sizeof(*n));
		n->te_pt = -1;
		if (rc != ENOTSUP)
			return rc;
		any = true;
	}
	if (!any)
		rb_printf(&r, "no audio stream offered");
	return ENOTSUP;
}

void
sdp_neg_wipe(struct sdp_neg *n)
{
	if (n == NULL)
		return;
	secure_wipe(n->tx_key, sizeof(n->tx_key));
	secure_wipe(n->rx_key, sizeof(n->rx_key));
	n->key_len = 0;
}

/* ---- our offer ---- */

int
sdp_offer_make(struct sdp_offer *o, const struct sdp_policy *pol)
{
	const enum srtp_suite *list;
	size_t nlist;

	if (o == NULL || pol == NULL || (!pol->pcmu && !pol->pcma) ||
	    (unsigned)pol->srtp >= SRTP_OPT_COUNT)
		return EINVAL;
	memset(o, 0, sizeof(*o));
	o->secure_rtp = pol->secure_rtp;
	o->pcmu = pol->pcmu;
	o->pcma = pol->pcma;
	o->te_pt = pol->telephone_event ? 101 : -1;
	if (!pol->secure_rtp)
		return 0;
	nlist = srtp_option_suites(pol->srtp, &list);
	for (size_t i = 0; i < nlist && i < SRTP_SUITE_COUNT; i++) {
		const struct srtp_suite_info *si = srtp_suite_info(list[i]);
		if (si == NULL ||
		    si->key_len + si->salt_len > SRTP_MAX_KEY_SALT)
			continue;
		if (secure_random(
		        o->key[o->ncrypto], si->key_len + si->salt_len) != 0) {
			sdp_offer_wipe(o);
			return EIO;
		}
		o->suite[o->ncrypto++] = list[i];
	}
	if (o->ncrypto == 0)
		return EINVAL;
	return 0;
}

void
sdp_offer_wipe(struct sdp_offer *o)
{
	if (o)
		secure_wipe(o->key, sizeof(o->key));
}

int
sdp_offer_answered(struct sdp_neg *n, const struct sdp_offer *o,
    const struct sdp_session *answer, char *reason, size_t reasonlen)
{
	struct rbuf r;
	const struct sdp_media *m = NULL;
	const struct sdp_conn *c;
	enum codec found = CODEC_NONE;
	bool savp;

	rb_init(&r, reason, reasonlen);
	if (n == NULL || o == NULL || answer == NULL)
		return EINVAL;
	memset(n, 0, sizeof(*n));
	n->te_pt = -1;
	/* We offered one audio stream, so the answer has one m= line. */
	if (answer->nmedia == 0 ||
	    !slice_caseeq_cstr(answer->media[0].type, "audio")) {
		rb_printf(&r, "answer has no audio m= line");
		return ENOTSUP;
	}
	m = &answer->media[0];
	if (m->port == 0) {
		rb_printf(&r, "answer rejected the audio stream");
		return ENOTSUP;
	}
	if (!proto_ok(m->proto, &savp) || savp != o->secure_rtp) {
		rb_printf(&r, "answer transport ");
		rb_peer(&r, m->proto);
		rb_printf(&r, " does not match the offer");
		return ENOTSUP;
	}
	for (size_t i = 0; i < m->nfmt && found == CODEC_NONE; i++) {
		enum codec k = codec_of(m, m->fmt[i]);
		if ((k == CODEC_PCMU && o->pcmu) ||
		    (k == CODEC_PCMA && o->pcma)) {
			found = k;
			n->pt = m->fmt[i];
		}
	}
	if (found == CODEC_NONE) {
		rb_printf(&r, "answer has none of our codecs: ");
		rb_peer(&r, m->fmts);
		return ENOTSUP;
	}
	n->pcma = found == CODEC_PCMA;
	c = sdp_media_conn(answer, m);
	if (c == NULL || conn_sa(c, m->port, &n->remote) != 0) {
		rb_printf(&r, "answer has no usable c= address");
		return ENOTSUP;
	}
	if (o->secure_rtp) {
		for (size_t i = 0; i < m->ncrypto && !n->srtp; i++) {
			struct sdp_crypto cr;

			if (sdp_crypto_parse(&cr, m->crypto[i], NULL, 0) != 0)
				continue;
			if (cr.tag >= 1 && cr.tag <= o->ncrypto &&
			    o->suite[cr.tag - 1] == cr.suite &&
			    crypto_usable(&cr)) {
				n->srtp = true;
				n->suite = cr.suite;
				n->tag = cr.tag;
				n->key_len = cr.key_len;
				memcpy(n->rx_key, cr.key, cr.key_len);
				memcpy(
				    n->tx_key, o->key[cr.tag - 1], cr.key_len);
			}
			sdp_crypto_wipe(&cr);
		}
		if (!n->srtp) {
			rb_printf(&r, "answer has no a=crypto matching a tag "
			              "and suite of our offer");
			return ENOTSUP;
		}
	}
	n->media_index = 0;
	n->proto = m->proto;
	if (o->te_pt >= 0)
		n->te_pt = te_of(m);
	n->ptime = m->ptime;
	n->dir = answer_dir(m->dir);
	set_rtcp(n, m);
	return 0;
}

/* ---- the encoder ---- */

/* A token for o= or s= from the caller: printable, and no spaces in o=. */
static bool
safe_text(const char *s, bool spaces)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (!spaces && c == ' '))
			return false;
	}
	return true;
}

static int
enc_header(struct buf *b, const struct sdp_local *l, const char **ipver,
    char *ip, size_t iplen)
{
	const char *user = l->username ? l->username : "-";
	const char *name = l->name ? l->name : "-";
	int fam = sa_family(&l->addr);

	if ((fam != AF_INET && fam != AF_INET6) || !safe_text(user, false) ||
	    !safe_text(name, true))
		return EINVAL;
	*ipver = fam == AF_INET ? "IP4" : "IP6";
	if (sa_ntop(&l->addr, ip, iplen) == NULL)
		return EINVAL;
	buf_printf(b,
	    "v=0\r\n"
	    "o=%s %llu %llu IN %s %s\r\n"
	    "s=%s\r\n"
	    "c=IN %s %s\r\n"
	    "t=0 0\r\n",
	    user, (unsigned long long)l->sess_id,
	    (unsigned long long)l->sess_version, *ipver, ip, name, *ipver, ip);
	return 0;
}

static void
enc_crypto(
    struct buf *b, uint32_t tag, enum srtp_suite suite, const uint8_t *key)
{
	const struct srtp_suite_info *si = srtp_suite_info(suite);

	if (si == NULL) {
		b->err = EINVAL;
		return;
	}
	buf_printf(b, "a=crypto:%u %s inline:", tag, si->name);
	sdp_base64_encode(b, key, si->key_len + si->salt_len);
	BUF_LIT(b, "\r\n");
}

static void
enc_rtpmaps(struct buf *b, unsigned pt, bool pcma)
{
	buf_printf(b, "a=rtpmap:%u %s/8000\r\n", pt, pcma ? "PCMA" : "PCMU");
}

static void
enc_te(struct buf *b, int te_pt)
{
	if (te_pt < 0)
		return;
	buf_printf(b,
	    "a=rtpmap:%d telephone-event/8000\r\n"
	    "a=fmtp:%d 0-15\r\n",
	    te_pt, te_pt);
}

int
sdp_encode_answer(struct buf *b, const struct sdp_local *l,
    const struct sdp_session *offer, const struct sdp_neg *n)
{
	const char *ipver;
	char ip[INET6_ADDRSTRLEN];
	int rc;

	if (b == NULL || l == NULL || offer == NULL || n == NULL ||
	    n->media_index >= offer->nmedia)
		return EINVAL;
	rc = enc_header(b, l, &ipver, ip, sizeof(ip));
	if (rc)
		return rc;
	for (size_t i = 0; i < offer->nmedia; i++) {
		const struct sdp_media *m = &offer->media[i];

		if (i != n->media_index) {
			/* Declined (RFC 3264 section 6): port 0, the
			 * offer's proto and formats. */
			BUF_LIT(b, "m=");
			buf_append_slice(b, m->type);
			BUF_LIT(b, " 0 ");
			buf_append_slice(b, m->proto);
			if (m->fmts.n) {
				BUF_LIT(b, " ");
				buf_append_slice(b, m->fmts);
			}
			BUF_LIT(b, "\r\n");
			continue;
		}
		buf_printf(b, "m=audio %u ", (unsigned)sa_port(&l->addr));
		buf_append_slice(b, n->proto);
		buf_printf(b, " %u", n->pt);
		if (n->te_pt >= 0)
			buf_printf(b, " %d", n->te_pt);
		BUF_LIT(b, "\r\n");
		enc_rtpmaps(b, n->pt, n->pcma);
		enc_te(b, n->te_pt);
		buf_printf(b, "a=ptime:20\r\na=%s\r\n", sdp_dir_name(n->dir));
		if (n->srtp)
			enc_crypto(b, n->tag, n->suite, n->tx_key);
	}
	return b->err;
}

int
sdp_encode_offer(
    struct buf *b, const struct sdp_local *l, const struct sdp_offer *o)
{
	const char *ipver;
	char ip[INET6_ADDRSTRLEN];
	int rc;

	if (b == NULL || l == NULL || o == NULL)
		return EINVAL;
	rc = enc_header(b, l, &ipver, ip, sizeof(ip));
	if (rc)
		return rc;
	buf_printf(b, "m=audio %u %s", (unsigned)sa_port(&l->addr),
	    o->secure_rtp ? "RTP/SAVP" : "RTP/AVP");
	if (o->pcmu)
		BUF_LIT(b, " 0");
	if (o->pcma)
		BUF_LIT(b, " 8");
	if (o->te_pt >= 0)
		buf_printf(b, " %d", o->te_pt);
	BUF_LIT(b, "\r\n");
	if (o->pcmu)
		enc_rtpmaps(b, 0, false);
	if (o->pcma)
		enc_rtpmaps(b, 8, true);
	enc_te(b, o->te_pt);
	BUF_LIT(b, "a=ptime:20\r\na=sendrecv\r\n");
	if (o->secure_rtp) {
		for (size_t i = 0; i < o->ncrypto; i++)
			enc_crypto(
			    b, (uint32_t)(i + 1), o->suite[i], o->key[i]);
	}
	return b->err;
}
