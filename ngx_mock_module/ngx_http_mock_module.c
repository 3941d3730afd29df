
/*
 * ngx_http_mock_module: directives, configuration and the phase handler
 * that hands a mocked request to the replay content handler.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_ZONE_NAME      "mock"
#define NGX_HTTP_MOCK_ZONE_DEFAULT   (32 * 1024 * 1024)


static ngx_int_t ngx_http_mock_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mock_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_mock_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mock_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mock_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void ngx_http_mock_cleanup_parse_pool(void *data);
static ngx_http_mock_store_t *ngx_http_mock_store_get(ngx_conf_t *cf,
    ngx_http_mock_main_conf_t *mmcf, ngx_http_mock_loc_conf_t *mlcf);
static ngx_int_t ngx_http_mock_precontent_handler(ngx_http_request_t *r);

static char *ngx_http_mock_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mock_replay(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mock_match(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mock_upstream(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mock_miss_status(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_post_handler_pt  ngx_http_mock_miss_status_p =
    ngx_http_mock_miss_status;


static ngx_command_t  ngx_http_mock_commands[] = {

    { ngx_string("mock_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_mock_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_replay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mock_replay,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_match"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mock_match,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_repeats"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, repeats),
      NULL },

    { ngx_string("mock_miss"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, miss_status),
      &ngx_http_mock_miss_status_p },

    { ngx_string("mock_upstream"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mock_upstream,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_mock_module_ctx = {
    ngx_http_mock_preconfiguration,        /* preconfiguration */
    ngx_http_mock_postconfiguration,       /* postconfiguration */

    ngx_http_mock_create_main_conf,        /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_mock_create_loc_conf,         /* create location configuration */
    ngx_http_mock_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_mock_module = {
    NGX_MODULE_V1,
    &ngx_http_mock_module_ctx,             /* module context */
    ngx_http_mock_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_mock_zone_name =
    ngx_string(NGX_HTTP_MOCK_ZONE_NAME);


static ngx_int_t
ngx_http_mock_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_mock_add_variables(cf);
}


static ngx_int_t
ngx_http_mock_postconfiguration(ngx_conf_t *cf)
{
    size_t                      size;
    ngx_uint_t                  i;
    ngx_http_handler_pt        *h;
    ngx_http_mock_store_t     **stores;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mock_module);

    if (mmcf->stores.nelts == 0) {
        return NGX_OK;
    }

    size = 0;
    stores = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        size += ngx_http_mock_store_size(stores[i]);
    }

    mmcf->size = size;

    if (mmcf->shm_zone == NULL) {

        /* the default zone grows with the cassettes it holds */

        mmcf->shm_zone = ngx_shared_memory_add(cf, &ngx_http_mock_zone_name,
                                     NGX_HTTP_MOCK_ZONE_DEFAULT + size * 9 / 8,
                                     &ngx_http_mock_module);
        if (mmcf->shm_zone == NULL) {
            return NGX_ERROR;
        }

        if (mmcf->shm_zone->data) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "mock: shared memory zone \"%V\" is already "
                               "used by another module",
                               &ngx_http_mock_zone_name);
            return NGX_ERROR;
        }

        mmcf->shm_zone->init = ngx_http_mock_store_init_zone;
        mmcf->shm_zone->data = mmcf;

        /*
         * Cassettes are read anew on every reload, so a reload gets a new
         * zone; workers of the old cycle keep their own mapping of the old
         * zone until they exit, so their in-flight responses stay valid.
         */

        mmcf->shm_zone->noreuse = 1;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mock_precontent_handler;

    return NGX_OK;
}


static void *
ngx_http_mock_create_main_conf(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mmcf->shm_zone = NULL;
     *     mmcf->shpool = NULL;
     *     mmcf->size = 0;
     */

    if (ngx_array_init(&mmcf->stores, cf->pool, 4,
                       sizeof(ngx_http_mock_store_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&mmcf->cassettes, cf->pool, 4,
                       sizeof(ngx_http_mock_cassette_t *))
        != NGX_OK)
    {
        return NULL;
    }

    /*
     * Parsed cassettes live here only until they are copied into the
     * shared zone; the zone's init frees this pool.
     */

    mmcf->parse_pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, cf->log);
    if (mmcf->parse_pool == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_destroy_pool(mmcf->parse_pool);
        return NULL;
    }

    cln->handler = ngx_http_mock_cleanup_parse_pool;
    cln->data = mmcf;

    return mmcf;
}


static void
ngx_http_mock_cleanup_parse_pool(void *data)
{
    ngx_http_mock_main_conf_t  *mmcf = data;

    if (mmcf->parse_pool) {
        ngx_destroy_pool(mmcf->parse_pool);
        mmcf->parse_pool = NULL;
    }
}


static void *
ngx_http_mock_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_mock_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->store = NULL;
     *     conf->replay = { 0, NULL };
     *     conf->cassettes = NULL;
     *     conf->location = { 0, NULL };
     */

    conf->match = NGX_CONF_UNSET_PTR;
    conf->upstream = NGX_CONF_UNSET_PTR;
    conf->repeats = NGX_CONF_UNSET;
    conf->miss_status = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_mock_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mock_loc_conf_t *prev = parent;
    ngx_http_mock_loc_conf_t *conf = child;

    static ngx_http_mock_match_t  default_match = {
        NGX_HTTP_MOCK_MATCH_DEFAULT, NULL, ngx_string("method path query")
    };

    ngx_http_mock_main_conf_t  *mmcf;

    if (conf->replay.data == NULL) {
        conf->replay = prev->replay;
        conf->cassettes = prev->cassettes;
    }

    ngx_conf_merge_ptr_value(conf->match, prev->match, &default_match);
    ngx_conf_merge_ptr_value(conf->upstream, prev->upstream, NULL);
    ngx_conf_merge_str_value(conf->location, prev->location, "");
    ngx_conf_merge_value(conf->repeats, prev->repeats, 0);
    ngx_conf_merge_uint_value(conf->miss_status, prev->miss_status,
                              NGX_HTTP_NOT_FOUND);

    if (conf->replay.len == 0) {
        return NGX_CONF_OK;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mock_module);

    conf->store = ngx_http_mock_store_get(cf, mmcf, conf);
    if (conf->store == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Locations that replay the same cassettes under the same matchers share
 * one store, and so one index and one set of sequence counters.
 */

static ngx_http_mock_store_t *
ngx_http_mock_store_get(ngx_conf_t *cf, ngx_http_mock_main_conf_t *mmcf,
    ngx_http_mock_loc_conf_t *mlcf)
{
    ngx_uint_t               i;
    ngx_http_mock_store_t   *store, **stores, **sp;

    stores = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        store = stores[i];

        if (store->path.len == mlcf->replay.len
            && ngx_strncmp(store->path.data, mlcf->replay.data,
                           mlcf->replay.len) == 0
            && store->match->text.len == mlcf->match->text.len
            && ngx_strncmp(store->match->text.data, mlcf->match->text.data,
                           mlcf->match->text.len) == 0)
        {
            return store;
        }
    }

    store = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_store_t));
    if (store == NULL) {
        return NULL;
    }

    store->path = mlcf->replay;
    store->match = mlcf->match;
    store->cassettes = mlcf->cassettes;

    sp = ngx_array_push(&mmcf->stores);
    if (sp == NULL) {
        return NULL;
    }

    *sp = store;

    return store;
}


static ngx_int_t
ngx_http_mock_precontent_handler(ngx_http_request_t *r)
{
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    if (mlcf->store == NULL) {
        return NGX_DECLINED;
    }

    /* replay answers instead of whatever content handler is configured */

    r->content_handler = ngx_http_mock_replay_handler;

    return NGX_DECLINED;
}


static char *
ngx_http_mock_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_main_conf_t *mmcf = conf;

    u_char     *p;
    ssize_t     size;
    ngx_str_t  *value, name, s;

    if (mmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", expected "
                           "\"zone=name:size\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 5;

    p = (u_char *) ngx_strchr(name.data, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size in \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.len = p - name.data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (name.len == 0 || size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    mmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_mock_module);
    if (mmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (mmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    mmcf->shm_zone->init = ngx_http_mock_store_init_zone;
    mmcf->shm_zone->data = mmcf;
    mmcf->shm_zone->noreuse = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_mock_replay(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    ngx_str_t                  *value;
    ngx_http_mock_main_conf_t  *mmcf;

    if (mlcf->replay.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty path";
    }

    mlcf->replay = value[1];

    if (ngx_conf_full_name(cf->cycle, &mlcf->replay, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mock_module);

    mlcf->cassettes = ngx_array_create(cf->pool, 1,
                                       sizeof(ngx_http_mock_cassette_t *));
    if (mlcf->cassettes == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_mock_cassettes_open(cf, mmcf->parse_pool, &mlcf->replay,
                                     mlcf->cassettes, &mmcf->cassettes)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_mock_match(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    u_char                 *p, *last, *start;
    size_t                  len;
    ngx_uint_t              i, mask;
    ngx_str_t              *value, *h;
    ngx_http_mock_match_t  *match;

    if (mlcf->match != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    match = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_match_t));
    if (match == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        len += value[i].len + 1;

        mask = ngx_http_mock_matcher_mask(&value[i]);

        if (mask) {
            if (match->mask & mask) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate matcher \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            match->mask |= mask;
            continue;
        }

        if (value[i].len > 8
            && ngx_strncmp(value[i].data, "headers=", 8) == 0)
        {
            if (match->headers) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "duplicate matcher \"headers\"");
                return NGX_CONF_ERROR;
            }

            match->headers = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
            if (match->headers == NULL) {
                return NGX_CONF_ERROR;
            }

            p = value[i].data + 8;
            last = value[i].data + value[i].len;

            while (p <= last) {
                start = p;

                while (p < last && *p != ',') {
                    p++;
                }

                if (p == start) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "empty header name in \"%V\"",
                                       &value[i]);
                    return NGX_CONF_ERROR;
                }

                h = ngx_array_push(match->headers);
                if (h == NULL) {
                    return NGX_CONF_ERROR;
                }

                h->len = p - start;
                h->data = ngx_pnalloc(cf->pool, h->len);
                if (h->data == NULL) {
                    return NGX_CONF_ERROR;
                }

                ngx_strlow(h->data, start, h->len);

                p++;
            }

            match->mask |= NGX_HTTP_MOCK_MATCH_HEADERS;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown matcher \"%V\", expected method, scheme, "
                           "host, port, path, query, body or headers=Name,...",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    match->text.data = ngx_pnalloc(cf->pool, len);
    if (match->text.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = match->text.data;

    for (i = 1; i < cf->args->nelts; i++) {
        if (i > 1) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, value[i].data, value[i].len);
    }

    match->text.len = p - match->text.data;

    mlcf->match = match;

    return NGX_CONF_OK;
}


static char *
ngx_http_mock_upstream(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    char                      *err;
    ngx_str_t                 *value;
    ngx_http_mock_key_t        key;
    ngx_http_mock_upstream_t  *up;
    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->upstream != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&key, sizeof(ngx_http_mock_key_t));

    err = ngx_http_mock_parse_url(cf->pool, &value[1], &key);
    if (err) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid URL \"%V\": %s", &value[1], err);
        return NGX_CONF_ERROR;
    }

    if (key.query.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "URL \"%V\" must not have a query", &value[1]);
        return NGX_CONF_ERROR;
    }

    up = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_upstream_t));
    if (up == NULL) {
        return NGX_CONF_ERROR;
    }

    up->scheme = key.scheme;
    up->host = key.host;
    up->port = key.port;
    up->path = key.path;
    up->has_path = (key.path.len > 0);

    if (up->has_path) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->named
#if (NGX_PCRE)
            || clcf->regex
#endif
            || clcf->noname)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mock_upstream\" cannot have URI part in "
                               "location given by regular expression, "
                               "or inside named location, "
                               "or inside \"if\" statement, "
                               "or inside \"limit_except\" block");
            return NGX_CONF_ERROR;
        }

        mlcf->location = clcf->name;
    }

    mlcf->upstream = up;

    return NGX_CONF_OK;
}


static char *
ngx_http_mock_miss_status(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *np = data;

    if (*np < 200 || *np > 599) {
        return "must be between 200 and 599";
    }

    return NGX_CONF_OK;
}
