/* Subject-name matching for TLS peers (CN or DNS SAN, exact, case-insensitive). */
#include "tls/peer.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool
is_sep(char c)
{
	return c == ' ' || c == ',' || c == ';' || c == ':' || c == '\t';
}

/* True when name (len n) is one of the separated names in list. */
static bool
in_list(const char *name, size_t n, const char *list)
{
	const char *p = list;

	if (n == 0)
		return false;
	while (*p) {
		while (*p && is_sep(*p))
			p++;
		const char *s = p;
		while (*p && !is_sep(*p))
			p++;
		if ((size_t)(p - s) == n && strncasecmp(s, name, n) == 0)
			return true;
	}
	return false;
}

bool
tls_peer_name_ok(X509 *cert, const char *expected)
{
	GENERAL_NAMES *sans;
	X509_NAME *subj;
	bool ok = false;
	int idx = -1;

	if (cert == NULL || expected == NULL)
		return false;
	subj = X509_get_subject_name(cert);
	while (!ok && (idx = X509_NAME_get_index_by_NID(
	                   subj, NID_commonName, idx)) >= 0) {
		ASN1_STRING *d =
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, d);
		/* an embedded NUL must not shorten the name */
		if (n > 0 && memchr(utf8, 0, (size_t)n) == NULL)
			ok = in_list((const char *)utf8, (size_t)n, expected);
		OPENSSL_free(utf8);
	}
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; !ok && sans && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type != GEN_DNS)
			continue;
		const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
		int n = ASN1_STRING_length(g->d.dNSName);
		if (n > 0 && memchr(s, 0, (size_t)n) == NULL)
			ok = in_list((const char *)s, (size_t)n, expected);
	}
	GENERAL_NAMES_free(sans);
	return ok;
}

const char *
tls_cert_names(X509 *cert, char *buf, size_t sz)
{
	GENERAL_NAMES *sans;
	char cn[256] = "";
	size_t n;

	if (sz == 0)
		return buf;
	buf[0] = '\0';
	if (cert == NULL) {
		snprintf(buf, sz, "(no certificate)");
		return buf;
	}
	X509_NAME_get_text_by_NID(
	    X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
	snprintf(buf, sz, "CN=%s", cn[0] ? cn : "(none)");
	n = strlen(buf);
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	bool first = true;
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && n < sz; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type != GEN_DNS)
			continue;
		int r = snprintf(buf + n, sz - n, "%s%.*s",
		    first ? " DNS=" : ",", ASN1_STRING_length(g->d.dNSName),
		    (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		if (r < 0)
			break;
		n += (size_t)r;
		first = false;
	}
	GENERAL_NAMES_free(sans);
	return buf;
}

const char *
tls_peer_name_why(
    X509 *cert, const char *peer, const char *expected, char *buf, size_t sz)
{
	char names[512];

	snprintf(buf, sz,
	    "peer %s certificate %s does not match X.509 subject name %s",
	    peer ? peer : "?", tls_cert_names(cert, names, sizeof(names)),
	    expected && *expected ? expected : "(empty)");
	return buf;
}
