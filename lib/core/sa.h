/* Socket addresses: IPv4/IPv6 parse, format, compare, and name resolution. */
#ifndef NGV_CORE_SA_H
#define NGV_CORE_SA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/slice.h"

struct sa {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
};

/* Sets from an IP literal (no brackets) and a port. Returns 0 or EINVAL. */
int sa_set(struct sa *a, struct slice ip, uint16_t port);
int sa_set_str(struct sa *a, const char *ip, uint16_t port);
/* Copies a sockaddr of any family libc returns. */
void sa_from(struct sa *a, const struct sockaddr *s, socklen_t len);
uint16_t sa_port(const struct sa *a);
void sa_set_port(struct sa *a, uint16_t port);
int sa_family(const struct sa *a);
bool sa_is_loopback(const struct sa *a);
/* Address and port equal. */
bool sa_eq(const struct sa *a, const struct sa *b);
/* "127.0.0.1" or "::1" */
const char *sa_ntop(const struct sa *a, char *buf, size_t sz);
/* "127.0.0.1:5060" or "[::1]:5060" */
const char *sa_fmt(const struct sa *a, char *buf, size_t sz);
#define SA_FMT_MAX 64

/*
 * Resolves a host: IP literals directly; "localhost" and names under
 * ".localhost" to loopback without asking anyone (RFC 6761 section 6.3);
 * other names with getaddrinfo (blocking: use at configuration time).
 * Returns 0, EINVAL or ENOENT.
 */
int sa_resolve(struct sa *a, const char *host, uint16_t port, int family);

/* A hash of address and port, for connection tables. */
uint32_t sa_hash(const struct sa *a);

#endif
