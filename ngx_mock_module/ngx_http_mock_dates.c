
/*
 * Refreshed dates: Date, Expires, Last-Modified and a cookie's Expires=
 * moved by the time since the interaction was recorded, so that a
 * replayed answer is as fresh as the recorded one was.
 */


#include "ngx_http_mock_module.h"


static ngx_int_t ngx_http_mock_dates_shift(ngx_pool_t *pool, u_char *start,
    u_char *end, time_t delta, ngx_str_t *value);


/* NGX_DECLINED: the value is not a date, and is sent as it is */

ngx_int_t
ngx_http_mock_dates_refresh(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_header_t *hh,
    ngx_str_t *value)
{
    u_char  *p, *last, *end;
    time_t   delta;

    if (it->recorded == 0) {
        return NGX_DECLINED;
    }

    delta = ngx_time() - it->recorded;

    if (hh->type != NGX_HTTP_MOCK_HEADER_SET_COOKIE) {
        return ngx_http_mock_dates_shift(r->pool, value->data,
                                         value->data + value->len, delta,
                                         value);
    }

    last = value->data + value->len;

    p = ngx_strlcasestrn(value->data, last, (u_char *) "expires=", 8 - 1);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    p += 8;

    end = ngx_strlchr(p, last, ';');
    if (end == NULL) {
        end = last;
    }

    return ngx_http_mock_dates_shift(r->pool, p, end, delta, value);
}


/* the date between start and end of value, moved by delta */

static ngx_int_t
ngx_http_mock_dates_shift(ngx_pool_t *pool, u_char *start, u_char *end,
    time_t delta, ngx_str_t *value)
{
    u_char  *p;
    time_t   t;
    size_t   len;

    t = ngx_parse_http_time(start, end - start);

    if (t == NGX_ERROR) {
        return NGX_DECLINED;
    }

    len = (start - value->data) + sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1
          + (value->data + value->len - end);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value->len = len;

    len = start - value->data;
    start = ngx_cpymem(p, value->data, len);
    start = ngx_http_time(start, t + delta);
    ngx_memcpy(start, end, p + value->len - start);

    value->data = p;

    return NGX_OK;
}
