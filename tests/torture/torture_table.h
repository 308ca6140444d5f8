/* Reads tests/torture/expected.txt: the expected outcome of each RFC 4475 message. */
#ifndef NGV_TEST_TORTURE_TABLE_H
#define NGV_TEST_TORTURE_TABLE_H

#include <stddef.h>

struct torture_case {
	char file[64];
	int parse;  /* 0 = ok, -1 = drop, else the status */
	int udp;    /* status, or 0 for none */
	int stream; /* status, 0 for none, -1 for close */
};

/* Loads the table; returns the number of cases or -1. */
int torture_load(const char *dir, struct torture_case *cases, size_t max);
/* Reads a whole file into a malloc'd buffer; returns NULL on error. */
char *torture_read(const char *dir, const char *file, size_t *len);

#endif
