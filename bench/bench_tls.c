/* TLS on one core: handshakes through ngvoice's contexts against plain OpenSSL, and memory per idle connection in the SIP transport. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sched.h>
#endif
#if defined(__GLIBC__) &&                                                      \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif

#include "core/log.h"
#include "core/sa.h"
#include "pki/cert.h"
#include "sip/transport.h"
#include "tls/ctx.h"
#include "tls/profile.h"

#define MAX_REPS 64

/* Kamailio's memory per TLS connection as published; not measured here. */
#define KAMAILIO_KB_PER_TLS_CONN 61.0

static volatile uint64_t sink;

static double
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* CPU time of this thread: what one side of a handshake costs. */
static double
cpu_ns(void)
{
	return now_ns(CLOCK_THREAD_CPUTIME_ID);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n), sorting v; min and max on the side. */
static double
median(double *v, int n, double *min, double *max)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	if (min)
		*min = v[0];
	if (max)
		*max = v[n - 1];
	return v[n / 2];
}

static int
pin_cpu(int cpu)
{
#ifdef __linux__
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == 0)
		return 0;
#else
	(void)cpu;
#endif
	return -1;
}

/* Identities, generated at start into a temporary directory. */

enum ident_key { ID_P256, ID_P384, ID_RSA2048, ID__COUNT };

static const struct {
	enum pki_keytype type;
	const char *slug;
	const char *label;
} idkeys[ID__COUNT] = {
    [ID_P256] = {PKI_KEY_EC_P256, "p256", "ECDSA P-256"},
    [ID_P384] = {PKI_KEY_EC_P384, "p384", "ECDSA P-384"},
    [ID_RSA2048] = {PKI_KEY_RSA2048, "rsa2048", "RSA-2048"},
};

struct ident {
	char cert[600], key[600];
};

static char tmpdir[512];
static struct ident srv_id[ID__COUNT], cli_id[ID__COUNT];

static int
ident_make(struct ident *id, enum ident_key k, const char *role)
{
	char cn[64];

	snprintf(id->cert, sizeof(id->cert), "%s/%s-%s.pem", tmpdir, role,
	    idkeys[k].slug);
	snprintf(id->key, sizeof(id->key), "%s/%s-%s.key", tmpdir, role,
	    idkeys[k].slug);
	snprintf(cn, sizeof(cn), "bench-%s-%s.localhost", role, idkeys[k].slug);
	if (pki_selfsigned(idkeys[k].type, cn,
	        "DNS:bench.localhost,IP:127.0.0.1", 2, id->cert,
	        id->key) != 0) {
		fprintf(stderr, "bench_tls: cannot make the %s %s identity\n",
		    role, idkeys[k].slug);
		return -1;
	}
	return 0;
}

static int
idents_make(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/bench_tls.XXXXXX",
	    t && *t ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		fprintf(stderr, "bench_tls: mkdtemp %s: %s\n", tmpdir,
		    strerror(errno));
		tmpdir[0] = '\0';
		return -1;
	}
	for (int k = 0; k < ID__COUNT; k++)
		if (ident_make(&srv_id[k], (enum ident_key)k, "server") != 0 ||
		    ident_make(&cli_id[k], (enum ident_key)k, "client") != 0)
			return -1;
	return 0;
}

static void
idents_remove(void)
{
	if (tmpdir[0] == '\0')
		return;
	for (int k = 0; k < ID__COUNT; k++) {
		unlink(srv_id[k].cert);
		unlink(srv_id[k].key);
		unlink(cli_id[k].cert);
		unlink(cli_id[k].key);
	}
	rmdir(tmpdir);
}

/* Part 1: handshakes in memory, client and server over a BIO pair. */

enum resume { RES_NONE, RES_TICKET, RES_CACHE };

/* One side of a comparison: ngvoice's contexts or raw OpenSSL ones. */
struct hstack {
	SSL_CTX *sctx, *cctx; /* owned */
	SSL_SESSION *sess;    /* owned: what a resumed case offers */
	bool sid_ctx_added;   /* bench-only: resumption needed it */
	char as_built[400];   /* what resumption did without it */
	char suite[64], group[32];
	uint64_t hs;      /* timed handshakes in all reps */
	double srv_reads; /* timed intervals per handshake, server side */
	double srv_us[MAX_REPS], cli_us[MAX_REPS], wall_us[MAX_REPS];
	double srv_med, srv_min, srv_max, cli_med, wall_med;
};

struct hcase {
	const char *id;   /* JSON key */
	const char *name; /* table label */
	enum ident_key key;
	bool mutual;
	enum resume resume;
	enum tls_ciphers ciphers;
	bool raw_groups;     /* the reference gets ngvoice's ECDHE groups */
	const char *earlier; /* the figure in real-clients.md, or NULL */
	bool ran;
	struct hstack ngv, raw;
};

#define DEF TLS_CIPHERS_DEFAULT_OPTION

#define FULL(key_, mut_)                                                       \
	.key = key_, .mutual = mut_, .resume = RES_NONE, .ciphers = DEF
#define RESUMED(how_, mut_)                                                    \
	.key = ID_P256, .mutual = mut_, .resume = how_, .ciphers = DEF

static struct hcase hcases[] = {
    {"p256_full", "ECDSA P-256, full", FULL(ID_P256, false),
        .earlier = "~1,600/s"},
    {"p256_full_mutual", "ECDSA P-256, full, mutual", FULL(ID_P256, true),
        .earlier = "~520/s"},
    {"p384_full", "ECDSA P-384, full", FULL(ID_P384, false),
        .earlier = "~160/s"},
    {"p384_full_mutual", "ECDSA P-384, full, mutual", FULL(ID_P384, true)},
    {"p384_full_strongest", "ECDSA P-384, full, Strongest ECDSA option",
        .key = ID_P384, .resume = RES_NONE,
        .ciphers = TLS_CIPHERS_STRONGEST_ECDSA},
    {"rsa2048_full", "RSA-2048, full", FULL(ID_RSA2048, false),
        .earlier = "~900/s"},
    {"rsa2048_full_mutual", "RSA-2048, full, mutual", FULL(ID_RSA2048, true)},
    {"p256_resumed_ticket", "ECDSA P-256, resumed (ticket)",
        RESUMED(RES_TICKET, false), .earlier = "8,000-10,000/s"},
    {"p256_resumed_ticket_mutual", "ECDSA P-256, resumed (ticket), mutual",
        RESUMED(RES_TICKET, true)},
    {"p256_resumed_cache", "ECDSA P-256, resumed (session ID cache)",
        RESUMED(RES_CACHE, false)},
    {"p256_resumed_cache_mutual",
        "ECDSA P-256, resumed (session ID cache), mutual",
        RESUMED(RES_CACHE, true)},
    /* The same handshakes with the reference on ngvoice's ECDHE groups. */
    {"p256_full_same_groups", "ECDSA P-256, full, same groups",
        FULL(ID_P256, false), .raw_groups = true},
    {"p256_full_mutual_same_groups", "ECDSA P-256, full, mutual, same groups",
        FULL(ID_P256, true), .raw_groups = true},
    {"rsa2048_full_same_groups", "RSA-2048, full, same groups",
        FULL(ID_RSA2048, false), .raw_groups = true},
};
#define NHCASES (sizeof(hcases) / sizeof(hcases[0]))

static SSL_CTX *
ngv_ctx(const struct hcase *hc, bool server)
{
	struct tls_opts o;
	SSL_CTX *ctx = NULL;

	tls_opts_default(&o);
	o.ciphers = hc->ciphers;
	o.what = server ? "bench server" : "bench client";
	if (server) {
		o.cert = srv_id[hc->key].cert;
		o.key = srv_id[hc->key].key;
		o.verify_peer = hc->mutual;
		o.ca_file = hc->mutual ? cli_id[hc->key].cert : NULL;
	} else {
		/* A phone: verifies the server, presents its LSC if asked. */
		if (hc->mutual) {
			o.cert = cli_id[hc->key].cert;
			o.key = cli_id[hc->key].key;
		}
		o.ca_file = srv_id[hc->key].cert;
		o.verify_peer = true;
	}
	if (tls_ctx_new(&ctx, server, &o) != 0)
		return NULL;
	return ctx;
}

/*
 * The reference: SSL_CTX_new with certificate and key and OpenSSL's defaults
 * otherwise. Only what the same handshake needs is added: TLS 1.2 at most on
 * the client (the default would be 1.3), the peer's trust anchor and the
 * verify flags, so that both stacks do the same signatures and checks.
 */
static SSL_CTX *
raw_ctx(const struct hcase *hc, bool server)
{
	SSL_CTX *ctx =
	    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	const struct ident *me = server ? &srv_id[hc->key] : &cli_id[hc->key];
	const struct ident *peer = server ? &cli_id[hc->key] : &srv_id[hc->key];
	bool present = server || hc->mutual, verify = !server || hc->mutual;

	if (ctx == NULL)
		return NULL;
	if (!server && SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	if (hc->raw_groups &&
	    SSL_CTX_set1_groups_list(ctx, tls_ciphers_groups(hc->ciphers)) != 1)
		goto fail;
	if (present &&
	    (SSL_CTX_use_certificate_chain_file(ctx, me->cert) != 1 ||
	        SSL_CTX_use_PrivateKey_file(ctx, me->key, SSL_FILETYPE_PEM) !=
	            1))
		goto fail;
	if (verify) {
		if (SSL_CTX_load_verify_locations(ctx, peer->cert, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER |
		        (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
		    NULL);
	}
	return ctx;
fail:
	ERR_print_errors_fp(stderr);
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * CPU time of each side, and how many intervals were timed: each one also
 * holds part of the clock reads around it (clk_bias_ns), taken off later.
 */
struct hs_cost {
	double srv, cli; /* CPU ns */
	unsigned long srv_n, cli_n;
};

static double clk_bias_ns; /* an empty interval, as the CPU clock sees it */
static double clk_read_ns; /* one CPU clock read, wall-clock */

/* Adds the CPU time since t0 to one side. */
static void
charge(double *acc, unsigned long *n, double t0)
{
	*acc += cpu_ns() - t0;
	(*n)++;
}

/* Runs one side one step; 0 while the handshake goes on or is done. */
static int
hs_step(SSL *ssl, double *acc, unsigned long *nacc, bool *done, const char *who,
    char *why, size_t whysz)
{
	double t = cpu_ns();
	int r = SSL_do_handshake(ssl);
	charge(acc, nacc, t);
	int e;
	unsigned long oe;

	if (r == 1) {
		*done = true;
		return 0;
	}
	e = SSL_get_error(ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	oe = ERR_peek_error();
	snprintf(why, whysz, "%s: %s", who,
	    oe ? ERR_reason_error_string(oe) : "closed by peer (alert)");
	ERR_clear_error();
	return -1;
}

/*
 * One handshake over a BIO pair. Each side's CPU time (SSL_new, every
 * SSL_do_handshake call, SSL_shutdown and SSL_free) is added to cost. offer: a session for
 * the client to resume; keep: receives the client's session. *reused says
 * whether both sides resumed. Returns 0 or -1 with the reason in why.
 */
static int
handshake(struct hstack *st, SSL_SESSION *offer, bool no_ticket,
    struct hs_cost *cost, bool *reused, SSL_SESSION **keep, bool names,
    char *why, size_t whysz)
{
	SSL *s, *c;
	BIO *sb = NULL, *cb = NULL;
	bool sdone = false, cdone = false;
	int rc = -1;
	double t;

	t = cpu_ns();
	s = SSL_new(st->sctx);
	charge(&cost->srv, &cost->srv_n, t);
	t = cpu_ns();
	c = SSL_new(st->cctx);
	if (c && offer)
		SSL_set_session(c, offer);
	if (c && no_ticket)
		SSL_set_options(c, SSL_OP_NO_TICKET);
	charge(&cost->cli, &cost->cli_n, t);
	if (s == NULL || c == NULL || BIO_new_bio_pair(&sb, 0, &cb, 0) != 1) {
		snprintf(why, whysz, "out of memory");
		SSL_free(s);
		SSL_free(c);
		return -1;
	}
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int round = 0; round < 16 && !(sdone && cdone); round++) {
		if (!cdone && hs_step(c, &cost->cli, &cost->cli_n, &cdone,
		                  "client", why, whysz) != 0)
			goto out;
		if (!sdone && hs_step(s, &cost->srv, &cost->srv_n, &sdone,
		                  "server", why, whysz) != 0)
			goto out;
	}
	if (!(sdone && cdone)) {
		snprintf(why, whysz, "the handshake did not finish");
		goto out;
	}
	*reused = SSL_session_reused(s) && SSL_session_reused(c);
	if (names) {
		int g = SSL_get_negotiated_group(s);
		const char *gn = g ? SSL_group_to_name(s, g) : NULL;
		snprintf(
		    st->suite, sizeof(st->suite), "%s", SSL_get_cipher_name(s));
		/* A resumed TLS 1.2 handshake exchanges no keys. */
		snprintf(st->group, sizeof(st->group), "%s",
		    *reused ? "no key exchange"
		    : gn    ? gn
		            : "none");
	}
	if (keep)
		*keep = SSL_get1_session(c);
	rc = 0;
out:
	/*
	 * Close as the transport does: an SSL freed without sending
	 * close_notify marks its session not resumable, on either side.
	 */
	t = cpu_ns();
	if (rc == 0)
		SSL_shutdown(s);
	SSL_free(s);
	charge(&cost->srv, &cost->srv_n, t);
	t = cpu_ns();
	if (rc == 0)
		SSL_shutdown(c);
	SSL_free(c);
	charge(&cost->cli, &cost->cli_n, t);
	ERR_clear_error();
	return rc;
}

/* Gets a session for the client to offer, from a full handshake. */
static int
prime(struct hcase *hc, struct hstack *st, char *why, size_t whysz)
{
	struct hs_cost cost = {0, 0, 0, 0};
	bool reused;

	SSL_SESSION_free(st->sess);
	st->sess = NULL;
	if (handshake(st, NULL, hc->resume == RES_CACHE, &cost, &reused,
	        &st->sess, false, why, whysz) != 0)
		return -1;
	if (st->sess == NULL) {
		snprintf(why, whysz, "no session after the handshake");
		return -1;
	}
	return 0;
}

/*
 * Makes a stack's contexts and checks that its handshake works. For a
 * resumed case, first tries resumption with the contexts as they are and
 * notes what happened; if it did not resume, the server context gets a
 * session id context (bench only) so that what resumption would give can be
 * measured.
 */
static int
stack_prepare(struct hcase *hc, struct hstack *st, bool ngv)
{
	const char *who = ngv ? "ngvoice" : "raw";
	struct hs_cost cost = {0, 0, 0, 0};
	char why[300];
	bool reused = false;

	st->sctx = ngv ? ngv_ctx(hc, true) : raw_ctx(hc, true);
	st->cctx = ngv ? ngv_ctx(hc, false) : raw_ctx(hc, false);
	if (st->sctx == NULL || st->cctx == NULL) {
		fprintf(stderr, "bench_tls: %s %s: cannot make the contexts\n",
		    hc->name, who);
		return -1;
	}
	if (hc->resume == RES_NONE) {
		if (handshake(st, NULL, false, &cost, &reused, NULL, true, why,
		        sizeof(why)) != 0)
			goto fail;
		return 0;
	}
	if (prime(hc, st, why, sizeof(why)) != 0)
		goto fail;
	if (handshake(st, st->sess, hc->resume == RES_CACHE, &cost, &reused,
	        NULL, true, why, sizeof(why)) != 0) {
		snprintf(st->as_built, sizeof(st->as_built),
		    "resumption attempt fails the handshake (%s)", why);
	} else if (!reused) {
		snprintf(st->as_built, sizeof(st->as_built),
		    "not resumed: a full handshake instead");
	} else {
		snprintf(st->as_built, sizeof(st->as_built), "resumed");
		return 0;
	}
	if (SSL_CTX_set_session_id_context(
	        st->sctx, (const unsigned char *)"bench_tls", 9) != 1) {
		snprintf(why, sizeof(why), "SSL_CTX_set_session_id_context");
		goto fail;
	}
	st->sid_ctx_added = true;
	if (prime(hc, st, why, sizeof(why)) != 0 ||
	    handshake(st, st->sess, hc->resume == RES_CACHE, &cost, &reused,
	        NULL, true, why, sizeof(why)) != 0)
		goto fail;
	if (!reused) {
		snprintf(why, sizeof(why),
		    "not resumed even with a session id context");
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "bench_tls: %s %s: %s\n", hc->name, who, why);
	return -1;
}

static void
stack_free(struct hstack *st)
{
	SSL_SESSION_free(st->sess);
	SSL_CTX_free(st->sctx);
	SSL_CTX_free(st->cctx);
	st->sess = NULL;
	st->sctx = st->cctx = NULL;
}

/* Handshakes for about rep_ns (at least min_hs); one rep's figures. */
static int
run_rep(
    struct hcase *hc, struct hstack *st, int r, double rep_ns, unsigned min_hs)
{
	struct hs_cost cost = {0, 0, 0, 0};
	bool want_reused = hc->resume != RES_NONE;
	uint64_t n = 0;
	double w0 = now_ns(CLOCK_MONOTONIC), w;
	char why[300];

	do {
		bool reused = false;
		if (handshake(st, st->sess, hc->resume == RES_CACHE, &cost,
		        &reused, NULL, false, why, sizeof(why)) != 0) {
			fprintf(stderr, "bench_tls: %s: %s\n", hc->name, why);
			return -1;
		}
		if (reused != want_reused) {
			fprintf(stderr, "bench_tls: %s: a handshake %s\n",
			    hc->name,
			    reused ? "resumed unexpectedly" : "did not resume");
			return -1;
		}
		n++;
		w = now_ns(CLOCK_MONOTONIC) - w0;
	} while (n < min_hs || w < rep_ns);
	/* Take off what the clock reads themselves added. */
	st->srv_us[r] =
	    (cost.srv - (double)cost.srv_n * clk_bias_ns) / (double)n / 1e3;
	st->cli_us[r] =
	    (cost.cli - (double)cost.cli_n * clk_bias_ns) / (double)n / 1e3;
	st->wall_us[r] =
	    (w - 2.0 * (double)(cost.srv_n + cost.cli_n) * clk_read_ns) /
	    (double)n / 1e3;
	st->srv_reads = (double)cost.srv_n / (double)n;
	st->hs += n;
	return 0;
}

static void
stack_summarize(struct hstack *st, int reps)
{
	st->srv_med = median(st->srv_us, reps, &st->srv_min, &st->srv_max);
	st->cli_med = median(st->cli_us, reps, NULL, NULL);
	st->wall_med = median(st->wall_us, reps, NULL, NULL);
}

static int
bench_handshakes(int reps, double rep_ns, unsigned min_hs, const char *only)
{
	for (size_t i = 0; i < NHCASES; i++) {
		struct hcase *hc = &hcases[i];
		int rc = -1;

		if (only && strstr(hc->id, only) == NULL)
			continue;
		fprintf(stderr, "bench_tls: %s\n", hc->name);
		if (stack_prepare(hc, &hc->ngv, true) != 0 ||
		    stack_prepare(hc, &hc->raw, false) != 0)
			goto next;
		/* Alternate the stacks so that drift touches both alike. */
		for (int r = 0; r < reps; r++)
			if (run_rep(hc, &hc->ngv, r, rep_ns, min_hs) != 0 ||
			    run_rep(hc, &hc->raw, r, rep_ns, min_hs) != 0)
				goto next;
		stack_summarize(&hc->ngv, reps);
		stack_summarize(&hc->raw, reps);
		hc->ran = true;
		rc = 0;
	next:
		stack_free(&hc->ngv);
		stack_free(&hc->raw);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/*
 * What reading the CPU clock costs (a system call on many machines): the
 * wall-clock time of one read, and what an empty interval measures.
 */
static void
clock_cost(void)
{
	enum { N = 2001 };
	static double empty[N];
	double t0 = now_ns(CLOCK_MONOTONIC);

	for (int i = 0; i < 20000; i++)
		sink += (uint64_t)cpu_ns();
	clk_read_ns = (now_ns(CLOCK_MONOTONIC) - t0) / 20000;
	for (int i = 0; i < N; i++) {
		double t = cpu_ns();
		empty[i] = cpu_ns() - t;
	}
	clk_bias_ns = median(empty, N, NULL, NULL);
}

/*
 * Part 2: memory per idle connection. A server process (forked per run so
 * that no run inherits another's freed memory) holds a sip_tp listener; its
 * own child connects to it and keeps the connections open.
 */

enum mem_kind { MEM_TCP, MEM_TLS, MEM_TLS_RELBUF, MEM__COUNT };

static const struct {
	const char *id;
	const char *name;
} mem_kinds[MEM__COUNT] = {
    [MEM_TCP] = {"tcp", "idle TCP (sip_tp)"},
    [MEM_TLS] = {"tls_mutual", "idle mutual TLS (sip_tp, ngvoice context)"},
    [MEM_TLS_RELBUF] = {"tls_mutual_release_buffers",
        "idle mutual TLS + SSL_MODE_RELEASE_BUFFERS (bench-only)"},
};

struct mem_result {
	int ok;
	unsigned conns;
	double rss_kb, heap_kb, maxrss_kb, cpu_us; /* per connection */
};

struct mem_stats {
	double rss[MAX_REPS], heap[MAX_REPS], maxrss[MAX_REPS], cpu[MAX_REPS];
	double rss_med, rss_min, rss_max, heap_med, maxrss_med, cpu_med;
};

static struct mem_stats mem[MEM__COUNT];

struct sample {
	double rss_kb, heap_kb, maxrss_kb, cpu_us;
};

static void
sample_take(struct sample *s)
{
	struct rusage ru;
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	s->rss_kb = (double)res * (double)sysconf(_SC_PAGESIZE) / 1024.0;
#ifdef HAVE_MALLINFO2
	struct mallinfo2 mi = mallinfo2();
	s->heap_kb = (double)(mi.uordblks + mi.hblkhd) / 1024.0;
#else
	s->heap_kb = 0;
#endif
	getrusage(RUSAGE_SELF, &ru);
	s->maxrss_kb = (double)ru.ru_maxrss;
	s->cpu_us =
	    (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	    (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

static SSL_CTX *
mem_ctx(bool server, bool relbuf)
{
	struct tls_opts o;
	SSL_CTX *ctx = NULL;

	/* A phone with an EC LSC against a call manager with an EC identity. */
	tls_opts_default(&o);
	o.what = server ? "bench server" : "bench client";
	o.cert = server ? srv_id[ID_P256].cert : cli_id[ID_P256].cert;
	o.key = server ? srv_id[ID_P256].key : cli_id[ID_P256].key;
	o.ca_file = server ? cli_id[ID_P256].cert : srv_id[ID_P256].cert;
	o.verify_peer = true;
	if (tls_ctx_new(&ctx, server, &o) != 0)
		return NULL;
	if (relbuf)
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

static int
read_full(int fd, void *p, size_t n)
{
	char *q = p;

	while (n > 0) {
		ssize_t r = read(fd, q, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
write_full(int fd, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t r = write(fd, q, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Opens one connection and, for TLS, completes the handshake. */
static int
client_connect(uint16_t port, SSL_CTX *ctx, int *fdp, SSL **sslp)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	*fdp = fd;
	if (ctx == NULL)
		return 0;
	*sslp = SSL_new(ctx);
	if (*sslp == NULL || SSL_set_fd(*sslp, fd) != 1 ||
	    SSL_connect(*sslp) != 1) {
		ERR_print_errors_fp(stderr);
		return -1;
	}
	return 0;
}

/*
 * The client process: warm connections, 'w', then after 'g' n more, 'd',
 * then holds them until 'q' or the server goes. 'x' reports a failure.
 */
static int
mem_client(enum mem_kind kind, unsigned n, unsigned warm, int in, int out)
{
	unsigned total = warm + n, opened = 0;
	SSL_CTX *ctx = NULL;
	int *fds = calloc(total, sizeof(int));
	SSL **ssl = calloc(total, sizeof(SSL *));
	uint16_t port;
	char b;
	int rc = 1;

	pin_cpu(1); /* off the server's core when there is another */
	if (fds == NULL || ssl == NULL || read_full(in, &port, 2) != 0)
		goto out;
	if (kind != MEM_TCP && (ctx = mem_ctx(false, false)) == NULL)
		goto out;
	for (; opened < warm; opened++)
		if (client_connect(port, ctx, &fds[opened], &ssl[opened]) != 0)
			goto out;
	if (write_full(out, "w", 1) != 0 || read_full(in, &b, 1) != 0)
		goto out;
	for (; opened < total; opened++)
		if (client_connect(port, ctx, &fds[opened], &ssl[opened]) != 0)
			goto out;
	if (write_full(out, "d", 1) != 0)
		goto out;
	(void)read_full(in, &b, 1); /* 'q', or the server went */
	rc = 0;
out:
	if (rc != 0) {
		fprintf(stderr, "bench_tls: client: %u of %u connections: %s\n",
		    opened, total, strerror(errno));
		(void)write_full(out, "x", 1);
	}
	for (unsigned i = 0; i < total && fds && ssl; i++) {
		SSL_free(ssl[i]);
		if (fds[i] > 0)
			close(fds[i]);
	}
	free(fds);
	free(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

struct mem_wait {
	struct event_base *base;
	struct sip_tp *tp;
	int from_cli; /* non-blocking */
	char last;    /* the client's last progress byte */
	char want_byte;
	unsigned want_conns;
	bool failed;
	double deadline;
};

static void
mem_tick(evutil_socket_t fd, short what, void *arg)
{
	struct mem_wait *w = arg;
	struct sip_tp_stats st;
	ssize_t r;
	char b;

	(void)fd;
	(void)what;
	while ((r = read(w->from_cli, &b, 1)) == 1)
		w->last = b;
	if (r == 0 || w->last == 'x' || now_ns(CLOCK_MONOTONIC) > w->deadline) {
		w->failed = true;
		event_base_loopbreak(w->base);
		return;
	}
	sip_tp_stats(w->tp, &st);
	if (w->last == w->want_byte && st.conns >= w->want_conns)
		event_base_loopbreak(w->base);
}

static void
mem_msg_h(const struct sip_msg *m, const struct sip_rx *rx, void *arg)
{
	(void)m;
	(void)rx;
	(void)arg;
}

/*
 * Runs the loop until the client reports want_byte and the server holds
 * conns connections, then a little longer.
 */
static int
mem_wait_for(struct mem_wait *w, char want_byte, unsigned conns)
{
	struct timeval settle = {0, 50 * 1000};

	w->want_byte = want_byte;
	w->want_conns = conns;
	w->deadline = now_ns(CLOCK_MONOTONIC) + 600e9;
	event_base_dispatch(w->base);
	if (w->failed)
		return -1;
	/*
	 * Let whatever the last handshakes left pending run out; the tick
	 * now only watches for failures.
	 */
	w->want_byte = '\0';
	event_base_loopexit(w->base, &settle);
	event_base_dispatch(w->base);
	return w->failed ? -1 : 0;
}

/* The server process: one measurement, written to res_fd. */
static int
mem_server(enum mem_kind kind, unsigned n, unsigned warm, int res_fd)
{
	struct mem_result res;
	struct mem_wait w;
	struct sip_tp_conf conf;
	struct sample s0, s1;
	struct event *tick = NULL;
	struct timeval tv = {0, 2000};
	SSL_CTX *ctx = NULL;
	struct sa laddr, bound;
	int to_cli[2], from_cli[2];
	uint16_t port;
	pid_t pid;
	int status;

	memset(&res, 0, sizeof(res));
	memset(&w, 0, sizeof(w));
	if (pipe(to_cli) != 0 || pipe(from_cli) != 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(to_cli[1]);
		close(from_cli[0]);
		close(res_fd);
		_exit(mem_client(kind, n, warm, to_cli[0], from_cli[1]));
	}
	close(to_cli[0]);
	close(from_cli[1]);
	w.from_cli = from_cli[0];
	fcntl(w.from_cli, F_SETFL, fcntl(w.from_cli, F_GETFL) | O_NONBLOCK);

	sip_tp_conf_default(&conf);
	conf.max_conns = warm + n + 16;
	if (kind != MEM_TCP &&
	    (ctx = mem_ctx(true, kind == MEM_TLS_RELBUF)) == NULL)
		goto out;
	if ((w.base = event_base_new()) == NULL ||
	    sip_tp_alloc(&w.tp, w.base, &conf, mem_msg_h, NULL) != 0 ||
	    sa_set_str(&laddr, "127.0.0.1", 0) != 0 ||
	    sip_tp_listen(w.tp, kind == MEM_TCP ? SIP_PROTO_TCP : SIP_PROTO_TLS,
	        &laddr, ctx, &bound) != 0)
		goto out;
	tick = event_new(w.base, -1, EV_PERSIST, mem_tick, &w);
	if (tick == NULL || event_add(tick, &tv) != 0)
		goto out;
	port = sa_port(&bound);
	if (write_full(to_cli[1], &port, 2) != 0)
		goto out;
	/* The warm-up connections take the one-time costs out of the figure. */
	if (mem_wait_for(&w, 'w', warm) != 0)
		goto out;
	sample_take(&s0);
	if (write_full(to_cli[1], "g", 1) != 0 ||
	    mem_wait_for(&w, 'd', warm + n) != 0)
		goto out;
	sample_take(&s1);
	res.ok = 1;
	res.conns = n;
	res.rss_kb = (s1.rss_kb - s0.rss_kb) / n;
	res.heap_kb = (s1.heap_kb - s0.heap_kb) / n;
	res.maxrss_kb = (s1.maxrss_kb - s0.maxrss_kb) / n;
	res.cpu_us = (s1.cpu_us - s0.cpu_us) / n;
out:
	(void)write_full(to_cli[1], "q", 1);
	close(to_cli[1]);
	waitpid(pid, &status, 0);
	if (tick)
		event_free(tick);
	sip_tp_free(w.tp);
	if (w.base)
		event_base_free(w.base);
	SSL_CTX_free(ctx);
	close(from_cli[0]);
	if (!res.ok)
		fprintf(stderr, "bench_tls: %s: the measurement failed\n",
		    mem_kinds[kind].name);
	return write_full(res_fd, &res, sizeof(res)) == 0 && res.ok ? 0 : 1;
}

static int
mem_measure(enum mem_kind kind, unsigned n, unsigned warm, int r)
{
	struct mem_result res;
	int p[2], status;
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		_exit(mem_server(kind, n, warm, p[1]));
	}
	close(p[1]);
	memset(&res, 0, sizeof(res));
	int got = read_full(p[0], &res, sizeof(res));
	close(p[0]);
	waitpid(pid, &status, 0);
	if (got != 0 || !res.ok || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	mem[kind].rss[r] = res.rss_kb;
	mem[kind].heap[r] = res.heap_kb;
	mem[kind].maxrss[r] = res.maxrss_kb;
	mem[kind].cpu[r] = res.cpu_us;
	return 0;
}

/* Enough descriptors for n connections in one process; may lower n. */
static unsigned
raise_nofile(unsigned n, unsigned warm)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + warm + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return n;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need)
		n = rl.rlim_cur > warm + 64 + 10
		        ? (unsigned)(rl.rlim_cur - warm - 64)
		        : 10;
	return n;
}

static int
bench_memory(int reps, unsigned n, unsigned warm)
{
	for (int r = 0; r < reps; r++)
		for (int k = 0; k < MEM__COUNT; k++) {
			fprintf(stderr, "bench_tls: %s, %u connections\n",
			    mem_kinds[k].name, n);
			if (mem_measure((enum mem_kind)k, n, warm, r) != 0)
				return -1;
		}
	for (int k = 0; k < MEM__COUNT; k++) {
		struct mem_stats *m = &mem[k];
		m->rss_med = median(m->rss, reps, &m->rss_min, &m->rss_max);
		m->heap_med = median(m->heap, reps, NULL, NULL);
		m->maxrss_med = median(m->maxrss, reps, NULL, NULL);
		m->cpu_med = median(m->cpu, reps, NULL, NULL);
	}
	return 0;
}

/* Output */

static double
ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static void
print_stack_row(
    FILE *f, const struct hcase *hc, const struct hstack *st, bool ngv)
{
	fprintf(f,
	    "| %s | %s%s | %s, %s | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f |",
	    hc->name,
	    ngv              ? "ngvoice"
	    : hc->raw_groups ? "raw OpenSSL + ngvoice's groups"
	                     : "raw OpenSSL",
	    st->sid_ctx_added ? " (+ session id context, bench-only)" : "",
	    st->suite, st->group, 1e6 / st->srv_med, st->srv_med, st->srv_min,
	    st->srv_max, st->cli_med, st->wall_med);
	if (ngv)
		fprintf(f, " %.2f | %s |\n",
		    ratio(hc->ngv.srv_med, hc->raw.srv_med),
		    hc->earlier ? hc->earlier : "-");
	else
		fprintf(f, " - | |\n");
}

/*
 * Both sides run on one core, so wall-clock time per handshake should be
 * close to their CPU time added up; much more means the core was shared.
 */
static double
wall_over_cpu(void)
{
	double worst = 0;

	for (size_t i = 0; i < NHCASES; i++) {
		const struct hstack *st[2] = {&hcases[i].ngv, &hcases[i].raw};
		if (!hcases[i].ran)
			continue;
		for (int k = 0; k < 2; k++) {
			double r = ratio(
			    st[k]->wall_med, st[k]->srv_med + st[k]->cli_med);
			if (r > worst)
				worst = r;
		}
	}
	return worst;
}

static void
print_handshakes(FILE *f, int reps)
{
	double reads = 0;

	fprintf(f, "### Full and resumed TLS 1.2 handshakes, in memory\n\n");
	fprintf(f, "| case | stack | suite, ECDHE group | handshakes/s on "
	           "server CPU | server CPU µs/hs (median) | min | max | "
	           "client CPU µs/hs | wall µs/hs (both sides) | x raw "
	           "(server CPU) | earlier (real-clients.md) |\n");
	fprintf(f, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (size_t i = 0; i < NHCASES; i++) {
		if (!hcases[i].ran)
			continue;
		print_stack_row(f, &hcases[i], &hcases[i].ngv, true);
		print_stack_row(f, &hcases[i], &hcases[i].raw, false);
		if (reads == 0)
			reads = hcases[i].ngv.srv_reads;
	}
	fprintf(f,
	    "\n%d run%s per stack and case, alternating ngvoice and raw; "
	    "median, min and max of server CPU µs per handshake "
	    "(CLOCK_THREAD_CPUTIME_ID around SSL_new, each "
	    "SSL_do_handshake, SSL_shutdown and SSL_free); x raw = "
	    "ngvoice's median over the reference's. A CPU clock read costs "
	    "%.0f ns here and adds %.0f ns to each timed interval (about "
	    "%.0f per handshake on the server side); that is taken off. The "
	    "earlier figures were measured through sockets, not in this "
	    "run.\n",
	    reps, reps == 1 ? "" : "s", clk_read_ns, clk_bias_ns, reads);
	for (size_t i = 0, first = 1; i < NHCASES; i++) {
		const struct hcase *hc = &hcases[i];
		if (!hc->ran || hc->resume == RES_NONE)
			continue;
		fprintf(f,
		    "%s- %s: ngvoice's contexts as built: %s; raw: %s.\n",
		    first ? "\n" : "", hc->name, hc->ngv.as_built,
		    hc->raw.as_built);
		first = 0;
	}
	if (wall_over_cpu() > 1.25)
		fprintf(f,
		    "\nWall-clock time exceeded the two sides' CPU time by up "
		    "to %.0f%%: something else ran on this core. The CPU "
		    "figures suffer less than the wall ones, but run again on "
		    "a quiet machine before trusting them.\n",
		    (wall_over_cpu() - 1) * 100);
	fprintf(f, "\n");
}

static void
print_memory(FILE *f, unsigned n, unsigned warm, int mem_reps)
{
	fprintf(f, "### Memory per idle connection in the SIP transport\n\n");
	fprintf(f, "| idle connection | connections | kB/conn RSS (median) | "
	           "min | max | heap kB/conn (malloc) | server CPU µs/conn | "
	           "x TCP (RSS) | x Kamailio (published) |\n");
	fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int k = 0; k < MEM__COUNT; k++) {
		const struct mem_stats *m = &mem[k];
		fprintf(f,
		    "| %s | %u | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f |",
		    mem_kinds[k].name, n, m->rss_med, m->rss_min, m->rss_max,
		    m->heap_med, m->cpu_med,
		    ratio(m->rss_med, mem[MEM_TCP].rss_med));
		if (k == MEM_TCP)
			fprintf(f, " - |\n");
		else
			fprintf(f, " %.2f |\n",
			    ratio(m->rss_med, KAMAILIO_KB_PER_TLS_CONN));
	}
	fprintf(f,
	    "| Kamailio TLS, published figure (not measured here) | - | "
	    "%.0f | - | - | - | - | - | 1 |\n",
	    KAMAILIO_KB_PER_TLS_CONN);
	fprintf(f,
	    "\n%d run%s of each, a fresh server process per run; growth of "
	    "the server's resident set (/proc/self/statm) from %u warm-up "
	    "connections to %u more, divided by %u. Mutual TLS 1.2 with "
	    "ECDSA P-256 identities on both sides; clients in a child "
	    "process on 127.0.0.1. Kernel socket buffers are not in RSS.\n",
	    mem_reps, mem_reps == 1 ? "" : "s", warm, n, n);
}

static void
json_stack(FILE *f, const struct hstack *st, int reps)
{
	fprintf(f,
	    "{\"suite\": \"%s\", \"group\": \"%s\", \"handshakes\": %llu, "
	    "\"server_cpu_us\": {\"median\": %.2f, \"min\": %.2f, "
	    "\"max\": %.2f}, \"server_hs_per_s\": %.0f, "
	    "\"client_cpu_us\": %.2f, \"wall_us\": %.2f, "
	    "\"server_timed_intervals\": %.1f, "
	    "\"session_id_context_added\": %s, \"runs_server_cpu_us\": [",
	    st->suite, st->group, (unsigned long long)st->hs, st->srv_med,
	    st->srv_min, st->srv_max, 1e6 / st->srv_med, st->cli_med,
	    st->wall_med, st->srv_reads, st->sid_ctx_added ? "true" : "false");
	for (int r = 0; r < reps; r++)
		fprintf(f, "%s%.2f", r ? ", " : "", st->srv_us[r]);
	fprintf(f, "]");
	if (st->as_built[0]) {
		/* The reason comes from OpenSSL: no quotes or backslashes. */
		fprintf(f, ", \"resumption_as_built\": \"%s\"", st->as_built);
	}
	fprintf(f, "}");
}

static int
write_json(const char *path, const char *mode, int reps, double rep_ns,
    int pinned, unsigned n, unsigned warm, int mem_reps,
    const struct rusage *ru)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "bench_tls: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(
	    f, "{\n  \"bench\": \"bench_tls\",\n  \"mode\": \"%s\",\n", mode);
	fprintf(f, "  \"reps\": %d,\n  \"target_ns_per_rep\": %.0f,\n", reps,
	    rep_ns);
	fprintf(f, "  \"pinned_cpu\": %d,\n", pinned == 0 ? 0 : -1);
	fprintf(f,
	    "  \"cpu_clock_read_ns\": %.1f,\n  \"cpu_clock_bias_ns\": %.1f,\n",
	    clk_read_ns, clk_bias_ns);
	fprintf(f, "  \"max_wall_over_cpu\": %.2f,\n", wall_over_cpu());
	fprintf(f,
	    "  \"rusage\": {\"user_s\": %.3f, \"sys_s\": %.3f, "
	    "\"vol_ctxsw\": %ld, \"invol_ctxsw\": %ld},\n",
	    (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6,
	    (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6,
	    ru->ru_nvcsw, ru->ru_nivcsw);
	fprintf(f, "  \"handshakes\": {\n");
	for (size_t i = 0, first = 1; i < NHCASES; i++) {
		const struct hcase *hc = &hcases[i];
		if (!hc->ran)
			continue;
		fprintf(f, "%s", first ? "" : ",\n");
		first = 0;
		fprintf(f,
		    "    \"%s\": {\"name\": \"%s\", \"tls_ciphers\": \"%s\", "
		    "\"mutual\": %s, \"raw_with_ngvoice_groups\": %s, "
		    "\"ratio_server_cpu\": %.3f,\n",
		    hc->id, hc->name, tls_ciphers_slug(hc->ciphers),
		    hc->mutual ? "true" : "false",
		    hc->raw_groups ? "true" : "false",
		    ratio(hc->ngv.srv_med, hc->raw.srv_med));
		fprintf(f, "      \"ngvoice\": ");
		json_stack(f, &hc->ngv, reps);
		fprintf(f, ",\n      \"raw\": ");
		json_stack(f, &hc->raw, reps);
		fprintf(f, "}");
	}
	fprintf(f, "\n  }");
	if (mem_reps == 0) {
		fprintf(f, "\n}\n");
		goto done;
	}
	fprintf(f, ",\n  \"memory\": {\n");
	fprintf(f,
	    "    \"connections\": %u, \"warmup_connections\": %u, "
	    "\"runs\": %d,\n",
	    n, warm, mem_reps);
	for (int k = 0; k < MEM__COUNT; k++) {
		const struct mem_stats *m = &mem[k];
		fprintf(f,
		    "    \"%s\": {\"rss_kb_per_conn\": {\"median\": %.2f, "
		    "\"min\": %.2f, \"max\": %.2f}, \"heap_kb_per_conn\": "
		    "%.2f, \"maxrss_kb_per_conn\": %.2f, "
		    "\"server_cpu_us_per_conn\": %.1f, \"ratio_tcp\": %.2f, "
		    "\"ratio_kamailio_published\": %.2f},\n",
		    mem_kinds[k].id, m->rss_med, m->rss_min, m->rss_max,
		    m->heap_med, m->maxrss_med, m->cpu_med,
		    ratio(m->rss_med, mem[MEM_TCP].rss_med),
		    ratio(m->rss_med, KAMAILIO_KB_PER_TLS_CONN));
	}
	fprintf(f, "    \"kamailio_published_kb_per_tls_conn\": %.0f\n  }\n}\n",
	    KAMAILIO_KB_PER_TLS_CONN);
done:
	if (fclose(f) != 0) {
		fprintf(stderr, "bench_tls: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_tls [--smoke] [--reps N] [--conns N] "
	    "[--json FILE]\n"
	    "                 [--only CASE-ID-PART] [--no-memory]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *json = NULL, *mode = "full", *only = NULL;
	bool memory = true;
	int reps = 5, mem_reps = 3, pinned, rc = 1;
	unsigned n = 2000, warm = 32, min_hs = 20;
	double rep_ns = 0.3e9;
	bool smoke = false;
	struct rusage ru;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0) {
			smoke = true;
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json = argv[++i];
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			reps = atoi(argv[++i]);
			if (reps < 1 || reps > MAX_REPS)
				usage();
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(argv[i], "--no-memory") == 0) {
			memory = false;
		} else if (strcmp(argv[i], "--conns") == 0 && i + 1 < argc) {
			n = (unsigned)atoi(argv[++i]);
			if (n < 1 || n > 100000)
				usage();
		} else {
			usage();
		}
	}
	/* Smoke: a few handshakes per case and 50 connections, only to
	 * show that it still runs. */
	if (smoke) {
		mode = "smoke";
		reps = reps > 3 ? 3 : reps;
		rep_ns = 0;
		min_hs = 2;
		mem_reps = 1;
		n = 50;
		warm = 8;
	}
	log_set_level(LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	pinned = pin_cpu(0);
	unsigned want = n;
	n = raise_nofile(n, warm);
	if (n < want)
		fprintf(stderr,
		    "bench_tls: RLIMIT_NOFILE allows only %u connections\n", n);

	if (idents_make() != 0)
		goto out;
	clock_cost();
	if (bench_handshakes(reps, rep_ns, min_hs, only) != 0)
		goto out;
	if (!memory)
		mem_reps = 0;
	else if (bench_memory(mem_reps, n, warm) != 0)
		goto out;
	getrusage(RUSAGE_SELF, &ru);

	printf("bench_tls (%s): TLS 1.2, %s; OpenSSL %s\n\n", mode,
	    pinned == 0 ? "pinned to CPU 0" : "not pinned",
	    OpenSSL_version(OPENSSL_VERSION_STRING));
	print_handshakes(stdout, reps);
	if (mem_reps > 0)
		print_memory(stdout, n, warm, mem_reps);
	if (json && write_json(json, mode, reps, rep_ns, pinned, n, warm,
	                mem_reps, &ru) != 0)
		goto out;
	rc = 0;
out:
	idents_remove();
	return rc;
}
