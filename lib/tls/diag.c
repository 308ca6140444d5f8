/* Handshake failure explanations from OpenSSL state and error codes. */
#include "tls/diag.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tls/peer.h"

static void
time_str(const ASN1_TIME *t, char *buf, size_t sz)
{
	struct tm tm;

	if (t && ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(buf, sz, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(buf, sz, "?");
}

static int rejected_idx = -1;

static void
rejected_free(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	X509_free(ptr);
}

int
tls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl;

	if (ok || rejected_idx < 0)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(
	    xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	/* Keep the first certificate that failed, for the log line. */
	if (ssl && SSL_get_ex_data(ssl, rejected_idx) == NULL) {
		X509 *x = X509_STORE_CTX_get_current_cert(xs);
		if (x && X509_up_ref(x))
			SSL_set_ex_data(ssl, rejected_idx, x);
	}
	return ok;
}

void
tls_diag_init(void)
{
	if (rejected_idx < 0)
		rejected_idx =
		    SSL_get_ex_new_index(0, NULL, NULL, NULL, rejected_free);
}

/* The peer's certificate, even when verification failed. */
static X509 *
peer_cert(SSL *ssl)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *x = rejected_idx >= 0 ? SSL_get_ex_data(ssl, rejected_idx) : NULL;

	if (x == NULL)
		x = SSL_get0_peer_certificate(ssl);
	if (x == NULL && chain && sk_X509_num(chain) > 0)
		x = sk_X509_value(chain, 0);
	return x;
}

/* Lists suites by name, leaving out TLS 1.3 ones when 1.3 is off. */
static void
cipher_list(SSL *ssl, const STACK_OF(SSL_CIPHER) * sk, char *buf, size_t sz)
{
	long maxv = ssl ? SSL_get_max_proto_version(ssl) : 0;
	bool tls13 = ssl == NULL || maxv == 0 || maxv >= TLS1_3_VERSION;
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk) && n < sz; i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		if (!tls13 && strcmp(SSL_CIPHER_get_version(c), "TLSv1.3") == 0)
			continue;
		int r = snprintf(buf + n, sz - n, "%s%s", n ? " " : "",
		    SSL_CIPHER_get_name(c));
		if (r < 0)
			break;
		n += (size_t)r;
	}
	if (buf[0] == '\0')
		snprintf(buf, sz, "(none)");
}

const char *
tls_handshake_why(SSL *ssl, unsigned long e, char *buf, size_t sz)
{
	int reason = e ? ERR_GET_REASON(e) : 0;
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	X509 *x = ssl ? peer_cert(ssl) : NULL;
	char names[400], issuer[256], when[64];

	if (ssl && vr != X509_V_OK && x) {
		tls_cert_names(x, names, sizeof(names));
		X509_NAME_oneline(
		    X509_get_issuer_name(x), issuer, sizeof(issuer));
		switch (vr) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			time_str(X509_get0_notAfter(x), when, sizeof(when));
			snprintf(buf, sz, "peer certificate %s expired on %s",
			    names, when);
			return buf;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			time_str(X509_get0_notBefore(x), when, sizeof(when));
			snprintf(buf, sz,
			    "peer certificate %s is not valid before %s", names,
			    when);
			return buf;
		case X509_V_ERR_HOSTNAME_MISMATCH: {
			const char *want =
			    SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
			snprintf(buf, sz,
			    "peer certificate %s does not carry the name %s",
			    names, want ? want : "asked for");
			return buf;
		}
		case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
			snprintf(buf, sz,
			    "peer certificate %s (issuer %s) is not trusted: "
			    "add it or its CA to the trust store",
			    names, issuer);
			return buf;
		default:
			snprintf(buf, sz, "peer certificate %s rejected: %s",
			    names, X509_verify_cert_error_string(vr));
			return buf;
		}
	}
	switch (reason) {
	case SSL_R_NO_SHARED_CIPHER: {
		char offered[600], ours[600];
		cipher_list(NULL, ssl ? SSL_get_client_ciphers(ssl) : NULL,
		    offered, sizeof(offered));
		cipher_list(
		    ssl, ssl ? SSL_get_ciphers(ssl) : NULL, ours, sizeof(ours));
		snprintf(buf, sz,
		    "no TLS suite in common: peer offered %s; we accept %s",
		    offered, ours);
		return buf;
	}
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		snprintf(buf, sz,
		    "peer speaks a TLS version below 1.2 (or not TLS at all)");
		return buf;
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		snprintf(buf, sz,
		    "peer sent no certificate, and mutual TLS requires one");
		return buf;
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
		snprintf(buf, sz,
		    "peer refused the handshake (no TLS suite or group in "
		    "common with its TLS Ciphers option?)");
		return buf;
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
		snprintf(buf, sz,
		    "peer does not trust our certificate: add it (or its CA) "
		    "to the peer's trust store");
		return buf;
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
		snprintf(buf, sz, "peer says our certificate has expired");
		return buf;
	default:
		break;
	}
	if (e)
		ERR_error_string_n(e, buf, sz);
	else
		snprintf(buf, sz, "connection closed during the handshake");
	return buf;
}
