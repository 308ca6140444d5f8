/* Log lines with a timestamp and level, written with one write(2) each. */
#include "core/log.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level cur_level = LOG_INFO;
static int log_fd = 2;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
log_set_level(enum log_level lvl)
{
	cur_level = lvl;
}

enum log_level
log_get_level(void)
{
	return cur_level;
}

void
log_set_fd(int fd)
{
	log_fd = fd;
}

static void
log_vmsg(enum log_level lvl, const char *suffix, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	if (lvl > cur_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n,
	    ".%03ldZ %s: ", ts.tv_nsec / 1000000L, level_names[lvl]);
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (suffix) {
		size_t sl = strlen(suffix);
		if (n + sl >= sizeof(line))
			sl = sizeof(line) - 1 - n;
		memcpy(line + n, suffix, sl);
		n += sl;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(log_fd, line, n);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, NULL, fmt, ap);
	va_end(ap);
}

static void
log_print_plain(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, NULL, fmt, ap);
	va_end(ap);
}

void
log_openssl(enum log_level lvl, const char *what)
{
	char errs[1024];
	size_t n = 0;
	unsigned long e;

	errs[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];
		ERR_error_string_n(e, one, sizeof(one));
		int r = snprintf(
		    errs + n, sizeof(errs) - n, "%s%s", n ? "; " : "", one);
		if (r > 0 && (size_t)r < sizeof(errs) - n)
			n += (size_t)r;
	}
	log_print_plain(lvl, "%s: %s", what, n ? errs : "no OpenSSL detail");
}
