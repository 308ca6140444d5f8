/* Certificates for people: fields an administrator checks, and chain verification explained in words. */
#include "pki/show.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "pki/cert.h"
#include "pki/pki_int.h"

const char *
pki_fingerprint(X509 *x, const EVP_MD *md, char *buf, size_t sz)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t o = 0;

	if (sz == 0)
		return buf;
	buf[0] = '\0';
	if (X509_digest(x, md, d, &n) != 1)
		return buf;
	for (unsigned int i = 0; i < n && o + 3 < sz; i++)
		o += (size_t)snprintf(
		    buf + o, sz - o, "%s%02X", i ? ":" : "", d[i]);
	return buf;
}

const char *
pki_time_fmt(const ASN1_TIME *t, char *buf, size_t sz)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, sz, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, sz, "(bad time)");
	return buf;
}

const char *
pki_subject_fmt(X509 *x, char *buf, size_t sz)
{
	return pki_name_fmt(X509_get_subject_name(x), buf, sz);
}

/* "DNS:a, IP:10.0.0.1", or "(none)". */
static void
show_sans(FILE *out, X509 *x)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;

	fprintf(out, "SAN:           ");
	if (n == 0)
		fprintf(out, "(none)");
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *sep = i ? ", " : "";
		if (g->type == GEN_DNS) {
			fprintf(out, "%sDNS:%.*s", sep,
			    ASN1_STRING_length(g->d.dNSName),
			    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD) {
			const unsigned char *a =
			    ASN1_STRING_get0_data(g->d.iPAddress);
			int len = ASN1_STRING_length(g->d.iPAddress);
			char txt[INET6_ADDRSTRLEN];
			if ((len != 4 && len != 16) ||
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, a, txt,
			        sizeof(txt)) == NULL)
				snprintf(txt, sizeof(txt), "(bad address)");
			fprintf(out, "%sIP:%s", sep, txt);
		} else if (g->type == GEN_EMAIL || g->type == GEN_URI) {
			const ASN1_IA5STRING *s =
			    g->type == GEN_EMAIL
			        ? g->d.rfc822Name
			        : g->d.uniformResourceIdentifier;
			fprintf(out, "%s%s:%.*s", sep,
			    g->type == GEN_EMAIL ? "email" : "URI",
			    ASN1_STRING_length(s),
			    (const char *)ASN1_STRING_get0_data(s));
		} else
			fprintf(out, "%s(other name)", sep);
	}
	fprintf(out, "\n");
	GENERAL_NAMES_free(gens);
}

static bool
ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void
show_ku(FILE *out, X509 *x)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} kus[] = {
	    {KU_DIGITAL_SIGNATURE, "digitalSignature"},
	    {KU_NON_REPUDIATION, "nonRepudiation"},
	    {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
	    {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
	    {KU_KEY_AGREEMENT, "keyAgreement"},
	    {KU_KEY_CERT_SIGN, "keyCertSign"},
	    {KU_CRL_SIGN, "cRLSign"},
	    {KU_ENCIPHER_ONLY, "encipherOnly"},
	    {KU_DECIPHER_ONLY, "decipherOnly"},
	};
	uint32_t ku = X509_get_key_usage(x);
	bool any = false;

	fprintf(out, "key usage:     ");
	if (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE)) {
		fprintf(out, "(none: any)\n");
		return;
	}
	for (size_t i = 0; i < sizeof(kus) / sizeof(kus[0]); i++) {
		if (ku & kus[i].bit) {
			fprintf(out, "%s%s", any ? ", " : "", kus[i].name);
			any = true;
		}
	}
	fprintf(
	    out, "%s\n", ext_critical(x, NID_key_usage) ? " (critical)" : "");
}

static void
show_eku(FILE *out, X509 *x)
{
	EXTENDED_KEY_USAGE *eku =
	    X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	char oid[80];

	fprintf(out, "ext key usage: ");
	if (eku == NULL) {
		fprintf(out, "(none: any)\n");
		return;
	}
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(o);
		if (nid != NID_undef)
			snprintf(oid, sizeof(oid), "%s", OBJ_nid2sn(nid));
		else
			OBJ_obj2txt(oid, sizeof(oid), o, 1);
		fprintf(out, "%s%s", i ? ", " : "", oid);
	}
	fprintf(out, "\n");
	EXTENDED_KEY_USAGE_free(eku);
}

void
pki_show_cert(FILE *out, X509 *x)
{
	char buf[512], when[64];
	uint32_t flags = X509_get_extension_flags(x);
	int days = 0, secs = 0;

	fprintf(
	    out, "subject:       %s\n", pki_subject_fmt(x, buf, sizeof(buf)));
	show_sans(out, x);
	fprintf(out, "issuer:        %s%s\n",
	    pki_name_fmt(X509_get_issuer_name(x), buf, sizeof(buf)),
	    X509_self_signed(x, 1) == 1 ? " (self-signed)" : "");
	ERR_clear_error();

	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	fprintf(out, "serial:        %s\n", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);

	fprintf(out, "key:           %s\n",
	    pki_key_describe(X509_get0_pubkey(x), buf, sizeof(buf)));
	fprintf(
	    out, "signature:     %s\n", OBJ_nid2ln(X509_get_signature_nid(x)));

	fprintf(out, "not before:    %s",
	    pki_time_fmt(X509_get0_notBefore(x), when, sizeof(when)));
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notBefore(x)) &&
	    (days > 0 || secs > 0))
		fprintf(out, " (not yet valid: starts in %d days)", days);
	fprintf(out, "\n");
	fprintf(out, "not after:     %s",
	    pki_time_fmt(X509_get0_notAfter(x), when, sizeof(when)));
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x))) {
		if (days < 0 || (days == 0 && secs < 0))
			fprintf(out, " (expired %d days ago)", -days);
		else
			fprintf(out, " (%d days left)", days);
	}
	fprintf(out, "\n");

	fprintf(out, "SHA-256:       %s\n",
	    pki_fingerprint(x, EVP_sha256(), buf, sizeof(buf)));
	fprintf(out, "SHA-1:         %s\n",
	    pki_fingerprint(x, EVP_sha1(), buf, sizeof(buf)));
	show_ku(out, x);
	show_eku(out, x);

	fprintf(out, "CA:            ");
	if (flags & EXFLAG_CA) {
		long pl = X509_get_pathlen(x);
		if (pl >= 0)
			fprintf(out, "yes, path length %ld\n", pl);
		else
			fprintf(out, "yes\n");
	} else
		fprintf(out, "%s\n",
		    flags & EXFLAG_BCONS ? "no" : "no (no basicConstraints)");
	if (flags & EXFLAG_CA)
		fprintf(out, "TLS use:       none: a CA certificate signs "
		             "identities, it is not one\n");
	else
		fprintf(out, "TLS use:       server %s, client %s\n",
		    X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) == 1
		        ? "yes"
		        : "no",
		    X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) == 1
		        ? "yes"
		        : "no");
	ERR_clear_error();
}

/* The chain as "CN=a > CN=b > CN=c". */
static void
chain_fmt(STACK_OF(X509) * chain, char *why, size_t sz)
{
	size_t o = 0;

	why[0] = '\0';
	for (int i = 0; i < sk_X509_num(chain) && o < sz; i++) {
		char subj[256];
		int r = snprintf(why + o, sz - o, "%s%s", i ? " > " : "",
		    pki_subject_fmt(
		        sk_X509_value(chain, i), subj, sizeof(subj)));
		if (r < 0)
			break;
		o += (size_t)r;
	}
}

int
pki_verify(
    X509 *leaf, STACK_OF(X509) * chain, X509_STORE *trust, char *why, size_t sz)
{
	X509_STORE_CTX *ctx;
	X509 *cur;
	char subj[256], iss[256], when[64];
	int verr, days = 0, secs = 0, rc;

	if (leaf == NULL || trust == NULL || why == NULL || sz == 0)
		return EINVAL;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, trust, leaf, chain) != 1) {
		X509_STORE_CTX_free(ctx);
		snprintf(why, sz, "out of memory");
		return ENOMEM;
	}
	rc = X509_verify_cert(ctx);
	if (rc == 1) {
		chain_fmt(X509_STORE_CTX_get0_chain(ctx), why, sz);
		X509_STORE_CTX_free(ctx);
		return 0;
	}
	verr = X509_STORE_CTX_get_error(ctx);
	cur = X509_STORE_CTX_get_current_cert(ctx);
	if (cur == NULL)
		cur = leaf;
	pki_subject_fmt(cur, subj, sizeof(subj));
	pki_name_fmt(X509_get_issuer_name(cur), iss, sizeof(iss));
	switch (verr) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		ASN1_TIME_diff(&days, &secs, X509_get0_notAfter(cur), NULL);
		snprintf(why, sz, "\"%s\" expired on %s (%d days ago)", subj,
		    pki_time_fmt(X509_get0_notAfter(cur), when, sizeof(when)),
		    days);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(why, sz, "\"%s\" is not yet valid: it starts on %s",
		    subj,
		    pki_time_fmt(X509_get0_notBefore(cur), when, sizeof(when)));
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		snprintf(why, sz,
		    "unknown issuer \"%s\" of \"%s\": neither trusted nor in "
		    "the chain given",
		    iss, subj);
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		snprintf(why, sz,
		    "self-signed \"%s\" is not trusted (it is not in the trust "
		    "store)",
		    subj);
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		snprintf(why, sz,
		    "self-signed \"%s\" in the chain is not trusted (it is "
		    "not in the trust store)",
		    subj);
		break;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		snprintf(why, sz,
		    "the signature on \"%s\" does not verify with the key of "
		    "\"%s\" (damaged, or another CA with the same name)",
		    subj, iss);
		break;
	case X509_V_ERR_INVALID_CA:
		snprintf(why, sz,
		    "\"%s\" signed another certificate but is not a CA "
		    "certificate",
		    subj);
		break;
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
		snprintf(why, sz,
		    "\"%s\" signed another certificate but its key usage "
		    "lacks keyCertSign",
		    subj);
		break;
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
		snprintf(why, sz, "the key of \"%s\" is too small", subj);
		break;
	default:
		snprintf(why, sz, "\"%s\": %s", subj,
		    X509_verify_cert_error_string(verr));
		break;
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return EBADMSG;
}
