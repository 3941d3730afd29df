
/*
 * Replaying a body as a stream: its recorded chunks, each flushed on its
 * own, with the recorded gaps (scaled) under "mock_latency recorded" or
 * at once otherwise; a body recorded with times but without chunks comes
 * after its recorded body time.  Waits are timers of the request's own.
 */


#include "ngx_http_mock_module.h"


typedef struct {
    ngx_event_t                   ev;
    ngx_http_request_t           *r;
    u_char                       *data;         /* the body being sent */
    size_t                        len;
    size_t                        pos;
    ngx_http_mock_chunk_t        *chunks;
    ngx_uint_t                    nchunks;
    ngx_uint_t                    npieces;      /* and the end, apart */
    ngx_uint_t                    next;
    ngx_msec_t                    end;          /* the body's time */
    ngx_http_mock_chunk_t         one;          /* a body without chunks */
    ngx_uint_t                    scale;        /* 0: no gaps */
    ngx_msec_t                    due;          /* of the last chunk sent */
    ngx_msec_t                    at;           /* its recorded time */
} ngx_http_mock_stream_t;


static ngx_http_mock_stream_t *ngx_http_mock_stream_get(
    ngx_http_request_t *r);
static ngx_msec_t ngx_http_mock_stream_at(ngx_http_mock_stream_t *st,
    ngx_uint_t k);
static ngx_int_t ngx_http_mock_stream_step(ngx_http_mock_stream_t *st);
static ngx_int_t ngx_http_mock_stream_chunk(ngx_http_mock_stream_t *st);
static void ngx_http_mock_stream_timer(ngx_event_t *ev);
static void ngx_http_mock_stream_write(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_stream_arm(ngx_http_request_t *r);
static void ngx_http_mock_stream_cleanup(void *data);


/*
 * An answer goes as a stream when it was recorded in chunks, or with its
 * times under "mock_latency recorded"; never a fault, a HEAD or a
 * subrequest.
 */

ngx_uint_t
ngx_http_mock_stream_applies(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it)
{
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx->fault || r != r->main || r->header_only
        || r->method == NGX_HTTP_HEAD || it->body.len == 0)
    {
        return 0;
    }

    return it->timing.nchunks
           || (ctx->scale && it->timing.timed && it->timing.body);
}


/* a templated body: its chunks move with the text they were recorded in */

ngx_int_t
ngx_http_mock_stream_render(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_str_t *body)
{
    ngx_http_mock_stream_t  *st;

    if (it->timing.nchunks == 0 || !ngx_http_mock_stream_applies(r, it)) {
        return ngx_http_mock_render_body(r, it, body);
    }

    st = ngx_http_mock_stream_get(r);
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->chunks = ngx_palloc(r->pool,
                            it->timing.nchunks * sizeof(ngx_http_mock_chunk_t));
    if (st->chunks == NULL) {
        return NGX_ERROR;
    }

    st->nchunks = it->timing.nchunks;

    return ngx_http_mock_render_chunks(r, it, body, st->chunks);
}


/*
 * The headers are set: they go at once, then the body.  The body's bytes
 * are the zone's or the request's, which both outlive the stream: the
 * request holds the zone's index until it ends.
 */

ngx_int_t
ngx_http_mock_stream_send(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, u_char *data, size_t len)
{
    ngx_int_t                  rc;
    ngx_pool_cleanup_t        *pcln;
    ngx_http_cleanup_t        *cln;
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_mock_stream_t    *st;
    ngx_http_core_loc_conf_t  *clcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    st = ngx_http_mock_stream_get(r);
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->data = data;
    st->len = len;

    if (st->chunks == NULL && it->timing.nchunks) {
        st->chunks = it->timing.chunks;
        st->nchunks = it->timing.nchunks;
    }

    if (st->chunks) {
        /* chunked to HTTP/1.1 clients; HTTP/1.0 ones get a close */
        ngx_http_clear_content_length(r);

    } else {
        st->one.len = len;
        st->one.at = it->timing.body;
        st->chunks = &st->one;
        st->nchunks = 1;
    }

    st->scale = ctx->scale;
    st->npieces = st->nchunks;

    /* a stream that ended after its last chunk ends as late on replay */

    if (st->scale && it->timing.timed
        && it->timing.body > st->chunks[st->nchunks - 1].at)
    {
        st->end = it->timing.body;
        st->npieces++;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    if (st->scale == 0) {
        /* no gaps: each chunk flushed on its own, at once */

        do {
            rc = ngx_http_mock_stream_chunk(st);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

        } while (st->next < st->npieces);

        return rc;
    }

    if (ngx_http_send_special(r, NGX_HTTP_FLUSH) == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* a request terminated, or freed without it (an HTTP/2 reset) */

    cln = ngx_http_cleanup_add(r, 0);
    pcln = ngx_pool_cleanup_add(r->pool, 0);

    if (cln == NULL || pcln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_mock_stream_cleanup;
    cln->data = st;
    pcln->handler = ngx_http_mock_stream_cleanup;
    pcln->data = st;

    st->ev.handler = ngx_http_mock_stream_timer;
    st->ev.data = st;
    st->ev.log = r->connection->log;
    st->due = ngx_current_msec;

    r->main->count++;

    if (!r->discard_body) {
        r->read_event_handler = ngx_http_test_reading;
    }

    r->write_event_handler = ngx_http_mock_stream_write;

    /* even the first chunk goes from the timer: the handler returns first */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    st->at = st->chunks[0].at;
    st->due += ngx_min(ngx_http_mock_latency_scaled(st->at, st->scale),
                       clcf->send_timeout);

    ngx_add_timer(&st->ev, st->due - ngx_current_msec);

    return NGX_DONE;
}


/* when piece k came after the header: a chunk, or the end */

static ngx_msec_t
ngx_http_mock_stream_at(ngx_http_mock_stream_t *st, ngx_uint_t k)
{
    return (k < st->nchunks) ? st->chunks[k].at : st->end;
}


static ngx_http_mock_stream_t *
ngx_http_mock_stream_get(ngx_http_request_t *r)
{
    ngx_http_mock_ctx_t     *ctx;
    ngx_http_mock_stream_t  *st;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx->stream) {
        return ctx->stream;
    }

    st = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_stream_t));
    if (st == NULL) {
        return NULL;
    }

    st->r = r;
    ctx->stream = st;

    return st;
}


/*
 * Sends the chunk that is due, and those due with it; NGX_DONE while more
 * are to come, on the timer, else what the last send returned.  Each gap
 * is at most send_timeout.
 */

static ngx_int_t
ngx_http_mock_stream_step(ngx_http_mock_stream_t *st)
{
    ngx_int_t                  rc;
    ngx_msec_t                 gap;
    ngx_msec_int_t             wait;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(st->r, ngx_http_core_module);

    for ( ;; ) {
        rc = ngx_http_mock_stream_chunk(st);

        if (rc == NGX_ERROR || st->next == st->npieces) {
            return rc;
        }

        if (rc == NGX_AGAIN && ngx_http_mock_stream_arm(st->r) != NGX_OK) {
            return NGX_ERROR;
        }

        /* recorded times go up; each is counted from the header's */

        gap = ngx_http_mock_latency_scaled(
                  ngx_http_mock_stream_at(st, st->next) - st->at, st->scale);
        st->at = ngx_http_mock_stream_at(st, st->next);
        st->due += ngx_min(gap, clcf->send_timeout);

        wait = (ngx_msec_int_t) (st->due - ngx_current_msec);

        if (wait > 0) {
            ngx_add_timer(&st->ev, (ngx_msec_t) wait);
            return NGX_DONE;
        }
    }
}


static ngx_int_t
ngx_http_mock_stream_chunk(ngx_http_mock_stream_t *st)
{
    size_t        len;
    ngx_buf_t    *b;
    ngx_uint_t    last;
    ngx_chain_t   out;

    len = (st->next < st->nchunks) ? st->chunks[st->next].len : 0;
    last = (++st->next == st->npieces);

    if (last || len > st->len - st->pos) {
        len = st->len - st->pos;
    }

    if (len == 0 && !last) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(st->r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (len) {
        b->pos = st->data + st->pos;
        b->last = b->pos + len;
        b->memory = 1;
        st->pos += len;
    }

    b->flush = 1;
    b->last_buf = last;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(st->r, &out);
}


static void
ngx_http_mock_stream_timer(ngx_event_t *ev)
{
    ngx_int_t                rc;
    ngx_connection_t        *c;
    ngx_http_request_t      *r;
    ngx_http_mock_stream_t  *st;

    st = ev->data;
    r = st->r;
    c = r->connection;

    rc = c->error ? NGX_HTTP_CLIENT_CLOSED_REQUEST
                  : ngx_http_mock_stream_step(st);

    if (rc != NGX_DONE) {
        r->write_event_handler = ngx_http_request_empty_handler;
        ngx_http_finalize_request(r, rc);
    }

    ngx_http_run_posted_requests(c);
}


/* a slow client: what is still buffered goes when it can take it */

static void
ngx_http_mock_stream_write(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (wev->timedout) {
        r->connection->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (wev->delayed) {
        return;
    }

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR
        || ngx_http_mock_stream_arm(r) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_ERROR);
    }
}


static ngx_int_t
ngx_http_mock_stream_arm(ngx_http_request_t *r)
{
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    if (!r->buffered && !c->buffered) {
        if (wev->timer_set) {
            ngx_del_timer(wev);
        }

        return NGX_OK;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (!wev->delayed) {
        ngx_add_timer(wev, clcf->send_timeout);
    }

    return ngx_handle_write_event(wev, clcf->send_lowat);
}


/* the request ends, finished or not: the timer goes with it */

static void
ngx_http_mock_stream_cleanup(void *data)
{
    ngx_http_mock_stream_t  *st = data;

    if (st->ev.timer_set) {
        ngx_del_timer(&st->ev);
    }
}
