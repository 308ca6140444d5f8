/* Socket address helpers. */
#include "core/sa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int
sa_set(struct sa *a, struct slice ip, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (ip.n == 0 || ip.n >= sizeof(tmp))
		return EINVAL;
	slice_strlcpy(tmp, sizeof(tmp), ip);
	return sa_set_str(a, tmp, port);
}

int
sa_set_str(struct sa *a, const char *ip, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &a->u.in.sin_addr) == 1) {
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_port = htons(port);
		a->len = sizeof(a->u.in);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a->u.in6.sin6_addr) == 1) {
		a->u.in6.sin6_family = AF_INET6;
		a->u.in6.sin6_port = htons(port);
		a->len = sizeof(a->u.in6);
		return 0;
	}
	return EINVAL;
}

void
sa_from(struct sa *a, const struct sockaddr *s, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (len > sizeof(a->u.ss))
		len = sizeof(a->u.ss);
	memcpy(&a->u.ss, s, len);
	a->len = len;
}

uint16_t
sa_port(const struct sa *a)
{
	switch (a->u.sa.sa_family) {
	case AF_INET:
		return ntohs(a->u.in.sin_port);
	case AF_INET6:
		return ntohs(a->u.in6.sin6_port);
	default:
		return 0;
	}
}

void
sa_set_port(struct sa *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET)
		a->u.in.sin_port = htons(port);
	else if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
}

int
sa_family(const struct sa *a)
{
	return a->u.sa.sa_family;
}

bool
sa_is_loopback(const struct sa *a)
{
	if (a->u.sa.sa_family == AF_INET)
		return (ntohl(a->u.in.sin_addr.s_addr) >> 24) == 127;
	if (a->u.sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&a->u.in6.sin6_addr);
	return false;
}

bool
sa_eq(const struct sa *a, const struct sa *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_port == b->u.in.sin_port &&
		       a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	if (a->u.sa.sa_family == AF_INET6)
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) ==
		           0;
	return false;
}

/* Decimal digits of v at p; returns how many (v < 100000). */
static size_t
put_dec(char *p, unsigned v)
{
	char t[8];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return n;
}

/* glibc's inet_ntop formats IPv4 with sprintf: a few thousand instructions,
 * several times per SIP message (transaction keys, Via, logs). */
static size_t
ntop4(const struct in_addr *in, char *out)
{
	const unsigned char *b = (const unsigned char *)&in->s_addr;
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i)
			out[n++] = '.';
		n += put_dec(out + n, b[i]);
	}
	out[n] = '\0';
	return n;
}

const char *
sa_ntop(const struct sa *a, char *buf, size_t sz)
{
	if (a->u.sa.sa_family == AF_INET && sz >= INET_ADDRSTRLEN) {
		ntop4(&a->u.in.sin_addr, buf);
		return buf;
	}
	const void *src = a->u.sa.sa_family == AF_INET6
	                      ? (const void *)&a->u.in6.sin6_addr
	                      : (const void *)&a->u.in.sin_addr;
	if (inet_ntop(a->u.sa.sa_family, src, buf, (socklen_t)sz) == NULL)
		snprintf(buf, sz, "?");
	return buf;
}

const char *
sa_fmt(const struct sa *a, char *buf, size_t sz)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->u.sa.sa_family == AF_INET && sz >= INET_ADDRSTRLEN + 6) {
		size_t n = ntop4(&a->u.in.sin_addr, buf);
		buf[n++] = ':';
		buf[n + put_dec(buf + n, sa_port(a))] = '\0';
		return buf;
	}
	sa_ntop(a, ip, sizeof(ip));
	if (a->u.sa.sa_family == AF_INET6)
		snprintf(buf, sz, "[%s]:%u", ip, sa_port(a));
	else
		snprintf(buf, sz, "%s:%u", ip, sa_port(a));
	return buf;
}

static bool
is_localhost_name(const char *host)
{
	size_t n = strlen(host);

	if (n && host[n - 1] == '.')
		n--;
	if (n == 9 && strncasecmp(host, "localhost", 9) == 0)
		return true;
	return n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0;
}

int
sa_resolve(struct sa *a, const char *host, uint16_t port, int family)
{
	struct addrinfo hints, *res = NULL;
	char h[256];
	size_t n = strlen(host);

	if (n == 0 || n >= sizeof(h))
		return EINVAL;
	/* Accept [v6] references too. */
	if (host[0] == '[' && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
	} else {
		memcpy(h, host, n + 1);
	}
	if (sa_set_str(a, h, port) == 0)
		return 0;
	if (is_localhost_name(h))
		return sa_set_str(
		    a, family == AF_INET6 ? "::1" : "127.0.0.1", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family ? family : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(h, NULL, &hints, &res) != 0 || res == NULL)
		return ENOENT;
	sa_from(a, res->ai_addr, res->ai_addrlen);
	sa_set_port(a, port);
	freeaddrinfo(res);
	return 0;
}

uint32_t
sa_hash(const struct sa *a)
{
	/* FNV-1a over the address bytes and port */
	const unsigned char *p;
	size_t n;
	uint32_t h = 2166136261u;
	uint16_t port = sa_port(a);

	if (a->u.sa.sa_family == AF_INET6) {
		p = (const unsigned char *)&a->u.in6.sin6_addr;
		n = 16;
	} else {
		p = (const unsigned char *)&a->u.in.sin_addr;
		n = 4;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h;
}
