/* Helpers shared by the ngvoice subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

bool
cli_is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 ||
	       strcmp(s, "help") == 0;
}

int
cli_dispatch(const char *prog, const struct cli_cmd *subs, size_t n,
    const char *usage, int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (cli_is_help(argv[1])) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s'\n\n", prog, argv[1]);
	fputs(usage, stderr);
	return 2;
}
