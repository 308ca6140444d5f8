/* libsrtp2 as a reference peer, loaded with dlopen() (test and bench only). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

/*
 * The reference's interface; test_srtp_libsrtp.c and bench/bench_srtp.c
 * repeat these declarations (they cannot include <srtp2/srtp.h> beside
 * media/srtp.h). Suites are numbered as enum srtp_suite; results are
 * libsrtp2's srtp_err_status_t, 0 for success.
 */
enum {
	REF_AES_CM_128_HMAC_SHA1_80,
	REF_AES_CM_128_HMAC_SHA1_32,
	REF_AEAD_AES_128_GCM,
	REF_AEAD_AES_256_GCM
};
struct ref;
int ref_open(const char *path);
int ref_create(struct ref **rp, int suite, const uint8_t *key, int outbound);
void ref_free(struct ref *r);
int ref_protect(struct ref *r, uint8_t *pkt, int *lenp);
int ref_unprotect(struct ref *r, uint8_t *pkt, int *lenp);
int ref_protect_rtcp(struct ref *r, uint8_t *pkt, int *lenp);
int ref_unprotect_rtcp(struct ref *r, uint8_t *pkt, int *lenp);

/*
 * libsrtp2 exports srtp_init(), srtp_protect() and srtp_unprotect(), the
 * names of our own functions. Linked into one program the two could not
 * both be called, so libsrtp2 comes in through dlopen(RTLD_LOCAL) and every
 * function through dlsym(): the library then binds to its own symbols.
 */
#define REF_FUNCS(X)                                                           \
	X(srtp_init)                                                           \
	X(srtp_create)                                                         \
	X(srtp_dealloc)                                                        \
	X(srtp_protect)                                                        \
	X(srtp_unprotect)                                                      \
	X(srtp_protect_rtcp)                                                   \
	X(srtp_unprotect_rtcp)                                                 \
	X(srtp_crypto_policy_set_rtp_default)                                  \
	X(srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32)                      \
	X(srtp_crypto_policy_set_aes_gcm_128_16_auth)                          \
	X(srtp_crypto_policy_set_aes_gcm_256_16_auth)

static struct {
#define X(f) __typeof__(f) *f;
	REF_FUNCS(X)
#undef X
} lib;

struct ref {
	srtp_t ctx;
};

int
ref_open(const char *path)
{
	void *h;

	if (lib.srtp_init)
		return 0;
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "ref: %s\n", dlerror());
		return ENOENT;
	}
#define X(f)                                                                   \
	if ((*(void **)&lib.f = dlsym(h, #f)) == NULL) {                       \
		fprintf(stderr, "ref: no %s in %s\n", #f, path);               \
		return ENOENT;                                                 \
	}
	REF_FUNCS(X)
#undef X
	return lib.srtp_init() == srtp_err_status_ok ? 0 : EPROTO;
}

int
ref_create(struct ref **rp, int suite, const uint8_t *key, int outbound)
{
	srtp_policy_t pol;
	struct ref *r;

	memset(&pol, 0, sizeof(pol));
	switch (suite) {
	case REF_AES_CM_128_HMAC_SHA1_80:
		lib.srtp_crypto_policy_set_rtp_default(&pol.rtp);
		lib.srtp_crypto_policy_set_rtp_default(&pol.rtcp);
		break;
	case REF_AES_CM_128_HMAC_SHA1_32:
		/* RFC 4568 6.2.2: SRTCP keeps the 80-bit tag. */
		lib.srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
		lib.srtp_crypto_policy_set_rtp_default(&pol.rtcp);
		break;
	case REF_AEAD_AES_128_GCM:
		lib.srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
		lib.srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
		break;
	case REF_AEAD_AES_256_GCM:
		lib.srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtp);
		lib.srtp_crypto_policy_set_aes_gcm_256_16_auth(&pol.rtcp);
		break;
	default:
		return EINVAL;
	}
	pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	pol.key = (unsigned char *)(uintptr_t)key;
	pol.window_size = 128;
	pol.allow_repeat_tx = 0;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ENOMEM;
	if (lib.srtp_create(&r->ctx, &pol) != srtp_err_status_ok) {
		free(r);
		return EPROTO;
	}
	*rp = r;
	return 0;
}

void
ref_free(struct ref *r)
{
	if (r) {
		lib.srtp_dealloc(r->ctx);
		free(r);
	}
}

int
ref_protect(struct ref *r, uint8_t *pkt, int *lenp)
{
	return (int)lib.srtp_protect(r->ctx, pkt, lenp);
}

int
ref_unprotect(struct ref *r, uint8_t *pkt, int *lenp)
{
	return (int)lib.srtp_unprotect(r->ctx, pkt, lenp);
}

int
ref_protect_rtcp(struct ref *r, uint8_t *pkt, int *lenp)
{
	return (int)lib.srtp_protect_rtcp(r->ctx, pkt, lenp);
}

int
ref_unprotect_rtcp(struct ref *r, uint8_t *pkt, int *lenp)
{
	return (int)lib.srtp_unprotect_rtcp(r->ctx, pkt, lenp);
}
