
/*
 * mock_record_expire: a recording older than the directive says, or one
 * marked stale through the admin API, is proxied and recorded again at
 * its next use, in its place in the file and in the zone.
 */


#include "ngx_http_mock_module.h"


/* whether an interaction is to be recorded again rather than replayed */

ngx_uint_t
ngx_http_mock_expire_due(ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_interaction_t *it)
{
    if (it->stale) {
        return 1;
    }

    return mlcf->record_expire > 0
           && ngx_time() - it->recorded >= mlcf->record_expire;
}


/*
 * new_episodes found an interaction that is due: the request goes to the
 * upstream, and its recording takes the interaction's place.  Only one
 * of the cassette that the location records into, in a store of one
 * cassette file, is recorded again.
 */

ngx_int_t
ngx_http_mock_expire_renew(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_interaction_t *it)
{
    ngx_http_mock_writer_t  *writer;

    writer = mlcf->store->writer;

    if (mlcf->store->sessions || writer == NULL
        || it->cassette->len != writer->name.len
        || ngx_strncmp(it->cassette->data, writer->name.data,
                       writer->name.len) != 0)
    {
        return NGX_DECLINED;
    }

    ctx->renew_path.data = ngx_pnalloc(r->pool, it->key.path.len + 1);
    if (ctx->renew_path.data == NULL) {
        return NGX_ERROR;
    }

    ctx->renew_path.len = it->key.path.len;
    ngx_memcpy(ctx->renew_path.data, it->key.path.data, it->key.path.len);

    ctx->renew = it->index + 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "mock interaction %ui of \"%V\" has expired",
                   it->index, it->cassette);

    return NGX_OK;
}


/*
 * The recording of a request that renewed an interaction replaces it,
 * under the file's lock: the file is renamed over whole, and workers
 * that renew the same interaction at once replace it one after the
 * other, never add it twice.  When the zone has been loaded again since
 * the request began (an edit, a reload), the numbers may have moved:
 * nothing is written.
 */

ngx_int_t
ngx_http_mock_expire_record(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_writer_t *writer, ngx_http_mock_record_t *rec)
{
    ngx_int_t                  rc;
    ngx_str_t                  entry;
    ngx_uint_t                 i, n;
    ngx_log_t                 *log;
    ngx_http_mock_store_t    **stores;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);
    log = r->connection->log;
    n = ctx->renew - 1;

    if (ngx_http_mock_yaml_entry(r->pool, rec, &entry) != NGX_OK
        || ngx_http_mock_store_lock_file(writer, log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_mock_current(mlcf->store->shared) != ctx->index) {
        ngx_http_mock_writer_unlock_file(writer);

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "mock: interaction %ui of cassette \"%V\" is not "
                      "recorded again: the cassettes were loaded again "
                      "while it was proxied", n, &writer->name);
        return NGX_DECLINED;
    }

    if (ngx_http_mock_writer_replace(writer, n, &entry, rec, log) != NGX_OK) {
        ngx_http_mock_writer_unlock_file(writer);
        return NGX_ERROR;
    }

    rc = NGX_OK;
    stores = writer->stores.elts;

    for (i = 0; i < writer->stores.nelts; i++) {
        if (ngx_http_mock_store_replace(stores[i], NULL, &ctx->renew_path, n,
                                        rec, writer->shm_name, log)
            != NGX_OK)
        {
            rc = NGX_ERROR;
        }
    }

    ngx_http_mock_writer_unlock_file(writer);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "mock recorded interaction %ui of \"%V\" again",
                   n, &writer->name);

    return rc;
}
