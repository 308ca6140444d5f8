/* The ITL/CTL trust list: a bounded zero-copy TLV decoder, the encoder and signer, verification and the show printout (protocol notes 1). */
#include "pki/itl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pki/pki_int.h"
#include "pki/show.h"

#define TLV_HDR   3     /* tag u8 + length u16 */
#define MAX_DEPTH 4     /* header containers nest 7{9{}}: 2 is real */
#define U16_MAX   65535 /* the largest length, header or record */

/* The bytes a signature of each SIGNATURE_MODULUS code has (notes 1.2). */
static const size_t modulus_bytes[] = {64, 128, 256, 512};

static uint16_t
be16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A string value up to its NUL; a value without one is taken whole. */
static struct slice
str_value(const unsigned char *v, size_t n)
{
	const unsigned char *z = n ? memchr(v, 0, n) : NULL;

	return slice_make((const char *)v, z ? (size_t)(z - v) : n);
}

static struct slice
raw_value(const unsigned char *v, size_t n)
{
	return slice_make((const char *)v, n);
}

/* Names ------------------------------------------------------------------ */

const char *
itl_htag_name(unsigned tag)
{
	switch (tag) {
	case ITL_H_VERSION:
		return "VERSION";
	case ITL_H_HEADER_LENGTH:
		return "HEADER_LENGTH";
	case ITL_H_SIGNER_INFO:
		return "SIGNER_INFO";
	case ITL_H_SIGNER_NAME:
		return "SIGNER_NAME";
	case ITL_H_SERIAL_NUMBER:
		return "SERIAL_NUMBER";
	case ITL_H_ISSUER_NAME:
		return "ISSUER_NAME";
	case ITL_H_SIGNATURE_INFO:
		return "SIGNATURE_INFO";
	case ITL_H_HASH_ALGORITHM:
		return "HASH_ALGORITHM";
	case ITL_H_SIGNATURE_ALGORITHM_INFO:
		return "SIGNATURE_ALGORITHM_INFO";
	case ITL_H_SIGNATURE_ALGORITHM:
		return "SIGNATURE_ALGORITHM";
	case ITL_H_SIGNATURE_MODULUS:
		return "SIGNATURE_MODULUS";
	case ITL_H_SIGNATURE:
		return "SIGNATURE";
	case ITL_H_PADDING:
		return "PADDING";
	case ITL_H_FILENAME:
		return "FILENAME";
	case ITL_H_TIMESTAMP:
		return "TIMESTAMP";
	case ITL_H_SIGNER_VERSION:
		return "SIGNER_VERSION";
	}
	return NULL;
}

const char *
itl_rtag_name(unsigned tag)
{
	switch (tag) {
	case ITL_R_RECORD_LENGTH:
		return "RECORD_LENGTH";
	case ITL_R_DNS_NAME:
		return "DNS_NAME";
	case ITL_R_SUBJECT_NAME:
		return "SUBJECT_NAME";
	case ITL_R_ROLE:
		return "ROLE";
	case ITL_R_ISSUER_NAME:
		return "ISSUER_NAME";
	case ITL_R_SERIAL_NUMBER:
		return "SERIAL_NUMBER";
	case ITL_R_PUBLIC_KEY:
		return "PUBLIC_KEY";
	case ITL_R_SIGNATURE:
		return "SIGNATURE";
	case ITL_R_CERTIFICATE:
		return "CERTIFICATE";
	case ITL_R_IP_ADDRESS:
		return "IP_ADDRESS";
	case ITL_R_CERTIFICATE_HASH:
		return "CERTIFICATE_HASH";
	case ITL_R_HASH_ALGORITHM:
		return "HASH_ALGORITHM";
	}
	return NULL;
}

static const struct {
	uint16_t code;
	const char *name;
} roles[] = {
    {ITL_ROLE_SAST, "SAST"},
    {ITL_ROLE_CCM, "CCM"},
    {ITL_ROLE_CCM_TFTP, "CCM+TFTP"},
    {ITL_ROLE_TFTP, "TFTP"},
    {ITL_ROLE_CAPF, "CAPF"},
    {ITL_ROLE_SRST, "SRST"},
    {ITL_ROLE_APP_SERVER, "APP-SERVER"},
    {ITL_ROLE_TVS, "TVS"},
};

const char *
itl_role_name(unsigned role)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (roles[i].code == role)
			return roles[i].name;
	}
	return NULL;
}

const char *
itl_role_desc(unsigned role)
{
	if (role == ITL_ROLE_SAST)
		return "System Administrator Security Token";
	return itl_role_name(role);
}

int
itl_role_parse(uint16_t *rp, const char *s)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return EINVAL;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcasecmp(s, roles[i].name) == 0) {
			*rp = roles[i].code;
			return 0;
		}
	}
	/* The spellings people use for two of them. */
	if (strcasecmp(s, "CCM_TFTP") == 0 || strcasecmp(s, "CCM-TFTP") == 0) {
		*rp = ITL_ROLE_CCM_TFTP;
		return 0;
	}
	if (strcasecmp(s, "APP_SERVER") == 0 || strcasecmp(s, "HTTPS") == 0) {
		*rp = ITL_ROLE_APP_SERVER;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > U16_MAX)
		return EINVAL;
	*rp = (uint16_t)v;
	return 0;
}

const char *
itl_hash_name(int code)
{
	switch (code) {
	case ITL_HASH_SHA1:
		return "SHA-1";
	case ITL_HASH_SHA256:
		return "SHA-256 (unconfirmed code)";
	case ITL_HASH_SHA512:
		return "SHA-512";
	}
	return NULL;
}

static const EVP_MD *
hash_md(int code)
{
	switch (code) {
	case ITL_HASH_SHA1:
		return EVP_sha1();
	case ITL_HASH_SHA256:
		return EVP_sha256();
	case ITL_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

/* Decoding --------------------------------------------------------------- */

struct parser {
	struct itl_file *f;
	struct itl_err *err;
	size_t elem_cap, rec_cap;
};

static int perr(struct parser *ps, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *ps, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (ps->err) {
		ps->err->offset = off;
		va_start(ap, fmt);
		vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
		va_end(ap);
	}
	return EBADMSG;
}

static int
push_elem(struct parser *ps, size_t off, size_t len, uint8_t tag,
    enum itl_elem_kind kind, unsigned depth, int record)
{
	struct itl_file *f = ps->f;
	struct itl_elem *el;

	if (f->nelems == ps->elem_cap) {
		size_t ncap = ps->elem_cap ? ps->elem_cap * 2 : 32;
		struct itl_elem *n = realloc(f->elems, ncap * sizeof(*n));
		if (n == NULL)
			return ENOMEM;
		f->elems = n;
		ps->elem_cap = ncap;
	}
	el = &f->elems[f->nelems++];
	el->off = off;
	el->len = len;
	el->tag = tag;
	el->kind = (uint8_t)kind;
	el->depth = (uint8_t)depth;
	el->record = record;
	return 0;
}

/* "HASH_ALGORITHM (tag 8)" or "tag 42" into buf. */
static const char *
tag_desc(char *buf, size_t sz, unsigned tag, bool header)
{
	const char *name = header ? itl_htag_name(tag) : itl_rtag_name(tag);

	if (name)
		snprintf(buf, sz, "%s (tag %u)", name, tag);
	else
		snprintf(buf, sz, "unknown tag %u", tag);
	return buf;
}

/* Checks the size of a fixed-size element. */
static int
want_len(struct parser *ps, size_t off, unsigned tag, bool header, size_t len,
    size_t want)
{
	char d[64];

	if (len == want)
		return 0;
	return perr(ps, off, "%s has length %zu; it is %zu byte%s",
	    tag_desc(d, sizeof(d), tag, header), len, want,
	    want == 1 ? "" : "s");
}

/* Keeps a header value. seen has a bit per known tag already read. */
static int
header_value(
    struct parser *ps, size_t off, unsigned tag, size_t len, uint32_t *seen)
{
	struct itl_file *f = ps->f;
	const unsigned char *v = f->data + off + TLV_HDR;
	char d[64];
	int err = 0;

	if (itl_htag_name(tag) == NULL || tag == ITL_H_PADDING)
		return 0; /* unknown: kept for show, skipped */
	if (*seen & (UINT32_C(1) << tag))
		return perr(ps, off, "%s appears twice in the header",
		    tag_desc(d, sizeof(d), tag, true));
	*seen |= UINT32_C(1) << tag;
	switch (tag) {
	case ITL_H_VERSION:
		if ((err = want_len(ps, off, tag, true, len, 2)) == 0) {
			f->version_major = v[0];
			f->version_minor = v[1];
		}
		break;
	case ITL_H_SIGNER_NAME:
		f->signer_name = str_value(v, len);
		break;
	case ITL_H_SERIAL_NUMBER:
		f->signer_serial = raw_value(v, len);
		break;
	case ITL_H_ISSUER_NAME:
		f->signer_issuer = str_value(v, len);
		break;
	case ITL_H_HASH_ALGORITHM:
		if ((err = want_len(ps, off, tag, true, len, 1)) == 0)
			f->hash_alg = v[0];
		break;
	case ITL_H_SIGNATURE_ALGORITHM:
		if ((err = want_len(ps, off, tag, true, len, 1)) == 0)
			f->sig_alg = v[0];
		break;
	case ITL_H_SIGNATURE_MODULUS:
		if ((err = want_len(ps, off, tag, true, len, 1)) == 0)
			f->sig_modulus = v[0];
		break;
	case ITL_H_SIGNATURE:
		f->signature = raw_value(v, len);
		f->sig_off = off;
		break;
	case ITL_H_FILENAME:
		f->filename = str_value(v, len);
		break;
	case ITL_H_TIMESTAMP:
		if ((err = want_len(ps, off, tag, true, len, 4)) == 0) {
			f->timestamp = be32(v);
			f->has_timestamp = true;
		}
		break;
	case ITL_H_SIGNER_VERSION:
		if ((err = want_len(ps, off, tag, true, len, 2)) == 0) {
			f->signer_version_major = v[0];
			f->signer_version_minor = v[1];
		}
		break;
	}
	return err;
}

/* What ends at the parser's current limit, for messages. */
struct limit {
	size_t end;
	const char *what; /* "the file", "the header", "SIGNER_INFO" */
	size_t off;       /* where that starts */
};

static int
parse_header(struct parser *ps, size_t *endp)
{
	struct itl_file *f = ps->f;
	const unsigned char *d = f->data;
	struct limit stack[MAX_DEPTH];
	unsigned depth = 0;
	size_t pos = 0, hl = 0;
	bool have_hl = false;
	uint32_t seen = 0;
	char td[64];
	int err;

	for (;;) {
		struct limit lim;
		size_t len, left;
		unsigned tag;

		/* Containers end exactly where their last element does. */
		while (depth > 0 && pos == stack[depth - 1].end)
			depth--;
		if (have_hl && pos == hl) {
			if (depth > 0)
				return perr(ps, stack[depth - 1].off,
				    "%s (offset %zu, %zu bytes) runs past the "
				    "end of the header at offset %zu",
				    stack[depth - 1].what, stack[depth - 1].off,
				    stack[depth - 1].end - stack[depth - 1].off,
				    hl);
			break;
		}
		if (depth > 0)
			lim = stack[depth - 1];
		else if (have_hl)
			lim = (struct limit){hl, "the header", 0};
		else
			lim = (struct limit){f->len, "the file", 0};
		if (pos == f->len)
			return perr(ps, pos,
			    "truncated: the file ends after %zu bytes, inside "
			    "the header and before any HEADER_LENGTH (tag 2)",
			    pos);
		tag = d[pos];
		left = lim.end - pos;
		if (tag == ITL_H_PADDING) {
			if ((err = push_elem(ps, pos, 0, (uint8_t)tag,
			         ITL_ELEM_PADDING, depth, -1)))
				return err;
			f->padding++;
			pos++;
			continue;
		}
		if (left < TLV_HDR)
			return perr(ps, pos,
			    "%s%zu byte%s left before the end of %s: an "
			    "element needs 3 (tag, 2-byte length)",
			    lim.end == f->len ? "truncated: " : "", left,
			    left == 1 ? "" : "s", lim.what);
		len = be16(d + pos + 1);
		if (len > left - TLV_HDR)
			return perr(ps, pos,
			    "%s%s of length %zu runs past the end of %s%s by "
			    "%zu bytes",
			    lim.end == f->len ? "truncated: " : "",
			    tag_desc(td, sizeof(td), tag, true), len, lim.what,
			    depth ? " (its container)" : "",
			    len - (left - TLV_HDR));
		if (tag == ITL_H_SIGNER_INFO || tag == ITL_H_SIGNATURE_INFO ||
		    tag == ITL_H_SIGNATURE_ALGORITHM_INFO) {
			if (depth == MAX_DEPTH)
				return perr(ps, pos,
				    "containers nested more than %d deep",
				    MAX_DEPTH);
			if (seen & (UINT32_C(1) << tag))
				return perr(ps, pos,
				    "%s appears twice in the header",
				    tag_desc(td, sizeof(td), tag, true));
			seen |= UINT32_C(1) << tag;
			if ((err = push_elem(ps, pos, len, (uint8_t)tag,
			         ITL_ELEM_CONTAINER, depth, -1)))
				return err;
			stack[depth++] = (struct limit){
			    pos + TLV_HDR + len, itl_htag_name(tag), pos};
			pos += TLV_HDR;
			continue;
		}
		if ((err = push_elem(ps, pos, len, (uint8_t)tag, ITL_ELEM_VALUE,
		         depth, -1)))
			return err;
		if (tag == ITL_H_HEADER_LENGTH) {
			if (have_hl)
				return perr(ps, pos,
				    "HEADER_LENGTH (tag 2) appears twice in "
				    "the header");
			if ((err = want_len(ps, pos, tag, true, len, 2)))
				return err;
			hl = be16(d + pos + TLV_HDR);
			have_hl = true;
			if (hl < pos + TLV_HDR + 2)
				return perr(ps, pos,
				    "HEADER_LENGTH %zu is less than the %zu "
				    "header bytes up to its own end",
				    hl, pos + TLV_HDR + 2);
			if (hl > f->len)
				return perr(ps, pos,
				    "truncated: HEADER_LENGTH is %zu but the "
				    "file has only %zu bytes",
				    hl, f->len);
			for (unsigned i = 0; i < depth; i++) {
				if (stack[i].end > hl)
					return perr(ps, stack[i].off,
					    "%s (offset %zu) runs past the "
					    "end of the header at offset %zu",
					    stack[i].what, stack[i].off, hl);
			}
		} else if ((err = header_value(ps, pos, tag, len, &seen)))
			return err;
		pos += TLV_HDR + len;
	}
	*endp = hl;
	return 0;
}

static int
push_rec(struct parser *ps, size_t off, size_t len)
{
	struct itl_file *f = ps->f;
	struct itl_record *r;

	if (f->nrecs == ps->rec_cap) {
		size_t ncap = ps->rec_cap ? ps->rec_cap * 2 : 8;
		struct itl_record *n = realloc(f->recs, ncap * sizeof(*n));
		if (n == NULL)
			return ENOMEM;
		f->recs = n;
		ps->rec_cap = ncap;
	}
	r = &f->recs[f->nrecs++];
	memset(r, 0, sizeof(*r));
	r->off = off;
	r->len = len;
	r->first_elem = f->nelems;
	return 0;
}

/* Keeps a record value; seen has a bit per known tag already read. */
static int
record_value(struct parser *ps, struct itl_record *r, size_t off, unsigned tag,
    size_t len, uint32_t *seen)
{
	const unsigned char *v = ps->f->data + off + TLV_HDR;
	char d[64];

	if (itl_rtag_name(tag) == NULL)
		return 0; /* unknown: kept for show, skipped */
	if (*seen & (UINT32_C(1) << tag))
		return perr(ps, off, "%s appears twice in record %zu",
		    tag_desc(d, sizeof(d), tag, false), ps->f->nrecs);
	*seen |= UINT32_C(1) << tag;
	switch (tag) {
	case ITL_R_DNS_NAME:
		r->dns_name = str_value(v, len);
		break;
	case ITL_R_SUBJECT_NAME:
		r->subject = str_value(v, len);
		break;
	case ITL_R_ROLE:
		if (want_len(ps, off, tag, false, len, 2))
			return EBADMSG;
		r->role = be16(v);
		r->has_role = true;
		break;
	case ITL_R_ISSUER_NAME:
		r->issuer = str_value(v, len);
		break;
	case ITL_R_SERIAL_NUMBER:
		r->serial = raw_value(v, len);
		break;
	case ITL_R_PUBLIC_KEY:
		r->pubkey = raw_value(v, len);
		break;
	case ITL_R_SIGNATURE:
		r->signature = raw_value(v, len);
		break;
	case ITL_R_CERTIFICATE:
		r->cert = raw_value(v, len);
		break;
	case ITL_R_IP_ADDRESS:
		/* Any length: CSCum48958 shows files got it wrong. */
		r->ip = raw_value(v, len);
		break;
	case ITL_R_CERTIFICATE_HASH:
		r->cert_hash = raw_value(v, len);
		break;
	case ITL_R_HASH_ALGORITHM:
		r->hash_alg = raw_value(v, len);
		break;
	}
	return 0;
}

static int
parse_records(struct parser *ps, size_t pos)
{
	struct itl_file *f = ps->f;
	const unsigned char *d = f->data;
	char td[64];
	int err;

	while (pos < f->len) {
		size_t left = f->len - pos, rl, end, n = f->nrecs + 1, len;
		struct itl_record *r;
		uint32_t seen = UINT32_C(1) << ITL_R_RECORD_LENGTH;

		if (left < TLV_HDR + 2 && (left < 1 || d[pos] == 1))
			return perr(ps, pos,
			    "truncated: record %zu has %zu byte%s; its "
			    "RECORD_LENGTH element alone needs 5",
			    n, left, left == 1 ? "" : "s");
		if (d[pos] != ITL_R_RECORD_LENGTH)
			return perr(ps, pos,
			    "record %zu starts with %s, not RECORD_LENGTH "
			    "(tag 1)",
			    n, tag_desc(td, sizeof(td), d[pos], false));
		if ((len = be16(d + pos + 1)) != 2)
			return perr(ps, pos,
			    "record %zu: RECORD_LENGTH (tag 1) has length %zu; "
			    "it is 2 bytes",
			    n, len);
		rl = be16(d + pos + TLV_HDR);
		if (rl < TLV_HDR + 2)
			return perr(ps, pos,
			    "record %zu: RECORD_LENGTH %zu is less than its "
			    "own 5 bytes",
			    n, rl);
		if (rl > left)
			return perr(ps, pos,
			    "truncated: record %zu has RECORD_LENGTH %zu but "
			    "only %zu bytes are left in the file",
			    n, rl, left);
		if ((err = push_rec(ps, pos, rl)) ||
		    (err = push_elem(ps, pos, 2, ITL_R_RECORD_LENGTH,
		         ITL_ELEM_VALUE, 0, (int)(n - 1))))
			return err;
		r = &f->recs[n - 1];
		end = pos + rl;
		pos += TLV_HDR + 2;
		while (pos < end) {
			size_t rest = end - pos;
			unsigned tag = d[pos];
			bool last = end == f->len;

			if (rest < TLV_HDR)
				return perr(ps, pos,
				    "%s%zu byte%s left in record %zu "
				    "(RECORD_LENGTH %zu at offset %zu): an "
				    "element needs 3",
				    last ? "truncated: " : "", rest,
				    rest == 1 ? "" : "s", n, rl, r->off);
			len = be16(d + pos + 1);
			if (len > rest - TLV_HDR)
				return perr(ps, pos,
				    "%s%s of length %zu runs past the end of "
				    "record %zu (RECORD_LENGTH %zu at offset "
				    "%zu) by %zu bytes",
				    last ? "truncated: " : "",
				    tag_desc(td, sizeof(td), tag, false), len,
				    n, rl, r->off, len - (rest - TLV_HDR));
			if ((err = push_elem(ps, pos, len, (uint8_t)tag,
			         ITL_ELEM_VALUE, 0, (int)(n - 1))))
				return err;
			r = &f->recs[n - 1];
			r->nelems++;
			if ((err = record_value(ps, r, pos, tag, len, &seen)))
				return err;
			pos += TLV_HDR + len;
		}
		r->nelems++; /* RECORD_LENGTH */
	}
	return 0;
}

int
itl_parse(
    struct itl_file **fp, const void *data, size_t len, struct itl_err *err)
{
	struct parser ps = {0};
	struct itl_file *f;
	size_t hl = 0;
	int rc;

	if (err) {
		err->offset = 0;
		err->msg[0] = '\0';
	}
	if (fp == NULL || (data == NULL && len > 0))
		return EINVAL;
	ps.err = err;
	if (len == 0)
		return perr(&ps, 0, "truncated: the file is empty");
	if (len > ITL_MAX_FILE)
		return perr(&ps, 0,
		    "the file has %zu bytes, more than the %u an ITL may have",
		    len, ITL_MAX_FILE);
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ENOMEM;
	f->data = data;
	f->len = len;
	f->version_major = f->version_minor = -1;
	f->signer_version_major = f->signer_version_minor = -1;
	f->hash_alg = f->sig_alg = f->sig_modulus = -1;
	ps.f = f;
	if ((rc = parse_header(&ps, &hl)) == 0) {
		f->header_len = hl;
		rc = parse_records(&ps, hl);
	}
	if (rc) {
		if (rc == ENOMEM && err) {
			err->offset = 0;
			snprintf(err->msg, sizeof(err->msg), "out of memory");
		}
		itl_free(f);
		return rc;
	}
	*fp = f;
	return 0;
}

void
itl_free(struct itl_file *f)
{
	if (f == NULL)
		return;
	free(f->elems);
	free(f->recs);
	free(f);
}

/* Names and keys of certificates ----------------------------------------- */

int
itl_name_fmt(const X509_NAME *n, char *buf, size_t sz)
{
	size_t used = 0;
	int cnt;

	if (buf == NULL || sz == 0)
		return ENOMEM;
	buf[0] = '\0';
	if (n == NULL)
		return 0;
	cnt = X509_NAME_entry_count(n);
	/* Most specific first: the reverse of the DER order (RFC 4514). */
	for (int i = cnt - 1; i >= 0; i--) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(n, i);
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(ne);
		const char *sn = NULL;
		char oid[96];
		unsigned char *u = NULL;
		int ul, nid = OBJ_obj2nid(obj), w;

		if (nid != NID_undef)
			sn = OBJ_nid2sn(nid);
		if (sn == NULL) {
			OBJ_obj2txt(oid, sizeof(oid), obj, 1);
			sn = oid;
		}
		ul = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(ne));
		if (ul < 0) {
			ERR_clear_error();
			ul = 0;
		}
		/* A NUL would end the string in the file early. */
		for (int j = 0; j < ul; j++) {
			if (u[j] == '\0')
				u[j] = '?';
		}
		w = snprintf(buf + used, sz - used, "%s%s=%.*s",
		    used ? ";" : "", sn, ul, u ? (const char *)u : "");
		OPENSSL_free(u);
		if (w < 0 || (size_t)w >= sz - used) {
			buf[used] = '\0';
			return ENOMEM;
		}
		used += (size_t)w;
	}
	return 0;
}

/* The first DNS subject alternative name, else the CN, else "". */
static void
dns_name_of(X509 *x, char *buf, size_t sz)
{
	GENERAL_NAMES *gens;
	const X509_NAME *subj = X509_get_subject_name(x);
	int i;

	buf[0] = '\0';
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS) {
			const ASN1_STRING *s = g->d.dNSName;
			snprintf(buf, sz, "%.*s", ASN1_STRING_length(s),
			    (const char *)ASN1_STRING_get0_data(s));
			break;
		}
	}
	GENERAL_NAMES_free(gens);
	if (buf[0] == '\0' &&
	    (i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) >= 0) {
		unsigned char *u = NULL;
		int ul = ASN1_STRING_to_UTF8(
		    &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
		if (ul > 0)
			snprintf(buf, sz, "%.*s", ul, (const char *)u);
		OPENSSL_free(u);
	}
	ERR_clear_error();
}

/*
 * The PUBLIC_KEY value: RSA as DER PKCS#1 RSAPublicKey (notes 1.3, S3);
 * EC as the X9.62 uncompressed point, as certutils writes it (Cisco's EC
 * encoding is not known, docs/itl.md). *outp is OPENSSL_free'd.
 */
static int
pubkey_encode(EVP_PKEY *pk, unsigned char **outp, size_t *lenp,
    struct pki_err *e, const char *what)
{
	unsigned char *out = NULL;
	size_t len = 0;

	if (EVP_PKEY_is_a(pk, "RSA")) {
		int n = i2d_PublicKey(pk, &out);
		if (n <= 0) {
			pki_err_ossl(e, "%s: cannot encode the RSA key", what);
			return EPROTO;
		}
		len = (size_t)n;
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		EVP_PKEY *dup = EVP_PKEY_dup(pk);
		/* A certificate may carry a compressed point: write it whole. */
		if (dup == NULL ||
		    EVP_PKEY_set_utf8_string_param(dup,
		        OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
		        "uncompressed") != 1 ||
		    EVP_PKEY_get_octet_string_param(dup,
		        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0,
		        &len) != 1 ||
		    (out = OPENSSL_malloc(len)) == NULL ||
		    EVP_PKEY_get_octet_string_param(dup,
		        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, len,
		        &len) != 1) {
			EVP_PKEY_free(dup);
			OPENSSL_free(out);
			pki_err_ossl(e, "%s: cannot encode the EC key", what);
			return EPROTO;
		}
		EVP_PKEY_free(dup);
	} else {
		char desc[96];
		pki_err_set(e,
		    "%s: a %s key cannot go in an ITL record (RSA or EC)", what,
		    pki_key_describe(pk, desc, sizeof(desc)));
		return EINVAL;
	}
	*outp = out;
	*lenp = len;
	return 0;
}

int
itl_record_cert(const struct itl_record *r, X509 **xp)
{
	const unsigned char *p;
	X509 *x;

	if (r->cert.p == NULL)
		return ENOENT;
	p = (const unsigned char *)r->cert.p;
	x = d2i_X509(NULL, &p, (long)r->cert.n);
	/* The whole value is the certificate, nothing after it. */
	if (x == NULL || p != (const unsigned char *)r->cert.p + r->cert.n) {
		X509_free(x);
		ERR_clear_error();
		return EBADMSG;
	}
	*xp = x;
	return 0;
}

/* The curve of an X9.62 point of n bytes, when the certificate is missing. */
static const char *
curve_by_size(size_t n, unsigned char form)
{
	bool full = form == 0x04;

	if (n == (full ? 65u : 33u))
		return "P-256";
	if (n == (full ? 97u : 49u))
		return "P-384";
	if (n == (full ? 133u : 67u))
		return "P-521";
	return NULL;
}

static EVP_PKEY *
ec_from_point(const char *group, const unsigned char *pt, size_t n)
{
	unsigned char copy[256];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;

	if (n == 0 || n > sizeof(copy))
		return NULL;
	memcpy(copy, pt, n);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] =
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, copy, n);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return pk;
}

int
itl_record_pubkey(
    const struct itl_record *r, EVP_PKEY **pkp, char *why, size_t whysz)
{
	EVP_PKEY *fromkey = NULL, *fromcert = NULL;
	X509 *x = NULL;
	int err = 0;

	if (r->cert.p) {
		if (itl_record_cert(r, &x) != 0) {
			snprintf(why, whysz,
			    "CERTIFICATE is not a DER X.509 certificate");
			return EBADMSG;
		}
		fromcert = X509_get_pubkey(x);
		X509_free(x);
		if (fromcert == NULL) {
			ERR_clear_error();
			snprintf(why, whysz,
			    "the certificate's public key does not decode");
			return EBADMSG;
		}
	}
	if (r->pubkey.p) {
		const unsigned char *v = (const unsigned char *)r->pubkey.p;
		size_t n = r->pubkey.n;

		if (n > 0 && v[0] == 0x30) {
			const unsigned char *p = v;
			fromkey =
			    d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)n);
			if (fromkey && p != v + n) {
				EVP_PKEY_free(fromkey);
				fromkey = NULL;
			}
		} else if (n > 0 &&
		           (v[0] == 0x04 || v[0] == 0x02 || v[0] == 0x03)) {
			char group[64];
			const char *g = NULL;
			if (fromcert && EVP_PKEY_is_a(fromcert, "EC") &&
			    EVP_PKEY_get_group_name(
			        fromcert, group, sizeof(group), NULL) == 1)
				g = group;
			else if (fromcert == NULL)
				g = curve_by_size(n, v[0]);
			if (g)
				fromkey = ec_from_point(g, v, n);
		}
		ERR_clear_error();
		if (fromkey == NULL) {
			snprintf(why, whysz,
			    "PUBLIC_KEY (%zu bytes) is neither a DER PKCS#1 "
			    "RSA key nor an EC point%s",
			    n, fromcert ? " of the certificate's curve" : "");
			err = EBADMSG;
		} else if (fromcert && EVP_PKEY_eq(fromkey, fromcert) != 1) {
			ERR_clear_error();
			snprintf(why, whysz,
			    "PUBLIC_KEY is not the key of the record's "
			    "certificate");
			err = EBADMSG;
		}
	} else if (fromcert == NULL) {
		snprintf(why, whysz, "no PUBLIC_KEY and no CERTIFICATE");
		err = ENOENT;
	}
	if (err) {
		EVP_PKEY_free(fromkey);
		EVP_PKEY_free(fromcert);
		return err;
	}
	if (fromkey) {
		EVP_PKEY_free(fromcert);
		*pkp = fromkey;
	} else
		*pkp = fromcert;
	return 0;
}

/* Encoding --------------------------------------------------------------- */

/* A container's tag and length: its elements follow. */
static void
put_hdr(struct buf *b, unsigned tag, size_t n)
{
	unsigned char h[TLV_HDR] = {
	    (unsigned char)tag, (unsigned char)(n >> 8), (unsigned char)n};

	buf_append(b, h, sizeof(h));
}

static void
put_tlv(struct buf *b, unsigned tag, const void *v, size_t n)
{
	put_hdr(b, tag, n);
	buf_append(b, v, n);
}

static void
put_u8(struct buf *b, unsigned tag, unsigned v)
{
	unsigned char c = (unsigned char)v;

	put_tlv(b, tag, &c, 1);
}

static void
put_u16(struct buf *b, unsigned tag, unsigned v)
{
	unsigned char c[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	put_tlv(b, tag, c, 2);
}

/* A string with its NUL, which the length counts (notes 1.1). */
static void
put_str(struct buf *b, unsigned tag, const char *s)
{
	put_tlv(b, tag, s, strlen(s) + 1);
}

/* A certificate's fields as they go in the file. */
struct cert_fields {
	char subject[1024], issuer[1024], dns[256];
	const unsigned char *serial;
	size_t serial_n;
	unsigned char zero; /* the serial 0 */
	const unsigned char *sig;
	size_t sig_n;
	unsigned char *der; /* OPENSSL_free */
	size_t der_n;
	unsigned char *pub; /* OPENSSL_free */
	size_t pub_n;
};

static void
fields_free(struct cert_fields *cf)
{
	OPENSSL_free(cf->der);
	OPENSSL_free(cf->pub);
	cf->der = cf->pub = NULL;
}

static int
fields_get(struct cert_fields *cf, X509 *x, const char *what, struct pki_err *e)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const ASN1_BIT_STRING *sig = NULL;
	EVP_PKEY *pk = X509_get0_pubkey(x);
	int n, err;

	memset(cf, 0, sizeof(*cf));
	if (itl_name_fmt(
	        X509_get_subject_name(x), cf->subject, sizeof(cf->subject)) ||
	    itl_name_fmt(
	        X509_get_issuer_name(x), cf->issuer, sizeof(cf->issuer))) {
		pki_err_set(e, "%s: subject or issuer name too long", what);
		return EINVAL;
	}
	dns_name_of(x, cf->dns, sizeof(cf->dns));
	/* Serials are the integer's big-endian bytes, no sign octet. */
	cf->serial = ASN1_STRING_get0_data(sn);
	cf->serial_n = (size_t)ASN1_STRING_length(sn);
	if (cf->serial_n == 0) {
		cf->serial = &cf->zero;
		cf->serial_n = 1;
	}
	X509_get0_signature(&sig, NULL, x);
	if (sig == NULL) {
		pki_err_set(e, "%s: the certificate has no signature", what);
		return EINVAL;
	}
	cf->sig = ASN1_STRING_get0_data(sig);
	cf->sig_n = (size_t)ASN1_STRING_length(sig);
	if ((n = i2d_X509(x, &cf->der)) <= 0) {
		pki_err_ossl(e, "%s: cannot encode the certificate", what);
		return EPROTO;
	}
	cf->der_n = (size_t)n;
	if (pk == NULL) {
		pki_err_ossl(
		    e, "%s: the certificate's key does not decode", what);
		fields_free(cf);
		return EINVAL;
	}
	if ((err = pubkey_encode(pk, &cf->pub, &cf->pub_n, e, what))) {
		fields_free(cf);
		return err;
	}
	return 0;
}

/* Appends one record for en. */
static int
record_encode(struct buf *out, const struct itl_entry *en, struct pki_err *e)
{
	struct cert_fields cf;
	char what[1100];
	const char *dns;
	size_t total;
	int err;

	if (en->cert == NULL) {
		pki_err_set(e, "a record without a certificate");
		return EINVAL;
	}
	itl_name_fmt(X509_get_subject_name(en->cert), what, sizeof(what));
	if ((err = fields_get(&cf, en->cert, what, e)))
		return err;
	dns = en->dns_name ? en->dns_name : cf.dns;
	total = (TLV_HDR + 2) + (TLV_HDR + strlen(dns) + 1) +
	        (TLV_HDR + strlen(cf.subject) + 1) + (TLV_HDR + 2) +
	        (TLV_HDR + strlen(cf.issuer) + 1) + (TLV_HDR + cf.serial_n) +
	        (TLV_HDR + cf.pub_n) + (TLV_HDR + cf.sig_n) +
	        (TLV_HDR + cf.der_n) + (en->has_ip ? TLV_HDR + 4 : 0);
	if (total > U16_MAX) {
		pki_err_set(e,
		    "%s: the record would be %zu bytes, more than the 65535 "
		    "its RECORD_LENGTH can say",
		    what, total);
		fields_free(&cf);
		return EINVAL;
	}
	/* The call manager's order (notes 1.3). */
	put_u16(out, ITL_R_RECORD_LENGTH, (unsigned)total);
	put_str(out, ITL_R_DNS_NAME, dns);
	put_str(out, ITL_R_SUBJECT_NAME, cf.subject);
	put_u16(out, ITL_R_ROLE, en->role);
	put_str(out, ITL_R_ISSUER_NAME, cf.issuer);
	put_tlv(out, ITL_R_SERIAL_NUMBER, cf.serial, cf.serial_n);
	put_tlv(out, ITL_R_PUBLIC_KEY, cf.pub, cf.pub_n);
	put_tlv(out, ITL_R_SIGNATURE, cf.sig, cf.sig_n);
	put_tlv(out, ITL_R_CERTIFICATE, cf.der, cf.der_n);
	if (en->has_ip)
		put_tlv(out, ITL_R_IP_ADDRESS, en->ip, 4);
	fields_free(&cf);
	return out->err;
}

/* Feeds the file without its SIGNATURE TLV to a sign or verify context. */
static int
digest_update(EVP_MD_CTX *mctx, bool sign, const unsigned char *data,
    size_t len, size_t sig_off, size_t sig_n)
{
	size_t after = sig_off + TLV_HDR + sig_n;
	int (*upd)(EVP_MD_CTX *, const void *, size_t) =
	    sign ? EVP_DigestSignUpdate : EVP_DigestVerifyUpdate;

	return upd(mctx, data, sig_off) == 1 &&
	       upd(mctx, data + after, len - after) == 1;
}

int
itl_build(struct buf *out, const struct itl_build_opts *o, struct pki_err *e)
{
	struct cert_fields sf;
	const char *filename;
	enum itl_hash hash;
	size_t base, siglen, hdr, pad, sig_off, sinfo, slen;
	unsigned char ts[4], vers[2] = {1, 2}, *sigp;
	uint32_t now;
	int modulus = -1, err;
	bool listed = false;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;

	if (out == NULL || o == NULL || o->signer == NULL ||
	    o->signer_key == NULL) {
		pki_err_set(e, "a signer certificate and its key are needed");
		return EINVAL;
	}
	if (o->entries == NULL && o->nentries > 0) {
		pki_err_set(e, "no entries given");
		return EINVAL;
	}
	hash = o->hash ? o->hash : ITL_HASH_SHA512;
	if (hash != ITL_HASH_SHA1 && hash != ITL_HASH_SHA512) {
		pki_err_set(e,
		    "digest code %d: an ITL is signed with SHA-1 (1) or "
		    "SHA-512 (3)",
		    (int)hash);
		return EINVAL;
	}
	filename = o->filename ? o->filename : "ITLFile.tlv";
	if (!EVP_PKEY_is_a(o->signer_key, "RSA")) {
		char desc[96];
		pki_err_set(e,
		    "the signer key is %s: an ITL is signed with RSA "
		    "(PKCS#1 v1.5)",
		    pki_key_describe(o->signer_key, desc, sizeof(desc)));
		return EINVAL;
	}
	if (X509_check_private_key(o->signer, o->signer_key) != 1) {
		pki_err_set(e, "the signer key is not the key of the signer "
		               "certificate");
		return EINVAL;
	}
	siglen = (size_t)EVP_PKEY_get_size(o->signer_key);
	for (int i = 0; i < 4; i++) {
		if (modulus_bytes[i] == siglen)
			modulus = i;
	}
	if (modulus < 0) {
		pki_err_set(e,
		    "an RSA key of %d bits has no SIGNATURE_MODULUS code: "
		    "the ITL knows 512, 1024, 2048 and 4096 bits",
		    EVP_PKEY_get_bits(o->signer_key));
		return EINVAL;
	}
	if ((err = fields_get(&sf, o->signer, "the signer", e)))
		return err;

	/* The header's size comes first: HEADER_LENGTH counts it all. */
	slen = strlen(sf.subject) + 1;
	sinfo = (TLV_HDR + slen) + (TLV_HDR + sf.serial_n) +
	        (TLV_HDR + strlen(sf.issuer) + 1);
	hdr = (TLV_HDR + 2) + (TLV_HDR + 2) +
	      (o->signer_version ? TLV_HDR + 2 : 0) + TLV_HDR + sinfo +
	      TLV_HDR + (TLV_HDR + 1) + TLV_HDR + (TLV_HDR + 1) +
	      (TLV_HDR + 1) + (TLV_HDR + siglen) +
	      (TLV_HDR + strlen(filename) + 1) + (TLV_HDR + 4);
	pad = (4 - hdr % 4) % 4;
	if (hdr + pad > U16_MAX) {
		pki_err_set(e,
		    "the header would be %zu bytes, more than the "
		    "65535 HEADER_LENGTH can say",
		    hdr + pad);
		fields_free(&sf);
		return EINVAL;
	}
	now = o->timestamp ? o->timestamp : (uint32_t)time(NULL);
	ts[0] = (unsigned char)(now >> 24);
	ts[1] = (unsigned char)(now >> 16);
	ts[2] = (unsigned char)(now >> 8);
	ts[3] = (unsigned char)now;

	base = out->len;
	put_tlv(out, ITL_H_VERSION, vers, 2);
	put_u16(out, ITL_H_HEADER_LENGTH, (unsigned)(hdr + pad));
	if (o->signer_version)
		put_u16(out, ITL_H_SIGNER_VERSION, o->signer_version);
	put_hdr(out, ITL_H_SIGNER_INFO, sinfo);
	put_str(out, ITL_H_SIGNER_NAME, sf.subject);
	put_tlv(out, ITL_H_SERIAL_NUMBER, sf.serial, sf.serial_n);
	put_str(out, ITL_H_ISSUER_NAME, sf.issuer);
	put_hdr(out, ITL_H_SIGNATURE_INFO, 15);
	put_u8(out, ITL_H_HASH_ALGORITHM, hash);
	put_hdr(out, ITL_H_SIGNATURE_ALGORITHM_INFO, 8);
	put_u8(out, ITL_H_SIGNATURE_ALGORITHM, 0); /* RSA */
	put_u8(out, ITL_H_SIGNATURE_MODULUS, (unsigned)modulus);
	sig_off = out->len - base;
	put_hdr(out, ITL_H_SIGNATURE, siglen);
	if (buf_reserve(out, siglen) == 0) {
		memset(out->p + out->len, 0, siglen);
		out->len += siglen;
	}
	put_str(out, ITL_H_FILENAME, filename);
	put_tlv(out, ITL_H_TIMESTAMP, ts, 4);
	for (size_t i = 0; i < pad; i++)
		buf_append(out, "\x0d", 1);
	fields_free(&sf);
	if (out->err) {
		err = out->err;
		pki_err_set(e, "out of memory");
		goto out;
	}

	/* The signer is listed as SAST first, unless an entry does it. */
	for (size_t i = 0; i < o->nentries; i++) {
		if (o->entries[i].role == ITL_ROLE_SAST && o->entries[i].cert &&
		    X509_cmp(o->entries[i].cert, o->signer) == 0)
			listed = true;
	}
	if (!listed) {
		struct itl_entry sast = {
		    ITL_ROLE_SAST, o->signer, NULL, false, {0}};
		if ((err = record_encode(out, &sast, e)))
			goto out;
	}
	for (size_t i = 0; i < o->nentries; i++) {
		if ((err = record_encode(out, &o->entries[i], e)))
			goto out;
	}

	/* Sign everything but the SIGNATURE TLV, then fill it in. */
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(
	        mctx, &pctx, hash_md(hash), NULL, o->signer_key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    !digest_update(mctx, true, (unsigned char *)out->p + base,
	        out->len - base, sig_off, siglen)) {
		pki_err_ossl(e, "cannot sign the ITL");
		err = EPROTO;
		goto out;
	}
	sigp = (unsigned char *)out->p + base + sig_off + TLV_HDR;
	{
		size_t n = siglen;
		if (EVP_DigestSignFinal(mctx, sigp, &n) != 1 || n != siglen) {
			pki_err_ossl(e, "cannot sign the ITL");
			err = EPROTO;
			goto out;
		}
	}
	err = 0;
out:
	EVP_MD_CTX_free(mctx);
	if (err && out->len > base)
		out->len = base;
	return err;
}

/* Verification ----------------------------------------------------------- */

static int verr(struct itl_err *err, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
verr(struct itl_err *err, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->offset = off;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return EBADMSG;
}

/* The offset of a header tag, or 0 when absent. */
static size_t
hdr_off(const struct itl_file *f, unsigned tag)
{
	for (size_t i = 0; i < f->nelems && f->elems[i].record < 0; i++) {
		if (f->elems[i].tag == tag)
			return f->elems[i].off;
	}
	return 0;
}

/* Serials compare as integers: leading zero bytes do not count. */
static bool
serial_eq(struct slice a, struct slice b)
{
	while (a.n > 1 && a.p[0] == 0) {
		a.p++;
		a.n--;
	}
	while (b.n > 1 && b.p[0] == 0) {
		b.p++;
		b.n--;
	}
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static void
hex_fmt(char *buf, size_t sz, struct slice s, size_t max)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s.n && i < max && used + 3 < sz; i++)
		used += (size_t)snprintf(
		    buf + used, sz - used, "%02X", (unsigned char)s.p[i]);
	if (s.n > max && used + 4 < sz)
		snprintf(buf + used, sz - used, "...");
}

/* The SAST record the header names through tags 5 and 6, or -1. */
static int
find_signer(const struct itl_file *f)
{
	for (size_t i = 0; i < f->nrecs; i++) {
		const struct itl_record *r = &f->recs[i];
		if (r->has_role && r->role == ITL_ROLE_SAST && r->serial.p &&
		    r->issuer.p && serial_eq(r->serial, f->signer_serial) &&
		    slice_casecmp_eq(r->issuer, f->signer_issuer))
			return (int)i;
	}
	return -1;
}

/* The SAST record whose certificate is x, or -1. */
static int
find_cert(const struct itl_file *f, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der), found = -1;

	for (size_t i = 0; n > 0 && i < f->nrecs && found < 0; i++) {
		const struct itl_record *r = &f->recs[i];
		if (r->has_role && r->role == ITL_ROLE_SAST &&
		    r->cert.n == (size_t)n &&
		    memcmp(r->cert.p, der, r->cert.n) == 0)
			found = (int)i;
	}
	OPENSSL_free(der);
	ERR_clear_error();
	return found;
}

int
itl_verify(const struct itl_file *f, X509 *signer, struct itl_verified *v,
    struct itl_err *err)
{
	struct itl_verified res;
	const EVP_MD *md;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	char why[256], hex[80], desc[96];
	int rc, rec = -1;
	size_t want;

	memset(&res, 0, sizeof(res));
	res.record = -1;
	if (err) {
		err->offset = 0;
		err->msg[0] = '\0';
	}
	if (f == NULL)
		return EINVAL;
	if (f->signature.p == NULL)
		return verr(err, 0,
		    "the header has no SIGNATURE (tag 12): the file is not "
		    "signed");
	if (f->hash_alg < 0)
		return verr(err, 0,
		    "the header has no HASH_ALGORITHM (tag 8): the digest "
		    "of the signature is unknown");
	if ((md = hash_md(f->hash_alg)) == NULL)
		return verr(err, hdr_off(f, ITL_H_HASH_ALGORITHM),
		    "HASH_ALGORITHM %d is not a known digest code (1 SHA-1, "
		    "3 SHA-512)",
		    f->hash_alg);
	if (f->sig_alg > 0)
		return verr(err, hdr_off(f, ITL_H_SIGNATURE_ALGORITHM),
		    "SIGNATURE_ALGORITHM %d: only RSA (0) signatures are "
		    "known",
		    f->sig_alg);

	if (signer) {
		pk = X509_get_pubkey(signer);
		if (pk == NULL)
			return verr(err, 0,
			    "the given signer certificate's key does not "
			    "decode");
		rec = find_cert(f, signer);
		res.by_cert = true;
		itl_name_fmt(X509_get_subject_name(signer), res.signer,
		    sizeof(res.signer));
	} else {
		const struct itl_record *r;
		if (f->signer_serial.p == NULL || f->signer_issuer.p == NULL)
			return verr(err, 0,
			    "the header names no signer: SERIAL_NUMBER (tag "
			    "5) and ISSUER_NAME (tag 6) find its SAST record");
		if ((rec = find_signer(f)) < 0) {
			hex_fmt(hex, sizeof(hex), f->signer_serial, 32);
			return verr(err, hdr_off(f, ITL_H_SERIAL_NUMBER),
			    "no SAST record has the signer's serial %s and "
			    "issuer \"%.*s\"",
			    hex,
			    (int)(f->signer_issuer.n > 200
			              ? 200
			              : f->signer_issuer.n),
			    f->signer_issuer.p);
		}
		r = &f->recs[rec];
		if (itl_record_pubkey(r, &pk, why, sizeof(why)) != 0)
			return verr(
			    err, r->off, "record %d (SAST): %s", rec + 1, why);
		snprintf(res.signer, sizeof(res.signer), "%.*s",
		    (int)(r->subject.n > 500 ? 500 : r->subject.n),
		    r->subject.p ? r->subject.p : "");
	}
	res.record = rec;
	res.hash = f->hash_alg;
	if (!EVP_PKEY_is_a(pk, "RSA")) {
		rc = verr(err, rec >= 0 ? f->recs[rec].off : f->sig_off,
		    "the signer's key is %s: the file's signature is RSA",
		    pki_key_describe(pk, desc, sizeof(desc)));
		goto out;
	}
	res.key_bits = EVP_PKEY_get_bits(pk);
	want = (size_t)EVP_PKEY_get_size(pk);
	if (f->signature.n != want) {
		rc = verr(err, f->sig_off,
		    "SIGNATURE is %zu bytes; the signer's RSA %d-bit key "
		    "makes %zu-byte signatures",
		    f->signature.n, res.key_bits, want);
		goto out;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pk) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    !digest_update(
	        mctx, false, f->data, f->len, f->sig_off, f->signature.n)) {
		rc = verr(err, f->sig_off, "cannot set up the verification");
		goto out;
	}
	if (EVP_DigestVerifyFinal(mctx, (const unsigned char *)f->signature.p,
	        f->signature.n) != 1) {
		if (signer)
			rc = verr(err, f->sig_off,
			    "the signature does not verify with the key of "
			    "the given certificate %s",
			    res.signer);
		else
			rc = verr(err, f->sig_off,
			    "the signature does not verify with the key of "
			    "SAST record %d (%s): the file was changed after "
			    "it was signed, or signed with another key",
			    rec + 1, res.signer);
		goto out;
	}
	rc = 0;
	if (v)
		*v = res;
out:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return rc;
}

/* Printing --------------------------------------------------------------- */

/* Writes a string value, escaping what a terminal should not get. */
static void
print_text(FILE *out, struct slice s)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(out, "\\x%02X", c);
		else
			fputc(c, out);
	}
}

#define VALUE_COL 50 /* where values start on a line */

static void
print_hex(FILE *out, const unsigned char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && i % 16 == 0)
			fprintf(out, "\n%*s", VALUE_COL, "");
		fprintf(out, "%s%02X", i % 16 ? " " : "", v[i]);
	}
}

static void
print_fingerprint(FILE *out, const unsigned char *v, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (EVP_Digest(v, n, md, &mdlen, EVP_sha1(), NULL) != 1) {
		ERR_clear_error();
		fprintf(out, "?");
		return;
	}
	for (unsigned i = 0; i < mdlen; i++)
		fprintf(out, "%s%02X", i ? ":" : "", md[i]);
}

static void
print_time(FILE *out, uint32_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];

	if (gmtime_r(&tt, &tm) &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm))
		fprintf(out, "%" PRIu32 " (%s)", t, buf);
	else
		fprintf(out, "%" PRIu32, t);
}

static void
print_value(
    FILE *out, const struct itl_elem *el, const unsigned char *v, bool full_hex)
{
	struct slice s = raw_value(v, el->len);
	bool header = el->record < 0;
	unsigned tag = el->tag;

	if (el->len == 0) {
		fprintf(out, "(empty)");
		return;
	}

	if (header) {
		switch (tag) {
		case ITL_H_VERSION:
		case ITL_H_SIGNER_VERSION:
			if (el->len == 2) {
				fprintf(out, "%u.%u", v[0], v[1]);
				return;
			}
			break;
		case ITL_H_HEADER_LENGTH:
			if (el->len == 2) {
				fprintf(out, "%u", be16(v));
				return;
			}
			break;
		case ITL_H_SIGNER_NAME:
		case ITL_H_ISSUER_NAME:
		case ITL_H_FILENAME:
			goto text;
		case ITL_H_HASH_ALGORITHM:
			if (el->len == 1) {
				const char *h = itl_hash_name(v[0]);
				fprintf(
				    out, "%u (%s)", v[0], h ? h : "unknown");
				return;
			}
			break;
		case ITL_H_SIGNATURE_ALGORITHM:
			if (el->len == 1) {
				fprintf(out, "%u (%s)", v[0],
				    v[0] == 0 ? "RSA" : "unknown");
				return;
			}
			break;
		case ITL_H_SIGNATURE_MODULUS:
			if (el->len == 1) {
				if (v[0] < 4)
					fprintf(out, "%u (%zu-bit)", v[0],
					    modulus_bytes[v[0]] * 8);
				else
					fprintf(out, "%u (unknown)", v[0]);
				return;
			}
			break;
		case ITL_H_TIMESTAMP:
			if (el->len == 4) {
				print_time(out, be32(v));
				return;
			}
			break;
		}
	} else {
		switch (tag) {
		case ITL_R_RECORD_LENGTH:
			if (el->len == 2) {
				fprintf(out, "%u", be16(v));
				return;
			}
			break;
		case ITL_R_DNS_NAME:
		case ITL_R_SUBJECT_NAME:
		case ITL_R_ISSUER_NAME:
			goto text;
		case ITL_R_ROLE:
			if (el->len == 2) {
				const char *r = itl_role_name(be16(v));
				fprintf(out, "%u (%s%s)", be16(v),
				    r ? r : "unknown",
				    be16(v) == ITL_ROLE_SAST
				        ? ", System Administrator Security "
				          "Token"
				        : "");
				return;
			}
			break;
		case ITL_R_CERTIFICATE:
			if (!full_hex) {
				fprintf(out, "SHA-1 ");
				print_fingerprint(out, v, el->len);
				return;
			}
			break;
		case ITL_R_IP_ADDRESS:
			if (el->len == 4) {
				fprintf(
				    out, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
				return;
			}
			break;
		}
	}
	print_hex(out, v, el->len);
	return;
text:
	print_text(out, str_value(v, el->len));
	if (s.n == 0 || memchr(s.p, 0, s.n) == NULL)
		fprintf(out, " (no NUL)");
	else if (str_value(v, el->len).n + 1 < s.n)
		fprintf(out, " (+%zu bytes after the NUL)",
		    s.n - str_value(v, el->len).n - 1);
}

static void
print_elems(FILE *out, const struct itl_file *f, bool full_hex)
{
	fprintf(out, "%8s  %3s  %-28s %6s  %s\n", "offset", "tag", "name",
	    "length", "value");
	for (size_t i = 0; i < f->nelems; i++) {
		const struct itl_elem *el = &f->elems[i];
		const char *name = el->record < 0 ? itl_htag_name(el->tag)
		                                  : itl_rtag_name(el->tag);
		char nm[64];
		int ind = 2 * el->depth;

		if (el->record >= 0 && el->tag == ITL_R_RECORD_LENGTH)
			fprintf(out, "-- record %d\n", el->record + 1);
		else if (el->record < 0 && i == 0)
			fprintf(out, "-- header\n");
		snprintf(
		    nm, sizeof(nm), "%*s%s", ind, "", name ? name : "UNKNOWN");
		if (el->kind == ITL_ELEM_PADDING) {
			fprintf(out, "%8zu  %3u  %-28s %6s\n", el->off, el->tag,
			    nm, "-");
			continue;
		}
		fprintf(out, "%8zu  %3u  %-28s %6zu", el->off, el->tag, nm,
		    el->len);
		if (el->kind == ITL_ELEM_CONTAINER) {
			fputc('\n', out);
			continue;
		}
		fputs("  ", out);
		print_value(out, el, f->data + el->off + TLV_HDR, full_hex);
		fputc('\n', out);
	}
}

static void
print_field(FILE *out, const char *label, struct slice s, bool text)
{
	fprintf(out, "  %-15s ", label);
	if (s.p == NULL)
		fprintf(out, "(none)");
	else if (text)
		print_text(out, s);
	else
		print_hex(out, (const unsigned char *)s.p, s.n);
	fputc('\n', out);
}

void
itl_print(FILE *out, const struct itl_file *f, bool full_hex)
{
	int signer = find_signer(f);
	char why[256], desc[96];

	fprintf(out, "%zu bytes: header %zu bytes, %zu record%s\n\n", f->len,
	    f->header_len, f->nrecs, f->nrecs == 1 ? "" : "s");
	print_elems(out, f, full_hex);

	fprintf(out, "\nheader\n");
	if (f->version_major >= 0)
		fprintf(out, "  %-15s %d.%d\n", "version:", f->version_major,
		    f->version_minor);
	print_field(out, "file name:", f->filename, true);
	fprintf(out, "  %-15s ", "time stamp:");
	if (f->has_timestamp)
		print_time(out, f->timestamp);
	else
		fprintf(out, "(none)");
	fputc('\n', out);
	print_field(out, "signer:", f->signer_name, true);
	print_field(out, "signer serial:", f->signer_serial, false);
	print_field(out, "signer issuer:", f->signer_issuer, true);
	fprintf(out, "  %-15s ", "digest:");
	if (f->hash_alg >= 0) {
		const char *h = itl_hash_name(f->hash_alg);
		fprintf(out, "%s (%d)\n", h ? h : "unknown", f->hash_alg);
	} else
		fprintf(out, "(none)\n");
	fprintf(out, "  %-15s ", "signature:");
	if (f->signature.p)
		fprintf(out, "%zu bytes (%zu-bit RSA)\n", f->signature.n,
		    f->signature.n * 8);
	else
		fprintf(out, "(none: not signed)\n");
	fprintf(out, "  %-15s ", "signed by:");
	if (signer >= 0)
		fprintf(out,
		    "record %d (SAST, matches SERIAL_NUMBER and "
		    "ISSUER_NAME)\n",
		    signer + 1);
	else
		fprintf(out, "no SAST record matches the header's signer\n");

	for (size_t i = 0; i < f->nrecs; i++) {
		const struct itl_record *r = &f->recs[i];
		EVP_PKEY *pk = NULL;

		fprintf(out, "\nrecord %zu at offset %zu, %zu bytes\n", i + 1,
		    r->off, r->len);
		fprintf(out, "  %-15s ", "role:");
		if (r->has_role) {
			const char *d = itl_role_name(r->role);
			fprintf(out, "%s (%u)%s%s\n", d ? d : "unknown",
			    r->role,
			    r->role == ITL_ROLE_SAST
			        ? " System Administrator Security Token"
			        : "",
			    (int)i == signer ? "; signs this file" : "");
		} else
			fprintf(out, "(none)\n");
		print_field(out, "DNS name:", r->dns_name, true);
		print_field(out, "subject:", r->subject, true);
		print_field(out, "issuer:", r->issuer, true);
		print_field(out, "serial:", r->serial, false);
		fprintf(out, "  %-15s ", "key:");
		if (itl_record_pubkey(r, &pk, why, sizeof(why)) == 0) {
			fprintf(out, "%s\n",
			    pki_key_describe(pk, desc, sizeof(desc)));
			EVP_PKEY_free(pk);
		} else
			fprintf(out, "? (%s)\n", why);
		fprintf(out, "  %-15s ", "certificate:");
		if (r->cert.p) {
			fprintf(out, "%zu bytes, SHA-1 ", r->cert.n);
			print_fingerprint(
			    out, (const unsigned char *)r->cert.p, r->cert.n);
			fputc('\n', out);
		} else
			fprintf(out, "(none)\n");
		if (r->ip.p) {
			fprintf(out, "  %-15s ", "IP address:");
			if (r->ip.n == 4) {
				const unsigned char *a =
				    (const unsigned char *)r->ip.p;
				fprintf(out, "%u.%u.%u.%u\n", a[0], a[1], a[2],
				    a[3]);
			} else {
				print_hex(out, (const unsigned char *)r->ip.p,
				    r->ip.n);
				fprintf(out,
				    " (%zu bytes, not an IPv4 "
				    "address)\n",
				    r->ip.n);
			}
		}
	}
	ERR_clear_error();
}

/* Files ------------------------------------------------------------------ */

int
itl_read_file(
    const char *path, unsigned char **datap, size_t *lenp, struct pki_err *e)
{
	return pki_file_read(path, ITL_MAX_FILE, EFBIG,
	    "an ITL (at most 1048576 bytes)", datap, lenp, e);
}

int
itl_write_file(
    const char *path, const void *data, size_t len, struct pki_err *e)
{
	char tmp[4096];
	const unsigned char *p = data;
	size_t done = 0;
	int fd, err = 0;

	if (path == NULL || *path == '\0' ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	        (int)sizeof(tmp)) {
		pki_err_set(e, "%s: bad file name", path ? path : "(null)");
		return EINVAL;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		err = errno;
		pki_err_set(e, "%s: cannot write: %s", path, strerror(err));
		return EIO;
	}
	if (fchmod(fd, 0644) != 0)
		err = errno;
	while (err == 0 && done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			err = errno;
		else
			done += (size_t)w;
	}
	if (err == 0 && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err == 0 && rename(tmp, path) != 0)
		err = errno;
	if (err) {
		unlink(tmp);
		pki_err_set(e, "%s: cannot write: %s", path, strerror(err));
		return EIO;
	}
	return 0;
}
