
/*
 * Faults (mock_fault, a session's, a signed request's): which requests get
 * one, and the fault itself: on replay a status, a reset, a close, a cut
 * or broken body, a stall; on the upstream path of "fallback" a failure
 * of the upstream that is never sent to it, which the fallback answers.
 */


#include "ngx_http_mock_module.h"


static ngx_int_t ngx_http_mock_fault_percent(ngx_str_t *s, ngx_uint_t frac,
    ngx_uint_t *value);
static ngx_int_t ngx_http_mock_fault_status(ngx_http_request_t *r,
    ngx_http_mock_fault_t *fault);
static ngx_int_t ngx_http_mock_fault_close(ngx_http_request_t *r);
static void ngx_http_mock_fault_upstream_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_fault_upstream_fail(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_fault_timeout(ngx_http_request_t *r);


static ngx_str_t  ngx_http_mock_fault_names[] = {
    ngx_string("off"),
    ngx_string("status"),
    ngx_string("reset"),
    ngx_string("empty"),
    ngx_string("truncate"),
    ngx_string("stall"),
    ngx_string("malformed_chunk")
};


char *
ngx_http_mock_fault(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    char                    *err;
    ngx_str_t               *value;
    ngx_http_mock_fault_t   *fault, **slot;

    fault = ngx_palloc(cf->pool, sizeof(ngx_http_mock_fault_t));
    if (fault == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    err = ngx_http_mock_fault_parse(&value[1], cf->args->nelts - 1, fault);
    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"mock_fault\": %s", err);
        return NGX_CONF_ERROR;
    }

    slot = fault->upstream ? &mlcf->upstream_fault : &mlcf->fault;

    if (*slot != NGX_CONF_UNSET_PTR) {
        return fault->upstream
               ? "is duplicate: a location has one fault on the upstream "
                 "path (\"upstream\")"
               : "is duplicate: a location has one fault on replay, and "
                 "one on the upstream path (\"upstream\")";
    }

    *slot = fault;

    return NGX_CONF_OK;
}


/*
 * "status=503", "reset", "empty", "truncate=50%", "stall=30s",
 * "malformed_chunk" or "off", then "rate=5%", "seed=N" and "upstream".
 * Returns NULL, or what is wrong.
 */

char *
ngx_http_mock_fault_parse(ngx_str_t *args, ngx_uint_t n,
    ngx_http_mock_fault_t *fault)
{
    u_char      *eq;
    ngx_int_t    v;
    ngx_str_t    s, name, arg;
    ngx_uint_t   i, t;

    ngx_memzero(fault, sizeof(ngx_http_mock_fault_t));
    fault->rate = NGX_HTTP_MOCK_RATE_ALL;

    if (n == 0) {
        return "a fault is needed";
    }

    for (i = 0; i < n; i++) {
        s = args[i];

        eq = ngx_strlchr(s.data, s.data + s.len, '=');

        name.data = s.data;
        name.len = eq ? (size_t) (eq - s.data) : s.len;

        arg.data = eq ? eq + 1 : NULL;
        arg.len = eq ? (size_t) (s.data + s.len - eq - 1) : 0;

        if (i > 0) {
            if (s.len == 8 && ngx_strncmp(s.data, "upstream", 8) == 0) {
                fault->upstream = 1;
                continue;
            }

            if (name.len == 4 && ngx_strncmp(name.data, "rate", 4) == 0
                && eq)
            {
                if (ngx_http_mock_fault_percent(&arg, 2, &fault->rate)
                    != NGX_OK
                    || fault->rate == 0
                    || fault->rate > NGX_HTTP_MOCK_RATE_ALL)
                {
                    return "\"rate=\" takes a percentage above 0% and at "
                           "most 100%, such as \"5%\" or \"0.5%\"";
                }

                continue;
            }

            if (name.len == 4 && ngx_strncmp(name.data, "seed", 4) == 0
                && eq)
            {
                v = ngx_atoi(arg.data, arg.len);

                if (v == NGX_ERROR || v > 0xffffffff) {
                    return "\"seed=\" takes a number from 0 to 4294967295";
                }

                fault->seed = (uint32_t) v;
                fault->seeded = 1;
                continue;
            }

            return "unknown parameter: a fault takes \"rate=\", "
                   "\"seed=\" and \"upstream\" after it";
        }

        for (t = 0; t <= NGX_HTTP_MOCK_FAULT_MALFORMED; t++) {
            if (ngx_http_mock_fault_names[t].len == name.len
                && ngx_strncmp(ngx_http_mock_fault_names[t].data, name.data,
                               name.len) == 0)
            {
                break;
            }
        }

        if (t > NGX_HTTP_MOCK_FAULT_MALFORMED) {
            return "unknown fault: it is one of status=, reset, empty, "
                   "truncate=, stall=, malformed_chunk or off";
        }

        fault->type = t;

        switch (t) {

        case NGX_HTTP_MOCK_FAULT_STATUS:
            v = eq ? ngx_atoi(arg.data, arg.len) : NGX_ERROR;

            if (v < 200 || v > 599) {
                return "\"status=\" takes a status between 200 and 599";
            }

            fault->value = v;
            break;

        case NGX_HTTP_MOCK_FAULT_TRUNCATE:
            if (!eq
                || ngx_http_mock_fault_percent(&arg, 0, &fault->value)
                   != NGX_OK
                || fault->value > 99)
            {
                return "\"truncate=\" takes the percentage of the body "
                       "sent, from 0% to 99%";
            }

            break;

        case NGX_HTTP_MOCK_FAULT_STALL:
            v = (eq && arg.len) ? ngx_parse_time(&arg, 0) : NGX_ERROR;

            if (v == NGX_ERROR || v == 0 || v > 24 * 60 * 60 * 1000) {
                return "\"stall=\" takes a time such as \"30s\", at most "
                       "24h";
            }

            fault->value = v;
            break;

        default:
            if (eq) {
                return "this fault takes no value";
            }
        }
    }

    if (fault->type == NGX_HTTP_MOCK_FAULT_NONE
        && n > 1 + fault->upstream)
    {
        return "\"off\" takes nothing after it but \"upstream\"";
    }

    if (fault->upstream
        && (fault->type == NGX_HTTP_MOCK_FAULT_TRUNCATE
            || fault->type == NGX_HTTP_MOCK_FAULT_MALFORMED))
    {
        return "on the upstream path a fault is status=, reset, empty, "
               "stall= or off: truncate= and malformed_chunk break a "
               "recorded body";
    }

    return NULL;
}


/*
 * The words of a value, as the directives take them (a latency, a fault
 * in a header or in Redis); more than max: max + 1.
 */

ngx_uint_t
ngx_http_mock_words(ngx_str_t *value, ngx_str_t *args, ngx_uint_t max)
{
    u_char      *p, *last;
    ngx_uint_t   n;

    n = 0;
    p = value->data;
    last = p + value->len;

    while (p < last) {
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }

        if (n == max) {
            return max + 1;
        }

        args[n].data = p;

        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        args[n].len = p - args[n].data;
        n++;
    }

    return n;
}


/* "5%", "0.5%": in units of 1/10^frac percent */

static ngx_int_t
ngx_http_mock_fault_percent(ngx_str_t *s, ngx_uint_t frac, ngx_uint_t *value)
{
    ngx_int_t  v;

    if (s->len < 2 || s->data[s->len - 1] != '%') {
        return NGX_ERROR;
    }

    v = frac ? ngx_atofp(s->data, s->len - 1, frac)
             : ngx_atoi(s->data, s->len - 1);

    if (v == NGX_ERROR) {
        return NGX_ERROR;
    }

    *value = v;

    return NGX_OK;
}


/* a fault as the admin API takes it */

u_char *
ngx_http_mock_fault_print(u_char *p, ngx_http_mock_fault_t *fault)
{
    p = ngx_cpymem(p, ngx_http_mock_fault_names[fault->type].data,
                   ngx_http_mock_fault_names[fault->type].len);

    switch (fault->type) {

    case NGX_HTTP_MOCK_FAULT_STATUS:
        p = ngx_sprintf(p, "=%ui", fault->value);
        break;

    case NGX_HTTP_MOCK_FAULT_TRUNCATE:
        p = ngx_sprintf(p, "=%ui%%", fault->value);
        break;

    case NGX_HTTP_MOCK_FAULT_STALL:
        p = ngx_sprintf(p, "=%uims", fault->value);
        break;
    }

    if (fault->rate < NGX_HTTP_MOCK_RATE_ALL) {
        p = ngx_sprintf(p, " rate=%ui.%02ui%%", fault->rate / 100,
                        fault->rate % 100);
    }

    if (fault->seeded) {
        p = ngx_sprintf(p, " seed=%uD", fault->seed);
    }

    if (fault->upstream) {
        p = ngx_cpymem(p, " upstream", 9);
    }

    return p;
}


/*
 * The fault this request gets on replay, or on the upstream path, or
 * NULL: the request's own fault (a signed X-Mock-Fault) comes first, then
 * the session's (the fleet's, in Redis, before this instance's), then the
 * location's, each for the path it names.  With
 * "seed=" the n-th request of a session gets the same answer run after
 * run.
 */

ngx_http_mock_fault_t *
ngx_http_mock_fault_pick(ngx_http_request_t *r, ngx_uint_t upstream)
{
    uint32_t                   x;
    ngx_int_t                  rc;
    ngx_uint_t                 n;
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_mock_fault_t     *fault, own;
    ngx_http_mock_store_t     *store;
    ngx_http_mock_shctx_t     *sh;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    store = mlcf->store;
    sh = store->sh;
    fault = upstream ? mlcf->upstream_fault : mlcf->fault;

    if (ctx->asked_fault && ctx->asked_fault->upstream == upstream) {
        fault = ctx->asked_fault;

    } else if (ctx->fleet_settings) {
        if (ctx->fleet_fault && ctx->fleet_fault->upstream == upstream) {
            fault = ctx->fleet_fault;
        }

    } else if (sh->nsettings && ctx->session.len) {
        ngx_shmtx_lock(&store->shpool->mutex);
        rc = ngx_http_mock_session_setting(sh, NGX_HTTP_MOCK_STATE_FAULT,
                                           &ctx->session, &own,
                                           sizeof(ngx_http_mock_fault_t));
        ngx_shmtx_unlock(&store->shpool->mutex);

        if (rc == NGX_OK && own.upstream == upstream) {
            fault = ngx_palloc(r->pool, sizeof(ngx_http_mock_fault_t));
            if (fault == NULL) {
                return NULL;
            }

            *fault = own;
        }
    }

    if (fault == NULL || fault->type == NGX_HTTP_MOCK_FAULT_NONE) {
        return NULL;
    }

    if (fault->rate < NGX_HTTP_MOCK_RATE_ALL) {

        if (fault->seeded) {
            ngx_shmtx_lock(&store->shpool->mutex);
            n = ngx_http_mock_session_tick(store, &ctx->session);
            ngx_shmtx_unlock(&store->shpool->mutex);

            x = ngx_http_mock_random(fault->seed, &ctx->session, n, 0);

        } else {
            x = (uint32_t) ngx_random();
        }

        if (x % NGX_HTTP_MOCK_RATE_ALL >= fault->rate) {
            return NULL;
        }
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mock fault: %V%s", &ngx_http_mock_fault_names[fault->type],
                   upstream ? " upstream" : "");

    ctx->fault = fault;

    return fault;
}


/*
 * The faults that answer in place of a recording, which use no play:
 * a status, a reset, a close, a stall.
 */

ngx_int_t
ngx_http_mock_fault_answer(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    struct linger           linger;
    ngx_http_mock_ctx_t    *ctx;
    ngx_http_mock_fault_t  *fault;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    fault = ctx->fault;

    ctx->status = NGX_HTTP_MOCK_FAULT;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    switch (fault->type) {

    case NGX_HTTP_MOCK_FAULT_STATUS:
        return ngx_http_mock_fault_status(r, fault);

    case NGX_HTTP_MOCK_FAULT_RESET:

#if (NGX_HTTP_V2)
        if (r->stream) {
            /* the stream is reset, not the connection of the others */
            return NGX_HTTP_CLOSE;
        }
#endif

        /* a close with SO_LINGER 0 sends an RST, and no byte before it */

        linger.l_onoff = 1;
        linger.l_linger = 0;

        if (setsockopt(r->connection->fd, SOL_SOCKET, SO_LINGER,
                       (const void *) &linger, sizeof(struct linger))
            == -1)
        {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_socket_errno,
                          "setsockopt(SO_LINGER) failed");
        }

        return NGX_HTTP_CLOSE;

    case NGX_HTTP_MOCK_FAULT_STALL:
        r->keepalive = 0;
        return ngx_http_mock_latency_wait(r, fault->value,
                                          ngx_http_mock_fault_close);

    default: /* NGX_HTTP_MOCK_FAULT_EMPTY */
        return NGX_HTTP_CLOSE;
    }
}


/*
 * A fault on the upstream path of "fallback", in place of proxy_pass: the
 * request is not sent; the upstream answers a status, fails to connect
 * (reset, empty: 502), or is silent for the stall and times out (504).
 * The recording filter then falls back as it does when the upstream
 * really fails: a status of mock_fallback_status is answered from the
 * recording, any other reaches the client.
 */

ngx_int_t
ngx_http_mock_fault_upstream(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    /* the recording to fall back on is found by the body too */

    if (mlcf->match->mask & NGX_HTTP_MOCK_MATCH_BODY) {
        rc = ngx_http_read_client_request_body(r,
                                            ngx_http_mock_fault_upstream_body);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mock_fault_upstream_fail(r);
}


static void
ngx_http_mock_fault_upstream_body(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_mock_fault_upstream_fail(r));
}


static ngx_int_t
ngx_http_mock_fault_upstream_fail(ngx_http_request_t *r)
{
    ngx_http_mock_ctx_t    *ctx;
    ngx_http_mock_fault_t  *fault;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    fault = ctx->fault;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mock: fault \"%V\" on the upstream path of \"%V %V\"",
                  &ngx_http_mock_fault_names[fault->type], &r->method_name,
                  &r->unparsed_uri);

    switch (fault->type) {

    case NGX_HTTP_MOCK_FAULT_STATUS:
        return ngx_http_mock_fault_status(r, fault);

    case NGX_HTTP_MOCK_FAULT_STALL:
        return ngx_http_mock_latency_wait(r, fault->value,
                                          ngx_http_mock_fault_timeout);

    default: /* NGX_HTTP_MOCK_FAULT_RESET, NGX_HTTP_MOCK_FAULT_EMPTY */
        return NGX_HTTP_BAD_GATEWAY;
    }
}


static ngx_int_t
ngx_http_mock_fault_timeout(ngx_http_request_t *r)
{
    return NGX_HTTP_GATEWAY_TIME_OUT;
}


static ngx_int_t
ngx_http_mock_fault_status(ngx_http_request_t *r, ngx_http_mock_fault_t *fault)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    static u_char  text[] = "mock: injected fault\n";

    r->headers_out.status = fault->value;
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


static ngx_int_t
ngx_http_mock_fault_close(ngx_http_request_t *r)
{
    return NGX_HTTP_CLOSE;
}


/*
 * The faults that break a recorded answer, whose headers are set: the
 * body cut after a part of it, or sent as a chunk with a broken size
 * line; then the connection is closed.
 */

ngx_int_t
ngx_http_mock_fault_send(ngx_http_request_t *r, u_char *data, size_t len)
{
    u_char                 *p;
    ngx_int_t               rc;
    ngx_buf_t              *b;
    ngx_chain_t             out;
    ngx_http_mock_ctx_t    *ctx;
    ngx_http_mock_fault_t  *fault;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    fault = ctx->fault;

    ctx->status = NGX_HTTP_MOCK_FAULT;
    r->keepalive = 0;

    if (fault->type == NGX_HTTP_MOCK_FAULT_MALFORMED
        && !r->header_only)
    {
        /* nginx frames it as chunked; its chunks are written here */
        ngx_http_clear_content_length(r);
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (fault->type == NGX_HTTP_MOCK_FAULT_TRUNCATE) {
        b->pos = data;
        b->last = data + len * fault->value / 100;
        b->memory = (b->last > b->pos);

    } else {
        p = ngx_pnalloc(r->pool, sizeof("zz\r\n\r\n0\r\n\r\n") - 1 + len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        b->pos = p;
        p = ngx_cpymem(p, "zz\r\n", 4);
        p = ngx_http_mock_cpymem(p, data, len);
        b->last = ngx_cpymem(p, "\r\n0\r\n\r\n", 7);
        b->temporary = 1;
    }

    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    /* past the body filters: nginx would mend what is broken on purpose */

    rc = ngx_http_write_filter(r, &out);

    return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}
