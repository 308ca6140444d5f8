/* SIP parse and encode throughput on one core, against a memchr/strlen floor measured in the same run. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>
#include <sys/time.h>
#ifdef __linux__
#include <sched.h>
#endif

#include "core/buf.h"
#include "core/slice.h"
#include "sip/enc.h"
#include "sip/msg.h"

#define SDP_BODY                                                               \
	"v=0\r\n"                                                              \
	"o=ngvoice 8421 8422 IN IP4 192.0.2.10\r\n"                            \
	"s=-\r\n"                                                              \
	"c=IN IP4 192.0.2.10\r\n"                                              \
	"t=0 0\r\n"                                                            \
	"m=audio 16384 RTP/AVP 0 8 101\r\n"                                    \
	"a=rtpmap:0 PCMU/8000\r\n"                                             \
	"a=rtpmap:8 PCMA/8000\r\n"                                             \
	"a=rtpmap:101 telephone-event/8000\r\n"                                \
	"a=fmtp:101 0-15\r\n"                                                  \
	"a=ptime:20\r\n"                                                       \
	"a=sendrecv\r\n"

/* A phone's INVITE as a call manager sees it over TLS. */
static const char invite_text[] =
    "INVITE sip:2000@cucm.example.net:5061;transport=tls SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK74bf9a1c;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Line 1001\" <sip:1001@cucm.example.net>;tag=9fxced76sl\r\n"
    "To: <sip:2000@cucm.example.net>\r\n"
    "Call-ID: 3848276298220188511@192.0.2.10\r\n"
    "CSeq: 101 INVITE\r\n"
    "Contact: <sip:1001@192.0.2.10:5061;transport=tls>;+sip.instance="
    "\"<urn:uuid:00000000-0000-1000-8000-0011223344ff>\";expires=3600\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, UPDATE, "
    "INFO\r\n"
    "Supported: replaces, timer, 100rel\r\n"
    "Allow-Events: kpml, dialog, presence\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "User-Agent: ngvoice-phone/0.1\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 228\r\n"
    "\r\n" SDP_BODY;

/* The callee's answer, as it comes back through a proxy. */
static const char ok_text[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK74bf9a1c;rport=5061;"
    "received=192.0.2.10\r\n"
    "From: \"Line 1001\" <sip:1001@cucm.example.net>;tag=9fxced76sl\r\n"
    "To: <sip:2000@cucm.example.net>;tag=8321234356\r\n"
    "Call-ID: 3848276298220188511@192.0.2.10\r\n"
    "CSeq: 101 INVITE\r\n"
    "Contact: <sip:2000@198.51.100.7:5061;transport=tls>\r\n"
    "Record-Route: <sip:198.51.100.1:5061;transport=tls;lr>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY\r\n"
    "Supported: timer\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "Server: ngvoice-vm/0.1\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 228\r\n"
    "\r\n" SDP_BODY;

static const char reply_extra[] =
    "Contact: <sip:2000@198.51.100.7:5061;transport=tls>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
    "Supported: timer\r\n";

static const struct sip_limits lim = SIP_LIMITS_DEFAULT;
static struct sip_msg msg, invite;
static struct buf out;
/* Results land here so that the compiler cannot drop the work. */
static volatile uint64_t sink;

/* Makes the compiler forget what it knows about memory (and p). */
static inline void
clobber(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* Sums the typed fields a transaction layer reads from every message. */
static uint64_t
read_fields(const struct sip_msg *m)
{
	uint64_t h = 0;

	h += m->via.branch.n + m->via.host.n + m->via.port + m->via.has_rport;
	h += m->from.tag.n + m->from.uri.user.n + m->to.uri.host.n;
	h += m->to.tag.n + m->callid.n + m->cseq.num + m->cseq.method.n;
	h += m->maxfwd + m->ctype.subtype.n + m->body.n;
	h += m->req ? m->ruri.host.n + m->method.n : m->scode;
	return h;
}

struct input {
	const char *p;
	size_t n;
};

static struct input in_invite, in_ok, in_reply;
static char *reply_copy; /* owned: the encoded reply, NUL-terminated */

static uint64_t
run_parse(const struct input *in, uint64_t iters)
{
	uint64_t h = 0;

	for (uint64_t i = 0; i < iters; i++) {
		clobber(in->p);
		if (sip_msg_parse(&msg, in->p, in->n, true, &lim, NULL) != 0)
			abort(); /* checked once before timing */
		h += read_fields(&msg);
	}
	return h;
}

static uint64_t
run_parse_invite(uint64_t iters)
{
	return run_parse(&in_invite, iters);
}

static uint64_t
run_parse_ok(uint64_t iters)
{
	return run_parse(&in_ok, iters);
}

static uint64_t
run_encode(uint64_t iters)
{
	uint64_t h = 0;

	for (uint64_t i = 0; i < iters; i++) {
		clobber(&invite);
		buf_reset(&out);
		if (sip_enc_reply(&out, &invite, 200, NULL,
		        SLICE_LIT("8321234356"), SLICE_LIT(reply_extra),
		        SLICE_LIT("application/sdp"), SLICE_LIT(SDP_BODY)) != 0)
			abort();
		h += out.len;
	}
	return h;
}

/* The floor: finding every line end is the least any parser must do. */
static uint64_t
run_memchr(const struct input *in, uint64_t iters)
{
	uint64_t h = 0;

	for (uint64_t i = 0; i < iters; i++) {
		const char *q = in->p, *end = in->p + in->n;
		clobber(in->p);
		while ((q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
			h++;
			q++;
		}
	}
	return h;
}

static uint64_t
run_strlen(const struct input *in, uint64_t iters)
{
	uint64_t h = 0;

	for (uint64_t i = 0; i < iters; i++) {
		clobber(in->p);
		h += strlen(in->p);
	}
	return h;
}

static uint64_t
run_memchr_invite(uint64_t iters)
{
	return run_memchr(&in_invite, iters);
}

static uint64_t
run_strlen_invite(uint64_t iters)
{
	return run_strlen(&in_invite, iters);
}

static uint64_t
run_memchr_ok(uint64_t iters)
{
	return run_memchr(&in_ok, iters);
}

static uint64_t
run_strlen_ok(uint64_t iters)
{
	return run_strlen(&in_ok, iters);
}

static uint64_t
run_memchr_reply(uint64_t iters)
{
	return run_memchr(&in_reply, iters);
}

static uint64_t
run_strlen_reply(uint64_t iters)
{
	return run_strlen(&in_reply, iters);
}

struct bcase {
	const char *id;   /* JSON key */
	const char *name; /* table label */
	uint64_t (*run)(uint64_t iters);
	const struct input *in;
	int floor_memchr; /* index of its floors, -1 for a floor itself */
	int floor_strlen;
	/* Results */
	uint64_t iters;
	double wall_med, wall_min, wall_max; /* ns per message */
	double cpu_med;
};

static struct bcase cases[] = {
    {"parse_invite", "parse INVITE+SDP (stream)", run_parse_invite, &in_invite,
        3, 4, 0, 0, 0, 0, 0},
    {"parse_200ok", "parse 200 OK+SDP (stream)", run_parse_ok, &in_ok, 5, 6, 0,
        0, 0, 0, 0},
    {"encode_200ok", "encode 200 OK reply", run_encode, &in_reply, 7, 8, 0, 0,
        0, 0, 0},
    {"floor_memchr_invite", "floor: memchr '\\n' INVITE", run_memchr_invite,
        &in_invite, -1, -1, 0, 0, 0, 0, 0},
    {"floor_strlen_invite", "floor: strlen INVITE", run_strlen_invite,
        &in_invite, -1, -1, 0, 0, 0, 0, 0},
    {"floor_memchr_200ok", "floor: memchr '\\n' 200 OK", run_memchr_ok, &in_ok,
        -1, -1, 0, 0, 0, 0, 0},
    {"floor_strlen_200ok", "floor: strlen 200 OK", run_strlen_ok, &in_ok, -1,
        -1, 0, 0, 0, 0, 0},
    {"floor_memchr_reply", "floor: memchr '\\n' reply", run_memchr_reply,
        &in_reply, -1, -1, 0, 0, 0, 0, 0},
    {"floor_strlen_reply", "floor: strlen reply", run_strlen_reply, &in_reply,
        -1, -1, 0, 0, 0, 0, 0},
};
#define NCASES   (sizeof(cases) / sizeof(cases[0]))
#define MAX_REPS 64

static double
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Finds an iteration count that runs for about target_ns. */
static uint64_t
calibrate(const struct bcase *c, double target_ns)
{
	uint64_t n = 1;

	for (;;) {
		double t0 = now_ns(CLOCK_MONOTONIC);
		sink += c->run(n);
		double dt = now_ns(CLOCK_MONOTONIC) - t0;
		if (dt >= 5e6 || n >= (UINT64_C(1) << 40)) {
			double per = dt / (double)n;
			double want = target_ns / (per > 0 ? per : 1);
			return want < 1 ? 1 : (uint64_t)want;
		}
		n *= 4;
	}
}

static void
measure(struct bcase *c, int reps, double rep_ns)
{
	double wall[MAX_REPS], cpu[MAX_REPS];

	c->iters = calibrate(c, rep_ns);
	for (int r = 0; r < reps; r++) {
		double w0 = now_ns(CLOCK_MONOTONIC);
		double c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		sink += c->run(c->iters);
		double c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		double w1 = now_ns(CLOCK_MONOTONIC);
		wall[r] = (w1 - w0) / (double)c->iters;
		cpu[r] = (c1 - c0) / (double)c->iters;
	}
	qsort(wall, (size_t)reps, sizeof(double), cmp_double);
	qsort(cpu, (size_t)reps, sizeof(double), cmp_double);
	c->wall_med = wall[reps / 2];
	c->wall_min = wall[0];
	c->wall_max = wall[reps - 1];
	c->cpu_med = cpu[reps / 2];
}

/* Pins to CPU 0 so that every figure comes from the same core. */
static int
pin_cpu0(void)
{
#ifdef __linux__
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == 0)
		return 0;
#endif
	return -1;
}

/* Parses the inputs once, untimed, so that a broken parser fails loudly. */
static int
prepare(void)
{
	struct sip_perr err;

	in_invite = (struct input){invite_text, sizeof(invite_text) - 1};
	in_ok = (struct input){ok_text, sizeof(ok_text) - 1};
	if (sip_msg_parse(
	        &invite, in_invite.p, in_invite.n, true, &lim, &err) != 0) {
		fprintf(stderr, "bench_parse: INVITE does not parse: %s\n",
		    err.reason);
		return -1;
	}
	if (invite.body.n != sizeof(SDP_BODY) - 1 ||
	    sip_msg_parse(&msg, in_ok.p, in_ok.n, true, &lim, &err) != 0 ||
	    msg.body.n != sizeof(SDP_BODY) - 1) {
		fprintf(stderr, "bench_parse: 200 OK does not parse: %s\n",
		    err.reason);
		return -1;
	}
	buf_init(&out);
	if (sip_enc_reply(&out, &invite, 200, NULL, SLICE_LIT("8321234356"),
	        SLICE_LIT(reply_extra), SLICE_LIT("application/sdp"),
	        SLICE_LIT(SDP_BODY)) != 0 ||
	    buf_append(&out, "", 1) != 0) {
		fprintf(stderr, "bench_parse: cannot encode the reply\n");
		return -1;
	}
	/* The floors scan a NUL-terminated copy of the reply. */
	if ((reply_copy = malloc(out.len)) == NULL)
		return -1;
	memcpy(reply_copy, out.p, out.len);
	in_reply = (struct input){reply_copy, out.len - 1};
	if (sip_msg_parse(&msg, in_reply.p, in_reply.n, true, &lim, &err) !=
	    0) {
		fprintf(stderr, "bench_parse: the reply does not parse: %s\n",
		    err.reason);
		return -1;
	}
	return 0;
}

static double
ratio(const struct bcase *c, int floor)
{
	if (floor < 0 || cases[floor].wall_med <= 0)
		return 0;
	return c->wall_med / cases[floor].wall_med;
}

static void
print_table(FILE *f, int reps)
{
	fprintf(f, "| case | bytes | msgs/s | ns/msg (median) | min | max | "
	           "CPU ns/msg | x memchr | x strlen |\n");
	fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < NCASES; i++) {
		const struct bcase *c = &cases[i];
		fprintf(f, "| %s | %zu | %.0f | %.1f | %.1f | %.1f | %.1f |",
		    c->name, c->in->n, 1e9 / c->wall_med, c->wall_med,
		    c->wall_min, c->wall_max, c->cpu_med);
		if (c->floor_memchr >= 0)
			fprintf(f, " %.1f | %.1f |\n",
			    ratio(c, c->floor_memchr),
			    ratio(c, c->floor_strlen));
		else
			fprintf(f, " - | - |\n");
	}
	fprintf(f,
	    "\n%d runs per case; median, min and max of wall-clock "
	    "ns per message; x = median over the floor's median on "
	    "the same bytes.\n",
	    reps);
}

static int
write_json(const char *path, const char *mode, int reps, double rep_ns,
    int pinned, const struct rusage *ru)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "bench_parse: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(
	    f, "{\n  \"bench\": \"bench_parse\",\n  \"mode\": \"%s\",\n", mode);
	fprintf(f, "  \"reps\": %d,\n  \"target_ns_per_rep\": %.0f,\n", reps,
	    rep_ns);
	fprintf(f, "  \"pinned_cpu\": %d,\n", pinned == 0 ? 0 : -1);
	fprintf(f,
	    "  \"rusage\": {\"user_s\": %.3f, \"sys_s\": %.3f, "
	    "\"vol_ctxsw\": %ld, \"invol_ctxsw\": %ld},\n",
	    (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6,
	    (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6,
	    ru->ru_nvcsw, ru->ru_nivcsw);
	fprintf(f, "  \"cases\": {\n");
	for (size_t i = 0; i < NCASES; i++) {
		const struct bcase *c = &cases[i];
		fprintf(f,
		    "    \"%s\": {\"bytes\": %zu, \"iters_per_rep\": %llu, "
		    "\"msgs_per_s\": %.0f, \"ns_per_msg\": {\"median\": %.2f, "
		    "\"min\": %.2f, \"max\": %.2f}, \"cpu_ns_per_msg\": %.2f",
		    c->id, c->in->n, (unsigned long long)c->iters,
		    1e9 / c->wall_med, c->wall_med, c->wall_min, c->wall_max,
		    c->cpu_med);
		if (c->floor_memchr >= 0)
			fprintf(f,
			    ", \"ratio_memchr\": %.2f, \"ratio_strlen\": %.2f",
			    ratio(c, c->floor_memchr),
			    ratio(c, c->floor_strlen));
		fprintf(f, "}%s\n", i + 1 < NCASES ? "," : "");
	}
	fprintf(f, "  }\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "bench_parse: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_parse [--smoke] [--reps N] "
	                "[--json FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *json = NULL, *mode = "full";
	int reps = 7, pinned;
	double rep_ns = 1e9; /* full: about 1 s per run of each case */
	struct rusage ru;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0) {
			mode = "smoke";
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json = argv[++i];
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			reps = atoi(argv[++i]);
			if (reps < 1 || reps > MAX_REPS)
				usage();
		} else {
			usage();
		}
	}
	/* Smoke: about 0.2 s per case in all, only to show it still runs. */
	if (strcmp(mode, "smoke") == 0)
		rep_ns = 0.2e9 / reps;

	pinned = pin_cpu0();
	if (prepare() != 0)
		return 1;
	for (size_t i = 0; i < NCASES; i++)
		measure(&cases[i], reps, rep_ns);
	getrusage(RUSAGE_SELF, &ru);

	printf("bench_parse (%s): INVITE %zu bytes, 200 OK %zu bytes, reply "
	       "%zu bytes; %s\n\n",
	    mode, in_invite.n, in_ok.n, in_reply.n,
	    pinned == 0 ? "pinned to CPU 0" : "not pinned");
	print_table(stdout, reps);
	if (json && write_json(json, mode, reps, rep_ns, pinned, &ru) != 0)
		return 1;
	buf_free(&out);
	free(reply_copy);
	return 0;
}
