/* G.711 µ-law and A-law (ITU-T G.711, as G.191's reference code defines it). */
#ifndef NGV_MEDIA_G711_H
#define NGV_MEDIA_G711_H

#include <stddef.h>
#include <stdint.h>

/*
 * Linear samples are 16-bit; the encoders use the top 14 (µ-law) or 13
 * (A-law) bits, negative values by their one's complement, exactly as
 * G.191 ulaw_compress()/alaw_compress() do. The decoders return the
 * G.191 expansion scaled to 16 bits.
 */
uint8_t g711_ulaw_enc(int16_t x);
uint8_t g711_alaw_enc(int16_t x);
int16_t g711_ulaw_dec(uint8_t u);
int16_t g711_alaw_dec(uint8_t a);

/* Whole buffers: n samples in, n samples out. */
void g711_ulaw_enc_buf(uint8_t *dst, const int16_t *src, size_t n);
void g711_alaw_enc_buf(uint8_t *dst, const int16_t *src, size_t n);
void g711_ulaw_dec_buf(int16_t *dst, const uint8_t *src, size_t n);
void g711_alaw_dec_buf(int16_t *dst, const uint8_t *src, size_t n);

/* The code of linear 0 (a silent payload byte). */
#define G711_ULAW_SILENCE 0xff
#define G711_ALAW_SILENCE 0xd5

#endif
