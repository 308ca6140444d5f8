/* The guide's "TLS Ciphers" options: six NGE profiles with exact labels, slugs and suite orders. */
#ifndef NGV_TLS_PROFILE_H
#define NGV_TLS_PROFILE_H

enum tls_ciphers {
	TLS_CIPHERS_STRONGEST_RSA,
	TLS_CIPHERS_STRONGEST_ECDSA,
	TLS_CIPHERS_MEDIUM_RSA,
	TLS_CIPHERS_MEDIUM_ECDSA,
	TLS_CIPHERS_ALL_RSA, /* the default */
	TLS_CIPHERS_ALL_ECDSA,
	TLS_CIPHERS__COUNT
};

#define TLS_CIPHERS_DEFAULT_OPTION TLS_CIPHERS_ALL_RSA

/*
 * Parses an option: its exact label ("Strongest - AES-256 SHA-384 Only: RSA
 * Preferred"), compared case-insensitively with runs of spaces folded, or
 * its slug ("strongest-rsa"). Returns 0 or EINVAL.
 */
int tls_ciphers_parse(const char *s, enum tls_ciphers *out);
/*
 * An "HTTPS Ciphers" option: "RSA Ciphers Only" (the voicemail server's
 * default) or "All Supported EC and RSA Ciphers", kept to the AES-GCM
 * suites of All Ciphers RSA / ECDSA Preferred; a TLS Ciphers label or slug
 * is taken as well. Returns 0 or EINVAL.
 */
int tls_https_ciphers_parse(const char *s, enum tls_ciphers *out);
/* The label as the guide's screens show it. */
const char *tls_ciphers_label(enum tls_ciphers c);
const char *tls_ciphers_slug(enum tls_ciphers c);
/* The TLS 1.2 suites in preference order, as an OpenSSL cipher list. */
const char *tls_ciphers_openssl(enum tls_ciphers c);
/* The TLS 1.3 suites allowed with this option (AES-GCM only). */
const char *tls_ciphers_tls13(enum tls_ciphers c);
/* Key exchange groups, preferred first (P-384 first for Strongest). */
const char *tls_ciphers_groups(enum tls_ciphers c);

/* Device security mode "Authenticated": TLS with NULL-SHA, no encryption. */
#define TLS_CIPHERS_AUTHENTICATED "NULL-SHA:@SECLEVEL=0"

#endif
