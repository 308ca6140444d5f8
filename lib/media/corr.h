/* Audio similarity: where one recording appears inside another, by the correlation of their 10 ms energy envelopes (for tests and the lab). */
#ifndef NGV_MEDIA_CORR_H
#define NGV_MEDIA_CORR_H

#include <stddef.h>
#include <stdint.h>

/*
 * The best normalized correlation (-1..1) of the needle's envelope inside
 * the haystack's, over every offset where it fits (a needle longer than
 * the haystack is cut to it). *offset_s gets the offset of the best match.
 * Returns -2 when either is shorter than 10 ms or on ENOMEM.
 */
double media_corr(const int16_t *hay, size_t nhay, const int16_t *needle,
    size_t nneedle, double *offset_s);

#endif
