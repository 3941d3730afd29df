
/*
 * The reports of recent misses, kept in the zone by the journal's number
 * of their request, so that the admin can show what a miss was told.
 */


#include "ngx_http_mock_module.h"


/* in the log phase, by the journal: the last ones win */

void
ngx_http_mock_report_add(ngx_http_mock_shctx_t *sh, ngx_uint_t id,
    ngx_str_t *text)
{
    size_t                   len;
    ngx_http_mock_report_t  *rp;

    if (sh->reports == NULL) {
        return;
    }

    rp = &sh->reports[ngx_atomic_fetch_add(&sh->reports_next, 1)
                      % NGX_HTTP_MOCK_REPORTS];

    (void) ngx_atomic_fetch_add(&rp->seq, 1);
    ngx_memory_barrier();

    len = ngx_min(text->len, NGX_HTTP_MOCK_REPORT_LEN);

    ngx_memcpy(rp->text, text->data, len);
    rp->len = len;
    rp->id = id + 1;

    ngx_memory_barrier();
    (void) ngx_atomic_fetch_add(&rp->seq, 1);
}


/* NGX_DECLINED: no report of that request is kept (any more) */

ngx_int_t
ngx_http_mock_report_get(ngx_http_mock_shctx_t *sh, ngx_uint_t id,
    ngx_pool_t *pool, ngx_str_t *text)
{
    size_t                   len;
    ngx_uint_t               i, seq;
    ngx_http_mock_report_t  *rp;

    if (sh == NULL || sh->reports == NULL) {
        return NGX_DECLINED;
    }

    text->data = ngx_pnalloc(pool, NGX_HTTP_MOCK_REPORT_LEN);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_MOCK_REPORTS; i++) {
        rp = &sh->reports[i];

        if (rp->id != id + 1) {
            continue;
        }

        /* a consistent copy, or none while a worker writes it */

        seq = rp->seq;
        ngx_memory_barrier();

        len = ngx_min(rp->len, NGX_HTTP_MOCK_REPORT_LEN);
        ngx_memcpy(text->data, rp->text, len);

        ngx_memory_barrier();

        if ((seq & 1) || seq != rp->seq || rp->id != id + 1) {
            continue;
        }

        text->len = len;

        return NGX_OK;
    }

    return NGX_DECLINED;
}
