/* wavcorr: how well one WAV's audio appears inside another (envelope cross-correlation), for tests that check what a caller heard or left. */
#include <stdio.h>
#include <stdlib.h>

#include "media/corr.h"
#include "media/wav.h"

int
main(int argc, char **argv)
{
	int16_t *a = NULL, *b = NULL;
	size_t na, nb;
	char err[200];
	double off;

	if (argc != 3) {
		fprintf(stderr,
		    "usage: wavcorr HAYSTACK.wav NEEDLE.wav\n"
		    "Prints the best correlation (-1..1) of NEEDLE's 10 ms "
		    "energy envelope\ninside HAYSTACK, the offset in seconds, "
		    "and both lengths.\n");
		return 2;
	}
	if (wav_load(argv[1], &a, &na, NULL, err, sizeof(err)) != 0 ||
	    wav_load(argv[2], &b, &nb, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "wavcorr: %s\n", err);
		free(a);
		return 1;
	}
	double c = media_corr(a, na, b, nb, &off);
	free(a);
	free(b);
	if (c < -1) {
		fprintf(stderr, "wavcorr: empty audio (%.2f s and %.2f s)\n",
		    na / 8000.0, nb / 8000.0);
		return 1;
	}
	printf("corr=%.3f offset=%.2fs haystack=%.2fs needle=%.2fs\n", c, off,
	    na / 8000.0, nb / 8000.0);
	return 0;
}
