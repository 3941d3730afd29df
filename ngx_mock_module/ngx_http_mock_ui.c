
/*
 * The admin's dashboard: serves the pages under <admin>/ui/ from bytes
 * built into the module, and refuses the mutating admin requests that a
 * page of another site could send.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_UI_CSP                                                 \
    "default-src 'self'; script-src 'self'; style-src 'self'; "              \
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "          \
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"


static ngx_int_t ngx_http_mock_ui_header(ngx_http_request_t *r, char *name,
    char *value);
static ngx_int_t ngx_http_mock_ui_asset(ngx_http_request_t *r,
    ngx_http_mock_asset_t *asset);


/*
 * A cross-site form can only send a body as form data or text/plain, and
 * a cross-site script can send neither another type nor a header of its
 * own without asking first (CORS), which nothing here ever allows.  So a
 * POST, PUT or DELETE is taken only with "Content-Type: application/json"
 * or an "X-Mock-Admin" header.  NGX_DECLINED: it may go on.
 */

ngx_int_t
ngx_http_mock_ui_forged(ngx_http_request_t *r)
{
    u_char           *p, *last;
    ngx_int_t         rc;
    ngx_str_t        *type;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    static u_char  json[] = "application/json";
    static u_char  refused[] =
        "{\"error\": \"admin requests that change something must say "
        "\\\"Content-Type: application/json\\\" or send an "
        "\\\"X-Mock-Admin\\\" header\"}\n";

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        return NGX_DECLINED;
    }

    if (r->headers_in.content_type) {
        type = &r->headers_in.content_type->value;
        p = type->data;
        last = p + type->len;

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if ((size_t) (last - p) >= sizeof(json) - 1
            && ngx_strncasecmp(p, json, sizeof(json) - 1) == 0)
        {
            p += sizeof(json) - 1;

            if (p == last || *p == ';' || *p == ' ' || *p == '\t') {
                return NGX_DECLINED;
            }
        }
    }

    part = &r->headers_in.headers.part;
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

        if (h[i].key.len == sizeof("X-Mock-Admin") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "X-Mock-Admin",
                               sizeof("X-Mock-Admin") - 1) == 0)
        {
            return NGX_DECLINED;
        }
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "mock: admin %V refused: neither a JSON content type nor "
                  "an X-Mock-Admin header", &r->method_name);

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_mock_ui_send(r, NGX_HTTP_FORBIDDEN, refused,
                                 sizeof(refused) - 1);
}


/* GET ui/...: the dashboard's files; NGX_DECLINED: another endpoint */

ngx_int_t
ngx_http_mock_ui_handler(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_str_t               file;
    ngx_table_elt_t        *location;
    ngx_http_mock_asset_t  *asset;

    if (name->len < 2 || ngx_strncmp(name->data, "ui", 2) != 0
        || (name->len > 2 && name->data[2] != '/'))
    {
        return NGX_DECLINED;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    file.data = name->data + 2;
    file.len = name->len - 2;

    while (file.len && file.data[0] == '/') {
        file.data++;
        file.len--;
    }

    /*
     * The page's own links are relative to ".../ui/": ".../ui" is sent
     * there with a relative reference, which takes nothing from the URI.
     */

    if (file.len == 0 && r->uri.len && r->uri.data[r->uri.len - 1] != '/') {
        location = ngx_list_push(&r->headers_out.headers);
        if (location == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_str_set(&location->value, "ui/");
        location->hash = 1;
        ngx_str_set(&location->key, "Location");

        r->headers_out.location = location;

        return NGX_HTTP_MOVED_PERMANENTLY;
    }

    if (file.len == 0) {
        ngx_str_set(&file, "index.html");
    }

    for (asset = ngx_http_mock_ui_assets; asset->name.len; asset++) {
        if (asset->name.len == file.len
            && ngx_strncmp(asset->name.data, file.data, file.len) == 0)
        {
            return ngx_http_mock_ui_asset(r, asset);
        }
    }

    return NGX_HTTP_NOT_FOUND;
}


static ngx_int_t
ngx_http_mock_ui_asset(ngx_http_request_t *r, ngx_http_mock_asset_t *asset)
{
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *etag;

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_mock_ui_header(r, "Content-Security-Policy",
                                NGX_HTTP_MOCK_UI_CSP) != NGX_OK
        || ngx_http_mock_ui_header(r, "X-Frame-Options", "DENY") != NGX_OK
        || ngx_http_mock_ui_header(r, "X-Content-Type-Options", "nosniff")
           != NGX_OK
        || ngx_http_mock_ui_header(r, "Referrer-Policy", "no-referrer")
           != NGX_OK
        || ngx_http_mock_ui_header(r, "Cache-Control", "no-cache")
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    etag = ngx_list_push(&r->headers_out.headers);
    if (etag == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    etag->hash = 1;
    ngx_str_set(&etag->key, "ETag");
    etag->value = asset->etag;
    r->headers_out.etag = etag;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = asset->len;
    r->headers_out.content_type = asset->type;
    r->headers_out.content_type_len = asset->type.len;
    r->headers_out.content_type_lowcase = NULL;

    /* If-None-Match: the not_modified filter answers 304 */

    r->allow_ranges = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = asset->data;
    b->last = asset->data + asset->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_mock_ui_header(ngx_http_request_t *r, char *name, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


/* a JSON answer of the dashboard's own endpoints */

ngx_int_t
ngx_http_mock_ui_send(ngx_http_request_t *r, ngx_uint_t status, u_char *data,
    size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type_lowcase = NULL;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = sizeof("application/json") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
