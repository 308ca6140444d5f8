/* SRTP protect+unprotect cost per packet, against raw OpenSSL EVP and libsrtp2 in the same run. */
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

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "media/srtp.h"

#ifdef LIBSRTP2_PATH
/* From tests/unit/test_srtp_libsrtp_ref.c: libsrtp2 through dlopen(), since
 * it exports srtp_protect() and srtp_init() like lib/media. */
struct ref;
int ref_open(const char *path);
int ref_create(struct ref **rp, int suite, const uint8_t *key, int outbound);
void ref_free(struct ref *r);
int ref_protect(struct ref *r, uint8_t *pkt, int *lenp);
int ref_unprotect(struct ref *r, uint8_t *pkt, int *lenp);
#endif

#define HDR_LEN  12
#define PAY_LEN  160
#define PKT_LEN  (HDR_LEN + PAY_LEN) /* 20 ms of G.711 */
#define BUF_CAP  256
#define MAX_REPS 64

enum impl { IMPL_OURS, IMPL_EVP, IMPL_LIBSRTP, IMPL_COUNT };

static const char *impl_id[IMPL_COUNT] = {"ngv", "evp_floor", "libsrtp2"};
static const char *impl_name[IMPL_COUNT] = {
    "ngv srtp", "floor: raw EVP", "libsrtp2"};
static const char *suite_id[SRTP_SUITE_COUNT] = {"aes_cm_128_hmac_sha1_80",
    "aes_cm_128_hmac_sha1_32", "aead_aes_128_gcm", "aead_aes_256_gcm"};
static const int stream_counts[] = {1, 2000};
#define NSTREAMS (sizeof(stream_counts) / sizeof(stream_counts[0]))

struct result {
	bool done;
	uint64_t iters;
	double med, min, max, cpu; /* ns per packet */
};

static struct result results[SRTP_SUITE_COUNT][NSTREAMS][IMPL_COUNT];

/* The streams of the case being measured. */
static struct {
	enum srtp_suite suite;
	int n;
	uint16_t *seq;
	struct srtp **tx, **rx;
	EVP_CIPHER_CTX **ctx_tx, **ctx_rx;
	EVP_MAC_CTX **mac_tx, **mac_rx;
	uint8_t salt[14];
#ifdef LIBSRTP2_PATH
	struct ref **rtx, **rrx;
#endif
} cur;

static uint8_t tmpl[PKT_LEN];
static EVP_CIPHER *c_ctr, *c_gcm128, *c_gcm256;
static EVP_MAC *hmac;
static volatile uint64_t sink;

static void
die(const char *what)
{
	fprintf(stderr, "bench_srtp: %s failed\n", what);
	exit(1);
}

/* One stream's packet: the template with its SSRC and sequence number. */
static inline void
packet(uint8_t *b, int k)
{
	memcpy(b, tmpl, PKT_LEN);
	b[2] = (uint8_t)(cur.seq[k] >> 8);
	b[3] = (uint8_t)cur.seq[k];
	b[8] = (uint8_t)(k >> 8);
	b[9] = (uint8_t)k;
	cur.seq[k]++;
}

static uint64_t
run_ours(uint64_t iters)
{
	uint8_t b[BUF_CAP];
	uint64_t h = 0;
	int k = 0;

	for (uint64_t i = 0; i < iters; i++) {
		size_t len = PKT_LEN;
		packet(b, k);
		if (srtp_protect(cur.tx[k], b, &len, sizeof(b)) != 0 ||
		    srtp_unprotect(cur.rx[k], b, &len) != 0)
			die("ngv srtp");
		h += b[HDR_LEN];
		if (++k == cur.n)
			k = 0;
	}
	return h;
}

/*
 * The floor: the EVP calls any implementation on OpenSSL makes for the same
 * packets, with the IV built from the sequence number and nothing else (no
 * header parsing, index estimation or replay window). For the HMAC suites
 * the MAC is EVP_MAC HMAC-SHA1, re-initialised per packet.
 */
static uint64_t
run_evp(uint64_t iters)
{
	const bool gcm = srtp_suite_info(cur.suite)->aead;
	const size_t tl = srtp_suite_info(cur.suite)->rtp_tag;
	uint8_t b[BUF_CAP], iv[16], mac[EVP_MAX_MD_SIZE], roc[4] = {0};
	uint64_t h = 0;
	size_t ml;
	int k = 0, ol;

	for (uint64_t i = 0; i < iters; i++) {
		packet(b, k);
		memcpy(iv, cur.salt, 14);
		iv[14] = iv[15] = 0;
		iv[gcm ? 11 : 13] ^= b[3];
		iv[gcm ? 10 : 12] ^= b[2];
		if (gcm) {
			EVP_CIPHER_CTX *t = cur.ctx_tx[k], *r = cur.ctx_rx[k];
			if (EVP_CipherInit_ex2(t, NULL, NULL, iv, 1, NULL) !=
			        1 ||
			    EVP_CipherUpdate(t, NULL, &ol, b, HDR_LEN) != 1 ||
			    EVP_CipherUpdate(t, b + HDR_LEN, &ol, b + HDR_LEN,
			        PAY_LEN) != 1 ||
			    EVP_CipherFinal_ex(t, mac, &ol) != 1 ||
			    EVP_CIPHER_CTX_ctrl(
			        t, EVP_CTRL_AEAD_GET_TAG, 16, b + PKT_LEN) != 1)
				die("EVP GCM seal");
			if (EVP_CipherInit_ex2(r, NULL, NULL, iv, 0, NULL) !=
			        1 ||
			    EVP_CipherUpdate(r, NULL, &ol, b, HDR_LEN) != 1 ||
			    EVP_CipherUpdate(r, b + HDR_LEN, &ol, b + HDR_LEN,
			        PAY_LEN) != 1 ||
			    EVP_CIPHER_CTX_ctrl(r, EVP_CTRL_AEAD_SET_TAG, 16,
			        b + PKT_LEN) != 1 ||
			    EVP_CipherFinal_ex(r, mac, &ol) != 1)
				die("EVP GCM open");
		} else {
			EVP_CIPHER_CTX *t = cur.ctx_tx[k], *r = cur.ctx_rx[k];
			EVP_MAC_CTX *mt = cur.mac_tx[k], *mr = cur.mac_rx[k];
			if (EVP_CipherInit_ex2(t, NULL, NULL, iv, 1, NULL) !=
			        1 ||
			    EVP_CipherUpdate(t, b + HDR_LEN, &ol, b + HDR_LEN,
			        PAY_LEN) != 1 ||
			    EVP_MAC_init(mt, NULL, 0, NULL) != 1 ||
			    EVP_MAC_update(mt, b, PKT_LEN) != 1 ||
			    EVP_MAC_update(mt, roc, 4) != 1 ||
			    EVP_MAC_final(mt, mac, &ml, sizeof(mac)) != 1)
				die("EVP CTR+HMAC protect");
			memcpy(b + PKT_LEN, mac, tl);
			if (EVP_MAC_init(mr, NULL, 0, NULL) != 1 ||
			    EVP_MAC_update(mr, b, PKT_LEN) != 1 ||
			    EVP_MAC_update(mr, roc, 4) != 1 ||
			    EVP_MAC_final(mr, mac, &ml, sizeof(mac)) != 1 ||
			    CRYPTO_memcmp(mac, b + PKT_LEN, tl) != 0 ||
			    EVP_CipherInit_ex2(r, NULL, NULL, iv, 1, NULL) !=
			        1 ||
			    EVP_CipherUpdate(
			        r, b + HDR_LEN, &ol, b + HDR_LEN, PAY_LEN) != 1)
				die("EVP CTR+HMAC unprotect");
		}
		h += b[HDR_LEN];
		if (++k == cur.n)
			k = 0;
	}
	return h;
}

#ifdef LIBSRTP2_PATH
static uint64_t
run_libsrtp(uint64_t iters)
{
	uint8_t b[BUF_CAP];
	uint64_t h = 0;
	int k = 0;

	for (uint64_t i = 0; i < iters; i++) {
		int len = PKT_LEN;
		packet(b, k);
		if (ref_protect(cur.rtx[k], b, &len) != 0 ||
		    ref_unprotect(cur.rrx[k], b, &len) != 0)
			die("libsrtp2");
		h += b[HDR_LEN];
		if (++k == cur.n)
			k = 0;
	}
	return h;
}
#endif

static void
setup(enum srtp_suite su, int n, enum impl im)
{
	const struct srtp_suite_info *si = srtp_suite_info(su);
	uint8_t key[SRTP_MAX_KEY_SALT];
	size_t kl = si->key_len + si->salt_len;

	memset(&cur, 0, sizeof(cur));
	cur.suite = su;
	cur.n = n;
	if ((cur.seq = calloc((size_t)n, sizeof(*cur.seq))) == NULL)
		die("calloc");
	for (int k = 0; k < n; k++)
		cur.seq[k] = (uint16_t)(k * 7919);
	for (size_t i = 0; i < kl; i++)
		key[i] = (uint8_t)(i * 29 + 3);
	memcpy(cur.salt, key + si->key_len, si->salt_len);
	switch (im) {
	case IMPL_OURS:
		cur.tx = calloc((size_t)n, sizeof(*cur.tx));
		cur.rx = calloc((size_t)n, sizeof(*cur.rx));
		if (cur.tx == NULL || cur.rx == NULL)
			die("calloc");
		for (int k = 0; k < n; k++) {
			key[0] = (uint8_t)k; /* a key per stream */
			if (srtp_alloc(&cur.tx[k], su, key, kl) != 0 ||
			    srtp_alloc(&cur.rx[k], su, key, kl) != 0)
				die("srtp_alloc");
		}
		break;
	case IMPL_EVP: {
		const EVP_CIPHER *c = su == SRTP_AEAD_AES_256_GCM   ? c_gcm256
		                      : su == SRTP_AEAD_AES_128_GCM ? c_gcm128
		                                                    : c_ctr;
		OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(
		                      OSSL_MAC_PARAM_DIGEST, "SHA1", 0),
		    OSSL_PARAM_construct_end()};
		cur.ctx_tx = calloc((size_t)n, sizeof(*cur.ctx_tx));
		cur.ctx_rx = calloc((size_t)n, sizeof(*cur.ctx_rx));
		cur.mac_tx = calloc((size_t)n, sizeof(*cur.mac_tx));
		cur.mac_rx = calloc((size_t)n, sizeof(*cur.mac_rx));
		if (!cur.ctx_tx || !cur.ctx_rx || !cur.mac_tx || !cur.mac_rx)
			die("calloc");
		for (int k = 0; k < n; k++) {
			key[0] = (uint8_t)k;
			cur.ctx_tx[k] = EVP_CIPHER_CTX_new();
			cur.ctx_rx[k] = EVP_CIPHER_CTX_new();
			if (cur.ctx_tx[k] == NULL || cur.ctx_rx[k] == NULL ||
			    EVP_CipherInit_ex2(
			        cur.ctx_tx[k], c, key, NULL, 1, NULL) != 1 ||
			    EVP_CipherInit_ex2(
			        cur.ctx_rx[k], c, key, NULL, 0, NULL) != 1)
				die("EVP_CipherInit_ex2");
			if (si->aead)
				continue;
			cur.mac_tx[k] = EVP_MAC_CTX_new(hmac);
			cur.mac_rx[k] = EVP_MAC_CTX_new(hmac);
			if (cur.mac_tx[k] == NULL || cur.mac_rx[k] == NULL ||
			    EVP_MAC_init(cur.mac_tx[k], key, 20, p) != 1 ||
			    EVP_MAC_init(cur.mac_rx[k], key, 20, p) != 1)
				die("EVP_MAC_init");
		}
		break;
	}
	case IMPL_LIBSRTP:
#ifdef LIBSRTP2_PATH
		cur.rtx = calloc((size_t)n, sizeof(*cur.rtx));
		cur.rrx = calloc((size_t)n, sizeof(*cur.rrx));
		if (cur.rtx == NULL || cur.rrx == NULL)
			die("calloc");
		for (int k = 0; k < n; k++) {
			key[0] = (uint8_t)k;
			if (ref_create(&cur.rtx[k], (int)su, key, 1) != 0 ||
			    ref_create(&cur.rrx[k], (int)su, key, 0) != 0)
				die("libsrtp2 srtp_create");
		}
#endif
		break;
	default:
		break;
	}
	OPENSSL_cleanse(key, sizeof(key));
}

static void
teardown(void)
{
	for (int k = 0; k < cur.n; k++) {
		if (cur.tx) {
			srtp_free(cur.tx[k]);
			srtp_free(cur.rx[k]);
		}
		if (cur.ctx_tx) {
			EVP_CIPHER_CTX_free(cur.ctx_tx[k]);
			EVP_CIPHER_CTX_free(cur.ctx_rx[k]);
			EVP_MAC_CTX_free(cur.mac_tx[k]);
			EVP_MAC_CTX_free(cur.mac_rx[k]);
		}
#ifdef LIBSRTP2_PATH
		if (cur.rtx) {
			ref_free(cur.rtx[k]);
			ref_free(cur.rrx[k]);
		}
#endif
	}
	free(cur.tx);
	free(cur.rx);
	free(cur.ctx_tx);
	free(cur.ctx_rx);
	free(cur.mac_tx);
	free(cur.mac_rx);
#ifdef LIBSRTP2_PATH
	free(cur.rtx);
	free(cur.rrx);
#endif
	free(cur.seq);
	memset(&cur, 0, sizeof(cur));
}

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

static uint64_t
calibrate(uint64_t (*run)(uint64_t), double target_ns)
{
	uint64_t n = 64;

	for (;;) {
		double t0 = now_ns(CLOCK_MONOTONIC);
		sink += run(n);
		double dt = now_ns(CLOCK_MONOTONIC) - t0;
		if (dt >= 5e6 || n >= (UINT64_C(1) << 36)) {
			double per = dt / (double)n;
			double want = target_ns / (per > 0 ? per : 1);
			return want < 1 ? 1 : (uint64_t)want;
		}
		n *= 4;
	}
}

static void
measure(struct result *r, uint64_t (*run)(uint64_t), int reps, double rep_ns)
{
	double wall[MAX_REPS], cpu[MAX_REPS];

	r->iters = calibrate(run, rep_ns);
	/* Every stream has been touched before the clock starts. */
	if (r->iters < (uint64_t)cur.n)
		r->iters = (uint64_t)cur.n;
	for (int i = 0; i < reps; i++) {
		double w0 = now_ns(CLOCK_MONOTONIC);
		double c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		sink += run(r->iters);
		double c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
		double w1 = now_ns(CLOCK_MONOTONIC);
		wall[i] = (w1 - w0) / (double)r->iters;
		cpu[i] = (c1 - c0) / (double)r->iters;
	}
	qsort(wall, (size_t)reps, sizeof(double), cmp_double);
	qsort(cpu, (size_t)reps, sizeof(double), cmp_double);
	r->med = wall[reps / 2];
	r->min = wall[0];
	r->max = wall[reps - 1];
	r->cpu = cpu[reps / 2];
	r->done = true;
}

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

static double
ratio(const struct result *r, const struct result *ref)
{
	if (!r->done || !ref->done || ref->med <= 0)
		return 0;
	return r->med / ref->med;
}

static void
print_ratio(FILE *f, double x)
{
	if (x > 0)
		fprintf(f, " %.2f |", x);
	else
		fprintf(f, " - |");
}

static void
print_table(FILE *f, int reps)
{
	fprintf(f, "| suite | streams | implementation | pkts/s | ns/pkt "
	           "(median) | min | max | CPU ns/pkt | x floor | x "
	           "libsrtp2 |\n");
	fprintf(f, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		for (size_t s = 0; s < NSTREAMS; s++) {
			for (int im = 0; im < IMPL_COUNT; im++) {
				const struct result *r = &results[su][s][im];
				if (!r->done)
					continue;
				fprintf(f,
				    "| %s | %d | %s | %.0f | %.1f | %.1f | "
				    "%.1f | %.1f |",
				    srtp_suite_info(su)->name, stream_counts[s],
				    impl_name[im], 1e9 / r->med, r->med, r->min,
				    r->max, r->cpu);
				print_ratio(f,
				    im == IMPL_EVP
				        ? 0
				        : ratio(r, &results[su][s][IMPL_EVP]));
				print_ratio(f,
				    im == IMPL_LIBSRTP
				        ? 0
				        : ratio(r,
				              &results[su][s][IMPL_LIBSRTP]));
				fprintf(f, "\n");
			}
		}
	}
	fprintf(f,
	    "\nOne packet = protect + unprotect of a %d-byte RTP packet (%d "
	    "header + %d payload), each stream with its own sender and "
	    "receiver context and key, streams taken in turn. %d runs per "
	    "case; median, min and max of wall-clock ns per packet; x = "
	    "median over the reference's median in this run.\n",
	    PKT_LEN, HDR_LEN, PAY_LEN, reps);
}

static int
write_json(const char *path, const char *mode, int reps, double rep_ns,
    int pinned, const struct rusage *ru)
{
	FILE *f = fopen(path, "w");
	bool first = true;

	if (f == NULL) {
		fprintf(stderr, "bench_srtp: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(
	    f, "{\n  \"bench\": \"bench_srtp\",\n  \"mode\": \"%s\",\n", mode);
	fprintf(f, "  \"reps\": %d,\n  \"target_ns_per_rep\": %.0f,\n", reps,
	    rep_ns);
	fprintf(f, "  \"packet_bytes\": %d,\n", PKT_LEN);
	fprintf(f, "  \"pinned_cpu\": %d,\n", pinned == 0 ? 0 : -1);
	fprintf(f,
	    "  \"rusage\": {\"user_s\": %.3f, \"sys_s\": %.3f, "
	    "\"vol_ctxsw\": %ld, \"invol_ctxsw\": %ld, \"maxrss_kb\": "
	    "%ld},\n",
	    (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6,
	    (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6,
	    ru->ru_nvcsw, ru->ru_nivcsw, ru->ru_maxrss);
	fprintf(f, "  \"cases\": {\n");
	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		for (size_t s = 0; s < NSTREAMS; s++) {
			for (int im = 0; im < IMPL_COUNT; im++) {
				const struct result *r = &results[su][s][im];
				if (!r->done)
					continue;
				fprintf(f,
				    "%s    \"%s_%s_%d\": {\"suite\": \"%s\", "
				    "\"streams\": %d, \"impl\": \"%s\", "
				    "\"iters_per_rep\": %llu, \"pkts_per_s\": "
				    "%.0f, \"ns_per_pkt\": {\"median\": %.2f, "
				    "\"min\": %.2f, \"max\": %.2f}, "
				    "\"cpu_ns_per_pkt\": %.2f, "
				    "\"ratio_floor\": %.3f, "
				    "\"ratio_libsrtp2\": %.3f}",
				    first ? "" : ",\n", impl_id[im],
				    suite_id[su], stream_counts[s],
				    srtp_suite_info(su)->name, stream_counts[s],
				    impl_id[im], (unsigned long long)r->iters,
				    1e9 / r->med, r->med, r->min, r->max,
				    r->cpu, ratio(r, &results[su][s][IMPL_EVP]),
				    ratio(r, &results[su][s][IMPL_LIBSRTP]));
				first = false;
			}
		}
	}
	fprintf(f, "\n  }\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "bench_srtp: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

/* The JSON id of a case: impl_suite_streams. */
static void
case_id(char *buf, size_t n, int su, size_t s, int im)
{
	snprintf(
	    buf, n, "%s_%s_%d", impl_id[im], suite_id[su], stream_counts[s]);
}

static bool
selected(const char *only, int su, size_t s, int im)
{
	char id[96];

	if (only == NULL)
		return true;
	case_id(id, sizeof(id), su, s, im);
	return strstr(id, only) != NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_srtp [--smoke] [--reps N] "
	                "[--json FILE] [--only CASE-ID-PART]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *json = NULL, *mode = "full", *only = NULL;
	int reps = 7, pinned;
	double rep_ns = 0.4e9; /* full: about 0.4 s per run of each case */
	bool have_ref = false;
	struct rusage ru;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0) {
			mode = "smoke";
		} else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
			json = argv[++i];
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			reps = atoi(argv[++i]);
			if (reps < 1 || reps > MAX_REPS)
				usage();
		} else {
			usage();
		}
	}
	if (strcmp(mode, "smoke") == 0)
		rep_ns = 0.1e9 / reps;

	pinned = pin_cpu0();
	if (srtp_init() != 0)
		die("srtp_init");
	c_ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
	c_gcm128 = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	c_gcm256 = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!c_ctr || !c_gcm128 || !c_gcm256 || !hmac)
		die("EVP fetch");
#ifdef LIBSRTP2_PATH
	have_ref = ref_open(LIBSRTP2_PATH) == 0;
#endif
	tmpl[0] = 0x80;
	tmpl[1] = 0x08;
	for (int i = HDR_LEN; i < PKT_LEN; i++)
		tmpl[i] = 0xd5;

	for (int su = 0; su < SRTP_SUITE_COUNT; su++) {
		for (size_t s = 0; s < NSTREAMS; s++) {
			for (int im = 0; im < IMPL_COUNT; im++) {
				uint64_t (*run)(uint64_t) = NULL;
				if (im == IMPL_OURS)
					run = run_ours;
				else if (im == IMPL_EVP)
					run = run_evp;
#ifdef LIBSRTP2_PATH
				else if (have_ref)
					run = run_libsrtp;
#endif
				if (run == NULL || !selected(only, su, s, im))
					continue;
				setup(su, stream_counts[s], im);
				measure(&results[su][s][im], run, reps, rep_ns);
				teardown();
			}
		}
	}
	getrusage(RUSAGE_SELF, &ru);

	printf("bench_srtp (%s): protect+unprotect, %d-byte RTP packets; "
	       "%s; libsrtp2 %s\n\n",
	    mode, PKT_LEN, pinned == 0 ? "pinned to CPU 0" : "not pinned",
	    have_ref ? "loaded" : "not available");
	print_table(stdout, reps);
	if (json && write_json(json, mode, reps, rep_ns, pinned, &ru) != 0)
		return 1;
	EVP_CIPHER_free(c_ctr);
	EVP_CIPHER_free(c_gcm128);
	EVP_CIPHER_free(c_gcm256);
	EVP_MAC_free(hmac);
	return 0;
}
