
/*
 * Recording through proxy_pass, and falling back to recordings.
 *
 * The header filter copies the response as the upstream sent it (status,
 * reason, the headers it sent); the body filter copies the body bytes as
 * they pass, from memory or from proxy_buffering's temporary file,
 * without changing what the client gets.  An answer that nginx made in
 * place of the upstream's (an error page, an upstream that failed after
 * its status line) is not recorded.  The interaction is written before
 * the buffer that completes the response goes on (the one that brings
 * the body to its Content-Length, else the last one): that buffer and
 * what follows it wait until the turn of the event loop ends, when the
 * recordings that completed in it are written together, so a client that
 * has the whole answer finds it in the cassette and in every worker: the
 * request as the upstream received it is read back from the proxied
 * request buffers, secrets are filtered out, and the interaction is
 * appended to the cassette and indexed.  A response that never completes
 * is not recorded, with a warning.
 *
 * In "fallback" mode a failed upstream answer (an error nginx generates,
 * or a status listed in mock_fallback_status) is replaced by the latest
 * recording of the request: the header filter puts in the recorded
 * headers and the body filter sends the recorded body instead of the
 * failed one.  A successful answer replaces the recording of the same
 * request, in the cassette and in the zone, unless it is the same answer;
 * the cassette holds one interaction per request, however many come.
 *
 * The header filter also adds the response header (mock_header) that says
 * what the module did.  The filters are installed when a location mocks,
 * and do nothing for requests of other locations.
 */


#include "ngx_http_mock_module.h"


typedef struct {
    ngx_http_request_t          *request;
    ngx_http_mock_ctx_t         *ctx;
} ngx_http_mock_record_cln_t;


/* a recording that waits for its write, and the request it is of */
typedef struct {
    ngx_http_mock_commit_t       commit;
    ngx_http_request_t          *request;
    ngx_http_mock_ctx_t         *ctx;
    unsigned                     gone:1;
} ngx_http_mock_record_commit_t;


static void ngx_http_mock_record_consumed(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_store_t *store,
    ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_response_header(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_loc_conf_t *mlcf);
static ngx_int_t ngx_http_mock_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_mock_record_headers(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx);
static ngx_inline ngx_int_t ngx_http_mock_record_header_skip(
    ngx_http_upstream_t *u, ngx_table_elt_t *h);
static ngx_int_t ngx_http_mock_record_body_buf(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, size_t size);
static ngx_int_t ngx_http_mock_record_body(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_chain_t *in);
static ngx_int_t ngx_http_mock_record_complete(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx);
static void ngx_http_mock_record_done(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_uint_t hold);
static ngx_int_t ngx_http_mock_record_hold(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_writer_t *writer,
    ngx_http_mock_record_t *rec);
static void ngx_http_mock_record_committed(ngx_http_mock_commit_t *commit,
    ngx_int_t rc);
static void ngx_http_mock_record_commit_cleanup(void *data);
static void ngx_http_mock_record_release(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx);
static void ngx_http_mock_record_written(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_writer_t *writer,
    ngx_http_mock_record_t *rec, ngx_str_t *entry);
static ngx_int_t ngx_http_mock_record_replace(ngx_http_request_t *r,
    ngx_http_mock_writer_t *writer, ngx_http_mock_index_t *index,
    ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_record_index(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_writer_t *writer,
    ngx_http_mock_record_t *rec, ngx_str_t *path, ngx_uint_t n,
    ngx_log_t *log);
static ngx_int_t ngx_http_mock_record_pin(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_interaction_t *it);
static ngx_int_t ngx_http_mock_record_cleanup_add(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx);
static void ngx_http_mock_record_cleanup(void *data);
static ngx_int_t ngx_http_mock_record_request(ngx_http_request_t *r,
    ngx_http_mock_record_t *rec);
static ngx_int_t ngx_http_mock_record_filter_uri(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *uri);
static void ngx_http_mock_record_skip(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, const char *why);
static ngx_int_t ngx_http_mock_fallback_status(ngx_http_mock_loc_conf_t *mlcf,
    ngx_uint_t status);
static ngx_int_t ngx_http_mock_fallback(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_loc_conf_t *mlcf);
static ngx_int_t ngx_http_mock_fallback_body(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_mock_record_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_mock_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_mock_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_header_filter(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_upstream_t       *u;
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_mock_loc_conf_t  *mlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL) {
        return ngx_http_next_header_filter(r);
    }

    /* a recording that may be replaced is held while it is sent */

    if (ctx->interaction && ctx->pinned == NULL
        && ngx_http_mock_record_pin(r, ctx, ctx->interaction) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    u = r->upstream;

    if (ctx->recording) {
        /* a second header: nginx replaced the upstream's answer */
        ngx_http_mock_record_skip(r, ctx, "nginx replaced the upstream's "
                                  "answer with one of its own");

    } else if ((ctx->record || ctx->captured)
               && !ctx->answered && !ctx->replaced)
    {

        ctx->answered = 1;

        if (ctx->fallback
            && ngx_http_mock_fallback_status(mlcf, r->headers_out.status))
        {
            if (ngx_http_mock_fallback(r, ctx, mlcf) == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (ctx->fault) {
                /* a fault on the upstream path, and what answered it */
                ctx->status = (ctx->status == NGX_HTTP_MOCK_FALLBACK)
                              ? NGX_HTTP_MOCK_FAULT_FALLBACK
                              : NGX_HTTP_MOCK_FAULT;
            }

        } else if (ctx->fault) {
            /* a fault on the upstream path that reaches the client */
            ctx->status = NGX_HTTP_MOCK_FAULT;

        } else if (r->headers_out.status == NGX_HTTP_SWITCHING_PROTOCOLS) {
            /* an upgrade the request offered (h2c), taken: not an answer */
            ctx->status = NGX_HTTP_MOCK_UPGRADE;

        } else if (u == NULL || u->headers_in.status_n == 0) {
            /* nginx's own answer, not the upstream's */
            ctx->status = NGX_HTTP_MOCK_PASSTHROUGH;

        } else if (r->err_status
                   || r->headers_out.status != u->headers_in.status_n)
        {
            /*
             * an error page, an upstream that failed after its status
             * line, an answer error_page replaced
             */

            ctx->status = NGX_HTTP_MOCK_PASSTHROUGH;

            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "mock: \"%V %V\" is not recorded: nginx answered "
                          "%ui in place of the upstream's %ui",
                          &r->method_name, &r->unparsed_uri,
                          r->headers_out.status, u->headers_in.status_n);

        } else {
            if (ngx_http_mock_record_headers(r, ctx) == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (ctx->recording
                && ngx_http_mock_timing_start(r, ctx) != NGX_OK)
            {
                return NGX_ERROR;
            }

            /* nothing follows the header: it completes the response */

            if (ctx->recording
                && (r->header_only
                    || r->method == NGX_HTTP_HEAD
                    || r->headers_out.status == NGX_HTTP_NO_CONTENT
                    || r->headers_out.status == NGX_HTTP_NOT_MODIFIED
                    || ctx->expected == 0))
            {
                ngx_http_mock_record_done(r, ctx, 0);
            }
        }
    }

    if (mlcf->header.len && ctx->mode) {
        if (ngx_http_mock_response_header(r, ctx, mlcf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    rc = ngx_http_next_header_filter(r);

    if (ctx->recording) {
        /* until the response completes */
        ctx->status = NGX_HTTP_MOCK_PASSTHROUGH;
    }

    return rc;
}


/* "X-Mock: replay; hit": the mode that ran, and the result once known */

static ngx_int_t
ngx_http_mock_response_header(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_loc_conf_t *mlcf)
{
    u_char           *p;
    ngx_str_t        *mode, *status;
    ngx_table_elt_t  *h;

    mode = ngx_http_mock_mode_name(ctx->mode);
    status = ngx_http_mock_status_name(ctx->status);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, mode->len + 2 + status->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = mlcf->header;
    h->lowcase_key = NULL;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    h->value.data = p;
    p = ngx_http_mock_cpymem(p, mode->data, mode->len);

    if (status->len) {
        *p++ = ';'; *p++ = ' ';
        p = ngx_http_mock_cpymem(p, status->data, status->len);
    }

    h->value.len = p - h->value.data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->replaced) {
        return ngx_http_mock_fallback_body(r, ctx, in);
    }

    if (ctx->recording && in) {
        if (ngx_http_mock_timing_body(r, ctx, in) != NGX_OK
            || ngx_http_mock_record_body(r, ctx, in) == NGX_ERROR)
        {
            return NGX_ERROR;
        }
    }

    if (ctx->committing) {
        /* the response goes on once its recording is written */

        if (in && ngx_chain_add_copy(r->pool, &ctx->held, in) != NGX_OK) {
            return NGX_ERROR;
        }

        r->connection->buffered |= NGX_HTTP_MOCK_BUFFERED;

        return NGX_OK;
    }

    return ngx_http_next_body_filter(r, in);
}


/*
 * The response as the upstream sent it.  The headers are copied (the
 * upstream's buffer may be reused for the body) into one allocation: the
 * array, its elements, the reason and the names and values.
 */

static ngx_int_t
ngx_http_mock_record_headers(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx)
{
    u_char                    *p;
    size_t                     len;
    ngx_uint_t                 i, n;
    ngx_list_part_t           *part;
    ngx_table_elt_t           *h, *copy;
    ngx_http_upstream_t       *u;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    u = r->upstream;

    if (r->headers_out.content_length_n > (off_t) mlcf->record_max_body) {
        ngx_http_mock_record_skip(r, ctx, "its response body is larger than "
                                  "mock_record_max_body");
        return NGX_OK;
    }

    ctx->resp_status = u->headers_in.status_n;

    /* "200 OK" */

    len = u->headers_in.status_line.len > 4
          ? u->headers_in.status_line.len - 4 : 0;
    n = 0;

    part = &u->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_mock_record_header_skip(u, &h[i])) {
            continue;
        }

        n++;
        len += h[i].key.len + h[i].value.len;
    }

    /* one element at least: ngx_array_push() doubles the room */

    p = ngx_palloc(r->pool, sizeof(ngx_array_t)
                            + ngx_max(n, 1) * sizeof(ngx_table_elt_t) + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->resp_headers = (ngx_array_t *) p;
    p += sizeof(ngx_array_t);

    ctx->resp_headers->elts = p;
    ctx->resp_headers->nelts = 0;
    ctx->resp_headers->size = sizeof(ngx_table_elt_t);
    ctx->resp_headers->nalloc = ngx_max(n, 1);
    ctx->resp_headers->pool = r->pool;

    copy = (ngx_table_elt_t *) p;
    p += ngx_max(n, 1) * sizeof(ngx_table_elt_t);

    ngx_str_null(&ctx->reason);

    if (u->headers_in.status_line.len > 4) {
        ctx->reason.len = u->headers_in.status_line.len - 4;
        ctx->reason.data = p;
        p = ngx_http_mock_cpymem(p, u->headers_in.status_line.data + 4,
                                 ctx->reason.len);
    }

    part = &u->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_mock_record_header_skip(u, &h[i])) {
            continue;
        }

        ngx_memzero(copy, sizeof(ngx_table_elt_t));

        copy->hash = 1;
        copy->key.len = h[i].key.len;
        copy->key.data = p;
        p = ngx_http_mock_cpymem(p, h[i].key.data, h[i].key.len);
        copy->value.len = h[i].value.len;
        copy->value.data = p;
        p = ngx_http_mock_cpymem(p, h[i].value.data, h[i].value.len);

        copy++;
    }

    ctx->resp_headers->nelts = n;

    ctx->body = NULL;
    ctx->last = &ctx->body;
    ctx->size = 0;
    ctx->expected = u->headers_in.content_length_n;
    ctx->recording = 1;

    return ngx_http_mock_record_cleanup_add(r, ctx);
}


/* proxy_pass adds an empty "Server" and "Date" the upstream omitted */

static ngx_inline ngx_int_t
ngx_http_mock_record_header_skip(ngx_http_upstream_t *u, ngx_table_elt_t *h)
{
    if (h->hash == 0) {
        return 1;
    }

    if (u->headers_in.server == NULL
        && h->key.len == 6
        && ngx_strncasecmp(h->key.data, (u_char *) "Server", 6) == 0)
    {
        return 1;
    }

    if (u->headers_in.date == NULL
        && h->key.len == 4
        && ngx_strncasecmp(h->key.data, (u_char *) "Date", 4) == 0)
    {
        return 1;
    }

    return 0;
}


/*
 * The one buffer of a body of a known length, made when its first bytes
 * come: ctx->body holds it and ctx->last is NULL.  It grows should more
 * bytes come than the length said.
 */

static ngx_int_t
ngx_http_mock_record_body_buf(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    size_t size)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (ctx->body) {
        b->last = ngx_http_mock_cpymem(b->last, ctx->body->buf->pos,
                                       ctx->size);
        ctx->body->buf = b;
        return NGX_OK;
    }

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    ctx->body = cl;
    ctx->last = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_record_body(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_chain_t *in)
{
    size_t                     size;
    ssize_t                    n;
    ngx_buf_t                 *b;
    ngx_chain_t               *cl;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    for (cl = in; cl; cl = cl->next) {

        size = ngx_buf_special(cl->buf) ? 0 : (size_t) ngx_buf_size(cl->buf);

        if (size) {
            if (ctx->size + size > mlcf->record_max_body) {
                ngx_http_mock_record_skip(r, ctx, "its response body is "
                                          "larger than mock_record_max_body");
                return NGX_OK;
            }

            if (ctx->body == NULL
                && ctx->expected >= (off_t) size
                && ctx->expected <= (off_t) mlcf->record_max_body)
            {
                if (ngx_http_mock_record_body_buf(r, ctx,
                                                  (size_t) ctx->expected)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }

            if (ctx->last) {
                /* the length is not known: a copy of each buffer */

                b = ngx_create_temp_buf(r->pool, size);
                if (b == NULL) {
                    return NGX_ERROR;
                }

            } else {
                b = ctx->body->buf;

                if ((size_t) (b->end - b->last) < size) {
                    if (ngx_http_mock_record_body_buf(r, ctx, ctx->size + size)
                        != NGX_OK)
                    {
                        return NGX_ERROR;
                    }

                    b = ctx->body->buf;
                }
            }

            if (ngx_buf_in_memory(cl->buf)) {
                b->last = ngx_http_mock_cpymem(b->last, cl->buf->pos, size);

            } else {
                /* proxy_buffering spooled it to a temporary file */

                n = ngx_read_file(cl->buf->file, b->last, size,
                                  cl->buf->file_pos);

                if (n != (ssize_t) size) {
                    ngx_http_mock_record_skip(r, ctx, "its response body "
                                              "cannot be read back from "
                                              "the temporary file");
                    return NGX_OK;
                }

                b->last += size;
            }

            if (ctx->last) {
                *ctx->last = ngx_alloc_chain_link(r->pool);
                if (*ctx->last == NULL) {
                    return NGX_ERROR;
                }

                (*ctx->last)->buf = b;
                (*ctx->last)->next = NULL;
                ctx->last = &(*ctx->last)->next;
            }

            ctx->size += size;
        }

        if (ngx_http_mock_record_complete(r, ctx)
            || cl->buf->last_buf)
        {
            ngx_http_mock_record_done(r, ctx, 1);
            return NGX_OK;
        }
    }

    return NGX_OK;
}


/*
 * The body has its Content-Length: the client may have the whole answer
 * as soon as this buffer goes on, before the last buffer (an empty one)
 * comes.  Without a Content-Length (chunked, or up to the close) the
 * last buffer ends it.
 */

static ngx_int_t
ngx_http_mock_record_complete(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx)
{
    return ctx->expected >= 0 && (off_t) ctx->size >= ctx->expected;
}


static void
ngx_http_mock_record_skip(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    const char *why)
{
    ctx->recording = 0;
    ctx->status = NGX_HTTP_MOCK_PASSTHROUGH;

    if (ctx->captured) {
        /* verify: what there is of the answer is compared */
        ctx->captured(r, why);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "mock: \"%V %V\" is not recorded: %s",
                  &r->method_name, &r->unparsed_uri, why);
}


/*
 * The exchange is complete: write it down and index it.  With "hold",
 * from the body filter, the buffer that completes the response and what
 * follows it wait for the write, which the end of this turn of the event
 * loop makes for every recording that completed in it; else it is
 * written now, after those.
 */

static void
ngx_http_mock_record_done(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_uint_t hold)
{
    u_char                    *p;
    char                      *err;
    ngx_str_t                 *type, entry;
    ngx_chain_t               *cl;
    ngx_http_mock_index_t     *index;
    ngx_http_mock_store_t     *store;
    ngx_http_mock_writer_t    *writer;
    ngx_http_mock_record_t    *rec;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    store = mlcf->store;
    writer = store->writer;

    ctx->recording = 0;
    ctx->status = NGX_HTTP_MOCK_PASSTHROUGH;

    if (ctx->captured) {
        /* verify: the answer is compared, not written */
        ctx->captured(r, NULL);
        return;
    }

    rec = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_record_t));
    if (rec == NULL) {
        return;
    }

    if (ngx_http_mock_record_request(r, rec) != NGX_OK) {
        ngx_http_mock_record_skip(r, ctx, "the request sent to the upstream "
                                  "cannot be read back (only proxy_pass is "
                                  "recorded)");
        return;
    }

    rec->status = ctx->resp_status;
    rec->recorded = ngx_time();
    rec->reason = ctx->reason;
    rec->headers = *ctx->resp_headers;

    if (ctx->size && ctx->last == NULL) {
        /* a body of a known length: its one buffer */
        rec->body.data = ctx->body->buf->pos;
        rec->body.len = ctx->size;

    } else if (ctx->size) {
        rec->body.data = ngx_pnalloc(r->pool, ctx->size);
        if (rec->body.data == NULL) {
            return;
        }

        p = rec->body.data;

        for (cl = ctx->body; cl; cl = cl->next) {
            p = ngx_http_mock_cpymem(p, cl->buf->pos,
                                     cl->buf->last - cl->buf->pos);
        }

        rec->body.len = ctx->size;
    }

    /* secrets never reach the file */

    if (mlcf->filters) {
        if (ngx_http_mock_filter_headers(r->pool, mlcf->filters,
                                         &rec->req_headers) != NGX_OK
            || ngx_http_mock_filter_headers(r->pool, mlcf->filters,
                                            &rec->headers) != NGX_OK)
        {
            return;
        }
    }

    type = ngx_http_mock_content_type(&rec->req_headers);

    if (mlcf->filters
        && ngx_http_mock_filter_body(r->pool, mlcf->filters, type,
                                     &rec->req_body)
           != NGX_OK)
    {
        return;
    }

    if (mlcf->filters
        && ngx_http_mock_record_filter_uri(r, mlcf, &rec->uri) != NGX_OK)
    {
        return;
    }

    err = ngx_http_mock_parse_url(r->pool, &rec->uri, &rec->key);
    if (err) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: \"%V\" is not recorded: %s", &rec->uri, err);
        return;
    }

    if (rec->key.path.len == 0) {
        ngx_str_set(&rec->key.path, "/");
    }

    if (ngx_http_mock_canon_body(r->pool, type, &rec->req_body,
                                 &rec->key.body)
        != NGX_OK)
    {
        return;
    }

    err = ngx_http_mock_check_record(rec);
    if (err) {
        ngx_http_mock_record_skip(r, ctx, err);
        return;
    }

    /* the stores need not check it again: learning adds only expressions */

    rec->checked = 1;

    /* what the filters left is what templates may echo */

    if (mlcf->record_templates
        && ngx_http_mock_learn(r->pool, mlcf->record_templates, rec)
           == NGX_ERROR)
    {
        return;
    }

    ngx_http_mock_timing_done(r, ctx, rec);

    if (store->sessions) {
        writer = ngx_http_mock_session_writer(r, store, &ctx->session);
        if (writer == NULL) {
            return;
        }
    }

    if (hold && !ctx->renew && !ctx->fallback) {
        if (ngx_http_mock_record_hold(r, ctx, writer, rec) == NGX_OK) {
            return;
        }
    }

    /* after the recordings that wait */

    ngx_http_mock_commit_flush();

    if (ctx->renew) {
        if (ngx_http_mock_expire_record(r, ctx, writer, rec) == NGX_OK) {
            ctx->status = NGX_HTTP_MOCK_RECORDED;
        }

        return;
    }

    if (ctx->fallback) {
        if (store->sessions) {
            ngx_shmtx_lock(&store->shpool->mutex);
            index = ngx_http_mock_session_index(store, &ctx->session, 1,
                                                NULL, NULL);
            if (index && ngx_http_mock_store_hold(r, index) != NGX_OK) {
                index = NULL;
            }
            ngx_shmtx_unlock(&store->shpool->mutex);

        } else {
            /* held by the request since it began */
            index = ctx->index;
        }

        if (ngx_http_mock_record_replace(r, writer, index, rec) == NGX_OK) {
            ctx->status = NGX_HTTP_MOCK_RECORDED;
        }

        return;
    }

    if (ngx_http_mock_store_append(writer, rec, r->pool, r->connection->log,
                                    &entry)
        != NGX_OK)
    {
        return;
    }

    ngx_http_mock_record_written(r, ctx, writer, rec, &entry);
}


/*
 * The recording waits for the end of the turn; NGX_DECLINED: it cannot,
 * and is written now.
 */

static ngx_int_t
ngx_http_mock_record_hold(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_writer_t *writer, ngx_http_mock_record_t *rec)
{
    ngx_http_cleanup_t             *cln;
    ngx_http_mock_record_commit_t  *cm;

    cm = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_record_commit_t));
    if (cm == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_mock_yaml_entry(r->pool, rec, &cm->commit.entry) != NGX_OK) {
        return NGX_DECLINED;
    }

    /* a request that ends before the write has it made at once */

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_DECLINED;
    }

    cln->handler = ngx_http_mock_record_commit_cleanup;
    cln->data = cm;

    cm->commit.writer = writer;
    cm->commit.rec = rec;
    cm->commit.log = r->connection->log;
    cm->commit.handler = ngx_http_mock_record_committed;
    cm->request = r;
    cm->ctx = ctx;

    ctx->committing = 1;

    ngx_http_mock_commit_add(&cm->commit);

    return NGX_OK;
}


static void
ngx_http_mock_record_committed(ngx_http_mock_commit_t *commit, ngx_int_t rc)
{
    ngx_http_mock_record_commit_t *cm = (ngx_http_mock_record_commit_t *)
                                        commit;

    if (rc == NGX_OK) {
        ngx_http_mock_record_written(cm->request, cm->ctx, commit->writer,
                                     commit->rec, &commit->entry);
    }

    if (cm->gone) {
        /* the request is ending: nothing more goes to its client */
        cm->ctx->committing = 0;
        return;
    }

    ngx_http_mock_record_release(cm->request, cm->ctx);
}


static void
ngx_http_mock_record_commit_cleanup(void *data)
{
    ngx_http_mock_record_commit_t  *cm = data;

    if (cm->commit.queued) {
        cm->gone = 1;
        ngx_http_mock_commit_flush();
    }
}


/* what waited for the write goes on, and the request with it */

static void
ngx_http_mock_record_release(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx)
{
    ngx_chain_t       *held;
    ngx_connection_t  *c;

    c = r->connection;

    ctx->committing = 0;
    c->buffered &= ~NGX_HTTP_MOCK_BUFFERED;

    held = ctx->held;
    ctx->held = NULL;

    if (held && ngx_http_next_body_filter(r, held) == NGX_ERROR) {
        c->error = 1;
    }

    /* ngx_http_writer(), or the upstream's handler, takes it from here */

    ngx_post_event(c->write, &ngx_posted_events);
}


/* the recording is in the file: it is indexed, and told */

static void
ngx_http_mock_record_written(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_writer_t *writer, ngx_http_mock_record_t *rec,
    ngx_str_t *entry)
{
    ngx_uint_t                 i;
    ngx_str_t                 *consumed;
    ngx_http_mock_index_t     *index;
    ngx_http_mock_store_t     *store, **stores;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    store = mlcf->store;

    ctx->status = NGX_HTTP_MOCK_RECORDED;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mock recorded interaction %ui of \"%V\"",
                   rec->index, &writer->name);

    consumed = ctx->consumed ? &ctx->session : NULL;

    if (store->sessions) {
        ngx_shmtx_lock(&store->shpool->mutex);
        index = ngx_http_mock_session_index(store, &ctx->session, 1, NULL,
                                            NULL);
        if (index && ngx_http_mock_store_hold(r, index) != NGX_OK) {
            index = NULL;
        }
        ngx_shmtx_unlock(&store->shpool->mutex);

        if (index) {
            (void) ngx_http_mock_store_add(store, index, rec,
                                           writer->shm_name, consumed,
                                           r->connection->log);

            ngx_http_mock_record_consumed(r, ctx, store, rec);
        }

        return;
    }

    stores = writer->stores.elts;

    for (i = 0; i < writer->stores.nelts; i++) {
        (void) ngx_http_mock_store_add(stores[i], NULL, rec,
                                       writer->shm_name,
                                       stores[i] == store ? consumed : NULL,
                                       r->connection->log);
    }

    ngx_http_mock_record_consumed(r, ctx, store, rec);

    /* the other instances of the fleet append it to their files too */

    ngx_http_mock_follow_publish(r, writer, entry);
}


/*
 * In a fleet, the first recording of a request that Redis could not
 * count (it had no group yet) is counted there now, as this request's
 * play.
 */

static void
ngx_http_mock_record_consumed(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_store_t *store, ngx_http_mock_record_t *rec)
{
    if (ctx->consumed && ctx->fleet_asked && ctx->fleet_play < 0) {
        ngx_http_mock_fleet_consumed(r, store, ctx->fleet_hash, rec->index);
    }
}


/*
 * Fallback: the fresh answer replaces the latest recording of the same
 * request, unless it is the same answer.  The file's lock is held from
 * the second look at the zone to the last index changed, so that two
 * workers never both add a first recording of one request, and the file
 * and the zone end up with the same answer.
 */

static ngx_int_t
ngx_http_mock_record_replace(ngx_http_request_t *r,
    ngx_http_mock_writer_t *writer, ngx_http_mock_index_t *index,
    ngx_http_mock_record_t *rec)
{
    ngx_int_t                  rc;
    ngx_str_t                  entry, path;
    ngx_uint_t                 n;
    ngx_log_t                 *log;
    ngx_http_mock_store_t     *store;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    store = mlcf->store;
    log = r->connection->log;

    /* the answer did not change: nothing is written, nothing waits */

    rc = ngx_http_mock_store_latest(store, index, rec, writer->shm_name,
                                    r->pool, &n, &path, mlcf);

    if (rc == NGX_DONE || rc == NGX_ERROR) {
        return rc == NGX_DONE ? NGX_OK : NGX_ERROR;
    }

    if (ngx_http_mock_yaml_entry(r->pool, rec, &entry) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_mock_store_lock_file(writer, log) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the numbers of the file are those of the current index (an edit) */

    rc = ngx_http_mock_store_latest(store, store->sessions ? index : NULL,
                                    rec, writer->shm_name, r->pool, &n,
                                    &path, mlcf);

    if (rc == NGX_DONE || rc == NGX_ERROR) {
        ngx_http_mock_writer_unlock_file(writer);
        return rc == NGX_DONE ? NGX_OK : NGX_ERROR;
    }

    if (rc == NGX_OK) {
        /* not appended when it cannot replace: the file would grow */

        if (ngx_http_mock_writer_replace(writer, n, &entry, rec, log)
            != NGX_OK)
        {
            ngx_http_mock_writer_unlock_file(writer);
            return NGX_ERROR;
        }

    } else {
        /* a request recorded for the first time */

        if (ngx_http_mock_writer_append_entry(writer, &entry, rec, log)
            != NGX_OK)
        {
            ngx_http_mock_writer_unlock_file(writer);
            return NGX_ERROR;
        }

        ngx_str_null(&path);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "mock %s interaction %ui of \"%V\"",
                   path.data ? "replaced" : "recorded", rec->index,
                   &writer->name);

    rc = ngx_http_mock_record_index(store, index, writer, rec, &path,
                                    rec->index, log);

    ngx_http_mock_writer_unlock_file(writer);

    return rc;
}


/*
 * The interaction written goes into the indexes of the stores that play
 * the cassette: in place of interaction n (on the path "path") or, with
 * path->data NULL, as one more.
 */

static ngx_int_t
ngx_http_mock_record_index(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_writer_t *writer,
    ngx_http_mock_record_t *rec, ngx_str_t *path, ngx_uint_t n,
    ngx_log_t *log)
{
    ngx_int_t               rc;
    ngx_uint_t              i, nstores;
    ngx_http_mock_store_t **stores;

    if (store->sessions) {
        stores = &store;
        nstores = 1;

    } else {
        stores = writer->stores.elts;
        nstores = writer->stores.nelts;
    }

    rc = NGX_OK;

    for (i = 0; i < nstores; i++) {
        if (!store->sessions) {
            /* the store's current index, found under the zone's mutex */
            index = NULL;

        } else if (index == NULL) {
            continue;
        }

        if (path->data) {
            if (ngx_http_mock_store_replace(stores[i], index, path, n, rec,
                                            writer->shm_name, log)
                != NGX_OK)
            {
                rc = NGX_ERROR;
            }

        } else if (ngx_http_mock_store_add(stores[i], index, rec,
                                           writer->shm_name, NULL, log)
                   != NGX_OK)
        {
            rc = NGX_ERROR;
        }
    }

    return rc;
}


/* held until the request ends, when the cleanup lets it go */

static ngx_int_t
ngx_http_mock_record_pin(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_interaction_t *it)
{
    if (!it->freeable) {
        return NGX_OK;
    }

    if (ngx_http_mock_record_cleanup_add(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_mock_store_pin(it);
    ctx->pinned = it;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_record_cleanup_add(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_mock_record_cln_t  *held;

    if (ctx->cleanup) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_mock_record_cln_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    /* the context itself: a redirect may forget it, the pool keeps it */

    held = cln->data;
    held->request = r;
    held->ctx = ctx;

    cln->handler = ngx_http_mock_record_cleanup;
    ctx->cleanup = 1;

    return NGX_OK;
}


/* the request ends: what it held goes, what it did not record is told */

static void
ngx_http_mock_record_cleanup(void *data)
{
    ngx_http_mock_record_cln_t  *held = data;

    ngx_http_request_t   *r;
    ngx_http_mock_ctx_t  *ctx;

    r = held->request;
    ctx = held->ctx;

    if (ctx->pinned) {
        ngx_http_mock_store_unpin(ctx->pinned);
        ctx->pinned = NULL;
    }

    if (ctx->recording) {
        ctx->recording = 0;

        if (ctx->captured) {
            /* verify: the client left; nothing is compared */
            return;
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: \"%V %V\" is not recorded: the response did "
                      "not complete", &r->method_name, &r->unparsed_uri);
    }
}


/*
 * The request as proxy_pass sent it, read back from the upstream request
 * buffers: "METHOD target HTTP/1.x", the header lines, and the body.
 */

static ngx_int_t
ngx_http_mock_record_request(ngx_http_request_t *r,
    ngx_http_mock_record_t *rec)
{
    u_char               *p, *last, *start, *colon, *end;
    ngx_str_t             host, target, *v;
    ngx_buf_t            *b;
    ngx_table_elt_t      *h;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    if (u->request_bufs == NULL || u->schema.len == 0) {
        return NGX_ERROR;
    }

    b = u->request_bufs->buf;

    if (b->in_file || b->start == NULL) {
        return NGX_ERROR;
    }

    p = b->start;
    last = b->last;

    /* the request line */

    start = p;
    while (p < last && *p != ' ') {
        p++;
    }

    if (p == last || p == start) {
        return NGX_ERROR;
    }

    rec->key.method.data = start;
    rec->key.method.len = p - start;

    target.data = ++p;
    while (p < last && *p != ' ') {
        p++;
    }

    target.len = p - target.data;

    if (p == last || target.len == 0 || last - p < 10
        || ngx_strncmp(p, " HTTP/1.", 8) != 0)
    {
        return NGX_ERROR;
    }

    p = ngx_strlchr(p, last, '\n');
    if (p == NULL) {
        return NGX_ERROR;
    }

    p++;

    if (ngx_array_init(&rec->req_headers, r->pool, 16, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_null(&host);

    /* header lines up to the empty line */

    while (p < last && *p != '\r' && *p != '\n') {
        end = ngx_strlchr(p, last, '\n');
        if (end == NULL) {
            return NGX_ERROR;
        }

        colon = ngx_strlchr(p, end, ':');
        if (colon == NULL) {
            return NGX_ERROR;
        }

        h = ngx_array_push(&rec->req_headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(h, sizeof(ngx_table_elt_t));

        h->hash = 1;
        h->key.data = p;
        h->key.len = colon - p;

        v = &h->value;
        v->data = colon + 1;

        while (v->data < end && *v->data == ' ') {
            v->data++;
        }

        v->len = end - v->data;

        if (v->len && v->data[v->len - 1] == '\r') {
            v->len--;
        }

        if (h->key.len == 4
            && ngx_strncasecmp(h->key.data, (u_char *) "Host", 4) == 0)
        {
            host = *v;
        }

        p = end + 1;
    }

    if (host.len == 0) {
        host = r->headers_in.server;
    }

    rec->uri.len = u->schema.len + host.len + target.len;
    rec->uri.data = ngx_pnalloc(r->pool, rec->uri.len);
    if (rec->uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_mock_cpymem(rec->uri.data, u->schema.data, u->schema.len);
    p = ngx_http_mock_cpymem(p, host.data, host.len);
    ngx_memcpy(p, target.data, target.len);

    if (ngx_http_mock_request_body(r, &rec->req_body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (r->request_body == NULL) {
        ngx_str_null(&rec->req_body);
    }

    return NGX_OK;
}


/* the recorded URL with mock_filter_query applied to its query */

static ngx_int_t
ngx_http_mock_record_filter_uri(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *uri)
{
    u_char     *p, *q;
    ngx_str_t   query;

    q = ngx_strlchr(uri->data, uri->data + uri->len, '?');
    if (q == NULL) {
        return NGX_OK;
    }

    query.data = q + 1;
    query.len = uri->data + uri->len - query.data;

    if (ngx_http_mock_filter_query(r->pool, mlcf->filters, &query) != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, (q - uri->data) + 1 + query.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    uri->len = (q - uri->data) + (query.len ? 1 + query.len : 0);

    q = ngx_http_mock_cpymem(p, uri->data, q - uri->data);

    if (query.len) {
        *q++ = '?';
        ngx_memcpy(q, query.data, query.len);
    }

    uri->data = p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_fallback_status(ngx_http_mock_loc_conf_t *mlcf,
    ngx_uint_t status)
{
    ngx_uint_t  i, *codes;

    codes = mlcf->fallback_status->elts;

    for (i = 0; i < mlcf->fallback_status->nelts; i++) {
        if (codes[i] == status) {
            return 1;
        }
    }

    return 0;
}


/* the upstream failed: answer with the latest recording, if there is one */

static ngx_int_t
ngx_http_mock_fallback(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_loc_conf_t *mlcf)
{
    ngx_uint_t                    failed;
    ngx_http_mock_key_t           key;
    ngx_http_mock_interaction_t  *it;

    failed = r->headers_out.status;

    ngx_memzero(&key, sizeof(ngx_http_mock_key_t));

    if (ngx_http_mock_live_key(r, mlcf, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    it = ngx_http_mock_replay_forced(r, mlcf, &key);

    if (it) {
        if (ngx_http_mock_record_pin(r, ctx, it) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        /* the latest answer recorded for the request, pinned */

        if (ngx_http_mock_record_cleanup_add(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        it = ngx_http_mock_store_last(mlcf->store, ctx->index, &ctx->session,
                                      &key);

        if (it && it->freeable) {
            ctx->pinned = it;
        }
    }

    if (it == NULL) {
        ctx->status = NGX_HTTP_MOCK_PASSTHROUGH;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: upstream answered %ui and no recording of "
                      "\"%V %V\" is left to fall back on",
                      failed, &r->method_name, &r->unparsed_uri);
        return NGX_DECLINED;
    }

    /* what the failed answer had set goes */

    if (ngx_list_init(&r->headers_out.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_null(&r->headers_out.status_line);
    ngx_str_null(&r->headers_out.content_type);
    r->headers_out.content_type_len = 0;
    r->headers_out.content_type_lowcase = NULL;
    ngx_str_null(&r->headers_out.charset);
    r->headers_out.content_length = NULL;
    r->headers_out.content_encoding = NULL;
    r->headers_out.location = NULL;
    r->headers_out.refresh = NULL;
    r->headers_out.last_modified = NULL;
    r->headers_out.last_modified_time = -1;
    r->headers_out.etag = NULL;
    r->headers_out.expires = NULL;
    r->headers_out.date = NULL;
    r->headers_out.server = NULL;
    r->err_status = 0;

    /* a templated answer is rendered once, for its length and its body */

    if (it->tpl && ngx_http_mock_render_body(r, it, &ctx->rendered) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mock_replay_headers(r, it) != NGX_OK) {
        return NGX_ERROR;
    }

    if (it->tpl && r->headers_out.content_length_n != -1) {
        r->headers_out.content_length_n = ctx->rendered.len;
    }

    ctx->replaced = 1;
    ctx->interaction = it;
    ctx->status = NGX_HTTP_MOCK_FALLBACK;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "mock: upstream answered %ui, falling back to interaction "
                  "%ui of \"%V\"", failed, it->index, it->cassette);

    return NGX_OK;
}


/* the failed answer's body is dropped; the recorded one goes out once */

static ngx_int_t
ngx_http_mock_fallback_body(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_chain_t *in)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl, out;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->replacing) {
        /* only what is still pending downstream */
        return ngx_http_next_body_filter(r, NULL);
    }

    ctx->replacing = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (ctx->interaction->tpl) {
        if (ctx->rendered.len) {
            b->pos = ctx->rendered.data;
            b->last = b->pos + ctx->rendered.len;
            b->memory = 1;
        }

    } else if (ctx->interaction->body.len) {
        b->pos = ctx->interaction->body.data;
        b->last = b->pos + ctx->interaction->body.len;
        b->memory = 1;
    }

    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}
