/* ngvoice lab: sets up the guide's system on loopback and verifies it. */
#include <stdio.h>

#include "cli/cli.h"

int
cli_lab(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "ngvoice lab: not built yet\n");
	return 1;
}
