
/*
 * What recording measures of an upstream's answer: how long it took to
 * send its header and then its body, and, when nginx passed the body on
 * as it came (proxy_buffering off, "X-Accel-Buffering: no"), the pieces
 * it came in and when each came.
 */


#include "ngx_http_mock_module.h"


typedef struct {
    ngx_msec_t                    start;        /* when the header came */
    ngx_msec_t                    header;
    ngx_uint_t                    streamed;     /* unsigned  streamed:1; */
    ngx_array_t                   chunks;       /* ngx_http_mock_chunk_t */
} ngx_http_mock_timing_ctx_t;


/* the header has come: from the connect to the upstream until now */

ngx_int_t
ngx_http_mock_timing_start(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx)
{
    ngx_http_upstream_t         *u;
    ngx_http_mock_timing_ctx_t  *t;

    u = r->upstream;

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_timing_ctx_t));
    if (t == NULL) {
        return NGX_ERROR;
    }

    t->start = ngx_current_msec;
    t->header = (u && u->start_time && ngx_current_msec >= u->start_time)
                ? ngx_current_msec - u->start_time : 0;
    t->streamed = (u && !u->buffering);

    if (t->streamed
        && ngx_array_init(&t->chunks, r->pool, 8,
                          sizeof(ngx_http_mock_chunk_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->timing = t;

    return NGX_OK;
}


/*
 * The bytes of one pass of the body filter are one piece: nginx passes
 * on what one read from the upstream brought.  Past the most pieces an
 * interaction keeps, the rest go with the last one.
 */

ngx_int_t
ngx_http_mock_timing_body(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_chain_t *in)
{
    size_t                       size;
    ngx_chain_t                 *cl;
    ngx_http_mock_chunk_t       *c;
    ngx_http_mock_timing_ctx_t  *t;

    t = ctx->timing;

    if (t == NULL || !t->streamed) {
        return NGX_OK;
    }

    size = 0;

    for (cl = in; cl; cl = cl->next) {
        if (!ngx_buf_special(cl->buf)) {
            size += (size_t) ngx_buf_size(cl->buf);
        }
    }

    if (size == 0) {
        return NGX_OK;
    }

    if (t->chunks.nelts == NGX_HTTP_MOCK_CHUNKS_MAX) {
        c = (ngx_http_mock_chunk_t *) t->chunks.elts + t->chunks.nelts - 1;
        c->len += size;
        return NGX_OK;
    }

    c = ngx_array_push(&t->chunks);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->len = size;
    c->at = ngx_current_msec - t->start;

    return NGX_OK;
}


/*
 * The answer is complete: its times go with the record.  Pieces that do
 * not add up to the body as it is written (learned templates change it)
 * are left out; the times stay.
 */

void
ngx_http_mock_timing_done(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_record_t *rec)
{
    size_t                       sum;
    ngx_uint_t                   i;
    ngx_http_mock_chunk_t       *c;
    ngx_http_mock_timing_ctx_t  *t;

    t = ctx->timing;

    if (t == NULL) {
        return;
    }

    rec->timing.header = t->header;
    rec->timing.body = ngx_current_msec - t->start;
    rec->timing.timed = 1;

    if (!t->streamed || t->chunks.nelts == 0) {
        return;
    }

    c = t->chunks.elts;
    sum = 0;

    for (i = 0; i < t->chunks.nelts; i++) {
        sum += c[i].len;
    }

    if (sum != rec->body.len) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "mock timing: %uz bytes in chunks, body of %uz",
                       sum, rec->body.len);
        return;
    }

    rec->timing.nchunks = t->chunks.nelts;
    rec->timing.chunks = c;
}
