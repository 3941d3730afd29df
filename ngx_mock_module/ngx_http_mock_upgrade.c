
/*
 * Connection upgrades (WebSocket): passed through untouched where a
 * location proxies, answered with 501 where it replays, never recorded.
 */


#include "ngx_http_mock_module.h"


static ngx_int_t ngx_http_mock_upgrade_refuse(ngx_http_request_t *r);


/*
 * NGX_DECLINED: the request asks for no upgrade.  NGX_OK: it does, and
 * the module stays out of its way where the location proxies (nothing
 * records it, nothing falls back); where it replays, it is answered 501.
 * "Upgrade: h2c" (curl --http2 on http://) is an offer a server may
 * ignore, as nginx does: such a request is mocked as any other.
 */

ngx_int_t
ngx_http_mock_upgrade(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx)
{
    ngx_str_t  *value;

    /* a subrequest shares the headers of its parent, and upgrades nothing */

    if (r->headers_in.upgrade == NULL || r != r->main) {
        return NGX_DECLINED;
    }

    value = &r->headers_in.upgrade->value;

    if (value->len == 3 && ngx_strncasecmp(value->data, (u_char *) "h2c", 3)
                           == 0)
    {
        return NGX_DECLINED;
    }

    ctx->status = NGX_HTTP_MOCK_UPGRADE;
    ctx->decided = 1;

    if (ctx->mode == NGX_HTTP_MOCK_MODE_REPLAY) {
        r->content_handler = ngx_http_mock_upgrade_refuse;
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mock upgrade to \"%V\" passed through",
                   &r->headers_in.upgrade->value);

    return NGX_OK;
}


/* a recording holds one answer, not a conversation: 501 */

static ngx_int_t
ngx_http_mock_upgrade_refuse(ngx_http_request_t *r)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static u_char  text[] = "mock: a replaying location does not upgrade "
                            "connections; mock_mode record, new_episodes, "
                            "fallback and off pass them through\n";

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mock: \"%V %V\" asks to upgrade the connection, which a "
                  "replaying location does not do: 501",
                  &r->method_name, &r->unparsed_uri);

    r->headers_out.status = NGX_HTTP_NOT_IMPLEMENTED;
    r->headers_out.content_length_n = sizeof(text) - 1;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = text;
    b->last = text + sizeof(text) - 1;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
