/* libFuzzer driver for the ITL/CTL parser: structure invariants, show, record keys and signature verification on any input. */
#include <errno.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/itl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant aborts so that libFuzzer keeps the input. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			fail(__LINE__, #cond);                                 \
	} while (0)

static void
fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_itl.c:%d: invariant broken: %s\n", line, what);
	abort();
}

/* An absent slice, or one wholly inside the input. */
static bool
inside(struct slice s, const uint8_t *data, size_t size)
{
	uintptr_t p = (uintptr_t)s.p, lo = (uintptr_t)data;

	if (s.p == NULL)
		return s.n == 0;
	return p >= lo && p <= lo + size && s.n <= lo + size - p;
}

static void
check_elems(const struct itl_file *f, const uint8_t *data, size_t size)
{
	size_t prev_end = 0;

	for (size_t i = 0; i < f->nelems; i++) {
		const struct itl_elem *el = &f->elems[i];
		size_t end = el->kind == ITL_ELEM_PADDING ? el->off + 1
		             : el->kind == ITL_ELEM_CONTAINER
		                 ? el->off + 3
		                 : el->off + 3 + el->len;
		CHECK(el->off < size && end <= size);
		CHECK(el->off >= prev_end); /* in order, no overlap */
		CHECK(el->tag == data[el->off]);
		if (el->kind == ITL_ELEM_PADDING) {
			CHECK(el->tag == ITL_H_PADDING && el->record < 0);
			CHECK(el->len == 0);
		} else
			CHECK(((size_t)data[el->off + 1] << 8 |
			          data[el->off + 2]) == el->len);
		if (el->kind == ITL_ELEM_CONTAINER)
			CHECK(el->record < 0 &&
			      el->off + 3 + el->len <= f->header_len);
		if (el->record < 0)
			CHECK(end <= f->header_len);
		else
			CHECK(el->off >= f->header_len &&
			      (size_t)el->record < f->nrecs);
		prev_end = end;
	}
}

static void
check_records(const struct itl_file *f, const uint8_t *data, size_t size)
{
	size_t at = f->header_len;

	for (size_t i = 0; i < f->nrecs; i++) {
		const struct itl_record *r = &f->recs[i];
		size_t sum = 0;

		/* Records follow each other to the end of the file. */
		CHECK(r->off == at && r->len >= 5 && r->off + r->len <= size);
		CHECK(r->nelems >= 1 && r->first_elem + r->nelems <= f->nelems);
		for (size_t j = 0; j < r->nelems; j++) {
			const struct itl_elem *el =
			    &f->elems[r->first_elem + j];
			CHECK(el->record == (int)i);
			sum += 3 + el->len;
		}
		CHECK(sum == r->len);
		CHECK(f->elems[r->first_elem].tag == ITL_R_RECORD_LENGTH);
		CHECK(inside(r->dns_name, data, size) &&
		      inside(r->subject, data, size) &&
		      inside(r->issuer, data, size) &&
		      inside(r->serial, data, size) &&
		      inside(r->pubkey, data, size) &&
		      inside(r->signature, data, size) &&
		      inside(r->cert, data, size) &&
		      inside(r->ip, data, size) &&
		      inside(r->cert_hash, data, size) &&
		      inside(r->hash_alg, data, size));
		at += r->len;
	}
	CHECK(at == size);
}

static void
check_keys(const struct itl_file *f)
{
	for (size_t i = 0; i < f->nrecs; i++) {
		EVP_PKEY *pk = NULL;
		X509 *x = NULL;
		char why[256];
		int rc = itl_record_pubkey(&f->recs[i], &pk, why, sizeof(why));

		CHECK(rc == 0 || rc == ENOENT || rc == EBADMSG);
		CHECK((rc == 0) == (pk != NULL));
		if (rc)
			CHECK(why[0] != '\0');
		EVP_PKEY_free(pk);
		rc = itl_record_cert(&f->recs[i], &x);
		CHECK(rc == 0 || rc == ENOENT || rc == EBADMSG);
		X509_free(x);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct itl_file *f = NULL;
	struct itl_verified v;
	struct itl_err err;
	int rc;

	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	rc = itl_parse(&f, data, size, &err);
	if (rc != 0) {
		/* A refusal says where and why, and leaves nothing. */
		CHECK(rc == EBADMSG && f == NULL);
		CHECK(
		    err.msg[0] != '\0' && memchr(err.msg, 0, sizeof(err.msg)));
		CHECK(err.offset <= size);
		return 0;
	}
	CHECK(f->data == data && f->len == size);
	CHECK(f->header_len >= 5 && f->header_len <= size);
	CHECK(inside(f->signer_name, data, size) &&
	      inside(f->signer_serial, data, size) &&
	      inside(f->signer_issuer, data, size) &&
	      inside(f->signature, data, size) &&
	      inside(f->filename, data, size));
	if (f->signature.p) {
		CHECK(f->sig_off + 3 + f->signature.n <= f->header_len);
		CHECK(data[f->sig_off] == ITL_H_SIGNATURE);
	}
	check_elems(f, data, size);
	check_records(f, data, size);
	check_keys(f);
	if (devnull)
		itl_print(devnull, f, size & 1);
	rc = itl_verify(f, NULL, &v, &err);
	CHECK(rc == 0 || rc == EBADMSG);
	if (rc == 0)
		CHECK(v.record >= 0 && (size_t)v.record < f->nrecs &&
		      f->recs[v.record].role == ITL_ROLE_SAST);
	else
		CHECK(err.msg[0] != '\0' && err.offset <= size);
	itl_free(f);
	return 0;
}
