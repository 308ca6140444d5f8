/* The ITL/CTL trust list (ITLFile.tlv): TLV decoding and encoding, records from certificates, RSA signing and verification (protocol notes section 1). */
#ifndef NGV_PKI_ITL_H
#define NGV_PKI_ITL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/slice.h"
#include "pki/cert.h"

/*
 * The largest file the parser reads. One header and record is at most
 * 65535 bytes (a u16 length); the call manager's phones fail above 64 KB
 * (39 certificates, notes 1.7), so 1 MiB leaves room for any real file.
 */
#define ITL_MAX_FILE (1024u * 1024u)

/* Header tags (notes 1.2). 3, 7 and 9 are containers; 13 is one byte. */
enum itl_htag {
	ITL_H_VERSION = 1,
	ITL_H_HEADER_LENGTH = 2,
	ITL_H_SIGNER_INFO = 3, /* container {4, 5, 6} */
	ITL_H_SIGNER_NAME = 4,
	ITL_H_SERIAL_NUMBER = 5,
	ITL_H_ISSUER_NAME = 6,
	ITL_H_SIGNATURE_INFO = 7, /* container {8, 9} */
	ITL_H_HASH_ALGORITHM = 8,
	ITL_H_SIGNATURE_ALGORITHM_INFO = 9, /* container {10, 11} */
	ITL_H_SIGNATURE_ALGORITHM = 10,
	ITL_H_SIGNATURE_MODULUS = 11,
	ITL_H_SIGNATURE = 12,
	ITL_H_PADDING = 13, /* a single byte 0x0D, no length field */
	ITL_H_FILENAME = 14,
	ITL_H_TIMESTAMP = 15,
	ITL_H_SIGNER_VERSION = 28,
};

/* Record tags (notes 1.3). */
enum itl_rtag {
	ITL_R_RECORD_LENGTH = 1, /* u16, the whole record with this TLV */
	ITL_R_DNS_NAME = 2,
	ITL_R_SUBJECT_NAME = 3,
	ITL_R_ROLE = 4, /* u16, enum itl_role */
	ITL_R_ISSUER_NAME = 5,
	ITL_R_SERIAL_NUMBER = 6,
	ITL_R_PUBLIC_KEY = 7,
	ITL_R_SIGNATURE = 8,
	ITL_R_CERTIFICATE = 9,
	ITL_R_IP_ADDRESS = 10,
	ITL_R_CERTIFICATE_HASH = 11,
	ITL_R_HASH_ALGORITHM = 12,
};

/* Role (FUNCTION) codes (notes 1.4). */
enum itl_role {
	ITL_ROLE_SAST = 0, /* the file's signer */
	ITL_ROLE_CCM = 1,
	ITL_ROLE_CCM_TFTP = 2,
	ITL_ROLE_TFTP = 3,
	ITL_ROLE_CAPF = 4,
	ITL_ROLE_SRST = 5,
	ITL_ROLE_APP_SERVER = 7,
	ITL_ROLE_TVS = 21,
};

#define ITL_ROLE_LIST "SAST, CCM, CCM+TFTP, TFTP, CAPF, SRST, APP-SERVER, TVS"

/*
 * HASH_ALGORITHM codes (header tag 8). 1 and 3 are confirmed; 2 for
 * SHA-256 is a guess (notes 1.2): verification accepts it, building never
 * writes it.
 */
enum itl_hash {
	ITL_HASH_SHA1 = 1,
	ITL_HASH_SHA256 = 2,
	ITL_HASH_SHA512 = 3,
};

/* Why a file does not parse or verify: where, and why in words. */
struct itl_err {
	size_t offset; /* byte offset in the file the message is about */
	char msg[384];
};

enum itl_elem_kind {
	ITL_ELEM_VALUE,     /* tag, length, value */
	ITL_ELEM_CONTAINER, /* tag, length; the value is the nested elements */
	ITL_ELEM_PADDING,   /* header tag 13: the tag byte alone */
};

/* One element as it sits in the file, for show. */
struct itl_elem {
	size_t off; /* of the tag byte */
	size_t len; /* of the value; 0 for padding */
	uint8_t tag;
	uint8_t kind;  /* enum itl_elem_kind */
	uint8_t depth; /* containers around it in the header, 0 outside */
	int record;    /* -1 in the header, else the index in recs */
};

/*
 * A decoded record. Slices point into the file's bytes; a NULL p means the
 * tag is absent. Strings (dns_name, subject, issuer) stop before their NUL.
 */
struct itl_record {
	size_t off;        /* of its RECORD_LENGTH tag */
	size_t len;        /* RECORD_LENGTH: its bytes, that TLV included */
	size_t first_elem; /* its elements in itl_file.elems */
	size_t nelems;
	bool has_role;
	uint16_t role;
	struct slice dns_name, subject, issuer;
	struct slice serial, pubkey, signature, cert, ip, cert_hash, hash_alg;
};

/*
 * A decoded file. data is borrowed: the caller's buffer must outlive it;
 * every slice points into it. Integers are -1 when their tag is absent.
 */
struct itl_file {
	const unsigned char *data;
	size_t len;
	size_t header_len; /* HEADER_LENGTH: offset of the first record */
	int version_major, version_minor;
	int signer_version_major, signer_version_minor;
	struct slice signer_name, signer_serial, signer_issuer;
	int hash_alg, sig_alg, sig_modulus;
	struct slice signature; /* header tag 12's value */
	size_t sig_off;         /* offset of tag 12, when signature.p is set */
	struct slice filename;
	bool has_timestamp;
	uint32_t timestamp;
	size_t padding; /* count of tag 13 bytes */
	struct itl_elem *elems;
	size_t nelems;
	struct itl_record *recs;
	size_t nrecs;
};

/*
 * Decodes len bytes at data (at most ITL_MAX_FILE). The header's elements
 * may come in any order and unknown tags are kept and skipped, in the
 * header as in records; containers 3, 7 and 9 must hold whole elements.
 * Refused, with the offset and the reason in err: a truncated element or
 * record, no HEADER_LENGTH or one that disagrees with the elements, a
 * fixed-size element of another size (VERSION, HASH_ALGORITHM, ROLE, ...),
 * a known tag twice in the header or in one record, a record that does not
 * start with RECORD_LENGTH or whose length disagrees with its elements.
 * *fp is owned by the caller (itl_free). Returns 0, EBADMSG or ENOMEM.
 */
int itl_parse(
    struct itl_file **fp, const void *data, size_t len, struct itl_err *err);

void itl_free(struct itl_file *f);

/* "SIGNER_NAME", "RECORD_LENGTH"; NULL for a tag the notes do not list. */
const char *itl_htag_name(unsigned tag);
const char *itl_rtag_name(unsigned tag);

/* "CCM+TFTP"; NULL for an unknown code. */
const char *itl_role_name(unsigned role);

/* "System Administrator Security Token" for SAST, else the name. */
const char *itl_role_desc(unsigned role);

/* A role name (case-insensitive) or its number. 0 or EINVAL. */
int itl_role_parse(uint16_t *rp, const char *s);

/* "SHA-1", "SHA-512", "SHA-256 (unconfirmed code)"; NULL when unknown. */
const char *itl_hash_name(int code);

/*
 * Writes a name in the call manager's text form, most specific first,
 * ';'-separated, no spaces: "CN=cucm.lab;OU=Voice;O=Lab;C=NZ" (notes 1.1).
 * Returns 0, or ENOMEM when it does not fit in sz.
 */
int itl_name_fmt(const X509_NAME *n, char *buf, size_t sz);

/* A certificate to list. Pointers are borrowed. */
struct itl_entry {
	uint16_t role;
	X509 *cert;
	const char *dns_name; /* NULL: the first DNS SAN, else the CN */
	bool has_ip;
	uint8_t ip[4]; /* IPv4, network order */
};

/* What to build. Pointers are borrowed. */
struct itl_build_opts {
	X509 *signer;         /* the signer's certificate (ITLRecovery) */
	EVP_PKEY *signer_key; /* its RSA private key */
	enum itl_hash hash;   /* SHA1 or SHA512; 0: SHA512 */
	const char *filename; /* NULL: "ITLFile.tlv" */
	uint32_t timestamp;   /* 0: now */
	/* SIGNER_VERSION (tag 28) as major << 8 | minor; 0: not written. */
	uint16_t signer_version;
	const struct itl_entry *entries;
	size_t nentries;
};

/*
 * Builds a signed file into out (appended). The header is written in the
 * call manager's order: VERSION 1.2, HEADER_LENGTH, [SIGNER_VERSION],
 * SIGNER_INFO {SIGNER_NAME, SERIAL_NUMBER, ISSUER_NAME}, SIGNATURE_INFO
 * {HASH_ALGORITHM, SIGNATURE_ALGORITHM_INFO {SIGNATURE_ALGORITHM 0 (RSA),
 * SIGNATURE_MODULUS}}, SIGNATURE, FILENAME, TIMESTAMP, then padding to a
 * multiple of 4. The signer comes first as a SAST record (unless an entry
 * already lists its certificate as SAST), then the entries in order, each
 * with DNS_NAME, SUBJECT_NAME, ROLE, ISSUER_NAME, SERIAL_NUMBER,
 * PUBLIC_KEY, SIGNATURE, CERTIFICATE and IP_ADDRESS when given. The
 * signature is RSA PKCS#1 v1.5 over the file without the SIGNATURE TLV.
 * Returns 0, EINVAL (no signer, a key that is not RSA, that does not match
 * the signer, whose size has no SIGNATURE_MODULUS code, a record over
 * 65535 bytes, ...), ENOMEM or EPROTO (OpenSSL), with e->msg.
 */
int itl_build(
    struct buf *out, const struct itl_build_opts *o, struct pki_err *e);

/* Decodes a record's CERTIFICATE. Returns 0 with *xp, ENOENT or EBADMSG. */
int itl_record_cert(const struct itl_record *r, X509 **xp);

/*
 * A record's public key: from PUBLIC_KEY (RSA PKCS#1 RSAPublicKey, or an
 * EC X9.62 point whose curve comes from the certificate or, without one,
 * from its size), else from the certificate. When both are present they
 * must be the same key. *pkp is owned by the caller. Returns 0, ENOENT (no
 * key at all) or EBADMSG (undecodable or different keys) with why.
 */
int itl_record_pubkey(
    const struct itl_record *r, EVP_PKEY **pkp, char *why, size_t whysz);

/* Who signed a file that verifies. */
struct itl_verified {
	int record;   /* the SAST record that signed it, -1: none */
	bool by_cert; /* verified with the certificate given to itl_verify() */
	int hash;     /* enum itl_hash */
	int key_bits; /* the RSA key's size */
	char signer[512]; /* the signer's subject, for people */
};

/*
 * Verifies the file's signature. With signer (may be NULL) the signature
 * must verify with that certificate's key, and v->record says which SAST
 * record holds the same certificate (-1: none). Without it the key is the
 * one of the SAST record whose SERIAL_NUMBER and ISSUER_NAME equal the
 * header's tags 5 and 6. Returns 0 with *v filled (v may be NULL), or
 * EBADMSG with the offset and reason in err: no signature, an unknown
 * digest code, no matching SAST record, a key that is not RSA or does not
 * fit the signature's size, a signature that does not verify.
 */
int itl_verify(const struct itl_file *f, X509 *signer, struct itl_verified *v,
    struct itl_err *err);

/*
 * Prints every element (offset, tag, name, length, value: text for
 * strings, hex for bytes; a certificate as its SHA-1 fingerprint unless
 * full_hex), then a summary of the header and of each record: role, DNS
 * name, subject, issuer, serial, key, SHA-1 fingerprint, IP address.
 */
void itl_print(FILE *out, const struct itl_file *f, bool full_hex);

/*
 * Reads a whole file of at most ITL_MAX_FILE bytes. *datap is owned by the
 * caller (free). Returns 0, the errno of open/read, or EFBIG.
 */
int itl_read_file(
    const char *path, unsigned char **datap, size_t *lenp, struct pki_err *e);

/* Writes data to path, mode 0644, through a temporary file renamed over it. Returns 0 or EIO. */
int itl_write_file(
    const char *path, const void *data, size_t len, struct pki_err *e);

#endif
