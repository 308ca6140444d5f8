/* Fixtures of the configuration tests: a temporary directory and its files, loads with the log captured, error and warning checks. */
#ifndef NGV_TESTS_CFGTEST_H
#define NGV_TESTS_CFGTEST_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/log.h"

/* The test's directory and the file load_text() writes in it. */
static char tmpdir[64];
static char cfg_file[128];

static void
write_file(const char *rel, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Makes tmpdir from a mkdtemp() template, and cfg_file in it: 0 or -1. */
static int
tmpdir_make(const char *tmpl)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cfg_file, sizeof(cfg_file), "%s/t.conf", tmpdir);
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Sends the log to tmpdir/log until log_capture_end(); returns its fd. */
static int
log_capture_begin(void)
{
	char lpath[160];
	int fd;

	snprintf(lpath, sizeof(lpath), "%s/log", tmpdir);
	fd = open(lpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	log_set_fd(fd);
	return fd;
}

/* The log back to stderr; what was logged since the beginning into log. */
static void
log_capture_end(int fd, char *log, size_t logsz)
{
	ssize_t n;

	log_set_fd(2);
	n = pread(fd, log, logsz - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
}

/*
 * load_path(path, ...) and load_text(text, mode, ...) for a loader
 * int LOAD(struct TYPE **, const char *path, struct conf_err *): the file
 * loaded with its warnings in log; load_text writes text as cfg_file first.
 */
#define CFGTEST_LOADERS(TYPE, LOAD)                                            \
	static int load_path(const char *path, struct TYPE **cfgp,             \
	    struct conf_err *err, char *log, size_t logsz)                     \
	{                                                                      \
		int fd = log_capture_begin();                                  \
		int rc = LOAD(cfgp, path, err);                                \
                                                                               \
		log_capture_end(fd, log, logsz);                               \
		return rc;                                                     \
	}                                                                      \
                                                                               \
	static int load_text(const char *text, mode_t mode,                    \
	    struct TYPE **cfgp, struct conf_err *err, char *log, size_t logsz) \
	{                                                                      \
		write_file("t.conf", text, mode);                              \
		return load_path(cfg_file, cfgp, err, log, logsz);             \
	}

/*
 * Copies a file of tests/data (NGV_TEST_DATA) into tmpdir; returns its
 * text, which the caller frees.
 */
static char *
copy_data(const char *name, mode_t mode)
{
	char path[512], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", NGV_TEST_DATA, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	write_file(name, buf, mode);
	return buf;
}

/* tmpdir + "/" + rel, with tmpdir resolved as the loader resolves it. */
static void
abs_path(char *buf, size_t sz, const char *rel)
{
	char *real = realpath(tmpdir, NULL);

	assert_non_null(real);
	if (rel)
		snprintf(buf, sz, "%s/%s", real, rel);
	else
		snprintf(buf, sz, "%s", real);
	free(real);
}

/*
 * Case i of a table of errors: the load (rc, err) failed in cfg_file at
 * line, with msg in the message.
 */
static void
expect_error(size_t i, int rc, const struct conf_err *err, unsigned line,
    const char *msg)
{
	char buf[600];

	if (rc == 0)
		fail_msg(
		    "case %zu: loaded, expected line %u: %s", i, line, msg);
	assert_true(rc == EINVAL || rc == EBADMSG);
	conf_err_str(err, buf, sizeof(buf));
	if (err->line != line || strstr(err->msg, msg) == NULL ||
	    strcmp(err->file, cfg_file) != 0)
		fail_msg("case %zu: got '%s', expected line %u: %s", i, buf,
		    line, msg);
}

/*
 * Case i of a table of warnings: a line of log names the place (want, as
 * "warn: FILE:LINE: ") and says msg. Cuts log into lines.
 */
static void
expect_warning(size_t i, char *log, const char *want, const char *msg)
{
	bool found = false;

	for (char *l = log; l && *l && !found;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		found = strstr(l, want) && strstr(l, msg);
		l = nl ? nl + 1 : NULL;
	}
	if (!found)
		fail_msg("case %zu: no '%s...%s' in:\n%s", i, want, msg, log);
}

#endif
