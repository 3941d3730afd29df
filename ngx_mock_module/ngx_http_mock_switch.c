
/*
 * Switching mock mode per request (mock_request_mode on).  A request asks
 * for a mode, and maybe a session, with X-Mock-Mode and X-Mock-Session,
 * and for a fault and a latency of its own with X-Mock-Fault and
 * X-Mock-Latency, and proves it may with X-Mock-Token: "<expiry>.<hex
 * HMAC-SHA256>" of "<mode>\n<session>\n<expiry>" (and, with a fault or a
 * latency, "\n<fault>\n<latency>" after it) under one of the
 * mock_token_secret files.  Anything wrong with the token is refused with
 * 403 and one line in the error log that names the reason but neither
 * secret nor token; a signed fault or latency that does not parse is
 * refused with 400 and a JSON error.
 */


#include "ngx_http_mock_module.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>



static ngx_int_t ngx_http_mock_switch_verify(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *mode, ngx_str_t *session,
    ngx_str_t *asked, ngx_str_t *token, const char **reason);
static ngx_int_t ngx_http_mock_switch_ask(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_table_elt_t *hfault,
    ngx_table_elt_t *hlatency);
static ngx_int_t ngx_http_mock_switch_error(ngx_http_request_t *r,
    char *fmt, ...);
static ngx_int_t ngx_http_mock_hex_decode(u_char *dst, u_char *src,
    size_t n);


static ngx_str_t  ngx_http_mock_mode_names[] = {
    ngx_null_string,
    ngx_string("off"),
    ngx_string("replay"),
    ngx_string("record"),
    ngx_string("new_episodes"),
    ngx_string("once"),
    ngx_string("fallback"),
    ngx_string("verify")
};


ngx_str_t *
ngx_http_mock_mode_name(ngx_uint_t mode)
{
    return &ngx_http_mock_mode_names[mode];
}


/*
 * mock_token_secret file; the file's content, without its last line end
 * ("\n" or "\r\n")
 */

char *
ngx_http_mock_token_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    char       *rv;
    ngx_str_t  *value, *secret;

    value = cf->args->elts;

    if (mlcf->secrets == NGX_CONF_UNSET_PTR) {
        mlcf->secrets = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (mlcf->secrets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    secret = ngx_array_push(mlcf->secrets);
    if (secret == NULL) {
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_mock_secret_read(cf, &value[1], "token secret", secret);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (secret->len < 16) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "mock: token secret \"%V\" is shorter than 16 "
                           "bytes", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The mode and session, the fault and the latency a request asks for.
 * NGX_DECLINED: it asks for nothing; NGX_HTTP_FORBIDDEN: it may not have
 * them; NGX_DONE: what it asks for is wrong, and it has been answered.
 */

ngx_int_t
ngx_http_mock_switch(ngx_http_request_t *r, ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_ctx_t *ctx, ngx_uint_t *mode)
{
    u_char           *p;
    ngx_int_t         rc;
    ngx_str_t         session, empty, name, asked, *fault, *latency;
    ngx_uint_t        i;
    const char       *reason;
    ngx_table_elt_t  *hmode, *hsession, *htoken, *hfault, *hlatency;

    ngx_str_set(&name, "X-Mock-Mode");
    hmode = ngx_http_mock_header_in(r, &name);

    ngx_str_set(&name, "X-Mock-Fault");
    hfault = ngx_http_mock_header_in(r, &name);

    ngx_str_set(&name, "X-Mock-Latency");
    hlatency = ngx_http_mock_header_in(r, &name);

    if (hmode == NULL && hfault == NULL && hlatency == NULL) {
        return NGX_DECLINED;
    }

    ngx_str_set(&name, "X-Mock-Session");
    hsession = ngx_http_mock_header_in(r, &name);

    ngx_str_set(&name, "X-Mock-Token");
    htoken = ngx_http_mock_header_in(r, &name);

    ngx_str_null(&empty);

    i = NGX_HTTP_MOCK_MODE_OFF;

    if (hmode) {
        for ( /* void */ ; i <= NGX_HTTP_MOCK_MODE_VERIFY; i++) {
            if (ngx_http_mock_mode_names[i].len == hmode->value.len
                && ngx_strncmp(ngx_http_mock_mode_names[i].data,
                               hmode->value.data, hmode->value.len) == 0)
            {
                break;
            }
        }

        if (i > NGX_HTTP_MOCK_MODE_VERIFY) {
            reason = "unknown mode";
            goto refused;
        }
    }

    if (htoken == NULL) {
        reason = "no X-Mock-Token";
        goto refused;
    }

    /* "<fault>\n<latency>", signed after the rest */

    ngx_str_null(&asked);

    if (hfault || hlatency) {
        fault = hfault ? &hfault->value : &empty;
        latency = hlatency ? &hlatency->value : &empty;

        asked.len = fault->len + 1 + latency->len;
        asked.data = ngx_pnalloc(r->pool, asked.len);
        if (asked.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_http_mock_cpymem(asked.data, fault->data, fault->len);
        *p++ = '\n';
        (void) ngx_http_mock_cpymem(p, latency->data, latency->len);
    }

    rc = ngx_http_mock_switch_verify(r, mlcf, hmode ? &hmode->value : &empty,
                                     hsession ? &hsession->value : &empty,
                                     (hfault || hlatency) ? &asked : NULL,
                                     &htoken->value, &reason);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        goto refused;
    }

    if (hsession && hsession->value.len) {
        if (hsession->value.len > NGX_HTTP_MOCK_SESSION_MAX) {
            reason = "X-Mock-Session is too long";
            goto refused;
        }

        if (ngx_http_mock_session_name(r->pool, &hsession->value, &session)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->session = session;
    }

    if (hfault || hlatency) {
        rc = ngx_http_mock_switch_ask(r, ctx, hfault, hlatency);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (hmode) {
        *mode = i;
        ctx->switched = 1;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mock: request switched to mode %V, session \"%V\"",
                      &ngx_http_mock_mode_names[i], &ctx->session);
    }

    return NGX_OK;

refused:

    ctx->status = NGX_HTTP_MOCK_REFUSED;

    if (hmode) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: request for mode \"%V\" refused: %s",
                      &hmode->value, reason);

    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "mock: request for a %s of its own refused: %s",
                      hfault ? "fault" : "latency", reason);
    }

    return NGX_HTTP_FORBIDDEN;
}


/*
 * A signed request's own fault and latency, in the syntax of mock_fault
 * and mock_latency; what is wrong is answered 400, with a JSON error.
 */

static ngx_int_t
ngx_http_mock_switch_ask(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_table_elt_t *hfault, ngx_table_elt_t *hlatency)
{
    char                      *err;
    u_char                    *last, text[128];
    ngx_str_t                  args[8];
    ngx_uint_t                 n;
    ngx_http_mock_fault_t     *fault;
    ngx_http_mock_latency_t   *lat;
    ngx_http_core_loc_conf_t  *clcf;

    if (hfault) {
        fault = ngx_palloc(r->pool, sizeof(ngx_http_mock_fault_t));
        if (fault == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n = ngx_http_mock_words(&hfault->value, args, 8);

        err = (n > 8) ? "it has too many words"
                      : ngx_http_mock_fault_parse(args, n, fault);
        if (err) {
            return ngx_http_mock_switch_error(r, "X-Mock-Fault: %s", err);
        }

        ctx->asked_fault = fault;

        last = ngx_http_mock_fault_print(text, fault);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mock: request asks for the fault %*s", last - text,
                      text);
    }

    if (hlatency) {
        lat = ngx_palloc(r->pool, sizeof(ngx_http_mock_latency_t));
        if (lat == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n = ngx_http_mock_words(&hlatency->value, args, 8);

        err = (n > 8) ? "it has too many words"
                      : ngx_http_mock_latency_parse(args, n, lat);
        if (err) {
            return ngx_http_mock_switch_error(r, "X-Mock-Latency: %s", err);
        }

        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        if (lat->type != NGX_HTTP_MOCK_LATENCY_OFF
            && ngx_max(lat->min, lat->max) > clcf->send_timeout)
        {
            return ngx_http_mock_switch_error(r, "X-Mock-Latency: a latency "
                                              "of up to %uDms is longer "
                                              "than send_timeout (%Mms)",
                                              ngx_max(lat->min, lat->max),
                                              clcf->send_timeout);
        }

        ctx->own_latency = lat;
        ctx->asked_latency = 1;

        last = ngx_http_mock_latency_print(text, lat);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "mock: request asks for the latency %*s", last - text,
                      text);
    }

    return NGX_OK;
}


/* 400 with {"error": "..."}; the request is finalized here */

static ngx_int_t
ngx_http_mock_switch_error(ngx_http_request_t *r, char *fmt, ...)
{
    u_char               *p;
    va_list               args;
    ngx_int_t             rc;
    ngx_str_t             text;
    ngx_buf_t            *b;
    ngx_chain_t           out;
    ngx_http_mock_ctx_t  *ctx;
    u_char                buf[256];

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    text.data = buf;
    text.len = p - buf;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mock: request refused: %V", &text);

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    ctx->status = NGX_HTTP_MOCK_REFUSED;

    b = ngx_create_temp_buf(r->pool, sizeof("{\"error\": }\n") - 1
                                     + 2 + 6 * text.len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, "{\"error\": ", 10);
    b->last = ngx_http_mock_json_quote(b->last, &text);
    *b->last++ = '}';
    *b->last++ = '\n';
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = NGX_HTTP_BAD_REQUEST;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = sizeof("application/json") - 1;

    rc = ngx_http_send_header(r);

    if (rc != NGX_ERROR && rc <= NGX_OK && !r->header_only) {
        out.buf = b;
        out.next = NULL;

        rc = ngx_http_output_filter(r, &out);
    }

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


static ngx_int_t
ngx_http_mock_hex_decode(u_char *dst, u_char *src, size_t n)
{
    ngx_int_t  v;

    while (n--) {
        v = ngx_hextoi(src, 2);
        if (v == NGX_ERROR) {
            return NGX_ERROR;
        }

        *dst++ = (u_char) v;
        src += 2;
    }

    return NGX_OK;
}


/* NGX_DECLINED with the reason when the token does not prove the request */

static ngx_int_t
ngx_http_mock_switch_verify(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *mode, ngx_str_t *session,
    ngx_str_t *asked, ngx_str_t *token, const char **reason)
{
    u_char        *dot, *p, *msg;
    size_t         len;
    time_t         expiry;
    ngx_str_t     *secrets;
    ngx_uint_t     i;
    unsigned int   mdlen;
    u_char         mac[EVP_MAX_MD_SIZE], given[EVP_MAX_MD_SIZE];

    if (mlcf->secrets == NULL || mlcf->secrets->nelts == 0) {
        *reason = "no mock_token_secret is configured";
        return NGX_DECLINED;
    }

    dot = ngx_strlchr(token->data, token->data + token->len, '.');

    if (dot == NULL || dot == token->data
        || token->data + token->len - dot - 1 != 2 * 32)
    {
        *reason = "malformed token";
        return NGX_DECLINED;
    }

    expiry = ngx_atotm(token->data, dot - token->data);

    if (expiry == NGX_ERROR) {
        *reason = "malformed token";
        return NGX_DECLINED;
    }

    if (ngx_http_mock_hex_decode(given, dot + 1, 32) != NGX_OK) {
        *reason = "malformed token";
        return NGX_DECLINED;
    }

    /* "<mode>\n<session>\n<expiry>", then "\n<fault>\n<latency>" */

    len = mode->len + 1 + session->len + 1 + (dot - token->data);

    if (asked) {
        len += 1 + asked->len;
    }

    msg = ngx_pnalloc(r->pool, len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_mock_cpymem(msg, mode->data, mode->len);
    *p++ = '\n';
    p = ngx_http_mock_cpymem(p, session->data, session->len);
    *p++ = '\n';
    p = ngx_cpymem(p, token->data, dot - token->data);

    if (asked) {
        *p++ = '\n';
        (void) ngx_http_mock_cpymem(p, asked->data, asked->len);
    }

    secrets = mlcf->secrets->elts;

    for (i = 0; i < mlcf->secrets->nelts; i++) {
        if (HMAC(EVP_sha256(), secrets[i].data, (int) secrets[i].len, msg, len,
                 mac, &mdlen)
            == NULL)
        {
            return NGX_ERROR;
        }

        if (mdlen == 32 && CRYPTO_memcmp(mac, given, 32) == 0) {
            break;
        }
    }

    if (i == mlcf->secrets->nelts) {
        *reason = "the token's signature does not match (tampered, another "
                  "mode or session, or another secret)";
        return NGX_DECLINED;
    }

    if (expiry < ngx_time()) {
        *reason = "the token has expired";
        return NGX_DECLINED;
    }

    return NGX_OK;
}
