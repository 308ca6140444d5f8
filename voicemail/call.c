/* Voicemail calls: the SIP side (INVITE with SDES offer or delayed offer, ports, BYE) and the conversations: opening greeting, forwarded call to a greeting and recording, subscriber sign-in and message playback. */
#include <errno.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/ctl.h"
#include "core/log.h"
#include "media/stream.h"
#include "sdp/sdp.h"
#include "sip/dialog.h"
#include "sip/enc.h"
#include "sip/uri.h"
#include "store/store.h"
#include "voicemail/vm.h"

#define ACK_WAIT_S   32 /* 64*T1: the 2xx has been given up (RFC 3261 13.3.1.4) */
#define DIGIT_WAIT_S 5  /* between key presses */
#define MAX_SEQ      48 /* clips in one playback */
#define MAX_DIGITS   20

enum conv {
	CONV_ANSWERING, /* 200 sent, waiting for the ACK */
	CONV_OPENING,   /* opening greeting; digits dial an extension */
	CONV_GREETING,  /* a mailbox greeting, then the beep */
	CONV_RECORDING, /* the caller speaks */
	CONV_PIN,       /* sign-in: the PIN */
	CONV_SUMMARY,   /* "you have 2 new messages" */
	CONV_MESSAGE,   /* a message's header and body */
	CONV_MENU,      /* after a message: replay, save, delete, next */
	CONV_GOODBYE,   /* the last prompt, then BYE */
};

static const char *const conv_names[] = {
    [CONV_ANSWERING] = "answering",
    [CONV_OPENING] = "opening greeting",
    [CONV_GREETING] = "greeting",
    [CONV_RECORDING] = "recording",
    [CONV_PIN] = "sign-in",
    [CONV_SUMMARY] = "message summary",
    [CONV_MESSAGE] = "playing a message",
    [CONV_MENU] = "message menu",
    [CONV_GOODBYE] = "goodbye",
};

struct vm_call {
	struct list le;
	struct voicemail *vm;
	unsigned id;
	struct vm_group_rt *g;
	struct vm_port *port;
	/* SIP */
	struct sip_strans *st; /* the INVITE until its final response */
	struct sip_dialog *dlg;
	char tag[16];
	enum sip_proto proto;
	struct sa peer;
	char *callid;
	char caller[64];      /* calling number (From user) */
	char caller_name[64]; /* its display name */
	char redirect[64];    /* the mailbox the call was forwarded for */
	char reason[16];      /* Diversion reason */
	char tls[128];        /* "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384" */
	/* media */
	struct media_stream *ms;
	struct sa rtp_local;
	bool srtp;
	enum srtp_suite suite;
	struct sdp_offer *offer; /* ours, for a delayed-offer INVITE */
	uint64_t sdp_version;
	/* the conversation */
	enum conv conv;
	const struct vm_mailbox *mb; /* the mailbox being served */
	struct event *timer;
	char digits[MAX_DIGITS + 1];
	size_t ndigits;
	unsigned pin_tries;
	bool signed_in;
	const struct media_clip *seq[MAX_SEQ];
	size_t nseq;
	struct store_pending *pending;
	const char *rec_path;   /* owned by pending */
	struct vm_begin *begin; /* the message's sidecar being written */
	int begin_err;          /* why it could not be */
	time_t rec_started;     /* when the recorder started */
	struct store_msg *msgs;
	size_t nmsgs, cur;
	struct media_clip *msg_clip; /* the message being played */
	time_t started;
	bool bye_sent;
};

static unsigned next_id = 1;

static void call_end(struct vm_call *c, bool send_bye, const char *why);
static void conv_next(struct vm_call *c);
static void begin_drop(struct vm_call *c);

/* ---- helpers ---- */

static void
call_free(struct vm_call *c)
{
	list_del(&c->le);
	if (c->timer)
		event_free(c->timer);
	media_stream_free(c->ms);
	begin_drop(c);
	media_clip_free(c->msg_clip);
	free(c->msgs);
	if (c->offer) {
		sdp_offer_wipe(c->offer);
		free(c->offer);
	}
	if (c->port)
		c->port->call = NULL;
	sip_dialog_free(c->dlg);
	free(c->callid);
	free(c);
}

void
vm_calls_init(struct voicemail *vm)
{
	list_init(&vm->calls);
}

void
vm_calls_free(struct voicemail *vm)
{
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &vm->calls)
	    call_end(container_of(pos, struct vm_call, le), false, "stopping");
	/* No message is lost at shutdown: the recordings being closed, then
	 * the commits, finish now, with their log lines and MWI, while the
	 * rest of the daemon is still up. */
	media_loop_drain(vm->media);
	store_drain(vm->store);
}

static void
reply(struct vm_call *c, uint16_t code, const char *reason, const char *extra,
    struct slice ctype, struct slice body)
{
	char hdrs[700], contact[200], host[64];
	struct sa la;

	if (c->st == NULL)
		return;
	vm_local_addr(
	    c->vm, c->proto, sa_family(&c->peer), &la, host, sizeof(host));
	snprintf(contact, sizeof(contact), "<sip:%s@%s%s%s:%u%s>",
	    c->g->cfg->contact_line_name ? c->g->cfg->contact_line_name
	                                 : "voicemail",
	    sa_family(&la) == AF_INET6 ? "[" : "", host,
	    sa_family(&la) == AF_INET6 ? "]" : "", sa_port(&la),
	    c->proto == SIP_PROTO_TCP   ? ";transport=tcp"
	    : c->proto == SIP_PROTO_TLS ? ";transport=tls"
	                                : "");
	snprintf(hdrs, sizeof(hdrs), "Contact: %s\r\n%s", contact,
	    extra ? extra : "");
	sip_strans_reply(c->st, code, reason, slice_cstr(c->tag),
	    slice_cstr(hdrs), ctype, body);
	if (code >= 200)
		c->st = NULL; /* the stack owns it now */
}

/* A refusal with the reason in a Warning header (RFC 3261 20.43). */
static void
refuse(struct vm_call *c, uint16_t code, const char *why)
{
	char w[400];

	snprintf(w, sizeof(w), "Warning: 399 %s \"%s\"\r\n",
	    c->vm->cfg->general.host_name, why);
	log_info("call %u (Call-ID %s): %u %s: %s", c->id, c->callid, code,
	    sip_reason(code), why);
	reply(c, code, NULL, w, SLICE_NULL, SLICE_NULL);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);

static void
timer_set(struct vm_call *c, unsigned seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};

	if (c->timer == NULL)
		c->timer = evtimer_new(c->vm->base, timer_cb, c);
	if (c->timer)
		evtimer_add(c->timer, &tv);
}

static void
timer_stop(struct vm_call *c)
{
	if (c->timer)
		evtimer_del(c->timer);
}

/* ---- playing ---- */

static void play_done_h(enum media_end why, void *arg);

static void
seq_reset(struct vm_call *c)
{
	c->nseq = 0;
}

static void
seq_add(struct vm_call *c, const struct media_clip *clip)
{
	if (clip && c->nseq < MAX_SEQ)
		c->seq[c->nseq++] = clip;
}

static void
seq_prompt(struct vm_call *c, const char *name)
{
	const struct media_clip *clip = vm_prompt(c->vm, name);

	if (clip == NULL)
		log_warn("call %u: prompt %s.wav is missing", c->id, name);
	seq_add(c, clip);
}

/* Speaks a number or an extension digit by digit. */
static void
seq_digits(struct vm_call *c, const char *s)
{
	char name[16];

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			snprintf(name, sizeof(name), "digit_%c", *s);
			seq_prompt(c, name);
		}
	}
}

static void
seq_play(struct vm_call *c)
{
	if (media_stream_play(c->ms, c->seq, c->nseq, play_done_h, c) != 0)
		call_end(c, true, "cannot play");
}

/* ---- recording ---- */

static void record_done_h(enum media_end why, uint32_t ms, void *arg);

/*
 * A message's sidecar being written by the store's thread (two fsyncs)
 * while the greeting plays, so that the beep finds it ready and the loop
 * never waits. The call may be gone when it is done.
 */
struct vm_begin {
	struct voicemail *vm;
	struct vm_call *c; /* NULL once the call is gone */
};

/* Forgets the call's begun message, in flight or done. */
static void
begin_drop(struct vm_call *c)
{
	if (c->begin != NULL) {
		c->begin->c = NULL; /* begin_h() aborts it */
		c->begin = NULL;
	}
	if (c->pending != NULL) {
		store_msg_abort(c->vm->store, c->pending);
		c->pending = NULL;
		c->rec_path = NULL;
	}
	c->begin_err = 0;
}

static void record_go(struct vm_call *c, int err);

static void
begin_h(int err, struct store_pending *p, const char *path, void *arg)
{
	struct vm_begin *b = arg;
	struct vm_call *c = b->c;

	if (c == NULL) {
		if (p != NULL)
			store_msg_abort(b->vm->store, p);
		free(b);
		return;
	}
	free(b);
	c->begin = NULL;
	c->begin_err = err;
	c->pending = p;
	c->rec_path = path;
	/* The beep came first: the caller is waiting to be recorded. */
	if (c->conv == CONV_RECORDING)
		record_go(c, err);
}

/* Starts the message of the mailbox whose greeting begins to play. */
static void
save_begin(struct vm_call *c)
{
	struct store_msg_meta m = {
	    .caller_id = c->caller,
	    .caller_name = c->caller_name,
	    .reason = c->reason[0] ? c->reason : "direct",
	    .call_id = c->callid,
	};
	struct vm_begin *b;

	begin_drop(c);
	/* Without the store's thread, record_start() begins on the spot. */
	if (store_attach(c->vm->store, c->vm->base) != 0 ||
	    (b = calloc(1, sizeof(*b))) == NULL)
		return;
	b->vm = c->vm;
	b->c = c;
	if (store_msg_begin_async(
	        c->vm->store, c->mb->extension, &m, begin_h, b) != 0) {
		free(b);
		return;
	}
	c->begin = b;
}

/* After the beep. */
static void
record_start(struct vm_call *c)
{
	int err = c->begin_err;

	if (c->begin != NULL) {
		/* The sidecar is not on disk yet: begin_h() starts. */
		c->conv = CONV_RECORDING;
		return;
	}
	if (err == 0 && c->pending == NULL) {
		err = store_msg_begin(
		    c->vm->store, c->mb->extension, &c->pending, &c->rec_path);
		if (err == 0) {
			struct store_msg_meta m = {
			    .caller_id = c->caller,
			    .caller_name = c->caller_name,
			    .reason = c->reason[0] ? c->reason : "direct",
			    .call_id = c->callid,
			};
			store_msg_note(c->vm->store, c->pending, &m);
		}
	}
	record_go(c, err);
}

/* Starts the recorder on the begun message, or says why it cannot. */
static void
record_go(struct vm_call *c, int err)
{
	const struct vm_general *ge = &c->vm->cfg->general;
	struct media_rec_opts o;

	if (err == 0) {
		memset(&o, 0, sizeof(o));
		o.format = (enum media_rec_format)ge->recording_format;
		o.max_ms = ge->maximum_message_length * 1000u;
		o.silence_ms = ge->end_of_message_silence;
		o.stop_on_hash = true;
		err = media_stream_record(
		    c->ms, c->rec_path, &o, record_done_h, c);
		c->rec_started = time(NULL);
	}
	if (err != 0) {
		log_err("call %u: cannot record into mailbox %s: %s", c->id,
		    c->mb->extension, strerror(err));
		begin_drop(c);
		c->conv = CONV_GOODBYE;
		seq_reset(c);
		seq_prompt(c, "error");
		seq_play(c);
		return;
	}
	c->conv = CONV_RECORDING;
	log_info("call %u: recording a message for mailbox %s from %s", c->id,
	    c->mb->extension, c->caller);
}

/*
 * A message on its way to the store. The recording's close (the writer
 * thread) and the commit (the store's thread) both end after the loop has
 * moved on, often after the call is freed: what they need is copied here.
 */
struct vm_save {
	struct voicemail *vm;
	struct store_pending *pending; /* owned until the commit takes it */
	unsigned call;                 /* the call's number, for logs */
	uint32_t ms;                   /* the recording's length */
	uint32_t min_ms;               /* minimum_message_length */
	int64_t received;              /* when the recording started */
	const char *how;               /* "hang-up", "silence"... (static) */
	char mailbox[STORE_MAILBOX_MAX + 1];
	char caller[64];
	char caller_name[64];
	char reason[16];
	char security[200];
	char *ended;   /* owned: the call's "ended" line, logged after ours */
	char callid[]; /* the Call-ID */
};

/* Takes the call's pending message. NULL on ENOMEM (logged, dropped). */
static struct vm_save *
save_new(struct vm_call *c, const char *how)
{
	size_t idlen = c->callid ? strlen(c->callid) : 0;
	struct vm_save *sv = calloc(1, sizeof(*sv) + idlen + 1);

	if (sv == NULL) {
		log_err("call %u: the message for mailbox %s could not be "
		        "stored: %s",
		    c->id, c->mb->extension, strerror(ENOMEM));
		store_msg_abort(c->vm->store, c->pending);
		c->pending = NULL;
		c->rec_path = NULL;
		return NULL;
	}
	sv->vm = c->vm;
	sv->pending = c->pending;
	c->pending = NULL;
	c->rec_path = NULL; /* it belonged to pending */
	sv->call = c->id;
	sv->min_ms = c->vm->cfg->general.minimum_message_length;
	sv->received = (int64_t)c->rec_started;
	sv->how = how;
	snprintf(sv->mailbox, sizeof(sv->mailbox), "%s", c->mb->extension);
	snprintf(sv->caller, sizeof(sv->caller), "%s", c->caller);
	snprintf(
	    sv->caller_name, sizeof(sv->caller_name), "%s", c->caller_name);
	snprintf(sv->reason, sizeof(sv->reason), "%s",
	    c->reason[0] ? c->reason : "direct");
	vm_call_describe(c, sv->security, sizeof(sv->security));
	if (idlen > 0)
		memcpy(sv->callid, c->callid, idlen);
	return sv;
}

/* Logs the call's end after the message's lines, in the order they had
 * when the commit was made on the spot (scripts wait for "ended", then
 * look for the message), and frees sv. */
static void
save_free(struct vm_save *sv)
{
	if (sv->ended != NULL)
		log_info("%s", sv->ended);
	free(sv->ended);
	free(sv);
}

/* The commit's end (on the loop): the log line and MWI; frees sv. */
static void
save_done_h(int err, int64_t id, void *arg)
{
	struct vm_save *sv = arg;

	if (err != 0) {
		log_err("call %u: the message for mailbox %s (%u ms) could not "
		        "be stored: %s",
		    sv->call, sv->mailbox, sv->ms, strerror(err));
	} else {
		log_info("call %u: message %lld left in mailbox %s by %s "
		         "(%.1f s, %s)",
		    sv->call, (long long)id, sv->mailbox, sv->caller,
		    sv->ms / 1000.0, sv->how);
		vm_mwi_kick(sv->vm, sv->mailbox);
	}
	save_free(sv);
}

/*
 * Commits what was recorded (or drops a too short one) on the store's
 * thread: its fsyncs and SQLite COMMIT would stall every call's audio on
 * the loop. save_done_h() follows; sv is consumed.
 */
static void
save_commit(struct vm_save *sv)
{
	struct store *st = sv->vm->store;
	int64_t id = 0;
	int err;

	if (sv->ms < sv->min_ms) {
		log_info("call %u: message for %s dropped: %u ms is shorter "
		         "than minimum_message_length (%u ms)",
		    sv->call, sv->mailbox, sv->ms, sv->min_ms);
		store_msg_abort(st, sv->pending);
		save_free(sv);
		return;
	}
	struct store_msg_meta m = {
	    .caller_id = sv->caller,
	    .caller_name = sv->caller_name,
	    .reason = sv->reason,
	    .duration_ms = sv->ms,
	    .received = sv->received,
	    .call_id = sv->callid,
	    .security = sv->security,
	};
	/* Idempotent: the first message starts the store's thread. */
	err = store_attach(st, sv->vm->base);
	if (err == 0)
		err = store_msg_commit_async(
		    st, sv->pending, &m, save_done_h, sv);
	if (err == 0)
		return;
	/* No thread: the message matters more than the stall. */
	log_warn("call %u: committing the message on the loop: %s", sv->call,
	    strerror(err));
	err = store_msg_commit(st, sv->pending, &m, &id);
	save_done_h(err, id, sv);
}

/* The recording of a call that hung up is closed: commit it. */
static void
save_rec_h(enum media_end why, uint32_t ms, void *arg)
{
	struct vm_save *sv = arg;

	sv->ms = ms;
	/* It may have ended by itself just before the hang-up. */
	if (why == MEDIA_END_MAX)
		sv->how = "maximum length";
	else if (why == MEDIA_END_SILENCE)
		sv->how = "silence";
	else if (why == MEDIA_END_ERROR)
		sv->how = "write error";
	save_commit(sv);
}

/* Commits what was recorded (or drops a too short one); sends MWI. */
static void
record_finish(struct vm_call *c, uint32_t ms, const char *how)
{
	struct vm_save *sv;

	if (c->pending == NULL)
		return;
	if ((sv = save_new(c, how)) == NULL)
		return;
	sv->ms = ms;
	save_commit(sv);
}

static void
record_done_h(enum media_end why, uint32_t ms, void *arg)
{
	struct vm_call *c = arg;

	record_finish(c, ms,
	    why == MEDIA_END_MAX       ? "maximum length"
	    : why == MEDIA_END_SILENCE ? "silence"
	    : why == MEDIA_END_ERROR   ? "write error"
	                               : "pound");
	if (why == MEDIA_END_ERROR) {
		c->conv = CONV_GOODBYE;
		seq_reset(c);
		seq_prompt(c, "error");
		seq_play(c);
		return;
	}
	c->conv = CONV_GOODBYE;
	seq_reset(c);
	seq_prompt(c, "goodbye");
	seq_play(c);
}

/* ---- conversations ---- */

static void
start_greeting(struct vm_call *c, const struct vm_mailbox *mb, bool busy)
{
	const struct media_clip *g = vm_greeting(c->vm, mb, busy);

	c->mb = mb;
	c->conv = CONV_GREETING;
	save_begin(c);
	seq_reset(c);
	if (g) {
		seq_add(c, g);
	} else {
		seq_prompt(c, "greeting_standard_pre");
		seq_digits(c, mb->extension);
		seq_prompt(c, busy ? "greeting_busy" : "greeting_unavailable");
	}
	seq_prompt(c, "beep");
	seq_play(c);
}

static void
start_opening(struct vm_call *c)
{
	c->conv = CONV_OPENING;
	c->ndigits = 0;
	seq_reset(c);
	seq_prompt(c, "opening_greeting");
	seq_play(c);
}

static void
start_pin(struct vm_call *c)
{
	c->conv = CONV_PIN;
	c->ndigits = 0;
	seq_reset(c);
	seq_prompt(c, "enter_pin");
	seq_play(c);
}

static void
start_summary(struct vm_call *c)
{
	unsigned nnew = 0, nold = 0;
	char n[24];

	free(c->msgs);
	c->msgs = NULL;
	c->nmsgs = c->cur = 0;
	store_counts(c->vm->store, c->mb->extension, &nnew, &nold);
	store_list(c->vm->store, c->mb->extension, true, &c->msgs, &c->nmsgs);
	c->conv = CONV_SUMMARY;
	seq_reset(c);
	if (c->nmsgs == 0) {
		seq_prompt(c, "no_messages");
	} else {
		snprintf(n, sizeof(n), "%zu", c->nmsgs);
		seq_prompt(c, "you_have");
		seq_digits(c, n);
		seq_prompt(c, c->nmsgs == 1 ? "new_message" : "new_messages");
	}
	seq_play(c);
}

/* Plays message cur (after an optional prompt), or the end of the list. */
static void
start_message_after(struct vm_call *c, const char *pre)
{
	char err[200];

	media_clip_free(c->msg_clip);
	c->msg_clip = NULL;
	if (c->cur >= c->nmsgs) {
		c->conv = CONV_GOODBYE;
		seq_reset(c);
		if (pre)
			seq_prompt(c, pre);
		seq_prompt(c, "end_of_messages");
		seq_prompt(c, "goodbye");
		seq_play(c);
		return;
	}
	const struct store_msg *m = &c->msgs[c->cur];
	if (media_clip_load(&c->msg_clip, m->path, err, sizeof(err)) != 0) {
		log_err("call %u: message %lld (%s) cannot be played: %s",
		    c->id, (long long)m->id, m->path, err);
		c->msg_clip = NULL;
	}
	c->conv = CONV_MESSAGE;
	seq_reset(c);
	if (pre)
		seq_prompt(c, pre);
	seq_prompt(c, "message_from");
	seq_digits(c, m->caller_id[0] ? m->caller_id : "");
	seq_add(c, c->msg_clip);
	seq_prompt(c, "message_menu");
	seq_play(c);
	store_mark_heard(c->vm->store, m->id);
	vm_mwi_kick(c->vm, c->mb->extension);
}

static void
start_message(struct vm_call *c)
{
	start_message_after(c, NULL);
}

/* What the caller dialled at the opening greeting: an extension and '#'. */
static void
opening_dialled(struct vm_call *c)
{
	c->digits[c->ndigits] = '\0';
	const struct vm_mailbox *mb = vm_config_mailbox(c->vm->cfg, c->digits);

	c->ndigits = 0;
	if (mb == NULL) {
		log_info("call %u: dialled %s at the opening greeting: no such "
		         "mailbox",
		    c->id, c->digits);
		seq_reset(c);
		seq_prompt(c, "no_mailbox");
		seq_prompt(c, "opening_greeting");
		seq_play(c);
		return;
	}
	snprintf(c->reason, sizeof(c->reason), "direct");
	start_greeting(c, mb, false);
}

static void
pin_entered(struct vm_call *c)
{
	const char *pin = c->mb->pin ? c->mb->pin : "";
	size_t n = strlen(pin);
	bool ok =
	    n > 0 && n == c->ndigits && CRYPTO_memcmp(pin, c->digits, n) == 0;

	OPENSSL_cleanse(c->digits, sizeof(c->digits));
	c->ndigits = 0;
	if (ok) {
		c->signed_in = true;
		log_info("call %u: %s signed in to mailbox %s", c->id,
		    c->caller, c->mb->extension);
		start_summary(c);
		return;
	}
	c->pin_tries++;
	log_warn("call %u: wrong PIN for mailbox %s from %s (attempt %u of "
	         "%u)",
	    c->id, c->mb->extension, c->caller, c->pin_tries,
	    c->vm->cfg->general.pin_attempts);
	seq_reset(c);
	seq_prompt(c, "pin_wrong");
	if (c->pin_tries >= c->vm->cfg->general.pin_attempts) {
		c->conv = CONV_GOODBYE;
		seq_prompt(c, "goodbye");
	} else {
		seq_prompt(c, "enter_pin");
	}
	seq_play(c);
}

/* A playback ended (not stopped): what comes next. */
static void
play_done_h(enum media_end why, void *arg)
{
	struct vm_call *c = arg;

	(void)why;
	conv_next(c);
}

static void
conv_next(struct vm_call *c)
{
	switch (c->conv) {
	case CONV_OPENING:
	case CONV_PIN:
		/* wait for digits; give up after a while */
		timer_set(c, c->conv == CONV_PIN ? 10 : DIGIT_WAIT_S * 2);
		break;
	case CONV_GREETING:
		record_start(c);
		break;
	case CONV_SUMMARY:
		c->cur = 0;
		start_message(c);
		break;
	case CONV_MESSAGE:
		c->conv = CONV_MENU;
		timer_set(c, 10);
		break;
	case CONV_MENU:
		timer_set(c, 10);
		break;
	case CONV_GOODBYE:
		call_end(c, true, "goodbye");
		break;
	case CONV_ANSWERING:
	case CONV_RECORDING:
		break;
	}
}

static void
menu_key(struct vm_call *c, char d)
{
	const struct store_msg *m = &c->msgs[c->cur];

	timer_stop(c);
	switch (d) {
	case '1': /* replay */
		start_message(c);
		return;
	case '7': /* delete */
		store_delete(c->vm->store, m->id);
		vm_mwi_kick(c->vm, c->mb->extension);
		c->cur++;
		start_message_after(c, "message_deleted");
		return;
	case '9': /* save: it stays, heard */
		c->cur++;
		start_message_after(c, "message_saved");
		return;
	case '#': /* next */
		c->cur++;
		start_message(c);
		return;
	default:
		timer_set(c, 10);
	}
}

static void
dtmf_h(char d, void *arg)
{
	struct vm_call *c = arg;

	log_debug("call %u: key %c in %s", c->id, d, conv_names[c->conv]);
	switch (c->conv) {
	case CONV_OPENING:
		timer_stop(c);
		/* A key interrupts the greeting (barge-in). */
		media_stream_stop_play(c->ms);
		if (d == '#' || d == '*') {
			if (c->ndigits)
				opening_dialled(c);
			return;
		}
		if (c->ndigits < MAX_DIGITS)
			c->digits[c->ndigits++] = d;
		timer_set(c, DIGIT_WAIT_S);
		return;
	case CONV_GREETING:
		/* '#' skips to the beep. */
		if (d == '#') {
			media_stream_stop_play(c->ms);
			seq_reset(c);
			seq_prompt(c, "beep");
			seq_play(c);
		}
		return;
	case CONV_PIN:
		timer_stop(c);
		media_stream_stop_play(c->ms);
		if (d == '#') {
			pin_entered(c);
			return;
		}
		if (c->ndigits < MAX_DIGITS)
			c->digits[c->ndigits++] = d;
		timer_set(c, DIGIT_WAIT_S * 2);
		return;
	case CONV_MESSAGE:
	case CONV_MENU:
		if (c->conv == CONV_MESSAGE)
			media_stream_stop_play(c->ms);
		c->conv = CONV_MENU;
		menu_key(c, d);
		return;
	case CONV_SUMMARY:
		if (d == '#') {
			media_stream_stop_play(c->ms);
			c->cur = 0;
			start_message(c);
		}
		return;
	case CONV_RECORDING: /* '#' is handled by the recorder */
	case CONV_ANSWERING:
	case CONV_GOODBYE:
		return;
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vm_call *c = arg;

	(void)fd;
	(void)what;
	switch (c->conv) {
	case CONV_ANSWERING:
		call_end(c, true, "no ACK for the 200 OK");
		return;
	case CONV_OPENING:
		if (c->ndigits) {
			opening_dialled(c);
			return;
		}
		break;
	case CONV_PIN:
		if (c->ndigits) {
			pin_entered(c);
			return;
		}
		break;
	case CONV_MENU:
		c->cur++;
		start_message(c);
		return;
	default:
		break;
	}
	c->conv = CONV_GOODBYE;
	seq_reset(c);
	seq_prompt(c, "goodbye");
	seq_play(c);
}

/*
 * The call is up (ACK received): direct or forwarded (the guide's
 * routing rules, protocol-notes 3.1).
 */
static void
conv_start(struct vm_call *c)
{
	struct voicemail *vm = c->vm;

	timer_stop(c);
	if (c->redirect[0]) {
		const struct vm_mailbox *mb =
		    vm_config_mailbox(vm->cfg, c->redirect);
		if (mb) {
			log_info("call %u: forwarded for %s (%s): greeting",
			    c->id, c->redirect, c->reason);
			start_greeting(
			    c, mb, strcmp(c->reason, "user-busy") == 0);
			return;
		}
		log_info("call %u: forwarded for %s, who has no mailbox: "
		         "opening greeting",
		    c->id, c->redirect);
	} else {
		const struct vm_mailbox *mb =
		    vm_config_mailbox(vm->cfg, c->caller);
		if (mb && mb->pin) {
			c->mb = mb;
			log_info(
			    "call %u: %s calls from its own number: sign-in",
			    c->id, c->caller);
			start_pin(c);
			return;
		}
	}
	log_info(
	    "call %u: direct call from %s: opening greeting", c->id, c->caller);
	start_opening(c);
}

/* ---- the end of a call ---- */

static void
bye_done_h(int err, const struct sip_msg *resp, void *arg)
{
	(void)err;
	(void)resp;
	(void)arg;
}

static void
send_bye(struct vm_call *c)
{
	struct sip_req_spec sp;
	struct sip_ctrans *ct;
	char branch[32], via[64];
	struct sa la;
	struct buf b;

	if (c->dlg == NULL || c->bye_sent)
		return;
	c->bye_sent = true;
	vm_local_addr(
	    c->vm, c->dlg->proto, sa_family(&c->peer), &la, via, sizeof(via));
	sip_branch_new(branch);
	memset(&sp, 0, sizeof(sp));
	sp.method = "BYE";
	sp.proto = c->dlg->proto;
	sp.via_host = slice_cstr(via);
	sp.via_port = sa_port(&la);
	sp.branch = branch;
	buf_init(&b);
	if (sip_dialog_request(c->dlg, &b, &sp, NULL, NULL, 0) == 0)
		sip_ctrans_request(&ct, c->vm->stack, c->dlg->proto, &c->peer,
		    NULL, c->dlg->conn, b.p, b.len, bye_done_h, NULL);
	buf_free(&b);
}

static void
call_end(struct vm_call *c, bool send_bye_now, const char *why)
{
	struct vm_save *sv = NULL;
	char ended[512];

	if (c->conv == CONV_RECORDING && c->pending)
		sv = save_new(c, "hang-up");
	if (c->st)
		refuse(c, 500, why);
	if (send_bye_now)
		send_bye(c);
	struct media_stream_stats st;
	memset(&st, 0, sizeof(st));
	if (c->ms)
		media_stream_get_stats(c->ms, &st);
	snprintf(ended, sizeof(ended),
	    "call %u: ended (%s) after %lld s on port %u of %s; RTP "
	    "sent %llu, received %llu, dropped %llu failing "
	    "authentication, %llu replayed, %llu malformed",
	    c->id, why, (long long)(time(NULL) - c->started),
	    c->port ? c->port->number : 0, c->g->cfg->name,
	    (unsigned long long)st.tx_packets,
	    (unsigned long long)st.rx_packets,
	    (unsigned long long)st.rx_auth_fail,
	    (unsigned long long)st.rx_replay,
	    (unsigned long long)st.rx_malformed);
	if (sv == NULL || (sv->ended = strdup(ended)) == NULL)
		log_info("%s", ended);
	if (sv != NULL) {
		/* The recording leaves with its own context: the file is closed
		 * by the writer thread, then committed by the store's, and the
		 * loop waits for neither (every call's audio would stall). */
		int err = media_stream_end_record(c->ms, save_rec_h, sv);
		if (err != 0) {
			/* Nothing recorded that we could close. */
			log_warn("call %u: recording not ended: %s", c->id,
			    strerror(err));
			sv->ms = 0;
			save_commit(sv);
		}
	}
	call_free(c);
}

/* ---- media setup ---- */

static int
media_setup(struct vm_call *c, struct sdp_neg *n)
{
	struct srtp *tx = NULL, *rx = NULL;
	int err;

	err = media_stream_set_remote(c->ms, &n->remote,
	    n->pcma ? MEDIA_PCMA : MEDIA_PCMU,
	    n->te_pt >= 0 ? (uint8_t)n->te_pt : 0);
	if (err == 0 && n->srtp) {
		if ((err = srtp_alloc(&tx, n->suite, n->tx_key, n->key_len)) ||
		    (err = srtp_alloc(&rx, n->suite, n->rx_key, n->key_len))) {
			srtp_free(tx);
			tx = NULL;
		}
	}
	if (err == 0) {
		media_stream_set_srtp(c->ms, tx, rx);
		c->srtp = n->srtp;
		c->suite = n->suite;
	}
	return err;
}

static void
sdp_local(struct vm_call *c, struct sdp_local *l)
{
	memset(l, 0, sizeof(l[0]));
	l->username = "ngvoice";
	l->sess_id = c->id;
	l->sess_version = ++c->sdp_version;
	l->name = "ngvoice voicemail";
	l->addr = c->rtp_local;
}

static void
policy(const struct vm_call *c, struct sdp_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->secure_rtp = c->g->cfg->secure_rtp;
	p->srtp = (enum srtp_option)c->vm->cfg->general.srtp_ciphers;
	p->pcmu = p->pcma = true;
	p->telephone_event = true;
}

/* ---- SIP ---- */

static void
cancel_h(struct sip_strans *st, void *arg)
{
	struct vm_call *c = arg;

	(void)st;
	reply(c, 487, NULL, NULL, SLICE_NULL, SLICE_NULL);
	call_end(c, false, "cancelled");
}

/* The mailbox of a forwarded call: the first (or last) Diversion. */
static void
read_diversion(struct vm_call *c, const struct sip_msg *m)
{
	struct sip_values it;
	struct slice v, val;
	bool last = c->vm->cfg->general.diversion_mailbox == VM_DIVERSION_LAST;

	sip_values_init(&it, m, SIP_HDR_DIVERSION);
	while (sip_values_next(&it, &v)) {
		struct sip_addr a;
		if (sip_addr_parse(&a, v) != 0 || a.uri.user.n == 0)
			continue;
		sip_unescape(
		    a.uri.user, c->redirect, sizeof(c->redirect), NULL);
		c->reason[0] = '\0';
		if (sip_param_get(a.params, "reason", &val) == 0)
			slice_strlcpy(c->reason, sizeof(c->reason), val);
		if (!last)
			break;
	}
}

static void
read_tls(struct vm_call *c, const struct sip_rx *rx)
{
	SSL *ssl = rx->conn ? sip_conn_ssl(rx->conn) : NULL;

	if (ssl)
		snprintf(c->tls, sizeof(c->tls), "%s %s", SSL_get_version(ssl),
		    SSL_get_cipher_name(ssl));
	else
		snprintf(
		    c->tls, sizeof(c->tls), "%s", sip_proto_name(rx->proto));
}

static struct vm_port *
port_take(struct vm_group_rt *g)
{
	for (size_t i = 0; i < g->nports; i++) {
		if (g->ports[i].call == NULL)
			return &g->ports[i];
	}
	return NULL;
}

void
vm_call_invite(struct voicemail *vm, struct vm_group_rt *g,
    const struct sip_msg *m, const struct sip_rx *rx)
{
	const struct vm_ports *ports = g->cfg->ports;
	struct vm_call *c = calloc(1, sizeof(*c));
	char why[300];
	struct buf body;
	int err;

	if (c == NULL)
		return;
	c->vm = vm;
	c->g = g;
	c->id = next_id++;
	c->proto = rx->proto;
	c->peer = rx->peer;
	c->started = time(NULL);
	c->callid = slice_strdup(m->callid);
	list_add_tail(&vm->calls, &c->le);
	vm->calls_total++;
	sip_token_new(c->tag, sizeof(c->tag));
	sip_unescape(m->from.uri.user, c->caller, sizeof(c->caller), NULL);
	slice_strlcpy(c->caller_name, sizeof(c->caller_name), m->from.dname);
	read_diversion(c, m);
	read_tls(c, rx);
	if (c->callid == NULL ||
	    sip_strans_alloc(&c->st, vm->stack, m, rx, cancel_h, c) != 0) {
		call_free(c);
		return;
	}
	if (ports == NULL || !ports->enabled || !ports->answer_calls) {
		snprintf(why, sizeof(why),
		    "the ports of port group %s do not answer calls",
		    g->cfg->name);
		refuse(c, 503, why);
		call_free(c);
		return;
	}
	if ((c->port = port_take(g)) == NULL) {
		snprintf(why, sizeof(why),
		    "all %zu voicemail ports of port group %s are busy",
		    g->nports, g->cfg->name);
		vm->calls_refused++;
		refuse(c, 486, why);
		call_free(c);
		return;
	}
	c->port->call = c;
	c->port->calls++;
	if (sip_dialog_uas(&c->dlg, m, c->tag, rx->proto, rx->conn) != 0) {
		refuse(c, 400, "no Contact in the INVITE");
		call_free(c);
		return;
	}
	/* Over TLS the media keys travel only if the signalling is secure. */
	if (g->cfg->secure_rtp && rx->proto != SIP_PROTO_TLS) {
		refuse(c, 488, "Secure RTP needs TLS signalling");
		call_free(c);
		return;
	}
	if (media_stream_alloc(&c->ms, vm->media, &c->rtp_local) != 0) {
		refuse(c, 503, "no media port available");
		call_free(c);
		return;
	}
	media_stream_set_dtmf_h(c->ms, dtmf_h, c);

	struct sdp_policy pol;
	policy(c, &pol);
	struct sdp_local loc;
	buf_init(&body);
	if (m->body.n) {
		struct sdp_session offer;
		struct sdp_neg neg;
		char perr[SDP_ERR_MAX];
		memset(&neg, 0, sizeof(neg));
		if (sdp_parse(&offer, m->body.p, m->body.n, perr,
		        sizeof(perr)) != 0) {
			snprintf(why, sizeof(why), "malformed SDP: %s", perr);
			refuse(c, 400, why);
			goto fail;
		}
		err = sdp_answer(&neg, &offer, &pol, why, sizeof(why));
		if (err != 0) {
			refuse(c, 488, err == ENOTSUP ? why : "cannot answer");
			sdp_neg_wipe(&neg);
			goto fail;
		}
		sdp_local(c, &loc);
		err = media_setup(c, &neg);
		if (err == 0)
			err = sdp_encode_answer(&body, &loc, &offer, &neg);
		sdp_neg_wipe(&neg);
		if (err != 0) {
			refuse(c, 500, "cannot set up the media");
			goto fail;
		}
	} else {
		/* Delayed offer (the call manager's default): we offer. */
		c->offer = calloc(1, sizeof(*c->offer));
		sdp_local(c, &loc);
		if (c->offer == NULL || sdp_offer_make(c->offer, &pol) != 0 ||
		    sdp_encode_offer(&body, &loc, c->offer) != 0) {
			refuse(c, 500, "cannot make an SDP offer");
			goto fail;
		}
	}
	log_info("call %u (Call-ID %s): from %s%s%s on port %u of %s, %s%s%s",
	    c->id, c->callid, c->caller,
	    c->redirect[0] ? ", forwarded for " : "", c->redirect,
	    c->port->number, g->cfg->name, c->tls,
	    c->offer ? ", delayed offer" : (c->srtp ? ", SRTP " : ", RTP"),
	    c->offer || !c->srtp ? "" : srtp_suite_info(c->suite)->name);
	reply(
	    c, 200, NULL, NULL, SLICE_LIT("application/sdp"), buf_slice(&body));
	buf_free(&body);
	c->conv = CONV_ANSWERING;
	timer_set(c, ACK_WAIT_S);
	return;
fail:
	buf_free(&body);
	call_free(c);
}

/* The ACK of our 2xx: the answer to a delayed offer, then the call starts. */
static void
got_ack(struct vm_call *c, const struct sip_msg *m)
{
	if (c->conv != CONV_ANSWERING && c->offer == NULL)
		return;
	if (c->offer) {
		struct sdp_session ans;
		struct sdp_neg neg;
		char why[300];
		memset(&neg, 0, sizeof(neg));
		if (m->body.n == 0 ||
		    sdp_parse(&ans, m->body.p, m->body.n, why, sizeof(why)) !=
		        0 ||
		    sdp_offer_answered(
		        &neg, c->offer, &ans, why, sizeof(why)) != 0 ||
		    media_setup(c, &neg) != 0) {
			sdp_neg_wipe(&neg);
			log_warn(
			    "call %u: the ACK does not answer our offer%s%s",
			    c->id, m->body.n ? ": " : " (no SDP)",
			    m->body.n ? why : "");
			call_end(c, true, "no usable answer in the ACK");
			return;
		}
		sdp_neg_wipe(&neg);
		sdp_offer_wipe(c->offer);
		free(c->offer);
		c->offer = NULL;
	}
	if (c->conv == CONV_ANSWERING)
		conv_start(c);
}

/*
 * A re-INVITE (RFC 3261 14.2): a new offer is answered with new keys of
 * ours (RFC 4568 section 7.1.4: a new offer rekeys), the media follows the
 * new address and codec; without SDP we offer, and the ACK answers.
 */
static void
got_reinvite(struct vm_call *c, struct sip_strans *st, const struct sip_msg *m)
{
	struct sdp_policy pol;
	struct sdp_local loc;
	struct buf body;
	char why[300], contact[300], host[64];
	struct sa la;
	int err = 0;

	if (c->conv == CONV_ANSWERING || c->offer) {
		/* Our 2xx is not acknowledged yet (RFC 3261 14.2). */
		sip_strans_reply(st, 491, NULL, SLICE_NULL,
		    SLICE_LIT("Retry-After: 1\r\n"), SLICE_NULL, SLICE_NULL);
		return;
	}
	policy(c, &pol);
	buf_init(&body);
	if (m->body.n) {
		struct sdp_session offer;
		struct sdp_neg neg;
		memset(&neg, 0, sizeof(neg));
		if (sdp_parse(&offer, m->body.p, m->body.n, why, sizeof(why)) ||
		    sdp_answer(&neg, &offer, &pol, why, sizeof(why))) {
			sdp_neg_wipe(&neg);
			log_info("call %u: re-INVITE refused: %s", c->id, why);
			sip_strans_reply(st, 488, NULL, SLICE_NULL, SLICE_NULL,
			    SLICE_NULL, SLICE_NULL);
			buf_free(&body);
			return;
		}
		sdp_local(c, &loc);
		err = media_setup(c, &neg);
		if (err == 0)
			err = sdp_encode_answer(&body, &loc, &offer, &neg);
		sdp_neg_wipe(&neg);
	} else {
		c->offer = calloc(1, sizeof(*c->offer));
		sdp_local(c, &loc);
		if (c->offer == NULL || sdp_offer_make(c->offer, &pol) != 0 ||
		    sdp_encode_offer(&body, &loc, c->offer) != 0)
			err = ENOMEM;
	}
	if (err != 0) {
		sip_strans_reply(st, 500, "Cannot change the media", SLICE_NULL,
		    SLICE_NULL, SLICE_NULL, SLICE_NULL);
		buf_free(&body);
		return;
	}
	sip_dialog_set_target(c->dlg, m);
	vm_local_addr(
	    c->vm, c->proto, sa_family(&c->peer), &la, host, sizeof(host));
	snprintf(contact, sizeof(contact), "Contact: <sip:%s@%s%s%s:%u%s>\r\n",
	    c->g->cfg->contact_line_name ? c->g->cfg->contact_line_name
	                                 : "voicemail",
	    sa_family(&la) == AF_INET6 ? "[" : "", host,
	    sa_family(&la) == AF_INET6 ? "]" : "", sa_port(&la),
	    c->proto == SIP_PROTO_TLS   ? ";transport=tls"
	    : c->proto == SIP_PROTO_TCP ? ";transport=tcp"
	                                : "");
	log_info("call %u: re-INVITE: %s%s", c->id,
	    m->body.n ? "new keys, SRTP " : "we offer",
	    m->body.n && c->srtp ? srtp_suite_info(c->suite)->name : "");
	sip_strans_reply(st, 200, NULL, SLICE_NULL, slice_cstr(contact),
	    SLICE_LIT("application/sdp"), buf_slice(&body));
	buf_free(&body);
}

/* SIP INFO with application/dtmf-relay (the trunk's out-of-band DTMF). */
static void
got_info(struct vm_call *c, const struct sip_msg *m)
{
	struct slice b = m->body;
	const char *p = memmem(b.p, b.n, "Signal=", 7);

	if (p && (size_t)(p + 7 - b.p) < b.n) {
		char d = p[7];
		if ((d >= '0' && d <= '9') || d == '*' || d == '#')
			dtmf_h(d, c);
	}
}

bool
vm_call_in_dialog(
    struct voicemail *vm, const struct sip_msg *m, const struct sip_rx *rx)
{
	struct list *pos;

	for (pos = vm->calls.next; pos != &vm->calls; pos = pos->next) {
		struct vm_call *c = container_of(pos, struct vm_call, le);
		if (c->dlg == NULL || !sip_dialog_match(c->dlg, m))
			continue;
		if (sip_method_eq(m->method, "ACK")) {
			got_ack(c, m);
			return true;
		}
		struct sip_strans *st;
		if (sip_strans_alloc(&st, vm->stack, m, rx, NULL, NULL) != 0)
			return true;
		if (sip_dialog_check_rseq(c->dlg, m) != 0) {
			sip_strans_reply(st, 500, "CSeq out of order",
			    SLICE_NULL, SLICE_NULL, SLICE_NULL, SLICE_NULL);
			return true;
		}
		if (sip_method_eq(m->method, "BYE")) {
			sip_strans_reply(st, 200, NULL, SLICE_NULL, SLICE_NULL,
			    SLICE_NULL, SLICE_NULL);
			c->bye_sent = true;
			call_end(c, false, "the caller hung up");
			return true;
		}
		if (sip_method_eq(m->method, "INFO")) {
			sip_strans_reply(st, 200, NULL, SLICE_NULL, SLICE_NULL,
			    SLICE_NULL, SLICE_NULL);
			got_info(c, m);
			return true;
		}
		if (sip_method_eq(m->method, "INVITE")) {
			got_reinvite(c, st, m);
			return true;
		}
		if (sip_method_eq(m->method, "UPDATE") && m->body.n == 0) {
			/* Session refresh (RFC 4028) without a new offer. */
			sip_strans_reply(st, 200, NULL, SLICE_NULL, SLICE_NULL,
			    SLICE_NULL, SLICE_NULL);
			return true;
		}
		sip_strans_reply(st, 405, NULL, SLICE_NULL,
		    SLICE_LIT("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, "
		              "UPDATE\r\n"),
		    SLICE_NULL, SLICE_NULL);
		return true;
	}
	return false;
}

/* ---- status ---- */

void
vm_call_describe(const struct vm_call *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s, %s%s", c->tls, c->srtp ? "SRTP " : "RTP",
	    c->srtp ? srtp_suite_info(c->suite)->name : "");
}

void
vm_calls_json(struct voicemail *vm, struct buf *b)
{
	BUF_LIT(b, "\"ports\":[");
	bool first = true;
	for (size_t i = 0; i < vm->ngroups; i++) {
		const struct vm_group_rt *g = &vm->groups[i];
		for (size_t j = 0; j < g->nports; j++) {
			const struct vm_port *p = &g->ports[j];
			const struct vm_call *c = p->call;
			if (!first)
				BUF_LIT(b, ",");
			first = false;
			BUF_LIT(b, "{\"port_group\":");
			buf_json_str(b, g->cfg->name);
			buf_printf(b,
			    ",\"port\":%u,\"calls\":%lu,\"state\":", p->number,
			    p->calls);
			buf_json_str(b, c ? "busy" : "idle");
			if (c) {
				char sec[200];
				vm_call_describe(c, sec, sizeof(sec));
				BUF_LIT(b, ",\"caller\":");
				buf_json_str(b, c->caller);
				BUF_LIT(b, ",\"mailbox\":");
				buf_json_str(b, c->mb ? c->mb->extension : "");
				BUF_LIT(b, ",\"activity\":");
				buf_json_str(b, conv_names[c->conv]);
				BUF_LIT(b, ",\"tls\":");
				buf_json_str(b, c->tls);
				BUF_LIT(b, ",\"srtp\":");
				buf_json_str(
				    b, c->srtp ? srtp_suite_info(c->suite)->name
				               : "");
				BUF_LIT(b, ",\"security\":");
				buf_json_str(b, sec);
				buf_printf(b, ",\"seconds\":%lld",
				    (long long)(time(NULL) - c->started));
			}
			BUF_LIT(b, "}");
		}
	}
	BUF_LIT(b, "]");
}

void
vm_calls_conn_lost(struct voicemail *vm, struct sip_conn *conn)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &vm->calls)
	{
		struct vm_call *c = container_of(pos, struct vm_call, le);
		if (c->dlg && c->dlg->conn == conn) {
			c->bye_sent = true; /* nowhere to send it */
			call_end(
			    c, false, "the call manager's connection was lost");
		}
	}
}
