/* RFC 4475 over real UDP, TCP and TLS sockets against ngv-testua: expected answers, and it keeps answering. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sip/msg.h"
#include "torture_table.h"

static pid_t ua_pid;
static unsigned port_udp, port_tcp, port_tls;
static char tmpdir[256];
static struct torture_case cases[64];
static int ncases;
static SSL_CTX *cli_ctx;

static int
start_ua(void **state)
{
	int pfd[2];
	char line[256];
	FILE *f;

	(void)state;
	ncases = torture_load(TORTURE_DIR, cases, 64);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ngv-torture-XXXXXX");
	if (mkdtemp(tmpdir) == NULL || pipe(pfd) != 0)
		return -1;
	ua_pid = fork();
	if (ua_pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(TESTUA, TESTUA, "--udp", "127.0.0.1:0", "--tcp",
		    "127.0.0.1:0", "--tls", "127.0.0.1:0", "--selfsigned",
		    tmpdir, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "READY udp=%u tcp=%u tls=%u", &port_udp, &port_tcp,
	        &port_tls) != 3)
		return -1;
	/* keep the pipe open: the UA's stdout must not hit EPIPE */
	char path[300];
	snprintf(path, sizeof(path), "%s/cert.pem", tmpdir);
	cli_ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(cli_ctx, TLS1_2_VERSION);
	if (SSL_CTX_load_verify_locations(cli_ctx, path, NULL) != 1)
		return -1;
	SSL_CTX_set_verify(cli_ctx, SSL_VERIFY_PEER, NULL);
	return 0;
}

static int
stop_ua(void **state)
{
	int st;
	char cmd[300];

	(void)state;
	kill(ua_pid, SIGTERM);
	waitpid(ua_pid, &st, 0);
	SSL_CTX_free(cli_ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return -1;
	/* The UA must have exited on its own terms, not crashed. */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A channel to the UA: a UDP socket, a TCP socket, or a TLS session. */
struct chan {
	int fd;
	SSL *ssl;
	int kind; /* 0 udp, 1 tcp, 2 tls */
	char buf[65536];
	size_t len;
};

static void
addr(struct sockaddr_in *sin, unsigned port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int
chan_open(struct chan *c, int kind)
{
	struct sockaddr_in sin;

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->fd = socket(AF_INET, kind == 0 ? SOCK_DGRAM : SOCK_STREAM, 0);
	addr(&sin, kind == 0 ? port_udp : kind == 1 ? port_tcp : port_tls);
	if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return -1;
	if (kind == 2) {
		c->ssl = SSL_new(cli_ctx);
		SSL_set_fd(c->ssl, c->fd);
		SSL_set1_host(c->ssl, "testua.ngvoice.localhost");
		if (SSL_connect(c->ssl) != 1)
			return -1;
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	}
	return 0;
}

static void
chan_close(struct chan *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
}

static int
chan_send(struct chan *c, const char *p, size_t n)
{
	if (c->ssl)
		return SSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
	return send(c->fd, p, n, 0) == (ssize_t)n ? 0 : -1;
}

/*
 * Waits up to ms for the first final response; returns its status, 0 for
 * none in time, -1 when the peer closed the stream.
 */
static int
chan_final(struct chan *c, int ms)
{
	long end = now_ms() + ms;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;

	for (;;) {
		/* consume complete responses already buffered */
		for (;;) {
			size_t skip, ml;
			struct sip_perr err;
			if (c->len == 0)
				break;
			if (c->kind == 0) {
				ml = c->len;
				skip = 0;
			} else if (sip_msg_frame(c->buf, c->len, &lim, &skip,
			               &ml, &err) != 0) {
				break;
			}
			/*
			 * Only the status line counts: an answer to a broken
			 * request echoes its broken headers.
			 */
			const char *p = c->buf + skip;
			int code = 0;
			if (ml > 12 && memcmp(p, "SIP/2.0 ", 8) == 0)
				code = atoi(p + 8);
			memmove(c->buf, c->buf + skip + ml, c->len - skip - ml);
			c->len -= skip + ml;
			if (code >= 200)
				return code;
		}
		long left = end - now_ms();
		if (left <= 0)
			return 0;
		if (!(c->ssl && SSL_pending(c->ssl))) {
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
			if (poll(&pfd, 1, (int)left) <= 0)
				return 0;
		}
		ssize_t r;
		if (c->ssl) {
			/*
			 * Non-blocking: a readable socket may hold only a
			 * TLS 1.3 session ticket and no application data.
			 */
			r = SSL_read(c->ssl, c->buf + c->len,
			    (int)(sizeof(c->buf) - c->len));
			if (r <= 0 && SSL_get_error(c->ssl, (int)r) ==
			                  SSL_ERROR_WANT_READ)
				continue;
		} else
			r = recv(
			    c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
}

static const char alive_fmt[] =
    "OPTIONS sip:alive@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bKalive%d;rport\r\n"
    "From: <sip:t@127.0.0.1>;tag=a%d\r\nTo: <sip:alive@127.0.0.1>\r\n"
    "Call-ID: alive-%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
    "Content-Length: 0\r\n\r\n";

/* The UA answers a fresh OPTIONS with 200 on a fresh channel. */
static void
assert_alive(int kind, int seq)
{
	struct chan c;
	char msg[512];
	static const char *const names[] = {"UDP", "TCP", "TLS"};
	int n =
	    snprintf(msg, sizeof(msg), alive_fmt, names[kind], seq, seq, seq);

	assert_int_equal(chan_open(&c, kind), 0);
	assert_int_equal(chan_send(&c, msg, (size_t)n), 0);
	assert_int_equal(chan_final(&c, 2000), 200);
	chan_close(&c);
}

static void
run_kind(int kind)
{
	int failures = 0;

	for (int i = 0; i < ncases; i++) {
		struct torture_case *tc = &cases[i];
		int want = kind == 0 ? tc->udp : tc->stream;
		struct chan c;
		size_t len;
		char *buf = torture_read(TORTURE_DIR, tc->file, &len);
		int got;

		assert_non_null(buf);
		assert_int_equal(chan_open(&c, kind), 0);
		assert_int_equal(chan_send(&c, buf, len), 0);
		/* "none" must stay silent for a while; answers come fast */
		got = chan_final(&c, want == 0 ? 400 : 3000);
		if (want == -1 && got > 0)
			got = chan_final(&c, 3000); /* an answer, then close */
		free(buf);
		if (got != want) {
			fprintf(stderr, "%s over %s: expected %d, got %d\n",
			    tc->file,
			    kind == 0   ? "UDP"
			    : kind == 1 ? "TCP"
			                : "TLS",
			    want, got);
			failures++;
		}
		chan_close(&c);
		assert_alive(kind, i);
	}
	assert_int_equal(failures, 0);
}

static void
test_udp(void **state)
{
	(void)state;
	run_kind(0);
}

static void
test_tcp(void **state)
{
	(void)state;
	run_kind(1);
}

static void
test_tls(void **state)
{
	(void)state;
	run_kind(2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp),
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_tls),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_ua, stop_ua);
}
