
/*
 * The audit of the admin API: each request that changes something is
 * written, when it ends, as one line with who sent it, what it asked and
 * how it was answered, to the error log at "notice" or to the file that
 * mock_audit_log names; every value is escaped, so no line can be forged.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_AUDIT_BODY  1024


typedef struct {
    ngx_http_request_t           *r;
    ngx_str_t                     endpoint;
    ngx_str_t                     body;         /* its start */
    size_t                        body_len;     /* in all */
} ngx_http_mock_audit_ctx_t;


static void ngx_http_mock_audit_done(void *data);
static size_t ngx_http_mock_audit_len(ngx_str_t *s);
static u_char *ngx_http_mock_audit_quote(u_char *p, ngx_str_t *s);


/* mock_audit_log path; */

char *
ngx_http_mock_audit_log(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    ngx_str_t  *value;

    if (mlcf->audit != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty path";
    }

    mlcf->audit = ngx_conf_open_file(cf->cycle, &value[1]);
    if (mlcf->audit == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Called when the admin knows the endpoint of a request that may change
 * something: the line is written at the log phase, with the status it
 * was answered with, or when the request is freed without one.
 */

ngx_int_t
ngx_http_mock_audit(ngx_http_request_t *r, ngx_str_t *endpoint)
{
    ngx_str_t                   body;
    ngx_http_cleanup_t         *cln;
    ngx_http_mock_audit_ctx_t  *ac;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return NGX_OK;
    }

    cln = ngx_http_cleanup_add(r, sizeof(ngx_http_mock_audit_ctx_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ac = cln->data;
    ngx_memzero(ac, sizeof(ngx_http_mock_audit_ctx_t));

    ac->r = r;
    ac->endpoint = *endpoint;

    if (r->request_body && r->request_body->bufs
        && ngx_http_mock_request_body(r, &body) == NGX_OK)
    {
        ac->body_len = body.len;
        ac->body.data = body.data;
        ac->body.len = ngx_min(body.len, NGX_HTTP_MOCK_AUDIT_BODY);
    }

    cln->handler = ngx_http_mock_audit_done;

    return NGX_OK;
}


/* the log phase of an admin request */

void
ngx_http_mock_audit_end(ngx_http_request_t *r)
{
    ngx_http_cleanup_t  *cln;

    for (cln = r->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_mock_audit_done) {
            cln->handler = NULL;
            ngx_http_mock_audit_done(cln->data);
            return;
        }
    }
}


static void
ngx_http_mock_audit_done(void *data)
{
    ngx_http_mock_audit_ctx_t  *ac = data;

    u_char                    *line, *p;
    size_t                     len;
    ngx_str_t                  user, time;
    ngx_http_request_t        *r;
    ngx_http_mock_loc_conf_t  *mlcf;

    r = ac->r;
    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    ngx_str_null(&user);

    if (r->headers_in.user.len
        || ngx_http_auth_basic_user(r) == NGX_OK)
    {
        user = r->headers_in.user;
    }

    time = ngx_cached_http_log_iso8601;

    len = time.len + sizeof(" client= user= method= endpoint= args= body= "
                            "bytes= status=\n")
          + ngx_http_mock_audit_len(&r->connection->addr_text)
          + ngx_http_mock_audit_len(&user)
          + ngx_http_mock_audit_len(&r->method_name)
          + ngx_http_mock_audit_len(&ac->endpoint)
          + ngx_http_mock_audit_len(&r->args)
          + ngx_http_mock_audit_len(&ac->body)
          + 2 * NGX_INT_T_LEN + sizeof("...");

    line = ngx_pnalloc(r->pool, len);
    if (line == NULL) {
        return;
    }

    p = line;

    if (mlcf->audit) {
        p = ngx_cpymem(p, time.data, time.len);
        *p++ = ' ';
    }

    p = ngx_cpymem(p, "client=", sizeof("client=") - 1);
    p = ngx_http_mock_audit_quote(p, &r->connection->addr_text);
    p = ngx_cpymem(p, " user=", sizeof(" user=") - 1);

    if (user.len) {
        p = ngx_http_mock_audit_quote(p, &user);

    } else {
        *p++ = '-';
    }

    p = ngx_cpymem(p, " method=", sizeof(" method=") - 1);
    p = ngx_http_mock_audit_quote(p, &r->method_name);
    p = ngx_cpymem(p, " endpoint=", sizeof(" endpoint=") - 1);
    p = ngx_http_mock_audit_quote(p, &ac->endpoint);
    p = ngx_cpymem(p, " args=", sizeof(" args=") - 1);
    p = ngx_http_mock_audit_quote(p, &r->args);
    p = ngx_cpymem(p, " body=", sizeof(" body=") - 1);
    p = ngx_http_mock_audit_quote(p, &ac->body);

    if (ac->body_len > ac->body.len) {
        p = ngx_cpymem(p, "...", 3);
    }

    p = ngx_sprintf(p, " bytes=%uz status=%ui", ac->body_len,
                    r->headers_out.status);

    if (mlcf->audit == NULL) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "mock audit: %*s", p - line, line);
        return;
    }

    *p++ = '\n';

    if (ngx_write_fd(mlcf->audit->fd, line, p - line) != p - line) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, ngx_errno,
                      "mock: the audit line cannot be written to \"%V\"",
                      &mlcf->audit->name);
    }
}


/* a quoted value: printable ASCII but '"' and '\', any other byte \xHH */

static size_t
ngx_http_mock_audit_len(ngx_str_t *s)
{
    return 2 + 4 * s->len;
}


static u_char *
ngx_http_mock_audit_quote(u_char *p, ngx_str_t *s)
{
    u_char      c;
    ngx_uint_t  i;

    static u_char  hex[] = "0123456789abcdef";

    *p++ = '"';

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *p++ = c;
            continue;
        }

        *p++ = '\\';
        *p++ = 'x';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0xf];
    }

    *p++ = '"';

    return p;
}
