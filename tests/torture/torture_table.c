/* Loader for the RFC 4475 expectation table and message files. */
#include "torture_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
parse_col(const char *s, int none, int other)
{
	if (strcmp(s, "ok") == 0 || strcmp(s, "none") == 0)
		return none;
	if (strcmp(s, "drop") == 0 || strcmp(s, "close") == 0)
		return other;
	return atoi(s);
}

int
torture_load(const char *dir, struct torture_case *cases, size_t max)
{
	char path[512], line[256];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/expected.txt", dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) && n < max) {
		char file[64], p[16], u[16], s[16];
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%63s %15s %15s %15s", file, p, u, s) != 4)
			continue;
		snprintf(cases[n].file, sizeof(cases[n].file), "%s", file);
		cases[n].parse = parse_col(p, 0, -1);
		cases[n].udp = parse_col(u, 0, 0);
		cases[n].stream = parse_col(s, 0, -1);
		n++;
	}
	fclose(f);
	return (int)n;
}

char *
torture_read(const char *dir, const char *file, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long sz;

	snprintf(path, sizeof(path), "%s/rfc4475/%s", dir, file);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)sz + 1);
	if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)sz;
	return buf;
}
