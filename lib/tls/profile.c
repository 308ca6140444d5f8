/* TLS Ciphers options (protocol-notes 2.1): labels, slugs, suites, groups. */
#include "tls/profile.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#define RSA256 "ECDHE-RSA-AES256-GCM-SHA384"
#define ECD256 "ECDHE-ECDSA-AES256-GCM-SHA384"
#define RSA128 "ECDHE-RSA-AES128-GCM-SHA256"
#define ECD128 "ECDHE-ECDSA-AES128-GCM-SHA256"
#define CBC    "AES128-SHA"

struct profile {
	const char *label;
	const char *slug;
	const char *suites;
};

static const struct profile profiles[TLS_CIPHERS__COUNT] = {
    [TLS_CIPHERS_STRONGEST_RSA] = {"Strongest - AES-256 SHA-384 Only: RSA "
                                   "Preferred",
        "strongest-rsa", RSA256 ":" ECD256},
    [TLS_CIPHERS_STRONGEST_ECDSA] = {"Strongest - AES-256 SHA-384 Only: "
                                     "ECDSA Preferred",
        "strongest-ecdsa", ECD256 ":" RSA256},
    [TLS_CIPHERS_MEDIUM_RSA] = {"Medium - AES-256 AES-128 Only: RSA "
                                "Preferred",
        "medium-rsa", RSA256 ":" ECD256 ":" RSA128 ":" ECD128},
    [TLS_CIPHERS_MEDIUM_ECDSA] = {"Medium - AES-256 AES-128 Only: ECDSA "
                                  "Preferred",
        "medium-ecdsa", ECD256 ":" RSA256 ":" ECD128 ":" RSA128},
    [TLS_CIPHERS_ALL_RSA] = {"All Ciphers RSA Preferred", "all-rsa",
        RSA256 ":" ECD256 ":" RSA128 ":" ECD128 ":" CBC},
    [TLS_CIPHERS_ALL_ECDSA] = {"All Ciphers ECDSA Preferred", "all-ecdsa",
        ECD256 ":" RSA256 ":" ECD128 ":" RSA128 ":" CBC},
};

/* Case-insensitive comparison that treats any run of spaces as one. */
static int
label_eq(const char *a, const char *b)
{
	while (*a == ' ')
		a++;
	while (*b == ' ')
		b++;
	while (*a && *b) {
		if (*a == ' ' && *b == ' ') {
			while (*a == ' ')
				a++;
			while (*b == ' ')
				b++;
			continue;
		}
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
	while (*a == ' ')
		a++;
	while (*b == ' ')
		b++;
	return *a == '\0' && *b == '\0';
}

int
tls_ciphers_parse(const char *s, enum tls_ciphers *out)
{
	if (s == NULL || out == NULL)
		return EINVAL;
	for (int i = 0; i < TLS_CIPHERS__COUNT; i++) {
		if (label_eq(s, profiles[i].label) ||
		    label_eq(s, profiles[i].slug)) {
			*out = (enum tls_ciphers)i;
			return 0;
		}
	}
	return EINVAL;
}

/*
 * The "HTTPS Ciphers" labels (protocol-notes 2.3). Their lists also hold
 * CBC and 3DES suites; here they keep to the NGE AES-GCM suites of the
 * TLS Ciphers option with the same preference (docs/security.md).
 */
int
tls_https_ciphers_parse(const char *s, enum tls_ciphers *out)
{
	if (s && out && label_eq(s, "RSA Ciphers Only")) {
		*out = TLS_CIPHERS_ALL_RSA;
		return 0;
	}
	if (s && out && label_eq(s, "All Supported EC and RSA Ciphers")) {
		*out = TLS_CIPHERS_ALL_ECDSA;
		return 0;
	}
	return tls_ciphers_parse(s, out);
}

const char *
tls_ciphers_label(enum tls_ciphers c)
{
	return (unsigned)c < TLS_CIPHERS__COUNT ? profiles[c].label : "?";
}

const char *
tls_ciphers_slug(enum tls_ciphers c)
{
	return (unsigned)c < TLS_CIPHERS__COUNT ? profiles[c].slug : "?";
}

const char *
tls_ciphers_openssl(enum tls_ciphers c)
{
	return (unsigned)c < TLS_CIPHERS__COUNT ? profiles[c].suites : NULL;
}

const char *
tls_ciphers_tls13(enum tls_ciphers c)
{
	if (c == TLS_CIPHERS_STRONGEST_RSA || c == TLS_CIPHERS_STRONGEST_ECDSA)
		return "TLS_AES_256_GCM_SHA384";
	return "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256";
}

const char *
tls_ciphers_groups(enum tls_ciphers c)
{
	if (c == TLS_CIPHERS_STRONGEST_RSA || c == TLS_CIPHERS_STRONGEST_ECDSA)
		return "P-384:P-521:P-256";
	return "P-256:P-384:P-521";
}
