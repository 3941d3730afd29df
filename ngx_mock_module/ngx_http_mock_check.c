
/*
 * Checks that what a cassette or a recording holds can be sent as HTTP:
 * header names and methods are tokens (RFC 9110), header values and the
 * reason phrase hold no control bytes but HTAB, a status is final.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_CHECK_SHOWN   48


static ngx_inline u_char *ngx_http_mock_check_token_in(ngx_str_t *s);
static ngx_inline u_char *ngx_http_mock_check_text_in(ngx_str_t *s);


/* RFC 9110 tchar: "!#$%&'*+-.^_`|~", digits and letters, a byte each */

static u_char  ngx_http_mock_tchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};


/* the first byte of a header name or a method that is not a tchar */

u_char *
ngx_http_mock_check_token(ngx_str_t *s)
{
    return ngx_http_mock_check_token_in(s);
}


/* the same, inlined where every header of a recording is looked at */

static ngx_inline u_char *
ngx_http_mock_check_token_in(ngx_str_t *s)
{
    u_char  *p, *last;

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (ngx_http_mock_tchar[*p] == 0) {
            return p;
        }
    }

    return NULL;
}


/* any byte of x below n (n at most 128), as a bit of 0x80 in its place */
#define ngx_http_mock_check_below(x, n)                                      \
    (((x) - 0x0101010101010101ULL * (n)) & ~(x) & 0x8080808080808080ULL)


/*
 * The first control byte (HTAB excepted) of a header value or a reason.
 * Eight bytes are looked at at once while none is below 0x20 or DEL, the
 * last ones as a word that may overlap those before; the bytes from the
 * first eight that have one on are looked at one by one.
 */

u_char *
ngx_http_mock_check_text(ngx_str_t *s)
{
    return ngx_http_mock_check_text_in(s);
}


static ngx_inline u_char *
ngx_http_mock_check_text_in(ngx_str_t *s)
{
    uint64_t   w, d;
    u_char    *p, *last;

    p = s->data;
    last = p + s->len;

    while (last - p >= 8) {
        ngx_memcpy(&w, p, 8);

        d = w ^ 0x7f7f7f7f7f7f7f7fULL;

        if (ngx_http_mock_check_below(w, 0x20)
            || ngx_http_mock_check_below(d, 0x01))
        {
            break;
        }

        p += 8;
    }

    if (p < last && last - p < 8 && s->len >= 8) {
        ngx_memcpy(&w, last - 8, 8);

        d = w ^ 0x7f7f7f7f7f7f7f7fULL;

        if (!ngx_http_mock_check_below(w, 0x20)
            && !ngx_http_mock_check_below(d, 0x01))
        {
            return NULL;
        }
    }

    for ( /* void */ ; p < last; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            return p;
        }
    }

    return NULL;
}


/* a final answer: 1xx cannot end an exchange */

ngx_int_t
ngx_http_mock_check_status(ngx_uint_t status)
{
    return (status >= 200 && status <= 999) ? NGX_OK : NGX_DECLINED;
}


/* NULL when a recording can be sent as HTTP, else why it cannot */

char *
ngx_http_mock_check_record(ngx_http_mock_record_t *rec)
{
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    if (ngx_http_mock_check_status(rec->status) != NGX_OK) {
        return "its status is not between 200 and 999";
    }

    if (rec->key.method.len == 0
        || ngx_http_mock_check_token_in(&rec->key.method))
    {
        return "its method is not an HTTP token";
    }

    if (ngx_http_mock_check_text_in(&rec->reason)) {
        return "its reason phrase has a control byte";
    }

    h = rec->req_headers.elts;

    for (i = 0; i < rec->req_headers.nelts; i++) {
        if (h[i].key.len == 0 || ngx_http_mock_check_token_in(&h[i].key)) {
            return "a request header name is not an HTTP token";
        }

        if (ngx_http_mock_check_text_in(&h[i].value)) {
            return "a request header value has a control byte";
        }
    }

    h = rec->headers.elts;

    for (i = 0; i < rec->headers.nelts; i++) {
        if (h[i].key.len == 0 || ngx_http_mock_check_token_in(&h[i].key)) {
            return "a response header name is not an HTTP token";
        }

        if (ngx_http_mock_check_text_in(&h[i].value)) {
            return "a response header value has a control byte";
        }
    }

    return NULL;
}


/*
 * A string for a message: printable ASCII as it is, '"' and '\' escaped,
 * any other byte as \xHH, cut after NGX_HTTP_MOCK_CHECK_SHOWN bytes.
 */

u_char *
ngx_http_mock_check_quote(u_char *buf, u_char *last, ngx_str_t *s)
{
    u_char      *p;
    ngx_uint_t   i;

    static u_char  hex[] = "0123456789abcdef";

    p = buf;

    for (i = 0; i < s->len && i < NGX_HTTP_MOCK_CHECK_SHOWN; i++) {
        if (last - p < 4) {
            return p;
        }

        if (s->data[i] == '"' || s->data[i] == '\\') {
            *p++ = '\\';
            *p++ = s->data[i];

        } else if (s->data[i] >= 0x20 && s->data[i] < 0x7f) {
            *p++ = s->data[i];

        } else {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[s->data[i] >> 4];
            *p++ = hex[s->data[i] & 0xf];
        }
    }

    if (i < s->len && last - p >= 3) {
        p = ngx_cpymem(p, "...", 3);
    }

    return p;
}


/* what a refused byte is, for a message */

u_char *
ngx_http_mock_check_byte(u_char *buf, u_char *last, u_char c)
{
    switch (c) {

    case CR:
        return ngx_slprintf(buf, last, "a line break (CR)");

    case LF:
        return ngx_slprintf(buf, last, "a line break (LF)");

    case '\0':
        return ngx_slprintf(buf, last, "a NUL byte");

    case ' ':
        return ngx_slprintf(buf, last, "a space");

    case '\t':
        return ngx_slprintf(buf, last, "a tab");

    case ':':
        return ngx_slprintf(buf, last, "a colon");

    default:
        break;
    }

    if (c < 0x20 || c == 0x7f) {
        return ngx_slprintf(buf, last, "the control byte 0x%02xd", c);
    }

    if (c >= 0x80) {
        return ngx_slprintf(buf, last, "the byte 0x%02xd", c);
    }

    return ngx_slprintf(buf, last, "\"%c\"", c);
}
