/* SIP transaction layer: client and server state machines with RFC 3261 timers and RFC 6026 Accepted state. */
#include "sip/trans.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/log.h"
#include "core/secure.h"
#include "sip/enc.h"

#define TRANS_BUCKETS 16384
#define KEY_MAX       512

/* Client transaction states (RFC 3261 figures 5 and 6, RFC 6026 figure 3). */
enum cstate {
	C_CALLING,    /* INVITE sent, no response yet */
	C_TRYING,     /* non-INVITE sent, no response yet */
	C_PROCEEDING, /* provisional response received */
	C_COMPLETED,  /* final non-2xx (INVITE) or any final (non-INVITE) */
	C_ACCEPTED,   /* INVITE got 2xx: absorb retransmissions (RFC 6026) */
};

/* Server transaction states (RFC 3261 figures 7 and 8, RFC 6026 figure 5). */
enum sstate {
	S_TRYING,     /* non-INVITE received, nothing sent */
	S_PROCEEDING, /* provisional sent (INVITE starts here) */
	S_COMPLETED,  /* final sent (non-2xx for INVITE) */
	S_CONFIRMED,  /* INVITE: ACK received for the non-2xx */
	S_ACCEPTED,   /* INVITE: 2xx sent (RFC 6026) */
};

struct sip_stack {
	struct event_base *base;
	struct sip_stack_conf conf;
	struct sip_tp *tp;
	sip_req_h *reqh;
	void *arg;
	struct list cbuckets[TRANS_BUCKETS]; /* client transactions */
	struct list sbuckets[TRANS_BUCKETS]; /* server transactions */
	struct list accepted; /* INVITE server transactions in S_ACCEPTED */
	struct list cpending; /* client transactions with no final answer */
	unsigned ntrans;
	struct sip_msg cscratch; /* client side: requests sent, ACK, CANCEL */
	sip_conn_lost_h *losth;
	void *lostarg;
};

struct sip_ctrans {
	struct sip_stack *s;
	struct list hle;
	struct list ple; /* in s->cpending until a final answer or failure */
	uint32_t hash;   /* of key: compared before the key itself */
	bool invite;
	enum cstate state;
	enum sip_proto proto;
	struct sa dst;
	char *tls_name;
	struct sip_conn *conn; /* referenced */
	char *req;
	size_t reqlen;
	char *ack; /* ACK for a non-2xx, kept to answer retransmissions */
	size_t acklen;
	sip_resp_h *resph;
	void *arg;
	struct event *tmr_retx; /* Timer A / E */
	struct event *tmr_main; /* Timer B / F / D / K / M */
	unsigned retx_ms;
	bool cancel_wanted;
	bool cancel_sent;
	int failed; /* transport error to report (stack_conn_close_h) */
	char key[]; /* exactly as long as it is: most of what a transaction
	             * keeps for 32 s after a 2xx (Timer M) */
};

struct sip_strans {
	struct sip_stack *s;
	struct list hle;
	struct list ale; /* in s->accepted */
	uint32_t hash;   /* of key */
	bool invite;
	enum sstate state;
	struct sip_rx rx; /* rx.conn referenced; peer_cert not kept */
	struct sa rdst;   /* where responses go (send_response) */
	/* what every response copies from the request (sip_reply_tpl):
	 * replies are built without parsing the request again */
	char *tpl;
	struct sip_reply_tpl tplpos;
	char *resp; /* last response sent */
	size_t resplen;
	uint16_t last_code;
	sip_cancel_h *cancelh;
	void *arg;
	struct event *tmr_retx; /* Timer G / 2xx retransmission */
	struct event *tmr_main; /* Timer H / I / J / L */
	unsigned retx_ms;
	/* for matching the ACK of a 2xx, which carries a new branch */
	const char *callid; /* in tail */
	const char *ftag;   /* in tail */
	uint32_t cseq;
	/* the key first, then Call-ID and From tag, each as long as it is: what an INVITE
	 * transaction keeps for 32 s after its 2xx (Timer L) besides this */
	char tail[];
};

void
sip_stack_conf_default(struct sip_stack_conf *c)
{
	memset(c, 0, sizeof(*c));
	sip_tp_conf_default(&c->tp);
	c->timers.t1 = 500;
	c->timers.t2 = 4000;
	c->timers.t4 = 5000;
	c->symmetric_responses = true;
}

static uint32_t
key_hash(const char *k)
{
	uint32_t h = 2166136261u;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h;
}

static struct list *
hash_bucket(struct list *buckets, uint32_t h)
{
	return &buckets[h % TRANS_BUCKETS];
}

static void
timer_arm(struct event *ev, unsigned ms)
{
	struct timeval tv = {
	    .tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(ev, &tv);
}

/* Tokens (tags, branches, Call-IDs) draw on a pool of random bytes refilled
 * 1 kB at a time: one RAND_bytes call (and the getpid() OpenSSL makes in each
 * for fork safety) per ~40 tokens instead of one per token. The bytes are
 * not secret (they go out in headers); a child of fork() empties its pool so
 * it never repeats its parent's tokens. */
static _Thread_local struct {
	unsigned char b[1024];
	size_t left;
} tok_pool;

static void
tok_pool_fork_child(void)
{
	tok_pool.left = 0;
}

static void
tok_pool_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, tok_pool_fork_child);
}

static void
tok_pool_take(unsigned char *out, size_t n)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (n > tok_pool.left) {
		(void)pthread_once(&once, tok_pool_atfork);
		if (secure_random(tok_pool.b, sizeof(tok_pool.b)) != 0) {
			/* RAND_bytes does not fail once seeded; keep output
			 * defined. */
			memset(tok_pool.b, 0, sizeof(tok_pool.b));
		}
		tok_pool.left = sizeof(tok_pool.b);
	}
	memcpy(out, tok_pool.b + sizeof(tok_pool.b) - tok_pool.left, n);
	tok_pool.left -= n;
}

void
sip_token_new(char *out, size_t n)
{
	static const char alphabet[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[64];

	if (n == 0)
		return;
	if (n - 1 > sizeof(rnd))
		n = sizeof(rnd) + 1;
	tok_pool_take(rnd, n - 1);
	for (size_t i = 0; i + 1 < n; i++)
		out[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[n - 1] = '\0';
}

void
sip_branch_new(char out[32])
{
	memcpy(out, "z9hG4bK", 7);
	sip_token_new(out + 7, 23);
}

/* Keys are built with memcpy, not printf (several per message), and cut
 * at KEY_MAX - 1 like snprintf would. */
struct keyb {
	char *p;
	size_t n;
};

static void
kput(struct keyb *k, const char *p, size_t n)
{
	if (n > KEY_MAX - 1 - k->n)
		n = KEY_MAX - 1 - k->n;
	if (n)
		memcpy(k->p + k->n, p, n);
	k->n += n;
	k->p[k->n] = '\0';
}

static void
kput_slice(struct keyb *k, struct slice s)
{
	kput(k, s.p, s.n);
}

static void
kput_str(struct keyb *k, const char *s)
{
	kput(k, s, strlen(s));
}

/* Key of a client transaction: branch and CSeq method (RFC 3261 17.1.3);
 * returns its length. */
static size_t
ckey(char *key, struct slice branch, struct slice method)
{
	struct keyb k = {key, 0};

	key[0] = '\0';
	kput(&k, "c|", 2);
	kput_slice(&k, branch);
	kput(&k, "|", 1);
	kput_slice(&k, method);
	return k.n;
}

/*
 * Key of a server transaction (RFC 3261 17.2.3): branch, sent-by and method
 * (ACK counts as INVITE); without the magic cookie, the RFC 2543 identity.
 * The transport and source address are part of it too: a retransmission
 * comes from where the request came from, and two peers that happen to use
 * the same branch and sent-by (RFC 4475 messages do) must not answer for
 * each other's transactions, nor hijack them. Returns its length.
 */
static size_t
skey(char *key, const struct sip_msg *m, const struct sip_rx *rx,
    const char *method_override)
{
	struct slice method =
	    method_override ? slice_cstr(method_override) : m->method;
	char src[SA_FMT_MAX];
	struct keyb k = {key, 0};

	key[0] = '\0';
	if (sip_method_eq(method, "ACK"))
		method = SLICE_LIT("INVITE");
	/*
	 * UDP retransmissions leave from the same socket; over a stream an
	 * ACK or CANCEL may come on a new connection from another port.
	 */
	if (sip_proto_stream(rx->proto))
		sa_ntop(&rx->peer, src, sizeof(src));
	else
		sa_fmt(&rx->peer, src, sizeof(src));
	if (m->via.branch.n > 7 && memcmp(m->via.branch.p, "z9hG4bK", 7) == 0) {
		kput(&k, "s|", 2);
		kput_str(&k, sip_proto_name(rx->proto));
		kput(&k, "|", 1);
		kput_str(&k, src);
		kput(&k, "|", 1);
		kput_slice(&k, m->via.branch);
		kput(&k, "|", 1);
		kput_slice(&k, m->via.sentby);
	} else {
		char num[16];
		int nn = snprintf(num, sizeof(num), "%u", m->cseq.num);
		kput(&k, "s2543|", 6);
		kput_str(&k, sip_proto_name(rx->proto));
		kput(&k, "|", 1);
		kput_str(&k, src);
		kput(&k, "|", 1);
		kput_slice(&k, m->callid);
		kput(&k, "|", 1);
		kput(&k, num, (size_t)nn);
		kput(&k, "|", 1);
		kput_slice(&k, m->from.tag);
		kput(&k, "|", 1);
		kput_slice(&k, m->ruri_s);
		kput(&k, "|", 1);
		kput_slice(&k, m->via.raw);
	}
	kput(&k, "|", 1);
	kput_slice(&k, method);
	return k.n;
}

/* ---------------------------------------------------------------- client */

static void
ctrans_destroy(struct sip_ctrans *ct)
{
	list_del(&ct->ple);
	list_del(&ct->hle);
	event_free(ct->tmr_retx);
	event_free(ct->tmr_main);
	sip_conn_unref(ct->conn);
	free(ct->tls_name);
	free(ct->req);
	free(ct->ack);
	ct->s->ntrans--;
	free(ct);
}

static struct sip_ctrans *
ctrans_find(struct sip_stack *s, const char *key)
{
	uint32_t h = key_hash(key);
	struct list *head = hash_bucket(s->cbuckets, h), *pos;

	for (pos = head->next; pos != head; pos = pos->next) {
		struct sip_ctrans *ct =
		    container_of(pos, struct sip_ctrans, hle);
		if (ct->hash == h && strcmp(ct->key, key) == 0)
			return ct;
	}
	return NULL;
}

static int
ctrans_send(struct sip_ctrans *ct, const void *p, size_t n)
{
	struct sip_conn *used = NULL;
	int err = sip_tp_send(ct->s->tp, ct->proto, &ct->dst, ct->conn,
	    ct->tls_name, p, n, &used);

	if (err == 0 && used != ct->conn) {
		sip_conn_unref(ct->conn);
		ct->conn = sip_conn_ref(used);
	}
	return err;
}

/* Delivers a final outcome once; the TU must not use ct afterwards. */
static void
ctrans_report(struct sip_ctrans *ct, int err, const struct sip_msg *resp)
{
	sip_resp_h *h = ct->resph;

	if (h)
		h(err, resp, ct->arg);
}

static void
ctrans_retx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_ctrans *ct = arg;
	const struct sip_timers *t = &ct->s->conf.timers;

	(void)fd;
	(void)what;
	/* Timer A doubles; Timer E doubles up to T2 (T2 once proceeding). */
	if (ct->state == C_CALLING) {
		ctrans_send(ct, ct->req, ct->reqlen);
		ct->retx_ms *= 2;
	} else if (ct->state == C_TRYING || ct->state == C_PROCEEDING) {
		ctrans_send(ct, ct->req, ct->reqlen);
		ct->retx_ms =
		    ct->state == C_PROCEEDING
		        ? t->t2
		        : (ct->retx_ms * 2 < t->t2 ? ct->retx_ms * 2 : t->t2);
	} else {
		return;
	}
	timer_arm(ct->tmr_retx, ct->retx_ms);
}

static void
ctrans_main_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_ctrans *ct = arg;

	(void)fd;
	(void)what;
	switch (ct->state) {
	case C_CALLING:
	case C_TRYING:
	case C_PROCEEDING:
		/* Timer B / F (or Timer C while proceeding): no final answer. */
		evtimer_del(ct->tmr_retx);
		ct->state = C_COMPLETED;
		list_del(&ct->ple);
		ctrans_report(ct, ETIMEDOUT, NULL);
		ctrans_destroy(ct);
		break;
	case C_COMPLETED:
	case C_ACCEPTED:
		/* Timer D / K / M: done absorbing retransmissions. */
		ctrans_destroy(ct);
		break;
	}
}

/* Builds ACK (17.1.1.3) or CANCEL (9.1) from the stored INVITE. */
static int
build_from_invite(struct sip_stack *s, const char *req, size_t reqlen,
    const char *method, const struct sip_msg *resp, struct buf *b)
{
	struct sip_msg *m = &s->cscratch;
	struct sip_perr err;
	const struct sip_hdr *h;

	if (sip_msg_parse(m, req, reqlen, true, &s->conf.tp.lim, &err) != 0)
		return EINVAL;
	sip_enc_request_line(b, slice_cstr(method), m->ruri_s);
	sip_enc_hdr_id(b, SIP_HDR_VIA, m->via.raw);
	for (h = sip_msg_hdr(m, SIP_HDR_ROUTE); h; h = sip_msg_hdr_next(m, h))
		sip_enc_hdr_id(b, SIP_HDR_ROUTE, h->val);
	sip_enc_hdr_id(b, SIP_HDR_FROM, sip_msg_hdr(m, SIP_HDR_FROM)->val);
	/* ACK takes the To of the response, which carries its tag. */
	if (resp)
		sip_enc_hdr_id(
		    b, SIP_HDR_TO, sip_msg_hdr(resp, SIP_HDR_TO)->val);
	else
		sip_enc_hdr_id(b, SIP_HDR_TO, sip_msg_hdr(m, SIP_HDR_TO)->val);
	sip_enc_hdr_id(b, SIP_HDR_CALL_ID, m->callid);
	sip_enc_cseq(b, m->cseq.num, slice_cstr(method));
	sip_enc_hdr_u64(b, SIP_HDR_MAX_FORWARDS, 70);
	sip_enc_body(b, SLICE_NULL, SLICE_NULL);
	return b->err;
}

static void cancel_resp_h(int err, const struct sip_msg *resp, void *arg);

static void
ctrans_send_cancel(struct sip_ctrans *ct)
{
	struct buf b;
	struct sip_ctrans *cc;

	ct->cancel_sent = true;
	buf_init(&b);
	if (build_from_invite(ct->s, ct->req, ct->reqlen, "CANCEL", NULL, &b) ==
	    0)
		sip_ctrans_request(&cc, ct->s, ct->proto, &ct->dst,
		    ct->tls_name, ct->conn, b.p, b.len, cancel_resp_h, NULL);
	buf_free(&b);
}

static void
cancel_resp_h(int err, const struct sip_msg *resp, void *arg)
{
	(void)arg;
	if (err)
		log_info("sip: CANCEL got no answer (%s)", strerror(err));
	else if (resp->scode >= 300)
		log_info("sip: CANCEL answered %u", resp->scode);
}

/* A final response ends every use of the request (retransmission, CANCEL,
 * the ACK of a non-2xx is built by then): the transaction lives on for its
 * timers without it. */
static void
ctrans_drop_request(struct sip_ctrans *ct)
{
	free(ct->req);
	ct->req = NULL;
	ct->reqlen = 0;
}

static void
ctrans_on_response(struct sip_ctrans *ct, const struct sip_msg *m)
{
	const struct sip_timers *t = &ct->s->conf.timers;
	bool udp = ct->proto == SIP_PROTO_UDP;
	uint16_t code = m->scode;

	if (ct->invite) {
		switch (ct->state) {
		case C_CALLING:
		case C_PROCEEDING:
			if (code < 200) {
				ct->state = C_PROCEEDING;
				evtimer_del(ct->tmr_retx);
				/* Timer C (RFC 3261 16.6 step 11): 3 minutes. */
				timer_arm(ct->tmr_main, 180000);
				if (ct->cancel_wanted && !ct->cancel_sent)
					ctrans_send_cancel(ct);
				ctrans_report(ct, 0, m);
			} else if (code < 300) {
				ct->state = C_ACCEPTED;
				list_del(&ct->ple);
				evtimer_del(ct->tmr_retx);
				ctrans_drop_request(ct);
				timer_arm(
				    ct->tmr_main, 64 * t->t1); /* Timer M */
				ctrans_report(ct, 0, m);
			} else {
				struct buf b;
				ct->state = C_COMPLETED;
				list_del(&ct->ple);
				evtimer_del(ct->tmr_retx);
				buf_init(&b);
				if (build_from_invite(ct->s, ct->req,
				        ct->reqlen, "ACK", m, &b) == 0) {
					ctrans_send(ct, b.p, b.len);
					ct->ack =
					    b.p; /* keep for retransmissions */
					ct->acklen = b.len;
				} else {
					buf_free(&b);
				}
				ctrans_drop_request(ct);
				/* Timer D: at least 32 s over UDP, 0 on streams. */
				timer_arm(ct->tmr_main,
				    udp ? (64 * t->t1 > 32000 ? 64 * t->t1
				                              : 32000)
				        : 0);
				ctrans_report(ct, 0, m);
				ct->resph = NULL;
			}
			break;
		case C_COMPLETED:
			if (code >= 300 && ct->ack)
				ctrans_send(ct, ct->ack, ct->acklen);
			break;
		case C_ACCEPTED:
			if (code >= 200 && code < 300)
				ctrans_report(ct, 0, m);
			break;
		default:
			break;
		}
		return;
	}

	switch (ct->state) {
	case C_TRYING:
	case C_PROCEEDING:
		if (code < 200) {
			ct->state = C_PROCEEDING;
			ctrans_report(ct, 0, m);
		} else {
			ct->state = C_COMPLETED;
			list_del(&ct->ple);
			evtimer_del(ct->tmr_retx);
			ctrans_drop_request(ct);
			/* Timer K: T4 over UDP, 0 over streams. */
			timer_arm(ct->tmr_main, udp ? t->t4 : 0);
			ctrans_report(ct, 0, m);
			ct->resph = NULL;
		}
		break;
	default:
		break;
	}
}

/*
 * The method and top Via branch of a request the TU built, found without a
 * full parse (two per call in a B2BUA) when it has the shape our encoder
 * writes: "METHOD uri SIP/2.0", then a "Via:" (or "v:") header whose first
 * value has ";branch=". Anything else returns false and gets the full
 * parse, which also rejects what is malformed.
 */
static bool
peek_request(
    const char *p, size_t n, struct slice *method, struct slice *branch)
{
	const char *end = p + n, *sp, *eol, *v;

	sp = memchr(p, ' ', n);
	eol = memchr(p, '\n', n);
	if (sp == NULL || eol == NULL || sp > eol || sp == p || eol - p < 10 ||
	    memcmp(eol - 9, " SIP/2.0\r", 9) != 0)
		return false;
	for (const char *c = p; c < sp; c++)
		if (*c < 'A' || *c > 'Z')
			return false; /* extension methods: full parse */
	*method = (struct slice){p, (size_t)(sp - p)};
	for (const char *l = eol + 1; l < end; l = eol + 1) {
		eol = memchr(l, '\n', (size_t)(end - l));
		if (eol == NULL || eol - l <= 1)
			return false; /* end of headers, no Via */
		if (eol - l > 4 && memcmp(l, "Via:", 4) == 0)
			v = l + 4;
		else if (eol - l > 2 && memcmp(l, "v:", 2) == 0)
			v = l + 2;
		else if (*l == 'V' || *l == 'v')
			return false; /* "VIA", "Via :", a V-something: be sure */
		else
			continue;
		/* the first value only, on one line */
		if (eol[1] == ' ' || eol[1] == '\t')
			return false;
		const char *stop = memchr(v, ',', (size_t)(eol - v));
		if (stop == NULL)
			stop = eol - 1; /* the CR */
		for (const char *q = v; q + 8 <= stop; q++) {
			if (memcmp(q, ";branch=", 8) != 0)
				continue;
			const char *b = q + 8, *e = b;
			while (e < stop && *e != ';' && *e != ' ' && *e != '\t')
				e++;
			if (e == b)
				return false;
			*branch = (struct slice){b, (size_t)(e - b)};
			return true;
		}
		return false;
	}
	return false;
}

int
sip_ctrans_request(struct sip_ctrans **ctp, struct sip_stack *s,
    enum sip_proto proto, const struct sa *dst, const char *tls_name,
    struct sip_conn *conn, const void *req, size_t len, sip_resp_h *resph,
    void *arg)
{
	struct sip_msg *m = &s->cscratch;
	struct sip_perr perr;
	struct sip_ctrans *ct;
	struct slice method, branch;
	char key[KEY_MAX];
	size_t keylen;
	int err;

	if (ctp == NULL || s == NULL || req == NULL ||
	    (dst == NULL && conn == NULL))
		return EINVAL;
	if (!peek_request(req, len, &method, &branch)) {
		if (sip_msg_parse(m, req, len, true, &s->conf.tp.lim, &perr) !=
		        0 ||
		    !m->req)
			return EINVAL;
		method = m->method;
		branch = m->via.branch;
	}
	if (sip_method_eq(method, "ACK") || branch.n == 0)
		return EINVAL;
	keylen = ckey(key, branch, method);
	ct = calloc(1, sizeof(*ct) + keylen + 1);
	if (ct == NULL)
		return ENOMEM;
	ct->s = s;
	memcpy(ct->key, key, keylen + 1);
	ct->invite = sip_method_eq(method, "INVITE");
	ct->state = ct->invite ? C_CALLING : C_TRYING;
	ct->proto = proto;
	if (dst)
		ct->dst = *dst;
	else
		ct->dst = *sip_conn_peer(conn);
	ct->conn = sip_conn_ref(conn);
	ct->tls_name = tls_name ? strdup(tls_name) : NULL;
	ct->req = malloc(len);
	ct->reqlen = len;
	ct->resph = resph;
	ct->arg = arg;
	ct->tmr_retx = evtimer_new(s->base, ctrans_retx_cb, ct);
	ct->tmr_main = evtimer_new(s->base, ctrans_main_cb, ct);
	list_init(&ct->hle);
	list_init(&ct->ple);
	s->ntrans++;
	if (ct->req == NULL || ct->tmr_retx == NULL || ct->tmr_main == NULL ||
	    (tls_name && ct->tls_name == NULL)) {
		ctrans_destroy(ct);
		return ENOMEM;
	}
	memcpy(ct->req, req, len);
	if (ctrans_find(s, ct->key)) {
		ctrans_destroy(ct);
		return EEXIST;
	}
	if ((err = ctrans_send(ct, ct->req, ct->reqlen)) != 0) {
		ctrans_destroy(ct);
		return err;
	}
	ct->hash = key_hash(ct->key);
	list_add_tail(hash_bucket(s->cbuckets, ct->hash), &ct->hle);
	list_add_tail(&s->cpending, &ct->ple);
	if (proto == SIP_PROTO_UDP) {
		ct->retx_ms = s->conf.timers.t1; /* Timer A / E */
		timer_arm(ct->tmr_retx, ct->retx_ms);
	}
	timer_arm(ct->tmr_main, 64 * s->conf.timers.t1); /* Timer B / F */
	*ctp = ct;
	return 0;
}

void
sip_ctrans_abandon(struct sip_ctrans *ct)
{
	if (ct)
		ct->resph = NULL;
}

int
sip_ctrans_cancel(struct sip_ctrans *ct)
{
	if (ct == NULL || !ct->invite)
		return EINVAL;
	if (ct->state != C_CALLING && ct->state != C_PROCEEDING)
		return EPROTO;
	ct->cancel_wanted = true;
	/* RFC 3261 9.1: no CANCEL before a provisional response. */
	if (ct->state == C_PROCEEDING && !ct->cancel_sent)
		ctrans_send_cancel(ct);
	return 0;
}

struct sip_conn *
sip_ctrans_conn(const struct sip_ctrans *ct)
{
	return ct->conn;
}

/* ---------------------------------------------------------------- server */

static void
strans_destroy(struct sip_strans *st)
{
	list_del(&st->hle);
	list_del(&st->ale);
	event_free(st->tmr_retx);
	event_free(st->tmr_main);
	sip_conn_unref(st->rx.conn);
	free(st->tpl);
	free(st->resp);
	st->s->ntrans--;
	free(st);
}

static struct sip_strans *
strans_find(struct sip_stack *s, const char *key)
{
	uint32_t h = key_hash(key);
	struct list *head = hash_bucket(s->sbuckets, h), *pos;

	for (pos = head->next; pos != head; pos = pos->next) {
		struct sip_strans *st =
		    container_of(pos, struct sip_strans, hle);
		if (st->hash == h && strcmp(st->tail, key) == 0)
			return st;
	}
	return NULL;
}

/*
 * Where a response goes (RFC 3261 18.2.2, RFC 3581): back over the request's
 * connection while it is open; otherwise to the source address with the
 * port the Via names (or the source port with rport or symmetric mode).
 */
static void
response_dst(const struct sip_stack *s, const struct sip_rx *rx,
    const struct sip_msg *req, struct sa *out)
{
	struct sa dst = rx->peer;
	/*
	 * A stream's source port is the peer's ephemeral one: once that
	 * connection is gone, a new one goes to the port in the Via.
	 */
	bool symmetric = !sip_proto_stream(rx->proto) &&
	                 (s->conf.symmetric_responses || req->via.has_rport);

	if (!symmetric)
		sa_set_port(&dst,
		    req->via.port ? req->via.port
		                  : (rx->proto == SIP_PROTO_TLS ? 5061 : 5060));
	*out = dst;
}

static int
send_response(struct sip_stack *s, const struct sip_rx *rx,
    const struct sip_msg *req, const void *p, size_t n)
{
	struct sa dst;

	response_dst(s, rx, req, &dst);
	return sip_tp_send(s->tp, rx->proto, &dst, rx->conn, NULL, p, n, NULL);
}

/* Once nothing can be resent any more (2xx over a stream, ACK received),
 * the transaction lives on for its timer with its key alone. */
static void
strans_drop_messages(struct sip_strans *st)
{
	free(st->tpl);
	st->tpl = NULL;
	free(st->resp);
	st->resp = NULL;
	st->resplen = 0;
}

static int
strans_resend(struct sip_strans *st)
{
	if (st->resp == NULL)
		return 0;
	return sip_tp_send(st->s->tp, st->rx.proto, &st->rdst, st->rx.conn,
	    NULL, st->resp, st->resplen, NULL);
}

static void
strans_retx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_strans *st = arg;
	const struct sip_timers *t = &st->s->conf.timers;

	(void)fd;
	(void)what;
	/* Timer G (non-2xx) and the 2xx retransmission both double up to T2. */
	if (st->state != S_COMPLETED && st->state != S_ACCEPTED)
		return;
	strans_resend(st);
	st->retx_ms = st->retx_ms * 2 < t->t2 ? st->retx_ms * 2 : t->t2;
	timer_arm(st->tmr_retx, st->retx_ms);
}

static void
strans_main_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_strans *st = arg;

	(void)fd;
	(void)what;
	if (st->state == S_COMPLETED && st->invite)
		log_info("sip: no ACK for %u response (Timer H), Call-ID %s",
		    st->last_code, st->callid);
	else if (st->state == S_ACCEPTED && !list_linked(&st->ale))
		; /* ACK came; Timer L ran out as it should */
	else if (st->state == S_ACCEPTED)
		log_info(
		    "sip: no ACK for 2xx (Timer L), Call-ID %s", st->callid);
	/* Timer H / I / J / L: the transaction ends. */
	strans_destroy(st);
}

int
sip_strans_alloc(struct sip_strans **stp, struct sip_stack *s,
    const struct sip_msg *m, const struct sip_rx *rx, sip_cancel_h *cancelh,
    void *arg)
{
	struct sip_strans *st;
	char key[KEY_MAX];
	size_t keylen;

	if (stp == NULL || s == NULL || m == NULL || rx == NULL || !m->req ||
	    sip_method_eq(m->method, "ACK"))
		return EINVAL;
	keylen = skey(key, m, rx, NULL);
	st = calloc(
	    1, sizeof(*st) + keylen + 1 + m->callid.n + 1 + m->from.tag.n + 1);
	if (st == NULL)
		return ENOMEM;
	st->s = s;
	memcpy(st->tail, key, keylen + 1);
	st->callid = st->tail + keylen + 1;
	if (m->callid.n)
		memcpy((char *)st->callid, m->callid.p, m->callid.n);
	st->ftag = st->callid + m->callid.n + 1;
	if (m->from.tag.n)
		memcpy((char *)st->ftag, m->from.tag.p, m->from.tag.n);
	st->invite = sip_method_eq(m->method, "INVITE");
	st->state = st->invite ? S_PROCEEDING : S_TRYING;
	st->rx = *rx;
	st->rx.peer_cert = NULL;
	st->rx.conn = sip_conn_ref(rx->conn);
	response_dst(s, rx, m, &st->rdst);
	st->cancelh = cancelh;
	st->arg = arg;
	st->cseq = m->cseq.num;
	st->tmr_retx = evtimer_new(s->base, strans_retx_cb, st);
	st->tmr_main = evtimer_new(s->base, strans_main_cb, st);
	list_init(&st->hle);
	list_init(&st->ale);
	s->ntrans++;
	if (st->tmr_retx == NULL || st->tmr_main == NULL) {
		strans_destroy(st);
		return ENOMEM;
	}
	{
		struct buf tb;
		buf_init(&tb);
		if (sip_reply_tpl_build(&tb, m, &st->tplpos) != 0) {
			buf_free(&tb);
			strans_destroy(st);
			return ENOMEM;
		}
		st->tpl = tb.p; /* ours now */
	}
	st->hash = key_hash(st->tail);
	list_add_tail(hash_bucket(s->sbuckets, st->hash), &st->hle);
	if (st->invite) {
		/* RFC 3261 17.2.1: stop the INVITE retransmissions at once. */
		char mem[2048];
		struct buf b;
		buf_init_fixed(&b, mem, sizeof(mem));
		if (sip_reply_tpl_enc(&b, st->tpl, &st->tplpos, 100, NULL,
		        SLICE_NULL, SLICE_NULL, SLICE_NULL, SLICE_NULL) == 0)
			sip_strans_reply_raw(st, 100, b.p, b.len);
	}
	*stp = st;
	return 0;
}

int
sip_strans_reply_raw(
    struct sip_strans *st, uint16_t code, const void *resp, size_t len)
{
	const struct sip_timers *t = &st->s->conf.timers;
	bool udp = st->rx.proto == SIP_PROTO_UDP;
	char *copy;
	int err;

	if (st->state != S_TRYING && st->state != S_PROCEEDING)
		return EPROTO;
	copy = malloc(len);
	if (copy == NULL)
		return ENOMEM;
	memcpy(copy, resp, len);
	free(st->resp);
	st->resp = copy;
	st->resplen = len;
	st->last_code = code;
	err = strans_resend(st);

	if (code < 200) {
		st->state = S_PROCEEDING;
		return err;
	}
	if (st->invite && code < 300) {
		/* RFC 6026: Accepted; the 2xx is resent until the ACK. */
		st->state = S_ACCEPTED;
		list_add_tail(&st->s->accepted, &st->ale);
		if (udp) {
			st->retx_ms = t->t1;
			timer_arm(st->tmr_retx, st->retx_ms);
		} else {
			/* RFC 6026 7.1: a retransmitted INVITE is absorbed;
			 * over a stream nothing is resent. */
			strans_drop_messages(st);
		}
		timer_arm(st->tmr_main, 64 * t->t1); /* Timer L */
	} else if (st->invite) {
		st->state = S_COMPLETED;
		if (udp) {
			st->retx_ms = t->t1; /* Timer G */
			timer_arm(st->tmr_retx, st->retx_ms);
		}
		timer_arm(st->tmr_main, 64 * t->t1); /* Timer H */
	} else {
		st->state = S_COMPLETED;
		timer_arm(st->tmr_main, udp ? 64 * t->t1 : 0); /* Timer J */
	}
	return err;
}

int
sip_strans_reply(struct sip_strans *st, uint16_t code, const char *reason,
    struct slice to_tag, struct slice extra, struct slice ctype,
    struct slice body)
{
	struct buf b;
	int err;

	if (st->state != S_TRYING && st->state != S_PROCEEDING)
		return EPROTO;
	if (st->tpl == NULL)
		return EINVAL;
	buf_init(&b);
	if (st->s->conf.user_agent) {
		/* Server goes with extra, ahead of it. */
		struct buf x;
		buf_init(&x);
		BUF_LIT(&x, "Server: ");
		buf_append_str(&x, st->s->conf.user_agent);
		BUF_LIT(&x, "\r\n");
		buf_append_slice(&x, extra);
		err = sip_reply_tpl_enc(&b, st->tpl, &st->tplpos, code, reason,
		    to_tag, buf_slice(&x), ctype, body);
		buf_free(&x);
	} else {
		err = sip_reply_tpl_enc(&b, st->tpl, &st->tplpos, code, reason,
		    to_tag, extra, ctype, body);
	}
	if (err == 0)
		err = sip_strans_reply_raw(st, code, b.p, b.len);
	buf_free(&b);
	return err;
}

const struct sip_rx *
sip_strans_rx(const struct sip_strans *st)
{
	return &st->rx;
}

int
sip_stack_reply(struct sip_stack *s, const struct sip_msg *m,
    const struct sip_rx *rx, uint16_t code, const char *reason,
    struct slice to_tag, struct slice extra)
{
	struct buf b;
	int err;

	buf_init(&b);
	err = sip_enc_reply(
	    &b, m, code, reason, to_tag, extra, SLICE_NULL, SLICE_NULL);
	if (err == 0)
		err = send_response(s, rx, m, b.p, b.len);
	buf_free(&b);
	return err;
}

/* ---------------------------------------------------------------- stack */

static void
on_ack(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx)
{
	char key[KEY_MAX];
	struct sip_strans *st;
	struct list *pos;

	skey(key, m, rx, NULL);
	st = strans_find(s, key);
	if (st && st->state == S_COMPLETED && st->invite) {
		/* ACK for our non-2xx: Confirmed, Timer I (T4 / 0). */
		st->state = S_CONFIRMED;
		evtimer_del(st->tmr_retx);
		strans_drop_messages(st);
		timer_arm(st->tmr_main,
		    st->rx.proto == SIP_PROTO_UDP ? s->conf.timers.t4 : 0);
		return;
	}
	if (st && st->state == S_CONFIRMED)
		return; /* retransmitted ACK */

	/* An ACK for a 2xx has its own branch; match it by dialog. */
	for (pos = s->accepted.next; pos != &s->accepted; pos = pos->next) {
		struct sip_strans *a =
		    container_of(pos, struct sip_strans, ale);
		if (a->cseq == m->cseq.num &&
		    slice_eq_cstr(m->callid, a->callid) &&
		    slice_eq_cstr(m->from.tag, a->ftag)) {
			evtimer_del(a->tmr_retx);
			list_del(&a->ale);
			strans_drop_messages(a);
			break;
		}
	}
	s->reqh(s, m, rx, s->arg);
}

static void
on_cancel(struct sip_stack *s, const struct sip_msg *m, const struct sip_rx *rx)
{
	char key[KEY_MAX];
	struct sip_strans *inv, *cst;

	skey(key, m, rx, "INVITE");
	inv = strans_find(s, key);
	if (sip_strans_alloc(&cst, s, m, rx, NULL, NULL) != 0)
		return;
	if (inv == NULL) {
		sip_strans_reply(cst, 481, NULL, SLICE_LIT("cancel"),
		    SLICE_NULL, SLICE_NULL, SLICE_NULL);
		return;
	}
	sip_strans_reply(cst, 200, NULL, SLICE_LIT("cancel"), SLICE_NULL,
	    SLICE_NULL, SLICE_NULL);
	/* RFC 3261 9.2: the TU answers the INVITE with 487 if it still can. */
	if (inv->state == S_PROCEEDING && inv->cancelh)
		inv->cancelh(inv, inv->arg);
}

static void
stack_msg_h(const struct sip_msg *m, const struct sip_rx *rx, void *arg)
{
	struct sip_stack *s = arg;
	char key[KEY_MAX];

	if (!m->req) {
		struct sip_ctrans *ct;
		ckey(key, m->via.branch, m->cseq.method);
		ct = ctrans_find(s, key);
		if (ct)
			ctrans_on_response(ct, m);
		else
			log_debug("sip: stray %u response dropped (Call-ID "
			          "%.*s)",
			    m->scode, (int)m->callid.n, m->callid.p);
		return;
	}
	if (sip_method_eq(m->method, "ACK")) {
		on_ack(s, m, rx);
		return;
	}
	if (sip_method_eq(m->method, "CANCEL")) {
		skey(key, m, rx, NULL);
		struct sip_strans *st = strans_find(s, key);
		if (st)
			strans_resend(st);
		else
			on_cancel(s, m, rx);
		return;
	}
	skey(key, m, rx, NULL);
	struct sip_strans *st = strans_find(s, key);
	if (st) {
		/* A retransmission: answer with the last response, if any. */
		strans_resend(st);
		return;
	}
	s->reqh(s, m, rx, s->arg);
}

/*
 * A connection failed (RFC 3261 17.1.4): the client transactions waiting on
 * it learn at once instead of at Timer B/F. They are all marked first and
 * reported after, since a callback may start new transactions; each one is
 * freed from its own zero timer.
 */
static void
stack_conn_close_h(struct sip_conn *c, int err, void *arg)
{
	struct sip_stack *s = arg;
	struct list failed, *pos, *next;

	/* Only the transactions still waiting are looked at (not the whole
	 * table): a flood of closing connections stays cheap. */
	list_init(&failed);
	for (pos = s->cpending.next; pos != &s->cpending; pos = next) {
		struct sip_ctrans *ct =
		    container_of(pos, struct sip_ctrans, ple);
		next = pos->next;
		if (ct->conn != c)
			continue;
		evtimer_del(ct->tmr_retx);
		ct->state = C_COMPLETED;
		ct->failed = err;
		list_del(&ct->ple);
		list_add_tail(&failed, &ct->ple);
		timer_arm(ct->tmr_main, 0);
	}
	/* A handler may start or abandon transactions: take one at a time. */
	while (!list_empty(&failed)) {
		struct sip_ctrans *ct =
		    container_of(failed.next, struct sip_ctrans, ple);
		int e = ct->failed;
		list_del(&ct->ple);
		ct->failed = 0;
		ctrans_report(ct, e, NULL);
		ct->resph = NULL;
	}
	if (s->losth)
		s->losth(c, err, s->lostarg);
}

void
sip_stack_set_conn_lost_h(struct sip_stack *s, sip_conn_lost_h *h, void *arg)
{
	s->losth = h;
	s->lostarg = arg;
}

int
sip_stack_alloc(struct sip_stack **sp, struct event_base *base,
    const struct sip_stack_conf *conf, sip_req_h *reqh, void *arg)
{
	struct sip_stack *s;
	int err;

	if (sp == NULL || base == NULL || reqh == NULL)
		return EINVAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ENOMEM;
	s->base = base;
	if (conf)
		s->conf = *conf;
	else
		sip_stack_conf_default(&s->conf);
	s->reqh = reqh;
	s->arg = arg;
	for (int i = 0; i < TRANS_BUCKETS; i++) {
		list_init(&s->cbuckets[i]);
		list_init(&s->sbuckets[i]);
	}
	list_init(&s->accepted);
	list_init(&s->cpending);
	err = sip_tp_alloc(&s->tp, base, &s->conf.tp, stack_msg_h, s);
	if (err) {
		free(s);
		return err;
	}
	sip_tp_set_close_h(s->tp, stack_conn_close_h, s);
	*sp = s;
	return 0;
}

void
sip_stack_free(struct sip_stack *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < TRANS_BUCKETS; i++) {
		struct list *pos, *tmp;
		list_for_each_safe(pos, tmp, &s->cbuckets[i])
		    ctrans_destroy(container_of(pos, struct sip_ctrans, hle));
		list_for_each_safe(pos, tmp, &s->sbuckets[i])
		    strans_destroy(container_of(pos, struct sip_strans, hle));
	}
	sip_tp_free(s->tp);
	free(s);
}

struct sip_tp *
sip_stack_tp(struct sip_stack *s)
{
	return s->tp;
}

struct event_base *
sip_stack_base(struct sip_stack *s)
{
	return s->base;
}

const struct sip_stack_conf *
sip_stack_conf(const struct sip_stack *s)
{
	return &s->conf;
}

unsigned
sip_stack_ntrans(const struct sip_stack *s)
{
	return s->ntrans;
}
