/*
 * The media loop: RTP/SRTP for many calls from one event loop.
 *
 * One struct media_loop per process (per event_base). It owns a few UDP
 * sockets shared by all streams and demultiplexes received packets by the
 * peer's address (and SSRC); every stream that plays is paced from one timer
 * on the monotonic clock, and the packets due at a tick leave in sendmmsg
 * batches. Received packets arrive in recvmmsg batches.
 *
 * A struct media_stream is one call's audio: G.711 (PCMU or PCMA) at 20 ms,
 * RFC 4733 telephone-events, optional SRTP in each direction. It plays
 * clips (prompts, greetings, messages) one after another and records what
 * the peer says to a WAV file.
 */
#ifndef NGV_MEDIA_STREAM_H
#define NGV_MEDIA_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sa.h"

struct event_base;
struct srtp;

/* ---- clips: 8 kHz mono audio, loaded once, shared read-only ---- */

struct media_clip {
	char *name;   /* file name or prompt name, for logs */
	int16_t *pcm; /* linear samples, 8 kHz mono */
	size_t samples;
	uint8_t *ulaw; /* the same samples pre-encoded, one byte each */
	uint8_t *alaw;
};

/* Reads an 8 kHz mono WAV (16-bit PCM, µ-law or A-law). Errors: ENOENT,
 * EBADMSG (not such a WAV; err names what is wrong), ENOMEM. */
int media_clip_load(
    struct media_clip **cp, const char *path, char *err, size_t errlen);
/* A clip made from samples (tones, tests). */
int media_clip_from_pcm(struct media_clip **cp, const char *name,
    const int16_t *pcm, size_t samples);
void media_clip_free(struct media_clip *c);
static inline uint32_t
media_clip_ms(const struct media_clip *c)
{
	return (uint32_t)(c->samples / 8);
}

/* ---- the loop ---- */

/*
 * An event base for a process that paces media: its timers use the precise
 * monotonic clock (EVENT_BASE_FLAG_PRECISE_TIMER). libevent's default
 * coarse clock advances every few milliseconds, which alone would make
 * packets several milliseconds late. NULL on ENOMEM.
 */
struct event_base *media_event_base_new(void);

struct media_loop_opts {
	struct sa local;   /* address to bind; port 0 = any */
	unsigned nsockets; /* shared sockets (ports) to open, default 4 */
	unsigned tick_ms;  /* pacing timer, default 5 */
};

struct media_loop;
/* Opens the sockets (a non-zero port p gives ports p, p+2, p+4...) and the
 * recordings' writer thread. Errors: EINVAL, ENOMEM, the errnos of
 * socket(2)/bind(2) (EADDRINUSE...) and pthread_create(3). */
int media_loop_alloc(struct media_loop **mlp, struct event_base *base,
    const struct media_loop_opts *o);
/* Every stream must be freed first. Waits for the writer to close the
 * files still queued; handlers of media_stream_end_record() still due are
 * called before it returns (they must not use the loop). */
void media_loop_free(struct media_loop *ml);

struct media_loop_stats {
	uint64_t tx_packets, rx_packets;
	uint64_t tx_late;      /* sent more than 5 ms after their time */
	uint64_t max_late_us;  /* worst lateness seen */
	uint64_t rx_unknown;   /* from no known peer: dropped */
	uint64_t rx_auth_fail; /* SRTP authentication failed: dropped */
	uint64_t rx_replay;    /* replayed SRTP: dropped */
	uint64_t rx_malformed; /* not RTP: dropped */
	unsigned streams;
	/* Additions (media/stream.c): */
	uint64_t tx_errors; /* sendmmsg or SRTP protect failed: dropped */
	uint64_t rx_rtcp;   /* RTCP on the RTP port (RFC 5761): dropped */
	unsigned playing;   /* streams playing now */
	unsigned recording; /* streams recording now */
};
void media_loop_get_stats(
    const struct media_loop *ml, struct media_loop_stats *st);

/* ---- streams ---- */

enum media_codec { MEDIA_PCMU = 0, MEDIA_PCMA = 8 };

enum media_end {
	MEDIA_END_DONE,    /* clip list played / recording stopped by caller */
	MEDIA_END_MAX,     /* recording reached its maximum length */
	MEDIA_END_SILENCE, /* recording ended by silence */
	MEDIA_END_ERROR    /* write error (disk full...): see the log */
};

typedef void(media_play_h)(enum media_end why, void *arg);
typedef void(media_record_h)(enum media_end why, uint32_t ms, void *arg);
/* One call per key press (RFC 4733 end of event, duplicates removed):
 * '0'..'9', '*', '#', 'A'..'D'. */
typedef void(media_dtmf_h)(char digit, void *arg);

struct media_stream;

/* Takes a socket of the loop; *local gets the address and port to put in
 * SDP (when the loop is bound to a wildcard address, the address part is
 * that wildcard: the caller puts its own address in SDP). */
int media_stream_alloc(
    struct media_stream **msp, struct media_loop *ml, struct sa *local);
/* Stops everything, closes a recording (kept as far as written), wipes and
 * frees the SRTP contexts. NULL is fine. Never calls a handler. */
void media_stream_free(struct media_stream *ms);

/* Where to send and whom to accept packets from; dtmf_pt 0 = none.
 * Errors: EINVAL, EAFNOSUPPORT (IPv6 peer on an IPv4 loop), EADDRINUSE
 * (another stream on the same socket already has this peer), ENOMEM. */
int media_stream_set_remote(struct media_stream *ms, const struct sa *remote,
    enum media_codec codec, uint8_t dtmf_pt);
/* Takes ownership of both (either may be NULL for plain RTP); replaces and
 * frees earlier ones (rekey on re-INVITE). */
void media_stream_set_srtp(
    struct media_stream *ms, struct srtp *tx, struct srtp *rx);
void media_stream_set_dtmf_h(
    struct media_stream *ms, media_dtmf_h *h, void *arg);

/* Plays clips in order (borrowed: they must outlive the playback), then
 * calls h once (unless stopped or freed first). Replaces what was playing. */
int media_stream_play(struct media_stream *ms,
    const struct media_clip *const *clips, size_t n, media_play_h *h,
    void *arg);
void media_stream_stop_play(struct media_stream *ms);
bool media_stream_playing(const struct media_stream *ms);

/*
 * Sends a key press as RFC 4733 telephone-events on the negotiated
 * payload type (packets every 20 ms for dur_ms, clamped to 40-5000, three
 * end packets, 40 ms between keys); while an event is sent it replaces the
 * audio. Keys queue up (16 at most). Errors: EINVAL (not a key),
 * ENOTSUP (the peer did not offer telephone-event), ENOBUFS.
 */
int media_stream_send_dtmf(
    struct media_stream *ms, char digit, uint32_t dur_ms);

enum media_rec_format { MEDIA_REC_PCM16, MEDIA_REC_ULAW, MEDIA_REC_ALAW };

struct media_rec_opts {
	enum media_rec_format format;
	uint32_t max_ms;     /* 0 = unlimited */
	uint32_t silence_ms; /* end after this much silence; 0 = never */
	bool stop_on_hash;   /* '#' ends the recording (MEDIA_END_DONE) */
	/* Addition: RMS level (16-bit linear) under which a 20 ms packet
	 * counts as silence; 0 = MEDIA_SILENCE_LEVEL. */
	uint16_t silence_level;
};
#define MEDIA_SILENCE_LEVEL 300

/*
 * Handler calls and their timing (media/stream.c):
 * - Handlers never run inside a media_stream_* call; they run from the
 *   loop, one at a time, and each may free its stream, play, record or
 *   stop on it (or on any other stream).
 * - Starting or stopping a playback (recording) cancels a play (record)
 *   handler call that is due but not made yet.
 * - With stop_on_hash, the '#' that ends a recording goes to the record
 *   handler (MEDIA_END_DONE), not to the DTMF handler.
 * - A recording ended by silence is cut back to the end of the last sound;
 *   the length passed to the handler is that of the file.
 * - A peer that sends nothing still ends a recording: after silence_ms
 *   without audio (MEDIA_END_SILENCE), or a second past max_ms of wall
 *   time (MEDIA_END_MAX).
 * - Recordings are written, header-fixed and fsync'd by one helper thread
 *   per loop, so the loop never waits for the disk; the record handler is
 *   called once the file is closed. media_stream_record() creates the file
 *   itself (its errors come back at once); media_stream_end_record() and
 *   media_stream_free() only queue the close; media_stream_stop_record()
 *   BLOCKS the loop until the helper has written everything queued before
 *   it (every stream's chunks) and fsync'd and closed the file: tens of
 *   milliseconds on a real disk, during which no stream sends a packet.
 *   A server pacing many calls ends recordings with
 *   media_stream_end_record().
 */

/* Records what the peer sends into a new WAV file at path (created 0600,
 * header fixed up as it grows, so a crash leaves a playable file).
 * Errors: EINVAL, EPROTO (already recording), EEXIST (path exists: never
 * overwritten), ENOMEM, other errnos of open(2)/write(2). */
int media_stream_record(struct media_stream *ms, const char *path,
    const struct media_rec_opts *o, media_record_h *h, void *arg);
/* Ends a recording: flushes, fixes the header, fsyncs, closes; returns the
 * recorded length in *msp. No handler is called. Blocks the calling (loop)
 * thread until the file is closed (see above): for a single call (a test
 * phone), not for a server. Errors: EPROTO (not recording, or it already
 * ended by itself), the write errors. */
int media_stream_stop_record(struct media_stream *ms, uint32_t *msp);
/*
 * Ends a recording without waiting: takes it off the stream at once (the
 * stream may be freed right after, or record again) and queues the close
 * (flush, header fix, fsync, close) to the writer thread. h (may be NULL)
 * is then called once, from the loop, when the file is closed:
 * h(MEDIA_END_DONE, length in ms, arg), or MEDIA_END_ERROR after a write
 * error (logged), whether or not the stream still exists. The stream's
 * own record handler is never called for this recording.
 * A recording that already ended by itself (silence, maximum length, '#',
 * error) but whose record handler has not been called yet is taken over
 * the same way: h gets that call instead, with its reason.
 * Errors: EINVAL, EPROTO (no recording, or its handler was called
 * already), ENOMEM; h is then never called.
 */
int media_stream_end_record(
    struct media_stream *ms, media_record_h *h, void *arg);
/*
 * For shutdown: waits until the writer has done everything queued so far,
 * then makes the record handler calls that are due (those of
 * media_stream_end_record() included) before it returns. Blocks; never
 * call it from a handler.
 */
void media_loop_drain(struct media_loop *ml);

struct media_stream_stats {
	uint64_t tx_packets, rx_packets;
	uint64_t rx_auth_fail, rx_replay, rx_malformed;
	uint32_t rx_ssrc;
	uint32_t jitter_us;
	/* Additions: */
	uint64_t rx_dtmf;      /* key presses delivered */
	uint64_t rx_lost_fill; /* samples of silence put in for lost audio */
};
void media_stream_get_stats(
    const struct media_stream *ms, struct media_stream_stats *st);

#endif
