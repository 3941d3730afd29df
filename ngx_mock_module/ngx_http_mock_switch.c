
/*
 * Switching mock mode per request (mock_request_mode on).  A request asks
 * for a mode, and maybe a session, with X-Mock-Mode and X-Mock-Session,
 * and proves it may with X-Mock-Token: "<expiry>.<hex HMAC-SHA256>" of
 * "<mode>\n<session>\n<expiry>" under one of the mock_token_secret files.
 * Anything wrong with the token is refused with 403 and one line in the
 * error log that names the reason but neither secret nor token.
 */


#include "ngx_http_mock_module.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>



static ngx_int_t ngx_http_mock_switch_verify(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *mode, ngx_str_t *session,
    ngx_str_t *token, const char **reason);
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
 * The mode and session a request asks for.  NGX_DECLINED: it asks for
 * nothing; NGX_HTTP_FORBIDDEN: it may not have them.
 */

ngx_int_t
ngx_http_mock_switch(ngx_http_request_t *r, ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_ctx_t *ctx, ngx_uint_t *mode)
{
    ngx_int_t         rc;
    ngx_str_t         session, empty, name;
    ngx_uint_t        i;
    const char       *reason;
    ngx_table_elt_t  *hmode, *hsession, *htoken;

    ngx_str_set(&name, "X-Mock-Mode");
    hmode = ngx_http_mock_header_in(r, &name);
    if (hmode == NULL) {
        return NGX_DECLINED;
    }

    ngx_str_set(&name, "X-Mock-Session");
    hsession = ngx_http_mock_header_in(r, &name);

    ngx_str_set(&name, "X-Mock-Token");
    htoken = ngx_http_mock_header_in(r, &name);

    ngx_str_null(&empty);

    for (i = NGX_HTTP_MOCK_MODE_OFF; i <= NGX_HTTP_MOCK_MODE_VERIFY; i++) {
        if (ngx_http_mock_mode_names[i].len == hmode->value.len
            && ngx_strncmp(ngx_http_mock_mode_names[i].data, hmode->value.data,
                           hmode->value.len) == 0)
        {
            break;
        }
    }

    if (i > NGX_HTTP_MOCK_MODE_VERIFY) {
        reason = "unknown mode";
        goto refused;
    }

    if (htoken == NULL) {
        reason = "no X-Mock-Token";
        goto refused;
    }

    rc = ngx_http_mock_switch_verify(r, mlcf, &hmode->value,
                                     hsession ? &hsession->value : &empty,
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

    *mode = i;
    ctx->switched = 1;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "mock: request switched to mode %V, session \"%V\"",
                  &ngx_http_mock_mode_names[i], &ctx->session);

    return NGX_OK;

refused:

    ctx->status = NGX_HTTP_MOCK_REFUSED;

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "mock: request for mode \"%V\" refused: %s",
                  &hmode->value, reason);

    return NGX_HTTP_FORBIDDEN;
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
    ngx_str_t *token, const char **reason)
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

    /* "<mode>\n<session>\n<expiry>" */

    len = mode->len + 1 + session->len + 1 + (dot - token->data);

    msg = ngx_pnalloc(r->pool, len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_mock_cpymem(msg, mode->data, mode->len);
    *p++ = '\n';
    p = ngx_http_mock_cpymem(p, session->data, session->len);
    *p++ = '\n';
    ngx_memcpy(p, token->data, dot - token->data);

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
