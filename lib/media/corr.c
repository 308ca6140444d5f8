/* Audio similarity by envelope cross-correlation: robust to G.711 and to a constant gain, blind to phase. */
#include "media/corr.h"

#include <math.h>
#include <stdlib.h>

#define FRAME 80 /* 10 ms at 8 kHz */

static double *
envelope(const int16_t *pcm, size_t n, size_t *nf)
{
	size_t f = n / FRAME;
	double *e = f ? calloc(f, sizeof(*e)) : NULL;

	for (size_t i = 0; e && i < f; i++) {
		double s = 0;
		for (size_t j = 0; j < FRAME; j++) {
			double v = pcm[i * FRAME + j];
			s += v * v;
		}
		e[i] = sqrt(s / FRAME);
	}
	*nf = f;
	return e;
}

double
media_corr(const int16_t *hay, size_t nhay, const int16_t *needle,
    size_t nneedle, double *offset_s)
{
	size_t nh, nn;
	double *h = envelope(hay, nhay, &nh),
	       *nd = envelope(needle, nneedle, &nn);
	double best = -2;

	*offset_s = 0;
	if (h == NULL || nd == NULL) {
		free(h);
		free(nd);
		return -2;
	}
	if (nn > nh)
		nn = nh;
	for (size_t lag = 0; lag + nn <= nh; lag++) {
		double sa = 0, sb = 0, sab = 0, ma = 0, mb = 0;
		for (size_t i = 0; i < nn; i++) {
			ma += h[lag + i];
			mb += nd[i];
		}
		ma /= (double)nn;
		mb /= (double)nn;
		for (size_t i = 0; i < nn; i++) {
			double a = h[lag + i] - ma, b = nd[i] - mb;
			sab += a * b;
			sa += a * a;
			sb += b * b;
		}
		double c = sa > 0 && sb > 0 ? sab / sqrt(sa * sb) : 0;
		if (c > best) {
			best = c;
			*offset_s = (double)lag * FRAME / 8000.0;
		}
	}
	free(h);
	free(nd);
	return best;
}
