/* SIP message encoder: start lines, headers and replies appended to a buffer, no printf per header. */
#ifndef NGV_SIP_ENC_H
#define NGV_SIP_ENC_H

#include <stdint.h>

#include "core/buf.h"
#include "sip/msg.h"

/* "METHOD uri SIP/2.0\r\n" */
void sip_enc_request_line(struct buf *b, struct slice method, struct slice uri);
/* "SIP/2.0 code reason\r\n" */
void sip_enc_status_line(struct buf *b, uint16_t code, struct slice reason);
/* "Name: value\r\n" */
void sip_enc_hdr(struct buf *b, struct slice name, struct slice val);
/* "Name: value\r\n" for a known header id. */
void sip_enc_hdr_id(struct buf *b, enum sip_hdr_id id, struct slice val);
void sip_enc_hdr_u64(struct buf *b, enum sip_hdr_id id, uint64_t v);
/* "CSeq: num METHOD\r\n" */
void sip_enc_cseq(struct buf *b, uint32_t num, struct slice method);
/* "Content-Length: n\r\n\r\n" then the body. */
void sip_enc_body(struct buf *b, struct slice ctype, struct slice body);

/* Standard reason phrase for a status code ("Not Found"), "" if unknown. */
const char *sip_reason(uint16_t code);

/*
 * Builds a response to req (RFC 3261 8.2.6): status line, every Via, From,
 * To (with to_tag added when the To has none and to_tag is set), Call-ID,
 * CSeq, then the extra header lines (already CRLF-terminated, may be empty),
 * then the body. reason NULL takes the standard phrase. Works on a request
 * that failed validation as long as the raw headers were found; it copies
 * them as they were. Returns 0 or ENOMEM.
 */
int sip_enc_reply(struct buf *b, const struct sip_msg *req, uint16_t code,
    const char *reason, struct slice to_tag, struct slice extra,
    struct slice ctype, struct slice body);

/*
 * The same in two steps, for a server transaction that answers several
 * times: sip_reply_tpl_build() appends to b what every response to req
 * copies from it (Via, From, the To value, Call-ID, CSeq, Record-Route) and
 * fills t with where each part is; sip_reply_tpl_enc() then builds a
 * response from those bytes (tpl: what was appended) without the request.
 * Same output as sip_enc_reply(). Both return 0 or ENOMEM.
 */
struct sip_reply_tpl {
	size_t to_at, to_end; /* the To value */
	size_t rr_at;         /* Record-Route lines from here to len */
	size_t len;
	bool has_to, tag_ok;
};
int sip_reply_tpl_build(
    struct buf *b, const struct sip_msg *req, struct sip_reply_tpl *t);
int sip_reply_tpl_enc(struct buf *b, const char *tpl,
    const struct sip_reply_tpl *t, uint16_t code, const char *reason,
    struct slice to_tag, struct slice extra, struct slice ctype,
    struct slice body);

#endif
