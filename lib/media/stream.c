/* The media loop: shared UDP sockets, paced playback, recording, DTMF. */
#include "media/stream.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/list.h"
#include "core/log.h"
#include "core/secure.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "media/srtp.h"
#include "media/wav.h"

#define MEDIA_BATCH     32     /* packets per recvmmsg / sendmmsg */
#define MEDIA_RX_ROUNDS 8      /* recvmmsg calls per readable event */
#define MEDIA_RX_MAX    1500   /* largest datagram taken whole */
#define MEDIA_TX_MAX    256    /* header + 160 bytes + SRTP trailer */
#define MEDIA_PTIME_US  20000  /* 20 ms packets (RFC 3551 G.711 default) */
#define MEDIA_SPP       160    /* samples per packet at 8 kHz */
#define MEDIA_LATE_US   5000   /* lateness counted in tx_late */
#define MEDIA_REBASE_US 100000 /* later than this: resume from now */
#define MEDIA_FILL_MAX  80000  /* lost audio filled with silence, samples */
#define MEDIA_DTMF_Q    16
#define MEDIA_TAB_MIN   64
#define MEDIA_DSCP_EF   0xb8 /* DSCP EF (RFC 3246) in the TOS byte */

struct media_sock {
	struct media_loop *ml;
	unsigned idx;
	int fd;
	struct event *ev;
	struct sa local;
	/* Packets queued for the next sendmmsg. */
	unsigned ntx;
	struct mmsghdr txm[MEDIA_BATCH];
	struct iovec txv[MEDIA_BATCH];
	struct sockaddr_storage txa[MEDIA_BATCH];
	uint8_t txb[MEDIA_BATCH][MEDIA_TX_MAX];
};

/*
 * Recordings reach the disk through one writer thread per loop: the loop
 * fills 4 KB chunks and queues them; the thread writes them, fixes the
 * header every second (lib/media/wav.c) and closes with fsync. Thousands of
 * recordings would otherwise stall every call's playback in write(2) and
 * fsync(2). The FIFO keeps each file's writes in order.
 */
#define REC_CHUNK 4096

/* One recording's file. After open, only the writer thread touches w; err
 * is how the thread tells the loop that writing failed. */
struct rec_file {
	struct wav_writer *w;
	atomic_int err;
};

/* IO_SYNC does nothing: media_loop_drain() waits for it to pass. */
enum io_kind { IO_WRITE, IO_CLOSE, IO_SYNC };

struct io_job {
	struct list le;
	enum io_kind kind;
	struct rec_file *rf;     /* IO_CLOSE frees it */
	uint64_t truncate_to;    /* IO_CLOSE: samples kept; UINT64_MAX = all */
	struct media_stream *ms; /* IO_CLOSE: loop side only; NULL = unwanted */
	/* IO_CLOSE of a recording taken off its stream by
	 * media_stream_end_record(): the loop calls h(why, ms, harg) once the
	 * file is closed, whether or not the stream still exists. Loop side
	 * only, like ms. */
	media_record_h *h;
	void *harg;
	enum media_end why;
	bool wait, finished; /* stop_record waits for its close (mu) */
	uint64_t samples;    /* IO_CLOSE result */
	int err;             /* IO_CLOSE result */
	size_t len;          /* IO_WRITE: bytes in data */
	uint8_t data[];
};

struct media_writer {
	pthread_t thr;
	bool running, quit;
	pthread_mutex_t mu;
	pthread_cond_t cv, cv_done;
	struct list todo, done; /* under mu */
	int efd;                /* the thread tells the loop: a close is done */
	struct event *ev;
};

struct media_loop {
	struct event_base *base; /* borrowed */
	struct media_writer wr;
	struct media_sock *socks;
	unsigned nsocks, rr;
	struct event *tick;
	bool tick_on;
	uint64_t tick_us;
	struct event *defer; /* runs deferred handler calls */
	bool dispatching;
	struct list streams;   /* all streams */
	struct list playing;   /* streams with a playback */
	struct list recording; /* streams with a recording */
	struct list dtmfing;   /* streams sending RFC 4733 events */
	struct list pending;   /* streams with handler calls due */
	struct list detached;  /* io_jobs: handler calls of ended recordings */
	/* Streams with a remote, keyed by (socket, peer address). */
	struct media_stream **tab;
	size_t tab_size, nhashed;
	struct media_loop_stats st;
	/* Receive batch, shared by the sockets (one callback at a time). */
	struct mmsghdr rxm[MEDIA_BATCH];
	struct iovec rxv[MEDIA_BATCH];
	struct sockaddr_storage rxa[MEDIA_BATCH];
	uint8_t rxb[MEDIA_BATCH][MEDIA_RX_MAX];
};

struct media_stream {
	struct media_loop *ml;
	struct media_sock *sock; /* borrowed from the loop */
	struct list le;          /* in ml->streams */
	struct media_stream *hnext;
	bool hashed;
	struct sa remote;
	bool have_remote;
	enum media_codec codec;
	uint8_t dtmf_pt;
	struct srtp *tx, *rx; /* owned */
	media_dtmf_h *dtmf_h;
	void *dtmf_arg;

	/* Sending: RFC 3550 5.1, random initial values. */
	uint32_t ssrc, ts_base;
	uint16_t seq;
	bool tx_started;
	uint64_t ts_epoch_us; /* due time of the first packet sent */

	/* Playback: packet n of a play is due at play_start_us + n * 20 ms. */
	struct list ple; /* in ml->playing */
	bool playing, marker;
	bool start_at_tick; /* play_start_us is set by the next tick */
	const struct media_clip **clips; /* owned array of borrowed clips */
	size_t nclips, clip_i, clip_off;
	uint64_t play_start_us, play_n;
	media_play_h *play_h;
	void *play_arg;

	/* Recording. */
	struct list rle; /* in ml->recording */
	struct rec_file *rec;
	struct io_job *rjob;   /* the chunk being filled */
	struct io_job *rclose; /* its close, allocated up front */
	size_t rbps;           /* bytes per sample in the file */
	uint64_t rsamples;     /* samples recorded so far */
	struct media_rec_opts ro;
	struct io_job *closing; /* a close whose end is awaited */
	media_record_h *rec_h;
	void *rec_arg;
	uint64_t rec_start_us, rec_last_us;
	uint64_t silence_sq;  /* energy threshold of one packet */
	uint64_t silent;      /* trailing silent samples */
	uint64_t max_samples; /* 0 = unlimited */
	bool rec_sync;
	uint32_t rec_next_ts, rec_ssrc;

	/* RFC 4733 events we send: queued keys, the one being sent. */
	struct list tle; /* in ml->dtmfing */
	bool tev_listed, tev_active;
	char tq[16];
	unsigned ntq;
	uint16_t tq_ms[16];
	uint8_t tev_event;
	uint32_t tev_ts; /* RTP timestamp of the event (its identity) */
	uint64_t tev_start_us;
	unsigned tev_n, tev_ends;
	uint16_t tev_ms;
	uint64_t tev_next_us; /* the next event may start then */

	/* Handler calls due (made by dispatch()). */
	struct list dle; /* in ml->pending */
	bool pend_play, pend_rec;
	enum media_end play_why, rec_why;
	uint32_t rec_ms;
	char dq[MEDIA_DTMF_Q];
	unsigned ndq;

	/* Receiving. */
	struct rtp_tev_rx tev;
	bool jit_init;
	uint32_t jit_transit;
	uint32_t jit_q4; /* RFC 3550 A.8 jitter, timestamp units * 16 */
	struct media_stream_stats st;
};

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- clips ---- */

int
media_clip_from_pcm(struct media_clip **cp, const char *name,
    const int16_t *pcm, size_t samples)
{
	struct media_clip *c;
	size_t n = samples ? samples : 1;

	if (cp == NULL || (pcm == NULL && samples > 0))
		return EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ENOMEM;
	c->name = strdup(name != NULL ? name : "clip");
	c->pcm = malloc(n * sizeof(*c->pcm));
	c->ulaw = malloc(n);
	c->alaw = malloc(n);
	if (c->name == NULL || c->pcm == NULL || c->ulaw == NULL ||
	    c->alaw == NULL) {
		media_clip_free(c);
		return ENOMEM;
	}
	c->samples = samples;
	if (samples > 0)
		memcpy(c->pcm, pcm, samples * sizeof(*pcm));
	g711_ulaw_enc_buf(c->ulaw, pcm, samples);
	g711_alaw_enc_buf(c->alaw, pcm, samples);
	*cp = c;
	return 0;
}

int
media_clip_load(
    struct media_clip **cp, const char *path, char *err, size_t errlen)
{
	int16_t *pcm = NULL;
	size_t n = 0;
	int e;

	if (cp == NULL || path == NULL)
		return EINVAL;
	e = wav_load(path, &pcm, &n, NULL, err, errlen);
	if (e == 0) {
		e = media_clip_from_pcm(cp, path, pcm, n);
		if (e != 0 && err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", path);
	}
	free(pcm);
	return e;
}

void
media_clip_free(struct media_clip *c)
{
	if (c == NULL)
		return;
	free(c->name);
	free(c->pcm);
	free(c->ulaw);
	free(c->alaw);
	free(c);
}

/* ---- the peer table ---- */

/* Peer addresses as the socket reports them: on an IPv6 socket an IPv4
 * peer is ::ffff:a.b.c.d, so remotes are stored in that form too. */
static uint32_t
key_hash(unsigned sock, const struct sockaddr *a)
{
	const unsigned char *p;
	size_t n;
	uint32_t h = 2166136261u ^ (sock * 0x9e3779b9u);
	uint16_t port;

	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)a;
		p = (const unsigned char *)&s6->sin6_addr;
		n = 16;
		port = s6->sin6_port;
	} else {
		const struct sockaddr_in *s4 = (const void *)a;
		p = (const unsigned char *)&s4->sin_addr;
		n = 4;
		port = s4->sin_port;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h;
}

static bool
key_eq(const struct sa *r, const struct sockaddr *a)
{
	if (r->u.sa.sa_family != a->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)a;
		return r->u.in.sin_port == s4->sin_port &&
		       r->u.in.sin_addr.s_addr == s4->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)a;
		return r->u.in6.sin6_port == s6->sin6_port &&
		       memcmp(&r->u.in6.sin6_addr, &s6->sin6_addr, 16) == 0;
	}
	return false;
}

static struct media_stream *
tab_find(const struct media_loop *ml, unsigned sock, const struct sockaddr *a)
{
	struct media_stream *ms;

	if (ml->tab_size == 0)
		return NULL;
	ms = ml->tab[key_hash(sock, a) & (ml->tab_size - 1)];
	for (; ms != NULL; ms = ms->hnext)
		if (ms->sock->idx == sock && key_eq(&ms->remote, a))
			return ms;
	return NULL;
}

static void
tab_put(struct media_loop *ml, struct media_stream *ms)
{
	size_t b =
	    key_hash(ms->sock->idx, &ms->remote.u.sa) & (ml->tab_size - 1);

	ms->hnext = ml->tab[b];
	ml->tab[b] = ms;
}

/* Grows the table (allocation happens here, never per packet). */
static int
tab_grow(struct media_loop *ml)
{
	size_t osz = ml->tab_size, nsz = osz ? osz * 2 : MEDIA_TAB_MIN;
	struct media_stream **old = ml->tab;

	ml->tab = calloc(nsz, sizeof(*ml->tab));
	if (ml->tab == NULL) {
		ml->tab = old;
		return ENOMEM;
	}
	ml->tab_size = nsz;
	for (size_t i = 0; i < osz; i++) {
		struct media_stream *ms = old[i], *next;
		for (; ms != NULL; ms = next) {
			next = ms->hnext;
			tab_put(ml, ms);
		}
	}
	free(old);
	return 0;
}

static void
tab_del(struct media_loop *ml, struct media_stream *ms)
{
	struct media_stream **pp;

	if (!ms->hashed)
		return;
	pp = &ml->tab[key_hash(ms->sock->idx, &ms->remote.u.sa) &
	              (ml->tab_size - 1)];
	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == ms) {
			*pp = ms->hnext;
			break;
		}
	}
	ms->hnext = NULL;
	ms->hashed = false;
	ml->nhashed--;
}

/* ---- deferred handler calls ---- */

static void
pend(struct media_stream *ms)
{
	if (!list_linked(&ms->dle))
		list_add_tail(&ms->ml->pending, &ms->dle);
	event_active(ms->ml->defer, EV_TIMEOUT, 1);
}

static bool
has_pending(const struct media_stream *ms)
{
	return ms->ndq > 0 || ms->pend_rec || ms->pend_play;
}

/* Moves every element of src to the empty list dst. */
static void
list_take(struct list *dst, struct list *src)
{
	list_init(dst);
	if (list_empty(src))
		return;
	dst->next = src->next;
	dst->prev = src->prev;
	dst->next->prev = dst;
	dst->prev->next = dst;
	list_init(src);
}

/*
 * The handler calls of recordings ended by media_stream_end_record(): the
 * stream may be gone, each job carries its handler and argument.
 */
static void
dispatch_detached(struct media_loop *ml)
{
	struct list calls, *le, *tmp;

	list_take(&calls, &ml->detached);
	list_for_each_safe(le, tmp, &calls)
	{
		struct io_job *j = container_of(le, struct io_job, le);

		list_del(&j->le);
		j->h(j->why, (uint32_t)(j->samples / 8), j->harg);
		free(j);
	}
}

/*
 * Makes the handler calls that are due, one per turn: the stream is put
 * back in the queue before its handler runs, so the handler may free it
 * (which unlinks it) or any other stream.
 */
static void
dispatch(struct media_loop *ml)
{
	if (ml->dispatching)
		return;
	ml->dispatching = true;
	while (!list_empty(&ml->pending) || !list_empty(&ml->detached)) {
		struct media_stream *ms;

		if (!list_empty(&ml->detached)) {
			dispatch_detached(ml);
			continue;
		}
		ms = container_of(ml->pending.next, struct media_stream, dle);
		list_del(&ms->dle);
		if (ms->ndq > 0) {
			char c = ms->dq[0];
			memmove(ms->dq, ms->dq + 1, --ms->ndq);
			if (has_pending(ms))
				list_add_tail(&ml->pending, &ms->dle);
			ms->st.rx_dtmf++;
			if (ms->dtmf_h != NULL)
				ms->dtmf_h(c, ms->dtmf_arg);
		} else if (ms->pend_rec) {
			media_record_h *h = ms->rec_h;
			ms->pend_rec = false;
			ms->rec_h = NULL;
			if (has_pending(ms))
				list_add_tail(&ml->pending, &ms->dle);
			if (h != NULL)
				h(ms->rec_why, ms->rec_ms, ms->rec_arg);
		} else if (ms->pend_play) {
			media_play_h *h = ms->play_h;
			ms->pend_play = false;
			ms->play_h = NULL;
			if (h != NULL)
				h(ms->play_why, ms->play_arg);
		}
	}
	ml->dispatching = false;
}

static void
defer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dispatch(arg);
}

static void tick_update(struct media_loop *ml);

/* ---- playback ---- */

static void
play_clear(struct media_stream *ms)
{
	if (ms->playing) {
		list_del(&ms->ple);
		ms->playing = false;
		ms->ml->st.playing--;
	}
	free(ms->clips);
	ms->clips = NULL;
	ms->nclips = ms->clip_i = ms->clip_off = 0;
}

/* The next 20 ms of the clip list; false when it has ended. */
static bool
play_fill(struct media_stream *ms, uint8_t *out)
{
	size_t got = 0;

	while (got < MEDIA_SPP && ms->clip_i < ms->nclips) {
		const struct media_clip *c = ms->clips[ms->clip_i];
		const uint8_t *src =
		    ms->codec == MEDIA_PCMA ? c->alaw : c->ulaw;
		size_t k = c->samples - ms->clip_off;

		if (k > MEDIA_SPP - got)
			k = MEDIA_SPP - got;
		memcpy(out + got, src + ms->clip_off, k);
		got += k;
		ms->clip_off += k;
		if (ms->clip_off >= c->samples) {
			ms->clip_i++;
			ms->clip_off = 0;
		}
	}
	if (got == 0)
		return false;
	memset(out + got,
	    ms->codec == MEDIA_PCMA ? G711_ALAW_SILENCE : G711_ULAW_SILENCE,
	    MEDIA_SPP - got);
	return true;
}

static void
sock_flush(struct media_sock *s)
{
	struct media_loop *ml = s->ml;
	unsigned done = 0;

	while (done < s->ntx) {
		int r = sendmmsg(s->fd, &s->txm[done], s->ntx - done, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* The socket buffer is full: drop, not block. */
				ml->st.tx_errors += s->ntx - done;
				break;
			}
			/* This one packet failed (unreachable...): skip it. */
			log_debug("media: sendmmsg: %s", strerror(errno));
			ml->st.tx_errors++;
			done++;
			continue;
		}
		ml->st.tx_packets += (unsigned)r;
		done += (unsigned)r;
	}
	s->ntx = 0;
}

/* The RTP timestamp of a packet due at due_us: it follows real time across
 * plays and events (RFC 3550 5.1). */
static uint32_t
tx_ts(struct media_stream *ms, uint64_t due_us)
{
	if (!ms->tx_started) {
		ms->tx_started = true;
		ms->ts_epoch_us = due_us;
	}
	return ms->ts_base + (uint32_t)((due_us - ms->ts_epoch_us) * 8 / 1000);
}

/* Builds, protects and queues one RTP packet. */
static void
send_rtp(struct media_stream *ms, uint8_t pt, uint32_t ts, bool marker,
    const uint8_t *payload, size_t plen)
{
	struct media_sock *s = ms->sock;
	struct rtp_hdr h;
	uint8_t *b;
	size_t len;
	unsigned i;

	h.marker = marker;
	h.pt = pt;
	h.seq = ms->seq++;
	h.ts = ts;
	h.ssrc = ms->ssrc;

	i = s->ntx;
	b = s->txb[i];
	len = rtp_build(b, MEDIA_TX_MAX, &h);
	memcpy(b + len, payload, plen);
	len += plen;
	if (ms->tx != NULL &&
	    srtp_protect(ms->tx, b, &len, MEDIA_TX_MAX) != 0) {
		ms->ml->st.tx_errors++;
		return;
	}
	memcpy(&s->txa[i], &ms->remote.u.ss, ms->remote.len);
	s->txv[i].iov_base = b;
	s->txv[i].iov_len = len;
	s->txm[i].msg_hdr.msg_name = &s->txa[i];
	s->txm[i].msg_hdr.msg_namelen = ms->remote.len;
	s->txm[i].msg_hdr.msg_iov = &s->txv[i];
	s->txm[i].msg_hdr.msg_iovlen = 1;
	s->txm[i].msg_hdr.msg_control = NULL;
	s->txm[i].msg_hdr.msg_controllen = 0;
	s->txm[i].msg_hdr.msg_flags = 0;
	ms->st.tx_packets++;
	if (++s->ntx == MEDIA_BATCH)
		sock_flush(s);
}

/* The audio packet due at due_us. */
static void
send_packet(struct media_stream *ms, uint64_t due_us, const uint8_t *payload)
{
	if (!ms->have_remote)
		return; /* time passes, nothing is sent */
	if (ms->tev_active)
		return; /* an event replaces the audio (RFC 4733 2.5.1.1) */
	uint32_t ts = tx_ts(ms, due_us);
	send_rtp(ms, (uint8_t)ms->codec, ts, ms->marker, payload, MEDIA_SPP);
	ms->marker = false;
}

/*
 * RFC 4733 2.5: one event is packets every 20 ms with the event's start
 * timestamp and a growing duration, the last three with the end bit; the
 * next key follows after a 40 ms gap.
 */
static void
tev_due(struct media_stream *ms, uint64_t now, uint64_t horizon)
{
	uint8_t pl[RTP_TEV_SIZE];

	for (;;) {
		if (!ms->tev_active) {
			if (ms->ntq == 0 ||
			    now + MEDIA_PTIME_US / 2 < ms->tev_next_us) {
				if (ms->ntq == 0 && ms->tev_listed) {
					list_del(&ms->tle);
					ms->tev_listed = false;
				}
				return;
			}
			rtp_tev_from_char(ms->tq[0], &ms->tev_event);
			ms->tev_ms = ms->tq_ms[0];
			memmove(ms->tq, ms->tq + 1, --ms->ntq);
			memmove(ms->tq_ms, ms->tq_ms + 1,
			    ms->ntq * sizeof(ms->tq_ms[0]));
			ms->tev_active = true;
			ms->tev_start_us = now;
			ms->tev_ts = tx_ts(ms, now);
			ms->tev_n = 0;
			ms->tev_ends = 0;
		}
		uint64_t due =
		    ms->tev_start_us + (uint64_t)ms->tev_n * MEDIA_PTIME_US;
		if (due > horizon)
			return;
		struct rtp_tev ev = {.event = ms->tev_event, .volume = 10};
		unsigned span = (ms->tev_n + 1) * 20;
		if (span >= ms->tev_ms)
			span = ms->tev_ms;
		ev.duration = (uint16_t)(span * 8);
		ev.end = span >= ms->tev_ms;
		rtp_tev_encode(pl, &ev);
		if (ms->have_remote && ms->dtmf_pt)
			send_rtp(ms, ms->dtmf_pt, ms->tev_ts, ms->tev_n == 0,
			    pl, sizeof(pl));
		ms->tev_n++;
		if (ev.end && ++ms->tev_ends == 3) {
			ms->tev_active = false;
			ms->tev_next_us = due + 2 * MEDIA_PTIME_US;
		}
	}
}

int
media_stream_send_dtmf(struct media_stream *ms, char digit, uint32_t dur_ms)
{
	uint8_t ev;

	if (ms == NULL || rtp_tev_from_char(digit, &ev) != 0)
		return EINVAL;
	if (ms->dtmf_pt == 0)
		return ENOTSUP;
	if (ms->ntq == sizeof(ms->tq))
		return ENOBUFS;
	if (dur_ms < 40)
		dur_ms = 40;
	if (dur_ms > 5000)
		dur_ms = 5000;
	ms->tq[ms->ntq] = digit;
	ms->tq_ms[ms->ntq] = (uint16_t)dur_ms;
	ms->ntq++;
	if (!ms->tev_listed) {
		list_add_tail(&ms->ml->dtmfing, &ms->tle);
		ms->tev_listed = true;
	}
	tick_update(ms->ml);
	return 0;
}

/* Sends what is due for one stream; ends its playback when the list is
 * done. */
static void
play_due(struct media_stream *ms, uint64_t now, uint64_t horizon)
{
	struct media_loop *ml = ms->ml;
	uint8_t payload[MEDIA_SPP];

	if (ms->start_at_tick) {
		/* Audio starts on the tick after play(): pacing counts from
		 * here, so the first packet is not late by construction of
		 * the caller's timing. */
		ms->start_at_tick = false;
		ms->play_start_us = now;
	}
	while (ms->playing) {
		uint64_t due = ms->play_start_us + ms->play_n * MEDIA_PTIME_US;
		uint64_t late;

		if (due > horizon)
			break;
		late = now > due ? now - due : 0;
		if (late > MEDIA_REBASE_US) {
			/* A stall: carry on from now rather than burst. */
			ms->play_start_us = now - ms->play_n * MEDIA_PTIME_US;
			due = now;
		}
		if (!play_fill(ms, payload)) {
			play_clear(ms);
			ms->pend_play = true;
			ms->play_why = MEDIA_END_DONE;
			pend(ms);
			break;
		}
		/* Lateness of packets sent (the end of a list sends none). */
		if (late > MEDIA_LATE_US)
			ml->st.tx_late++;
		if (late > ml->st.max_late_us)
			ml->st.max_late_us = late;
		send_packet(ms, due, payload);
		ms->play_n++;
	}
}

/* ---- recording ---- */

/* Runs on the writer thread. */
static void
io_run(struct io_job *j)
{
	struct rec_file *rf = j->rf;
	int e;

	if (j->kind == IO_SYNC)
		return;
	if (j->kind == IO_WRITE) {
		if (atomic_load(&rf->err) == 0 &&
		    (e = wav_writer_write_coded(rf->w, j->data, j->len)) != 0)
			atomic_store(&rf->err, e);
		return;
	}
	e = atomic_load(&rf->err);
	if (j->truncate_to != UINT64_MAX) {
		int te = wav_writer_truncate(rf->w, j->truncate_to);
		if (e == 0)
			e = te;
	}
	j->err = wav_writer_close(rf->w, &j->samples);
	if (j->err == 0)
		j->err = e;
	free(rf);
	j->rf = NULL;
}

static void *
writer_main(void *arg)
{
	struct media_writer *wr = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&wr->mu);
	for (;;) {
		struct io_job *j;

		while (list_empty(&wr->todo) && !wr->quit)
			pthread_cond_wait(&wr->cv, &wr->mu);
		if (list_empty(&wr->todo))
			break;
		j = container_of(wr->todo.next, struct io_job, le);
		list_del(&j->le);
		pthread_mutex_unlock(&wr->mu);
		io_run(j);
		if (j->kind == IO_WRITE) {
			free(j);
			pthread_mutex_lock(&wr->mu);
			continue;
		}
		pthread_mutex_lock(&wr->mu);
		if (j->wait) {
			j->finished = true;
			pthread_cond_broadcast(&wr->cv_done);
		} else {
			list_add_tail(&wr->done, &j->le);
			if (write(wr->efd, &one, sizeof(one)) < 0) {
				/* The counter is non-zero: the loop will look. */
			}
		}
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

static void
io_submit(struct media_loop *ml, struct io_job *j)
{
	pthread_mutex_lock(&ml->wr.mu);
	list_add_tail(&ml->wr.todo, &j->le);
	pthread_cond_signal(&ml->wr.cv);
	pthread_mutex_unlock(&ml->wr.mu);
}

/* The loop side: record handler calls for the closes done since last
 * time. */
static void
writer_done(struct media_loop *ml)
{
	struct media_writer *wr = &ml->wr;
	struct list done, *le, *tmp;
	uint64_t cnt;

	if (read(wr->efd, &cnt, sizeof(cnt)) < 0) {
		/* Nothing to read: fine, the list says what is done. */
	}
	pthread_mutex_lock(&wr->mu);
	list_take(&done, &wr->done);
	pthread_mutex_unlock(&wr->mu);
	list_for_each_safe(le, tmp, &done)
	{
		struct io_job *j = container_of(le, struct io_job, le);
		struct media_stream *ms = j->ms;
		enum media_end why = j->why;

		list_del(&j->le);
		if (j->err != 0) {
			log_err("media: recording: %s", strerror(j->err));
			why = MEDIA_END_ERROR;
		}
		if (ms != NULL) {
			ms->closing = NULL;
			ms->pend_rec = true;
			ms->rec_why = why;
			ms->rec_ms = (uint32_t)(j->samples / 8);
			pend(ms);
		} else if (j->h != NULL) {
			/* Detached: the job itself waits for dispatch(). */
			j->why = why;
			list_add_tail(&ml->detached, &j->le);
			continue;
		}
		free(j);
	}
}

static void
writer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	writer_done(arg);
	dispatch(arg);
}

/* Forgets a close whose handler call nobody wants any more. */
static void
closer_forget(struct media_stream *ms)
{
	if (ms->closing != NULL) {
		ms->closing->ms = NULL;
		ms->closing = NULL;
	}
}

/* Takes the recording off the stream: the last chunk is queued, and the
 * close job (not yet queued) is returned. */
static struct io_job *
rec_detach(struct media_stream *ms, uint64_t keep)
{
	struct io_job *c = ms->rclose;

	if (ms->rjob != NULL) {
		if (ms->rjob->len > 0)
			io_submit(ms->ml, ms->rjob);
		else
			free(ms->rjob);
		ms->rjob = NULL;
	}
	c->rf = ms->rec;
	c->truncate_to = keep;
	ms->rec = NULL;
	ms->rclose = NULL;
	list_del(&ms->rle);
	ms->ml->st.recording--;
	tick_update(ms->ml);
	return c;
}

/* Ends a recording by itself; the handler is called once the file is
 * closed. */
static void
rec_end(struct media_stream *ms, enum media_end why)
{
	uint64_t keep = UINT64_MAX;
	struct io_job *c;

	if (ms->rec == NULL)
		return;
	if (why == MEDIA_END_SILENCE)
		keep =
		    ms->rsamples > ms->silent ? ms->rsamples - ms->silent : 0;
	c = rec_detach(ms, keep);
	c->ms = ms;
	c->why = why;
	ms->closing = c;
	io_submit(ms->ml, c);
}

/* Appends n samples to the chunk in the file's format (the payload bytes
 * as they are when coded is given). A chunk leaves when full and at each
 * second of audio, so the file on disk is never far behind. */
static bool
rec_put(
    struct media_stream *ms, const int16_t *pcm, const uint8_t *coded, size_t n)
{
	while (n > 0) {
		struct io_job *j = ms->rjob;
		size_t room, k, to_sync;
		uint8_t *d;

		if (j == NULL) {
			j = calloc(1, sizeof(*j) + REC_CHUNK);
			if (j == NULL)
				return false;
			j->kind = IO_WRITE;
			j->rf = ms->rec;
			ms->rjob = j;
		}
		room = (REC_CHUNK - j->len) / ms->rbps;
		to_sync = WAV_SYNC_SAMPLES - ms->rsamples % WAV_SYNC_SAMPLES;
		k = n < room ? n : room;
		if (k > to_sync)
			k = to_sync;
		d = j->data + j->len;
		if (coded != NULL) {
			memcpy(d, coded, k);
			coded += k;
		} else if (ms->ro.format == MEDIA_REC_PCM16) {
			for (size_t i = 0; i < k; i++) {
				d[2 * i] = (uint8_t)((uint16_t)pcm[i] & 0xff);
				d[2 * i + 1] = (uint8_t)((uint16_t)pcm[i] >> 8);
			}
		} else if (ms->ro.format == MEDIA_REC_ULAW) {
			g711_ulaw_enc_buf(d, pcm, k);
		} else {
			g711_alaw_enc_buf(d, pcm, k);
		}
		if (pcm != NULL)
			pcm += k;
		j->len += k * ms->rbps;
		ms->rsamples += k;
		n -= k;
		if (j->len + ms->rbps > REC_CHUNK ||
		    ms->rsamples % WAV_SYNC_SAMPLES == 0) {
			io_submit(ms->ml, j);
			ms->rjob = NULL;
		}
	}
	return true;
}

/* Appends n samples (pcm, or the payload bytes when they are already in
 * the file's format), tracking silence and the maximum length. Returns
 * false when the recording has ended. */
static bool
rec_append(struct media_stream *ms, const int16_t *pcm, const uint8_t *coded,
    size_t n, bool silent)
{
	bool at_max = false;

	if (atomic_load(&ms->rec->err) != 0) {
		rec_end(ms, MEDIA_END_ERROR);
		return false;
	}
	if (ms->max_samples > 0 && ms->rsamples + n >= ms->max_samples) {
		n = (size_t)(ms->max_samples - ms->rsamples);
		at_max = true;
	}
	if (!rec_put(ms, pcm, coded, n)) {
		log_err("media: recording: out of memory");
		rec_end(ms, MEDIA_END_ERROR);
		return false;
	}
	ms->silent = silent ? ms->silent + n : 0;
	if (at_max) {
		rec_end(ms, MEDIA_END_MAX);
		return false;
	}
	if (ms->ro.silence_ms > 0 &&
	    ms->silent >= (uint64_t)ms->ro.silence_ms * 8) {
		rec_end(ms, MEDIA_END_SILENCE);
		return false;
	}
	return true;
}

static void
rec_audio(struct media_stream *ms, const struct rtp_pkt *p, uint64_t now)
{
	static const int16_t zero[MEDIA_SPP];
	int16_t pcm[MEDIA_RX_MAX];
	const uint8_t *coded = NULL;
	uint64_t energy = 0;
	size_t n = p->plen;

	if (n == 0)
		return;
	ms->rec_last_us = now;
	/* Lost packets become silence so the message keeps its timing;
	 * reordered or repeated ones are dropped. */
	if (ms->rec_sync && p->h.ssrc == ms->rec_ssrc) {
		int32_t d = (int32_t)(p->h.ts - ms->rec_next_ts);
		if (d < 0)
			return;
		if (d > 0 && d <= MEDIA_FILL_MAX) {
			ms->st.rx_lost_fill += (uint64_t)d;
			while (d > 0) {
				size_t k =
				    d > MEDIA_SPP ? MEDIA_SPP : (size_t)d;
				if (!rec_append(ms, zero, NULL, k, true))
					return;
				d -= (int32_t)k;
			}
		}
	}
	ms->rec_sync = true;
	ms->rec_ssrc = p->h.ssrc;
	ms->rec_next_ts = p->h.ts + (uint32_t)n;

	if (ms->codec == MEDIA_PCMA)
		g711_alaw_dec_buf(pcm, p->payload, n);
	else
		g711_ulaw_dec_buf(pcm, p->payload, n);
	for (size_t i = 0; i < n; i++)
		energy += (uint64_t)((int32_t)pcm[i] * pcm[i]);
	if ((ms->ro.format == MEDIA_REC_ULAW && ms->codec == MEDIA_PCMU) ||
	    (ms->ro.format == MEDIA_REC_ALAW && ms->codec == MEDIA_PCMA))
		coded = p->payload; /* no transcoding: the exact bytes */
	rec_append(ms, pcm, coded, n, energy < ms->silence_sq * n);
}

/* ---- receiving ---- */

static void
got_digit(struct media_stream *ms, char c)
{
	if (c == '#' && ms->rec != NULL && ms->ro.stop_on_hash) {
		rec_end(ms, MEDIA_END_DONE);
		return;
	}
	if (ms->ndq < MEDIA_DTMF_Q) {
		ms->dq[ms->ndq++] = c;
		pend(ms);
	}
}

static void
jitter_update(struct media_stream *ms, uint32_t rtp_ts, uint64_t now)
{
	/* RFC 3550 A.8, arrival time in timestamp units. */
	uint32_t arrival = (uint32_t)(now * 8 / 1000);
	uint32_t transit = arrival - rtp_ts;
	int32_t d;

	if (ms->jit_init) {
		d = (int32_t)(transit - ms->jit_transit);
		if (d < 0)
			d = -d;
		ms->jit_q4 += (uint32_t)d - ((ms->jit_q4 + 8) >> 4);
	}
	ms->jit_init = true;
	ms->jit_transit = transit;
}

static void
handle_pkt(struct media_loop *ml, struct media_sock *s, uint8_t *buf,
    size_t len, const struct sockaddr *from, uint64_t now)
{
	struct media_stream *ms = tab_find(ml, s->idx, from);
	struct rtp_pkt p;
	int e;

	if (ms == NULL) {
		ml->st.rx_unknown++;
		return;
	}
	if (rtp_is_rtcp(buf, len)) {
		/* RFC 5761: RTCP on the RTP port. Checked and dropped. */
		if (ms->rx != NULL)
			(void)srtcp_unprotect(ms->rx, buf, &len);
		ml->st.rx_rtcp++;
		return;
	}
	if (ms->rx != NULL && (e = srtp_unprotect(ms->rx, buf, &len)) != 0) {
		if (e == EACCES) {
			ml->st.rx_auth_fail++;
			ms->st.rx_auth_fail++;
		} else if (e == EALREADY) {
			ml->st.rx_replay++;
			ms->st.rx_replay++;
		} else {
			ml->st.rx_malformed++;
			ms->st.rx_malformed++;
		}
		return;
	}
	if (rtp_parse(&p, buf, len) != 0) {
		ml->st.rx_malformed++;
		ms->st.rx_malformed++;
		return;
	}
	ml->st.rx_packets++;
	ms->st.rx_packets++;
	ms->st.rx_ssrc = p.h.ssrc;
	if (ms->dtmf_pt != 0 && p.h.pt == ms->dtmf_pt) {
		struct rtp_tev ev;
		char keys[2];
		size_t nk;

		if (rtp_tev_decode(&ev, p.payload, p.plen) != 0) {
			ml->st.rx_malformed++;
			ms->st.rx_malformed++;
			return;
		}
		nk = rtp_tev_rx_feed(&ms->tev, p.h.ts, &ev, keys);
		for (size_t i = 0; i < nk; i++)
			got_digit(ms, keys[i]);
	} else if (p.h.pt == (uint8_t)ms->codec) {
		jitter_update(ms, p.h.ts, now);
		if (ms->rec != NULL)
			rec_audio(ms, &p, now);
	}
	/* Other payload types (comfort noise...) are ignored. */
}

static void
sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct media_sock *s = arg;
	struct media_loop *ml = s->ml;

	(void)what;
	for (int round = 0; round < MEDIA_RX_ROUNDS; round++) {
		uint64_t now;
		int n;

		for (int i = 0; i < MEDIA_BATCH; i++) {
			ml->rxm[i].msg_hdr.msg_namelen = sizeof(ml->rxa[i]);
			ml->rxm[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(fd, ml->rxm, MEDIA_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		now = mono_us();
		for (int i = 0; i < n; i++) {
			if (ml->rxm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				ml->st.rx_malformed++;
				continue;
			}
			handle_pkt(ml, s, ml->rxb[i], ml->rxm[i].msg_len,
			    (const struct sockaddr *)&ml->rxa[i], now);
		}
		if (n < MEDIA_BATCH)
			break;
	}
	dispatch(ml);
}

/* ---- the tick ---- */

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct media_loop *ml = arg;
	uint64_t now = mono_us();
	/* Packets due within half a tick go now: sending up to tick/2 early
	 * costs nothing, and keeps lateness under a tick. */
	uint64_t horizon = now + ml->tick_us / 2;
	struct list *le, *tmp;

	(void)fd;
	(void)what;
	list_for_each_safe(le, tmp, &ml->dtmfing)
	{
		tev_due(
		    container_of(le, struct media_stream, tle), now, horizon);
	}
	list_for_each_safe(le, tmp, &ml->playing)
	{
		play_due(
		    container_of(le, struct media_stream, ple), now, horizon);
	}
	for (unsigned i = 0; i < ml->nsocks; i++)
		if (ml->socks[i].ntx > 0)
			sock_flush(&ml->socks[i]);

	/* A peer that sends nothing still ends a recording. */
	list_for_each_safe(le, tmp, &ml->recording)
	{
		struct media_stream *ms =
		    container_of(le, struct media_stream, rle);
		uint64_t quiet =
		    now > ms->rec_last_us ? now - ms->rec_last_us : 0;

		if (ms->ro.silence_ms > 0 &&
		    quiet >= (uint64_t)ms->ro.silence_ms * 1000) {
			/* Only the silence that reached the file is cut. */
			rec_end(ms, MEDIA_END_SILENCE);
		} else if (ms->ro.max_ms > 0 &&
		           now - ms->rec_start_us >=
		               ((uint64_t)ms->ro.max_ms + 1000) * 1000) {
			rec_end(ms, MEDIA_END_MAX);
		}
	}
	tick_update(ml);
	dispatch(ml);
}

static void
tick_update(struct media_loop *ml)
{
	bool want = !list_empty(&ml->playing) || !list_empty(&ml->recording) ||
	            !list_empty(&ml->dtmfing);

	if (want && !ml->tick_on) {
		struct timeval tv = {0, (suseconds_t)ml->tick_us};
		event_add(ml->tick, &tv);
		ml->tick_on = true;
	} else if (!want && ml->tick_on) {
		event_del(ml->tick);
		ml->tick_on = false;
	}
}

/* ---- the loop ---- */

static int
sock_open(struct media_loop *ml, struct media_sock *s, const struct sa *local,
    uint16_t port)
{
	struct sa a = *local;
	int fam = sa_family(local);
	int tos = MEDIA_DSCP_EF, big = 1 << 20;
	socklen_t sl;
	int e;

	s->ml = ml;
	s->fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return errno;
	/* Thousands of calls share a socket: give it room. */
	(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	(void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (fam == AF_INET6)
		(void)setsockopt(
		    s->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		(void)setsockopt(s->fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	sa_set_port(&a, port);
	if (bind(s->fd, &a.u.sa, a.len) < 0) {
		e = errno;
		char buf[SA_FMT_MAX];
		log_err("media: bind %s: %s", sa_fmt(&a, buf, sizeof(buf)),
		    strerror(e));
		return e;
	}
	sl = sizeof(s->local.u.ss);
	if (getsockname(s->fd, &s->local.u.sa, &sl) < 0)
		return errno;
	s->local.len = sl;
	s->ev =
	    event_new(ml->base, s->fd, EV_READ | EV_PERSIST, sock_read_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) != 0)
		return ENOMEM;
	return 0;
}

struct event_base *
media_event_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int
media_loop_alloc(struct media_loop **mlp, struct event_base *base,
    const struct media_loop_opts *o)
{
	struct media_loop *ml;
	unsigned n;
	uint16_t port0;
	int e = ENOMEM;

	if (mlp == NULL || base == NULL || o == NULL ||
	    (sa_family(&o->local) != AF_INET &&
	        sa_family(&o->local) != AF_INET6))
		return EINVAL;
	n = o->nsockets ? o->nsockets : 4;
	port0 = sa_port(&o->local);
	if (n > 1024 || (port0 != 0 && (uint32_t)port0 + 2 * (n - 1) > 65535))
		return EINVAL;
	ml = calloc(1, sizeof(*ml));
	if (ml == NULL)
		return ENOMEM;
	ml->base = base;
	ml->tick_us = (uint64_t)(o->tick_ms ? o->tick_ms : 5) * 1000;
	list_init(&ml->streams);
	list_init(&ml->playing);
	list_init(&ml->recording);
	list_init(&ml->dtmfing);
	list_init(&ml->pending);
	list_init(&ml->detached);
	list_init(&ml->wr.todo);
	list_init(&ml->wr.done);
	pthread_mutex_init(&ml->wr.mu, NULL);
	pthread_cond_init(&ml->wr.cv, NULL);
	pthread_cond_init(&ml->wr.cv_done, NULL);
	ml->wr.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ml->wr.efd < 0) {
		e = errno;
		goto out;
	}
	ml->wr.ev =
	    event_new(base, ml->wr.efd, EV_READ | EV_PERSIST, writer_cb, ml);
	if (ml->wr.ev == NULL || event_add(ml->wr.ev, NULL) != 0)
		goto out;
	if ((e = pthread_create(&ml->wr.thr, NULL, writer_main, &ml->wr)) != 0)
		goto out;
	ml->wr.running = true;
	e = ENOMEM;
	for (unsigned i = 0; i < MEDIA_BATCH; i++) {
		ml->rxv[i].iov_base = ml->rxb[i];
		ml->rxv[i].iov_len = sizeof(ml->rxb[i]);
		ml->rxm[i].msg_hdr.msg_name = &ml->rxa[i];
		ml->rxm[i].msg_hdr.msg_iov = &ml->rxv[i];
		ml->rxm[i].msg_hdr.msg_iovlen = 1;
	}
	ml->socks = calloc(n, sizeof(*ml->socks));
	if (ml->socks == NULL)
		goto out;
	for (unsigned i = 0; i < n; i++)
		ml->socks[i].fd = -1;
	ml->nsocks = n;
	ml->tick = event_new(base, -1, EV_PERSIST, tick_cb, ml);
	ml->defer = event_new(base, -1, 0, defer_cb, ml);
	if (ml->tick == NULL || ml->defer == NULL || tab_grow(ml) != 0)
		goto out;
	/* A given port is the first of even ports, RTP style. */
	for (unsigned i = 0; i < n; i++) {
		ml->socks[i].idx = i;
		e = sock_open(ml, &ml->socks[i], &o->local,
		    port0 ? (uint16_t)(port0 + 2 * i) : 0);
		if (e != 0)
			goto out;
	}
	*mlp = ml;
	return 0;
out:
	media_loop_free(ml);
	return e;
}

void
media_loop_free(struct media_loop *ml)
{
	struct list *le, *tmp;

	if (ml == NULL)
		return;
	if (!list_empty(&ml->streams)) {
		log_warn("media: loop freed with %zu streams left",
		    list_count(&ml->streams));
		list_for_each_safe(le, tmp, &ml->streams)
		{
			media_stream_free(
			    container_of(le, struct media_stream, le));
		}
	}
	for (unsigned i = 0; ml->socks != NULL && i < ml->nsocks; i++) {
		if (ml->socks[i].ev != NULL)
			event_free(ml->socks[i].ev);
		if (ml->socks[i].fd >= 0)
			close(ml->socks[i].fd);
	}
	free(ml->socks);
	/* Every stream is gone: the writer finishes its queue and stops. */
	if (ml->wr.running) {
		pthread_mutex_lock(&ml->wr.mu);
		ml->wr.quit = true;
		pthread_cond_signal(&ml->wr.cv);
		pthread_mutex_unlock(&ml->wr.mu);
		pthread_join(ml->wr.thr, NULL);
		writer_done(ml);
		/* Recordings ended with media_stream_end_record() still get
		 * their handler call, the last ones here. */
		dispatch(ml);
	}
	if (ml->wr.ev != NULL)
		event_free(ml->wr.ev);
	if (ml->wr.efd >= 0)
		close(ml->wr.efd);
	pthread_mutex_destroy(&ml->wr.mu);
	pthread_cond_destroy(&ml->wr.cv);
	pthread_cond_destroy(&ml->wr.cv_done);
	if (ml->tick != NULL)
		event_free(ml->tick);
	if (ml->defer != NULL)
		event_free(ml->defer);
	free(ml->tab);
	free(ml);
}

void
media_loop_get_stats(const struct media_loop *ml, struct media_loop_stats *st)
{
	if (ml == NULL || st == NULL)
		return;
	*st = ml->st;
	st->streams = (unsigned)list_count(&ml->streams);
}

/* ---- streams ---- */

int
media_stream_alloc(
    struct media_stream **msp, struct media_loop *ml, struct sa *local)
{
	struct media_stream *ms;
	uint8_t rnd[10];

	if (msp == NULL || ml == NULL)
		return EINVAL;
	ms = calloc(1, sizeof(*ms));
	if (ms == NULL)
		return ENOMEM;
	if (secure_random(rnd, sizeof(rnd)) != 0) {
		free(ms);
		return EIO;
	}
	ms->ml = ml;
	ms->sock = &ml->socks[ml->rr++ % ml->nsocks];
	ms->codec = MEDIA_PCMU;
	memcpy(&ms->ssrc, rnd, 4);
	memcpy(&ms->ts_base, rnd + 4, 4);
	memcpy(&ms->seq, rnd + 8, 2);
	list_init(&ms->ple);
	list_init(&ms->rle);
	list_init(&ms->dle);
	list_init(&ms->tle);
	list_add_tail(&ml->streams, &ms->le);
	if (local != NULL)
		*local = ms->sock->local;
	*msp = ms;
	return 0;
}

void
media_stream_free(struct media_stream *ms)
{
	struct media_loop *ml;

	if (ms == NULL)
		return;
	ml = ms->ml;
	play_clear(ms);
	closer_forget(ms);
	if (ms->rec != NULL) {
		/* Kept as far as written; closed without blocking the loop. */
		io_submit(ml, rec_detach(ms, UINT64_MAX));
	}
	list_del(&ms->dle);
	list_del(&ms->le);
	if (ms->tev_listed)
		list_del(&ms->tle);
	tab_del(ml, ms);
	srtp_free(ms->tx);
	srtp_free(ms->rx);
	secure_wipe(ms, sizeof(*ms));
	free(ms);
	tick_update(ml);
}

int
media_stream_set_remote(struct media_stream *ms, const struct sa *remote,
    enum media_codec codec, uint8_t dtmf_pt)
{
	struct media_loop *ml;
	struct sa r;

	if (ms == NULL || remote == NULL ||
	    (codec != MEDIA_PCMU && codec != MEDIA_PCMA) || dtmf_pt > 127)
		return EINVAL;
	ml = ms->ml;
	r = *remote;
	if (sa_family(&r) == AF_INET &&
	    sa_family(&ms->sock->local) == AF_INET6) {
		/* The socket sees IPv4 peers as ::ffff:a.b.c.d. */
		struct sockaddr_in6 m;
		memset(&m, 0, sizeof(m));
		m.sin6_family = AF_INET6;
		m.sin6_port = r.u.in.sin_port;
		m.sin6_addr.s6_addr[10] = 0xff;
		m.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m.sin6_addr.s6_addr[12], &r.u.in.sin_addr, 4);
		sa_from(&r, (const struct sockaddr *)&m, sizeof(m));
	} else if (sa_family(&r) != sa_family(&ms->sock->local)) {
		return sa_family(&r) == AF_INET6 ? EAFNOSUPPORT : EINVAL;
	}
	if (!(ms->hashed && key_eq(&ms->remote, &r.u.sa))) {
		struct media_stream *other =
		    tab_find(ml, ms->sock->idx, &r.u.sa);
		if (other != NULL && other != ms)
			return EADDRINUSE;
		if (ml->nhashed + 1 > ml->tab_size && tab_grow(ml) != 0)
			return ENOMEM;
		tab_del(ml, ms);
		ms->remote = r;
		tab_put(ml, ms);
		ms->hashed = true;
		ml->nhashed++;
	}
	ms->have_remote = true;
	if (ms->codec != codec) {
		ms->codec = codec;
		ms->rec_sync = false;
	}
	ms->dtmf_pt = dtmf_pt;
	return 0;
}

void
media_stream_set_srtp(struct media_stream *ms, struct srtp *tx, struct srtp *rx)
{
	if (ms == NULL) {
		srtp_free(tx);
		srtp_free(rx);
		return;
	}
	if (ms->tx != tx)
		srtp_free(ms->tx);
	if (ms->rx != rx)
		srtp_free(ms->rx);
	ms->tx = tx;
	ms->rx = rx;
}

void
media_stream_set_dtmf_h(struct media_stream *ms, media_dtmf_h *h, void *arg)
{
	if (ms == NULL)
		return;
	ms->dtmf_h = h;
	ms->dtmf_arg = arg;
}

int
media_stream_play(struct media_stream *ms,
    const struct media_clip *const *clips, size_t n, media_play_h *h, void *arg)
{
	const struct media_clip **copy = NULL;

	if (ms == NULL || (clips == NULL && n > 0))
		return EINVAL;
	for (size_t i = 0; i < n; i++)
		if (clips[i] == NULL)
			return EINVAL;
	if (n > 0) {
		copy = malloc(n * sizeof(*copy));
		if (copy == NULL)
			return ENOMEM;
		memcpy(copy, clips, n * sizeof(*copy));
	}
	play_clear(ms);
	ms->pend_play = false;
	ms->clips = copy;
	ms->nclips = n;
	ms->play_h = h;
	ms->play_arg = arg;
	ms->play_start_us = mono_us();
	ms->start_at_tick = true;
	ms->play_n = 0;
	ms->marker = true; /* a new talkspurt (RFC 3551 4.1) */
	ms->playing = true;
	ms->ml->st.playing++;
	list_add_tail(&ms->ml->playing, &ms->ple);
	tick_update(ms->ml);
	return 0;
}

void
media_stream_stop_play(struct media_stream *ms)
{
	if (ms == NULL)
		return;
	play_clear(ms);
	ms->pend_play = false;
	ms->play_h = NULL;
	tick_update(ms->ml);
}

bool
media_stream_playing(const struct media_stream *ms)
{
	return ms != NULL && ms->playing;
}

int
media_stream_record(struct media_stream *ms, const char *path,
    const struct media_rec_opts *o, media_record_h *h, void *arg)
{
	enum wav_format wf;
	struct rec_file *rf;
	struct io_job *c;
	uint64_t lvl;
	int e;

	if (ms == NULL || path == NULL || o == NULL)
		return EINVAL;
	switch (o->format) {
	case MEDIA_REC_PCM16:
		wf = WAV_PCM16;
		break;
	case MEDIA_REC_ULAW:
		wf = WAV_ULAW;
		break;
	case MEDIA_REC_ALAW:
		wf = WAV_ALAW;
		break;
	default:
		return EINVAL;
	}
	if (ms->rec != NULL)
		return EPROTO;
	rf = calloc(1, sizeof(*rf));
	c = calloc(1, sizeof(*c));
	if (rf == NULL || c == NULL) {
		free(rf);
		free(c);
		return ENOMEM;
	}
	/* Created here, so the caller learns at once whether it can be. */
	if ((e = wav_writer_open(&rf->w, path, wf)) != 0) {
		free(rf);
		free(c);
		return e;
	}
	atomic_init(&rf->err, 0);
	c->kind = IO_CLOSE;
	ms->rec = rf;
	ms->rclose = c;
	ms->rjob = NULL;
	ms->rbps = wf == WAV_PCM16 ? 2 : 1;
	ms->rsamples = 0;
	closer_forget(ms);
	ms->pend_rec = false;
	ms->ro = *o;
	ms->rec_h = h;
	ms->rec_arg = arg;
	ms->rec_start_us = ms->rec_last_us = mono_us();
	lvl = o->silence_level ? o->silence_level : MEDIA_SILENCE_LEVEL;
	ms->silence_sq = lvl * lvl;
	ms->silent = 0;
	ms->max_samples = (uint64_t)o->max_ms * 8;
	ms->rec_sync = false;
	ms->ml->st.recording++;
	list_add_tail(&ms->ml->recording, &ms->rle);
	tick_update(ms->ml);
	return 0;
}

int
media_stream_stop_record(struct media_stream *ms, uint32_t *msp)
{
	struct io_job *c;
	uint64_t n = 0;
	int e;

	if (ms == NULL)
		return EINVAL;
	closer_forget(ms);
	ms->pend_rec = false;
	if (ms->rec == NULL)
		return EPROTO;
	ms->rec_h = NULL;
	/* The API promises a closed file: wait for the writer to get there
	 * (it writes this file's queued chunks first). */
	c = rec_detach(ms, UINT64_MAX);
	c->wait = true;
	io_submit(ms->ml, c);
	pthread_mutex_lock(&ms->ml->wr.mu);
	while (!c->finished)
		pthread_cond_wait(&ms->ml->wr.cv_done, &ms->ml->wr.mu);
	pthread_mutex_unlock(&ms->ml->wr.mu);
	n = c->samples;
	e = c->err;
	free(c);
	if (msp != NULL)
		*msp = (uint32_t)(n / 8);
	return e;
}

int
media_stream_end_record(struct media_stream *ms, media_record_h *h, void *arg)
{
	struct media_loop *ml;
	struct io_job *c;

	if (ms == NULL)
		return EINVAL;
	ml = ms->ml;
	if (ms->rec != NULL) {
		/* The close goes to the writer behind this file's chunks (and
		 * everyone else's); nothing here waits for it. */
		c = rec_detach(ms, UINT64_MAX);
		c->why = MEDIA_END_DONE;
		c->h = h;
		c->harg = arg;
		ms->rec_h = NULL;
		io_submit(ml, c);
		return 0;
	}
	if (ms->closing != NULL) {
		/* It ended by itself and the file is being closed: that close
		 * now reports to h, with its own reason. */
		c = ms->closing;
		ms->closing = NULL;
		c->ms = NULL;
		c->h = h;
		c->harg = arg;
		ms->rec_h = NULL;
		return 0;
	}
	if (ms->pend_rec) {
		/* Closed already; the handler call was due but not made. */
		if (h != NULL) {
			c = calloc(1, sizeof(*c));
			if (c == NULL)
				return ENOMEM;
			c->kind = IO_CLOSE;
			c->why = ms->rec_why;
			c->samples = (uint64_t)ms->rec_ms * 8;
			c->h = h;
			c->harg = arg;
			list_add_tail(&ml->detached, &c->le);
			event_active(ml->defer, EV_TIMEOUT, 1);
		}
		ms->pend_rec = false;
		ms->rec_h = NULL;
		return 0;
	}
	return EPROTO;
}

void
media_loop_drain(struct media_loop *ml)
{
	struct io_job sync;

	if (ml == NULL)
		return;
	if (ml->wr.running) {
		/* The queue is a FIFO: once this passes, all before it is
		 * done. */
		memset(&sync, 0, sizeof(sync));
		sync.kind = IO_SYNC;
		sync.wait = true;
		io_submit(ml, &sync);
		pthread_mutex_lock(&ml->wr.mu);
		while (!sync.finished)
			pthread_cond_wait(&ml->wr.cv_done, &ml->wr.mu);
		pthread_mutex_unlock(&ml->wr.mu);
	}
	writer_done(ml);
	dispatch(ml);
}

void
media_stream_get_stats(
    const struct media_stream *ms, struct media_stream_stats *st)
{
	if (ms == NULL || st == NULL)
		return;
	*st = ms->st;
	st->jitter_us = (ms->jit_q4 >> 4) * 125;
}
