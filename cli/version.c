/* ngvoice version: the program and library versions in use. */
#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int
cli_version(int argc, char **argv)
{
	if (argc > 1 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: ngvoice version\n\nPrints the ngvoice version "
		       "and the OpenSSL and libevent versions it runs on.\n");
		return 0;
	}
	printf("ngvoice 0.1.0\nOpenSSL %s\nlibevent %s\n",
	    OpenSSL_version(OPENSSL_VERSION_STRING), event_get_version());
	return 0;
}
