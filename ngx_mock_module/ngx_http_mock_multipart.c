
/*
 * Multipart bodies (multipart/form-data, multipart/mixed) in canonical
 * form: their parts in order, each with its name, file name, content
 * type and content, without the boundary that changes on every request.
 */


#include "ngx_http_mock_module.h"


typedef struct {
    ngx_str_t                name;
    ngx_str_t                filename;
    ngx_str_t                type;
    ngx_str_t                content;
} ngx_http_mock_part_t;


static ngx_int_t ngx_http_mock_multipart_boundary(ngx_str_t *type,
    ngx_str_t *boundary);
static ngx_int_t ngx_http_mock_multipart_part(u_char *p, u_char *last,
    ngx_http_mock_part_t *part);
static void ngx_http_mock_disposition_param(u_char *p, u_char *last,
    char *name, ngx_str_t *value);


/*
 * Multipart bodies are compared part by part, in order, never by their
 * boundary: "multipart\n" then "N:name,N:filename,N:type,N:content\n"
 * for each part.  A body that does not parse is compared whole.
 */

ngx_int_t
ngx_http_mock_multipart_canon(ngx_pool_t *pool, ngx_str_t *type,
    ngx_str_t *in, ngx_str_t *out)
{
    u_char                *p, *last, *next, *end, *dst;
    size_t                 len;
    ngx_str_t              boundary;
    ngx_uint_t             i;
    ngx_array_t            parts;
    ngx_http_mock_part_t  *part;

    if (ngx_http_mock_multipart_boundary(type, &boundary) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_array_init(&parts, pool, 4, sizeof(ngx_http_mock_part_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = in->data;
    last = in->data + in->len;

    /* the first delimiter, after a preamble */

    for ( ;; ) {
        next = ngx_strlcasestrn(p, last, boundary.data, boundary.len - 1);
        if (next == NULL) {
            return NGX_DECLINED;
        }

        if (next == in->data + 2 || (next >= in->data + 4 && next[-3] == '\n'))
        {
            if (next[-1] == '-' && next[-2] == '-') {
                break;
            }
        }

        p = next + 1;
    }

    p = next + boundary.len;

    for ( ;; ) {
        if (last - p >= 2 && p[0] == '-' && p[1] == '-') {
            break;
        }

        if (last - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            p += 2;

        } else if (p < last && *p == '\n') {
            p++;

        } else {
            return NGX_DECLINED;
        }

        /* the part ends at "\r\n--boundary" */

        end = p;

        for ( ;; ) {
            next = ngx_strlcasestrn(end, last, boundary.data,
                                    boundary.len - 1);
            if (next == NULL) {
                return NGX_DECLINED;
            }

            if (next - p >= 3 && next[-1] == '-' && next[-2] == '-'
                && next[-3] == '\n')
            {
                break;
            }

            end = next + 1;
        }

        end = next - 3;

        if (end > p && end[-1] == '\r') {
            end--;
        }

        part = ngx_array_push(&parts);
        if (part == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_mock_multipart_part(p, end, part) != NGX_OK) {
            return NGX_DECLINED;
        }

        p = next + boundary.len;
    }

    part = parts.elts;
    len = sizeof("multipart\n") - 1;

    for (i = 0; i < parts.nelts; i++) {
        len += part[i].name.len + part[i].filename.len + part[i].type.len
               + part[i].content.len + 4 * (NGX_SIZE_T_LEN + 2);
    }

    dst = ngx_pnalloc(pool, len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    out->data = dst;
    dst = ngx_cpymem(dst, "multipart\n", sizeof("multipart\n") - 1);

    for (i = 0; i < parts.nelts; i++) {
        dst = ngx_sprintf(dst, "%uz:%V,%uz:%V,%uz:%V,%uz:",
                          part[i].name.len, &part[i].name,
                          part[i].filename.len, &part[i].filename,
                          part[i].type.len, &part[i].type,
                          part[i].content.len);
        dst = ngx_http_mock_cpymem(dst, part[i].content.data,
                                   part[i].content.len);
        *dst++ = '\n';
    }

    out->len = dst - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_mock_multipart_boundary(ngx_str_t *type, ngx_str_t *boundary)
{
    u_char  *p, *last, *start;

    if (type == NULL) {
        return NGX_DECLINED;
    }

    last = type->data + type->len;

    p = ngx_strlcasestrn(type->data, last, (u_char *) "boundary=", 9 - 1);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    p += 9;

    if (p < last && *p == '"') {
        start = ++p;

        while (p < last && *p != '"') {
            p++;
        }

    } else {
        start = p;

        while (p < last && *p != ';' && *p != ' ' && *p != '\t') {
            p++;
        }
    }

    if (p == start || p - start > 200) {
        return NGX_DECLINED;
    }

    boundary->data = start;
    boundary->len = p - start;

    return NGX_OK;
}


/* headers, an empty line, the content */

static ngx_int_t
ngx_http_mock_multipart_part(u_char *p, u_char *last,
    ngx_http_mock_part_t *part)
{
    u_char  *line, *eol, *colon, *v, *ve;

    ngx_memzero(part, sizeof(ngx_http_mock_part_t));

    for ( ;; ) {
        line = p;
        eol = ngx_strlchr(p, last, '\n');

        if (eol == NULL) {
            if (p == last) {
                /* a part with neither headers nor content */
                return NGX_OK;
            }

            return NGX_DECLINED;
        }

        p = eol + 1;

        if (eol > line && eol[-1] == '\r') {
            eol--;
        }

        if (eol == line) {
            break;
        }

        colon = ngx_strlchr(line, eol, ':');
        if (colon == NULL) {
            return NGX_DECLINED;
        }

        v = colon + 1;
        ve = eol;

        while (v < ve && (*v == ' ' || *v == '\t')) {
            v++;
        }

        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            ve--;
        }

        if (colon - line == 12
            && ngx_strncasecmp(line, (u_char *) "Content-Type", 12) == 0)
        {
            part->type.data = v;
            part->type.len = ve - v;

        } else if (colon - line == 19
                   && ngx_strncasecmp(line, (u_char *) "Content-Disposition",
                                      19) == 0)
        {
            ngx_http_mock_disposition_param(v, ve, "name", &part->name);
            ngx_http_mock_disposition_param(v, ve, "filename",
                                            &part->filename);
        }
    }

    part->content.data = p;
    part->content.len = last - p;

    return NGX_OK;
}


/* name="x" or name=x in "form-data; name=...; filename=..." */

static void
ngx_http_mock_disposition_param(u_char *p, u_char *last, char *name,
    ngx_str_t *value)
{
    u_char  *start;
    size_t   len;

    len = ngx_strlen(name);

    while (p < last) {
        p = ngx_strlchr(p, last, ';');
        if (p == NULL) {
            return;
        }

        p++;

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if ((size_t) (last - p) <= len || p[len] != '='
            || ngx_strncasecmp(p, (u_char *) name, len) != 0)
        {
            continue;
        }

        p += len + 1;

        if (p < last && *p == '"') {
            start = ++p;

            while (p < last && *p != '"') {
                p += (*p == '\\' && p + 1 < last) ? 2 : 1;
            }

        } else {
            start = p;

            while (p < last && *p != ';') {
                p++;
            }
        }

        value->data = start;
        value->len = (p > last ? last : p) - start;

        return;
    }
}


/* a field of the canonical form: "N:bytes" */

u_char *
ngx_http_mock_multipart_field(u_char *p, u_char *last, ngx_str_t *field)
{
    size_t  n;

    n = 0;

    if (p == last || *p < '0' || *p > '9') {
        return NULL;
    }

    while (p < last && *p >= '0' && *p <= '9') {
        if (n > (size_t) (last - p)) {
            return NULL;
        }

        n = n * 10 + (*p++ - '0');
    }

    if (p == last || *p != ':' || (size_t) (last - p - 1) < n) {
        return NULL;
    }

    field->data = p + 1;
    field->len = n;

    return p + 1 + n;
}
