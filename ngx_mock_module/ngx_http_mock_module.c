
/*
 * ngx_http_mock_module: directives, configuration and the phase handler
 * that hands a mocked request to the replay content handler.
 */


#include "ngx_http_mock_module.h"


#define NGX_HTTP_MOCK_ZONE_NAME      "mock"
#define NGX_HTTP_MOCK_ZONE_DEFAULT   (32 * 1024 * 1024)


static ngx_int_t ngx_http_mock_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mock_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_mock_init_process(ngx_cycle_t *cycle);
static void ngx_http_mock_exit_process(ngx_cycle_t *cycle);
static void *ngx_http_mock_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_mock_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_mock_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void ngx_http_mock_cleanup_parse_pool(void *data);
static ngx_http_mock_store_t *ngx_http_mock_store_get(ngx_conf_t *cf,
    ngx_http_mock_main_conf_t *mmcf, ngx_http_mock_loc_conf_t *mlcf);
static ngx_http_mock_writer_t *ngx_http_mock_writer_get(ngx_conf_t *cf,
    ngx_http_mock_main_conf_t *mmcf, ngx_http_mock_loc_conf_t *mlcf);
static void ngx_http_mock_writer_cleanup(void *data);
static void ngx_http_mock_fallback_writer(ngx_http_mock_loc_conf_t *conf);
static ngx_int_t ngx_http_mock_store_attach(ngx_conf_t *cf,
    ngx_http_mock_main_conf_t *mmcf, ngx_http_mock_store_t *store);
static ngx_int_t ngx_http_mock_precontent_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_new_episodes(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_loc_conf_t *mlcf);
static void ngx_http_mock_precontent_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_mock_new_episodes_fleet(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_key_t *key);
static ngx_int_t ngx_http_mock_new_episodes_done(ngx_http_request_t *r,
    void *data, ngx_http_mock_fleet_state_t *st);

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
static char *ngx_http_mock_fallback_status_set(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mock_record_templates(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_mock_header_name(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_mock_admin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static ngx_int_t ngx_http_mock_log_handler(ngx_http_request_t *r);


static ngx_conf_enum_t  ngx_http_mock_switches[] = {
    { ngx_string("off"), NGX_HTTP_MOCK_SWITCH_OFF },
    { ngx_string("on"), NGX_HTTP_MOCK_SWITCH_ON },
    { ngx_string("forbid"), NGX_HTTP_MOCK_SWITCH_FORBID },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_mock_templates[] = {
    { ngx_string("off"), NGX_HTTP_MOCK_TEMPLATE_OFF },
    { ngx_string("on"), NGX_HTTP_MOCK_TEMPLATE_ON },
    { ngx_string("marked"), NGX_HTTP_MOCK_TEMPLATE_MARKED },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_mock_modes[] = {
    { ngx_string("off"), NGX_HTTP_MOCK_MODE_OFF },
    { ngx_string("replay"), NGX_HTTP_MOCK_MODE_REPLAY },
    { ngx_string("record"), NGX_HTTP_MOCK_MODE_RECORD },
    { ngx_string("new_episodes"), NGX_HTTP_MOCK_MODE_NEW_EPISODES },
    { ngx_string("once"), NGX_HTTP_MOCK_MODE_ONCE },
    { ngx_string("fallback"), NGX_HTTP_MOCK_MODE_FALLBACK },
    { ngx_string("verify"), NGX_HTTP_MOCK_MODE_VERIFY },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_mock_repeats[] = {
    { ngx_string("off"), NGX_HTTP_MOCK_REPEATS_OFF },
    { ngx_string("on"), NGX_HTTP_MOCK_REPEATS_ON },
    { ngx_string("last"), NGX_HTTP_MOCK_REPEATS_LAST },
    { ngx_string("wrap"), NGX_HTTP_MOCK_REPEATS_WRAP },
    { ngx_null_string, 0 }
};


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

    { ngx_string("mock_ignore"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_mock_ignore,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_repeats"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, repeats),
      &ngx_http_mock_repeats },

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

    { ngx_string("mock_mode"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, mode),
      &ngx_http_mock_modes },

    { ngx_string("mock_record_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, record_max_body),
      NULL },

    { ngx_string("mock_fallback_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mock_fallback_status_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_record_templates"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_mock_record_templates,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_session"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, session),
      NULL },

    { ngx_string("mock_force_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mock_header_name,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, force_header),
      NULL },

    { ngx_string("mock_admin"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_mock_admin,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_request_mode"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, request_mode),
      &ngx_http_mock_switches },

    { ngx_string("mock_token_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mock_token_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mock_header_name,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, header),
      NULL },

    { ngx_string("mock_template"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, template),
      &ngx_http_mock_templates },

    { ngx_string("mock_template_vars"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, template_vars),
      NULL },

    { ngx_string("mock_refresh_dates"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, refresh_dates),
      NULL },

    { ngx_string("mock_latency"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mock_latency,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_fault"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mock_fault,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_record_expire"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, record_expire),
      NULL },

    { ngx_string("mock_audit_log"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mock_audit_log,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_verify_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mock_verify_headers_set,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_verify_values"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_mock_loc_conf_t, verify.values),
      NULL },

    { ngx_string("mock_verify_ignore"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_mock_verify_ignore,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_verify_sample"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_mock_verify_sample,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_mock_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("mock_journal"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_mock_main_conf_t, journal_size),
      NULL },

    { ngx_string("mock_filter_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_mock_filter,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_MOCK_FILTER_HEADER },

    { ngx_string("mock_filter_query"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_mock_filter,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_MOCK_FILTER_QUERY },

    { ngx_string("mock_filter_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_mock_filter,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) NGX_HTTP_MOCK_FILTER_BODY },

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
    ngx_http_mock_follow_init_module,      /* init module */
    ngx_http_mock_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_mock_exit_process,            /* exit process */
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
ngx_http_mock_init_process(ngx_cycle_t *cycle)
{
    ngx_http_mock_main_conf_t  *mmcf;

    mmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_mock_module);

    if (mmcf) {
        ngx_http_mock_store_init_process(mmcf);
    }

    if (ngx_http_mock_redis_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_mock_follow_init_process(cycle);
}


static void
ngx_http_mock_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_mock_follow_exit_process(cycle);
    ngx_http_mock_fleet_exit_process(cycle);
    ngx_http_mock_redis_exit_process(cycle);
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

    if (mmcf->journal_size == NGX_CONF_UNSET_UINT) {
        mmcf->journal_size = 1000;
    }

    if (ngx_http_mock_fleet_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    mmcf->cycle = cf->cycle;

    if (mmcf->stores.nelts == 0) {
        return NGX_OK;
    }

    size = 0;
    stores = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        size += ngx_http_mock_store_size(stores[i]);

        if (ngx_http_mock_store_attach(cf, mmcf, stores[i]) != NGX_OK) {
            return NGX_ERROR;
        }
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

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_mock_log_handler;

    /* the response header, and recording where a location records */

    return ngx_http_mock_record_init(cf);
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
     *     mmcf->sh = NULL;
     *     mmcf->session_writers = NULL;
     */

    mmcf->journal_size = NGX_CONF_UNSET_UINT;

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

    if (ngx_array_init(&mmcf->writers, cf->pool, 1,
                       sizeof(ngx_http_mock_writer_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&mmcf->slots, cf->pool, 4,
                       sizeof(ngx_http_mock_slot_t))
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
     *     conf->replay_file = NULL;
     *     conf->replay_line = 0;
     *     conf->force_header = { 0, NULL };
     *     conf->header = { 0, NULL };
     *     conf->location = { 0, NULL };
     *     conf->latency = { NGX_HTTP_MOCK_LATENCY_UNSET, ... };
     *     conf->latency_file = NULL;
     *     conf->latency_line = 0;
     */

    conf->match = NGX_CONF_UNSET_PTR;
    conf->upstream = NGX_CONF_UNSET_PTR;
    conf->repeats = NGX_CONF_UNSET_UINT;
    conf->ignore = NGX_CONF_UNSET_PTR;
    conf->miss_status = NGX_CONF_UNSET_UINT;
    conf->mode = NGX_CONF_UNSET_UINT;
    conf->record_max_body = NGX_CONF_UNSET_SIZE;
    conf->record_templates = NGX_CONF_UNSET_PTR;
    conf->fallback_status = NGX_CONF_UNSET_PTR;
    conf->filters = NGX_CONF_UNSET_PTR;
    conf->session = NGX_CONF_UNSET_PTR;
    conf->admin = NGX_CONF_UNSET;
    conf->request_mode = NGX_CONF_UNSET_UINT;
    conf->secrets = NGX_CONF_UNSET_PTR;
    conf->template = NGX_CONF_UNSET_UINT;
    conf->template_vars = NGX_CONF_UNSET_SIZE;
    conf->refresh_dates = NGX_CONF_UNSET;
    conf->slot = NGX_CONF_UNSET_UINT;
    conf->fault = NGX_CONF_UNSET_PTR;
    conf->upstream_fault = NGX_CONF_UNSET_PTR;
    conf->audit = NGX_CONF_UNSET_PTR;
    conf->record_expire = NGX_CONF_UNSET;
    conf->verify.headers = NGX_CONF_UNSET_PTR;
    conf->verify.values = NGX_CONF_UNSET;
    conf->verify.ignore = NGX_CONF_UNSET_PTR;
    conf->verify.sample = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_mock_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_mock_loc_conf_t *prev = parent;
    ngx_http_mock_loc_conf_t *conf = child;

    ngx_uint_t                  i, *code;
    ngx_http_mock_slot_t       *slot;
    ngx_http_mock_store_t     **sp;
    ngx_http_mock_writer_t     *writer;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_mock_main_conf_t  *mmcf;

    static ngx_http_mock_match_t  default_match = {
        NGX_HTTP_MOCK_MATCH_DEFAULT, NULL, ngx_string("method path query"),
        NULL, NULL
    };

    if (conf->replay.data == NULL) {
        conf->replay = prev->replay;
        conf->replay_conf = prev->replay_conf;
        conf->cassettes = prev->cassettes;
        conf->replay_file = prev->replay_file;
        conf->replay_line = prev->replay_line;
    }

    ngx_conf_merge_ptr_value(conf->match, prev->match, &default_match);
    ngx_conf_merge_ptr_value(conf->upstream, prev->upstream, NULL);
    ngx_conf_merge_str_value(conf->location, prev->location, "");
    ngx_conf_merge_uint_value(conf->repeats, prev->repeats,
                              NGX_HTTP_MOCK_REPEATS_OFF);

    /* like add_header, a level's own mock_ignore lines replace the others */

    ngx_conf_merge_ptr_value(conf->ignore, prev->ignore, NULL);

    if (conf->ignore) {
        conf->match = ngx_http_mock_ignore_match(cf, conf->match,
                                                 conf->ignore);
        if (conf->match == NULL) {
            return NGX_CONF_ERROR;
        }
    }
    ngx_conf_merge_uint_value(conf->miss_status, prev->miss_status,
                              NGX_HTTP_NOT_FOUND);
    ngx_conf_merge_uint_value(conf->mode, prev->mode,
                              NGX_HTTP_MOCK_MODE_REPLAY);
    ngx_conf_merge_size_value(conf->record_max_body, prev->record_max_body,
                              1024 * 1024);
    ngx_conf_merge_ptr_value(conf->record_templates, prev->record_templates,
                             NULL);
    ngx_conf_merge_ptr_value(conf->filters, prev->filters, NULL);
    ngx_conf_merge_ptr_value(conf->fallback_status, prev->fallback_status,
                             NULL);
    ngx_conf_merge_ptr_value(conf->session, prev->session, NULL);
    ngx_conf_merge_str_value(conf->force_header, prev->force_header, "");
    ngx_conf_merge_value(conf->admin, prev->admin, 0);
    ngx_conf_merge_ptr_value(conf->secrets, prev->secrets, NULL);
    ngx_conf_merge_str_value(conf->header, prev->header, "X-Mock");
    ngx_conf_merge_uint_value(conf->template, prev->template,
                              NGX_HTTP_MOCK_TEMPLATE_MARKED);
    ngx_conf_merge_size_value(conf->template_vars, prev->template_vars,
                              16 * 1024);
    ngx_conf_merge_value(conf->refresh_dates, prev->refresh_dates, 0);
    ngx_conf_merge_ptr_value(conf->fault, prev->fault, NULL);
    ngx_conf_merge_ptr_value(conf->upstream_fault, prev->upstream_fault,
                             NULL);
    ngx_conf_merge_ptr_value(conf->audit, prev->audit, NULL);
    ngx_conf_merge_sec_value(conf->record_expire, prev->record_expire, 0);
    ngx_conf_merge_ptr_value(conf->verify.headers, prev->verify.headers,
                             NULL);
    ngx_conf_merge_value(conf->verify.values, prev->verify.values, 0);
    ngx_conf_merge_ptr_value(conf->verify.ignore, prev->verify.ignore, NULL);
    ngx_conf_merge_uint_value(conf->verify.sample, prev->verify.sample, 0);

    if (conf->latency.type == NGX_HTTP_MOCK_LATENCY_UNSET) {
        conf->latency = prev->latency;
        conf->latency_file = prev->latency_file;
        conf->latency_line = prev->latency_line;
    }

    if (ngx_http_mock_latency_check(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    /* where an operator forbids switching, nothing inside may allow it */

    if (prev->request_mode == NGX_HTTP_MOCK_SWITCH_FORBID
        && conf->request_mode == NGX_HTTP_MOCK_SWITCH_ON)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mock_request_mode on\" where an enclosing "
                           "block has \"mock_request_mode forbid\"");
        return NGX_CONF_ERROR;
    }

    if (conf->request_mode == NGX_CONF_UNSET_UINT
        || prev->request_mode == NGX_HTTP_MOCK_SWITCH_FORBID)
    {
        conf->request_mode = (prev->request_mode == NGX_CONF_UNSET_UINT)
                             ? NGX_HTTP_MOCK_SWITCH_OFF : prev->request_mode;
    }

    if (conf->request_mode == NGX_HTTP_MOCK_SWITCH_ON
        && (conf->secrets == NULL || conf->secrets->nelts == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"mock_request_mode on\" needs "
                           "\"mock_token_secret\"");
        return NGX_CONF_ERROR;
    }

    if (conf->fallback_status == NULL) {
        conf->fallback_status = ngx_array_create(cf->pool, 3,
                                                 sizeof(ngx_uint_t));
        if (conf->fallback_status == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = NGX_HTTP_BAD_GATEWAY; i <= NGX_HTTP_GATEWAY_TIME_OUT; i++) {
            code = ngx_array_push(conf->fallback_status);
            if (code == NULL) {
                return NGX_CONF_ERROR;
            }

            *code = i;
        }
    }

    if (conf->replay.len == 0
        || (conf->mode == NGX_HTTP_MOCK_MODE_OFF
            && conf->request_mode != NGX_HTTP_MOCK_SWITCH_ON
            && conf->verify.sample == 0))
    {
        return NGX_CONF_OK;
    }

    mmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_mock_module);

    if (ngx_http_mock_template_cassettes(cf, mmcf->parse_pool,
                                         conf->cassettes, conf->template)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    conf->store = ngx_http_mock_store_get(cf, mmcf, conf);
    if (conf->store == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the metrics count per location */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* verify compares what proxy_pass (or another handler) answers */

    if ((conf->mode == NGX_HTTP_MOCK_MODE_VERIFY || conf->verify.sample)
        && clcf->handler == NULL && clcf->name.len && !clcf->noname
        && !conf->admin)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "mock: \"mock_mode verify\" and \"mock_verify_sample\" "
                      "need a \"proxy_pass\" to verify against, in the "
                      "location of \"mock_replay\" in %s:%ui",
                      conf->replay_file, conf->replay_line);
        return NGX_CONF_ERROR;
    }

    if (clcf->name.len && conf->slot == NGX_CONF_UNSET_UINT) {
        slot = ngx_array_push(&mmcf->slots);
        if (slot == NULL) {
            return NGX_CONF_ERROR;
        }

        slot->location = clcf->name;
        slot->cassette = conf->replay;
        slot->mode = conf->mode;
        slot->store = conf->store;
        conf->slot = mmcf->slots.nelts - 1;
    }

    if (conf->store->writer
        || ((conf->mode == NGX_HTTP_MOCK_MODE_REPLAY
             || conf->mode == NGX_HTTP_MOCK_MODE_OFF
             || conf->mode == NGX_HTTP_MOCK_MODE_VERIFY)
            && conf->request_mode != NGX_HTTP_MOCK_SWITCH_ON))
    {
        ngx_http_mock_fallback_writer(conf);
        return NGX_CONF_OK;
    }

    if (conf->store->sessions) {
        /* each session records into its own cassette, opened by workers */
        conf->store->records = 1;
        mmcf->recording = 1;
        return NGX_CONF_OK;
    }

    writer = ngx_http_mock_writer_get(cf, mmcf, conf);
    if (writer == NULL) {
        return NGX_CONF_ERROR;
    }

    sp = ngx_array_push(&writer->stores);
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sp = conf->store;
    conf->store->writer = writer;
    mmcf->recording = 1;

    ngx_http_mock_fallback_writer(conf);

    return NGX_CONF_OK;
}


/* fallback rewrites its cassette: the workers must create files beside it */

static void
ngx_http_mock_fallback_writer(ngx_http_mock_loc_conf_t *conf)
{
    if (conf->store->writer
        && !conf->store->sessions
        && (conf->mode == NGX_HTTP_MOCK_MODE_FALLBACK
            || conf->request_mode == NGX_HTTP_MOCK_SWITCH_ON))
    {
        conf->store->writer->replaces = 1;
    }
}


/* the file that a recording location appends to, checked for writing */

static ngx_http_mock_writer_t *
ngx_http_mock_writer_get(ngx_conf_t *cf, ngx_http_mock_main_conf_t *mmcf,
    ngx_http_mock_loc_conf_t *mlcf)
{
    u_char                     *p, *name;
    ngx_uint_t                  i;
    ngx_pool_cleanup_t         *cln;
    ngx_http_mock_writer_t     *writer, **writers, **wp;
    ngx_http_mock_cassette_t   *cassette;

    cassette = (mlcf->cassettes->nelts == 1)
               ? ((ngx_http_mock_cassette_t **) mlcf->cassettes->elts)[0]
               : NULL;

    if (cassette == NULL
        || cassette->name.len != mlcf->replay.len
        || ngx_strncmp(cassette->name.data, mlcf->replay.data,
                       mlcf->replay.len) != 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "mock: recording needs \"mock_replay\" to name a "
                      "cassette file, or \"mock_session\" with a directory; "
                      "\"%V\" is a directory in %s:%ui",
                      &mlcf->replay, mlcf->replay_file, mlcf->replay_line);
        return NULL;
    }

    writers = mmcf->writers.elts;

    for (i = 0; i < mmcf->writers.nelts; i++) {
        if (writers[i]->cassette == cassette) {
            return writers[i];
        }
    }

    /* an unwritable cassette is known now, not at the first request */

    name = cassette->name.data;

    if (cassette->missing) {
        p = name + cassette->name.len;

        while (p > name && p[-1] != '/') {
            p--;
        }

        name = ngx_pnalloc(cf->temp_pool, p - cassette->name.data + 2);
        if (name == NULL) {
            return NULL;
        }

        p = ngx_http_mock_cpymem(name, cassette->name.data,
                                 p - cassette->name.data);
        if (p == name) {
            *p++ = '.';
        }

        *p = '\0';
    }

    if (access((char *) name, W_OK) == -1) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, ngx_errno,
                      "mock: cassette \"%V\" cannot be written by recording "
                      "(\"%s\") in %s:%ui", &cassette->name, name,
                      mlcf->replay_file, mlcf->replay_line);
        return NULL;
    }

    writer = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_writer_t));
    if (writer == NULL) {
        return NULL;
    }

    /* the parsed cassette goes once the zone holds its copy */

    writer->name.len = cassette->name.len;
    writer->name.data = ngx_pnalloc(cf->pool, cassette->name.len + 1);
    if (writer->name.data == NULL) {
        return NULL;
    }

    ngx_memcpy(writer->name.data, cassette->name.data, cassette->name.len + 1);

    writer->cassette = cassette;
    writer->fd = NGX_INVALID_FILE;

    if (ngx_array_init(&writer->stores, cf->pool, 1,
                       sizeof(ngx_http_mock_store_t *))
        != NGX_OK)
    {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_mock_writer_cleanup;
    cln->data = writer;

    wp = ngx_array_push(&mmcf->writers);
    if (wp == NULL) {
        return NULL;
    }

    *wp = writer;

    return writer;
}


/*
 * A store that only replays a cassette that another location records
 * into sees the recordings too.
 */

static ngx_int_t
ngx_http_mock_store_attach(ngx_conf_t *cf, ngx_http_mock_main_conf_t *mmcf,
    ngx_http_mock_store_t *store)
{
    ngx_uint_t                  i, j;
    ngx_http_mock_store_t     **sp;
    ngx_http_mock_writer_t    **writers;
    ngx_http_mock_cassette_t  **cassettes;

    if (store->writer) {
        return NGX_OK;
    }

    writers = mmcf->writers.elts;
    cassettes = store->cassettes->elts;

    for (i = 0; i < mmcf->writers.nelts; i++) {
        for (j = 0; j < store->cassettes->nelts; j++) {
            if (cassettes[j] != writers[i]->cassette) {
                continue;
            }

            sp = ngx_array_push(&writers[i]->stores);
            if (sp == NULL) {
                return NGX_ERROR;
            }

            *sp = store;
            store->writer = writers[i];

            return NGX_OK;
        }
    }

    /* only recording may start from a cassette that does not exist */

    for (j = 0; j < store->cassettes->nelts; j++) {
        if (cassettes[j]->missing) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, NGX_ENOENT,
                          "mock: cassette \"%V\" cannot be read in %s:%ui",
                          &cassettes[j]->name, store->file, store->line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_mock_writer_cleanup(void *data)
{
    ngx_http_mock_writer_t  *writer = data;

    if (writer->fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(writer->fd);
        writer->fd = NGX_INVALID_FILE;
    }
}


/*
 * Locations that replay the same cassettes under the same matchers share
 * one store, and so one index and one set of sequence counters.
 */

static ngx_http_mock_store_t *
ngx_http_mock_store_get(ngx_conf_t *cf, ngx_http_mock_main_conf_t *mmcf,
    ngx_http_mock_loc_conf_t *mlcf)
{
    ngx_str_t                   path;
    ngx_uint_t                  i, sessions;
    ngx_http_mock_store_t      *store, **stores, **sp;
    ngx_http_mock_cassette_t  **cassettes;

    /* a session directory: a mock_session and not a single file */

    cassettes = mlcf->cassettes->elts;

    sessions = (mlcf->session != NULL
                && !(mlcf->cassettes->nelts == 1
                     && cassettes[0]->name.len == mlcf->replay.len));

    stores = mmcf->stores.elts;

    for (i = 0; i < mmcf->stores.nelts; i++) {
        store = stores[i];

        if (store->path.len == mlcf->replay.len
            && ngx_strncmp(store->path.data, mlcf->replay.data,
                           mlcf->replay.len) == 0
            && store->match->text.len == mlcf->match->text.len
            && ngx_strncmp(store->match->text.data, mlcf->match->text.data,
                           mlcf->match->text.len) == 0
            && store->sessions == sessions
            && store->template == mlcf->template)
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
    store->file = mlcf->replay_file;
    store->line = mlcf->replay_line;
    store->sessions = sessions;
    store->template = mlcf->template;
    /*
     * Redis names the store by its path as configured: one nginx.conf
     * deployed under several prefixes is one fleet, each instance with
     * its own files.
     */

    path = mlcf->replay_conf;

    while (path.len > 1 && path.data[path.len - 1] == '/') {
        path.len--;
    }

    store->id = ngx_crc32_long(path.data, path.len)
                ^ ngx_crc32_long(mlcf->match->text.data,
                                 mlcf->match->text.len);

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
    ngx_int_t                  rc, sampled;
    ngx_uint_t                 mode;
    ngx_http_mock_ctx_t       *ctx;
    ngx_http_mock_store_t     *store;
    ngx_http_mock_loc_conf_t  *mlcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    store = mlcf->store;

    if (store == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);
    sampled = NGX_CONF_UNSET;

    if (ctx == NULL
        && mlcf->mode == NGX_HTTP_MOCK_MODE_OFF
        && mlcf->request_mode != NGX_HTTP_MOCK_SWITCH_ON)
    {
        /*
         * "off" with mock_verify_sample: what is not sampled is left alone,
         * as where nothing is sampled
         */

        sampled = ngx_http_mock_verify_sampled(r, mlcf);

        if (!sampled) {
            return NGX_DECLINED;
        }
    }

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_mock_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_mock_module);

        rc = ngx_http_mock_session_value(r, mlcf, &ctx->session);

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "mock: session is longer than %d bytes",
                          NGX_HTTP_MOCK_SESSION_MAX);
            return NGX_HTTP_BAD_REQUEST;
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->mode = mlcf->mode;

        if (mlcf->request_mode == NGX_HTTP_MOCK_SWITCH_ON) {
            rc = ngx_http_mock_switch(r, mlcf, ctx, &ctx->mode);

            if (rc != NGX_OK && rc != NGX_DECLINED) {
                return rc;
            }
        }

        /* the index is held until the request ends: no reload frees it */

        if (store->sessions) {
            ngx_shmtx_lock(&store->shpool->mutex);

            ctx->index = ngx_http_mock_session_index(store, &ctx->session, 0,
                                                     NULL, NULL);
            rc = ctx->index ? ngx_http_mock_store_hold(r, ctx->index)
                            : NGX_OK;

            ngx_shmtx_unlock(&store->shpool->mutex);

            if (rc != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

        } else {
            ctx->index = ngx_http_mock_store_current(r, store);

            if (ctx->index == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

    } else if (ctx->decided) {
        return NGX_DECLINED;
    }

    mode = ctx->mode;

    if (mode == NGX_HTTP_MOCK_MODE_ONCE) {
        /* as vcrpy's "once": record only into a cassette still empty */
        mode = (ctx->index && ctx->index->nloaded) ? NGX_HTTP_MOCK_MODE_REPLAY
                                                   : NGX_HTTP_MOCK_MODE_RECORD;
    }

    /* mock_verify_sample: a share of what replays or proxies is verified */

    if ((mode == NGX_HTTP_MOCK_MODE_REPLAY || mode == NGX_HTTP_MOCK_MODE_OFF)
        && (sampled == NGX_CONF_UNSET ? ngx_http_mock_verify_sampled(r, mlcf)
                                      : (ngx_uint_t) sampled))
    {
        mode = NGX_HTTP_MOCK_MODE_VERIFY;
    }

    if (mode == NGX_HTTP_MOCK_MODE_OFF) {
        /* switched off for this request: plain proxying */
        ctx->decided = 1;
        return NGX_DECLINED;
    }

    ctx->mode = mode;

    /* a WebSocket is proxied untouched, or refused where the mock replays */

    if (ngx_http_mock_upgrade(r, ctx) == NGX_OK) {
        return NGX_DECLINED;
    }

    switch (mode) {

    case NGX_HTTP_MOCK_MODE_NEW_EPISODES:
        return ngx_http_mock_new_episodes(r, ctx, mlcf);

    case NGX_HTTP_MOCK_MODE_RECORD:
        ctx->record = 1;
        break;

    case NGX_HTTP_MOCK_MODE_FALLBACK:
        ctx->record = 1;
        ctx->fallback = 1;

        /* a fault on the upstream path: the fallback answers for it */

        if ((mlcf->upstream_fault || store->sh->nsettings
             || ctx->asked_fault)
            && ngx_http_mock_fault_pick(r, 1))
        {
            r->content_handler = ngx_http_mock_fault_upstream;
        }

        break;

    case NGX_HTTP_MOCK_MODE_VERIFY:
        /* proxy_pass answers; the answer is compared on its way */
        (void) ngx_http_mock_verify_start(r, ctx);
        break;

    default: /* NGX_HTTP_MOCK_MODE_REPLAY */

        /* replay answers instead of whatever content handler is set */
        r->content_handler = ngx_http_mock_replay_handler;
        break;
    }

    ctx->decided = 1;

    return NGX_DECLINED;
}


/* replay what matches; what does not goes to the upstream and is recorded */

static ngx_int_t
ngx_http_mock_new_episodes(ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx,
    ngx_http_mock_loc_conf_t *mlcf)
{
    ngx_int_t                     rc;
    ngx_http_mock_key_t           key;
    ngx_http_mock_interaction_t  *it;

    if ((mlcf->match->mask & NGX_HTTP_MOCK_MATCH_BODY)
        && r->request_body == NULL)
    {
        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_mock_precontent_body);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        ngx_http_finalize_request(r, NGX_DONE);
        return NGX_DONE;
    }

    ngx_memzero(&key, sizeof(ngx_http_mock_key_t));

    if (ngx_http_mock_live_key(r, mlcf, &key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a fleet keeps forced answers and counters in Redis */

    it = NULL;

    /* the answer a request header names is this request's own */

    if (ngx_http_mock_fleet_on(r)
        && mlcf->force_header.len
        && ngx_http_mock_header_in(r, &mlcf->force_header))
    {
        it = ngx_http_mock_replay_forced(r, mlcf, &key);
    }

    if (it == NULL && !ctx->fleet_asked && !ctx->fleet_failed
        && ngx_http_mock_fleet_on(r))
    {
        rc = ngx_http_mock_new_episodes_fleet(r, ctx, mlcf, &key);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    if (it == NULL && ctx->fleet_asked && ctx->fleet_forced.len) {
        it = ngx_http_mock_fleet_forced(ctx->index, &key.path,
                                        &ctx->fleet_forced);
    }

    if (it == NULL && !ctx->fleet_asked) {
        it = ngx_http_mock_replay_forced(r, mlcf, &key);
    }

    if (it == NULL) {
        it = ngx_http_mock_store_take(mlcf->store, ctx->index, &ctx->session,
                                      &key, mlcf->match, mlcf->repeats,
                                      ctx->fleet_asked ? ctx->fleet_play : -1,
                                      &ctx->seq);

        /* an expired recording is recorded again, in its place */

        if (it && ngx_http_mock_expire_due(mlcf, it)) {
            rc = ngx_http_mock_expire_renew(r, ctx, mlcf, it);

            if (rc == NGX_ERROR) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (rc == NGX_OK) {
                ctx->decided = 1;
                ctx->record = 1;
                return NGX_DECLINED;
            }
        }
    }

    ctx->decided = 1;

    /* what no counter of the fleet says: forced, "mock_repeats on" */

    if (it && ctx->fleet_asked && ctx->fleet_play < 0) {
        ngx_http_mock_fleet_played(r, mlcf->store, it);
    }

    if (it) {
        ctx->status = NGX_HTTP_MOCK_HIT;
        ctx->interaction = it;
        r->content_handler = ngx_http_mock_hit_handler;
        return NGX_DECLINED;
    }

    /* the recording will count as the play this request made */

    ctx->record = 1;
    ctx->consumed = 1;

    return NGX_DECLINED;
}


/*
 * new_episodes in a fleet: Redis counts the play (and gives the forced
 * answer and the session's values) before the request is replayed or
 * recorded; the phases go on when it has answered.
 */

static ngx_int_t
ngx_http_mock_new_episodes_fleet(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_key_t *key)
{
    ngx_uint_t              lock;
    ngx_http_mock_group_t  *g;
    ngx_http_mock_store_t  *store;

    store = mlcf->store;
    lock = (store->writer || store->sessions || ctx->session.len);

    if (lock) {
        ngx_shmtx_lock(&store->shpool->mutex);
    }

    g = ctx->index ? ngx_http_mock_store_find(ctx->index, key, mlcf->match)
                   : NULL;

    /* a first recording names its group's counter with it */
    ctx->fleet_hash = ngx_http_mock_key_hash(key, mlcf->match);

    if (lock) {
        ngx_shmtx_unlock(&store->shpool->mutex);
    }

    /* under "mock_repeats on" the zone counts: no Redis key is made */

    return ngx_http_mock_fleet_state(r, store,
                                     mlcf->repeats == NGX_HTTP_MOCK_REPEATS_ON
                                     ? NULL : g,
                                     &key->method, &key->path, 0,
                                     ctx->session.len && ctx->index
                                     && ctx->index->var_templates,
                                     ngx_http_mock_new_episodes_done, NULL);
}


static ngx_int_t
ngx_http_mock_new_episodes_done(ngx_http_request_t *r, void *data,
    ngx_http_mock_fleet_state_t *st)
{
    ngx_http_mock_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (st == NULL) {
        /* Redis could not answer: this instance decides, as it can */
        ctx->fleet_failed = 1;

    } else {
        ctx->fleet_asked = 1;
        ctx->fleet_play = st->play;
        ctx->fleet_forced = st->forced;

        if (st->vars
            && ngx_http_mock_session_vars_load(r, st->vars) != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* the session's latency, for the answer a hit replays */

        if (ngx_http_mock_fleet_settings(r, st) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);

    return NGX_DONE;
}


static void
ngx_http_mock_precontent_body(ngx_http_request_t *r)
{
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
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
    mlcf->replay_conf = value[1];
    mlcf->replay_file = cf->conf_file->file.name.data;
    mlcf->replay_line = cf->conf_file->line;

    if (ngx_conf_full_name(cf->cycle, &mlcf->replay, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * "cassettes/" and "cassettes" name one directory: its files and
     * session cassettes are "cassettes/<name>", never "cassettes//<name>"
     */

    while (mlcf->replay.len > 1
           && mlcf->replay.data[mlcf->replay.len - 1] == '/')
    {
        mlcf->replay.data[--mlcf->replay.len] = '\0';
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

        p = ngx_http_mock_cpymem(p, value[i].data, value[i].len);
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
ngx_http_mock_fallback_status_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i, *code;

    if (mlcf->fallback_status != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    mlcf->fallback_status = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                             sizeof(ngx_uint_t));
    if (mlcf->fallback_status == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        n = ngx_atoi(value[i].data, value[i].len);

        if (n < 400 || n > 599) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid status \"%V\", expected a code "
                               "from 400 to 599", &value[i]);
            return NGX_CONF_ERROR;
        }

        code = ngx_array_push(mlcf->fallback_status);
        if (code == NULL) {
            return NGX_CONF_ERROR;
        }

        *code = n;
    }

    return NGX_CONF_OK;
}


/* mock_record_templates on|off [min=N] [headers=Name,...] */

static char *
ngx_http_mock_record_templates(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    u_char                      *p, *last, *start, c;
    ngx_int_t                    n;
    ngx_str_t                   *value, *name;
    ngx_uint_t                   i, min;
    ngx_http_mock_learn_conf_t  *lcf;

    if (mlcf->record_templates != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"mock_record_templates off\" takes no "
                               "parameters, found \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        mlcf->record_templates = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[1].data, "on") != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", expected \"on\" or "
                           "\"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_mock_learn_conf_t));
    if (lcf == NULL) {
        return NGX_CONF_ERROR;
    }

    min = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "min=", 4) == 0 && min == 0) {
            n = ngx_atoi(value[i].data + 4, value[i].len - 4);

            if (n < 1 || n > 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", expected min=N with N "
                                   "from 1 to 1024 characters", &value[i]);
                return NGX_CONF_ERROR;
            }

            min = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "headers=", 8) == 0
            && lcf->headers == NULL)
        {
            lcf->headers = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
            if (lcf->headers == NULL) {
                return NGX_CONF_ERROR;
            }

            p = value[i].data + 8;
            last = value[i].data + value[i].len;

            for ( ;; ) {
                start = p;

                while (p < last && *p != ',') {
                    c = (u_char) (*p | 0x20);

                    if (!((c >= 'a' && c <= 'z') || (*p >= '0' && *p <= '9')
                          || *p == '-' || *p == '_'))
                    {
                        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                           "invalid \"%V\": a header name "
                                           "may have only letters, digits, "
                                           "\"-\" and \"_\"", &value[i]);
                        return NGX_CONF_ERROR;
                    }

                    p++;
                }

                if (p == start) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid \"%V\": an empty header "
                                       "name", &value[i]);
                    return NGX_CONF_ERROR;
                }

                name = ngx_array_push(lcf->headers);
                if (name == NULL) {
                    return NGX_CONF_ERROR;
                }

                name->data = start;
                name->len = p - start;

                if (p == last) {
                    break;
                }

                p++;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" (or given twice), "
                           "expected \"min=N\" or \"headers=Name,...\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    lcf->min = min ? min : 4;
    mlcf->record_templates = lcf;

    return NGX_CONF_OK;
}


/* a header name, or "off" for none (an empty name) */

static char *
ngx_http_mock_header_name(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t  *field, *value;

    field = (ngx_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        ngx_str_set(field, "");
        return NGX_CONF_OK;
    }

    *field = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_mock_admin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_mock_loc_conf_t *mlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->admin == 1) {
        return "is duplicate";
    }

    mlcf->admin = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_mock_admin_handler;

    return NGX_CONF_OK;
}


/* the journal of recent requests that a mock location handled */

static ngx_int_t
ngx_http_mock_log_handler(ngx_http_request_t *r)
{
    ngx_http_mock_ctx_t        *ctx;
    ngx_http_mock_shctx_t      *sh;
    ngx_http_mock_loc_conf_t   *mlcf;
    ngx_http_mock_main_conf_t  *mmcf;

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_mock_module);

    if (mlcf->admin == 1) {
        ngx_http_mock_audit_end(r);
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_mock_module);

    if (ctx == NULL || ctx->status == NGX_HTTP_MOCK_NONE) {
        return NGX_OK;
    }

    mmcf = ngx_http_get_module_main_conf(r, ngx_http_mock_module);

    if (mmcf->sh == NULL) {
        return NGX_OK;
    }

    if (mlcf->slot != NGX_CONF_UNSET_UINT) {
        sh = mmcf->sh;

        sh->metrics[((ngx_worker % sh->nworkers) * sh->nslots + mlcf->slot)
                    * NGX_HTTP_MOCK_NRESULTS + ctx->status]++;
    }

    ngx_http_mock_journal_add(mmcf->sh, r, ctx);
    ngx_http_mock_fleet_journal_add(r, ctx, mmcf->journal_size);

    /* an answer from a recording after the upstream failed, for "unused" */

    if ((ctx->status == NGX_HTTP_MOCK_FALLBACK
         || ctx->status == NGX_HTTP_MOCK_FAULT_FALLBACK)
        && ctx->interaction)
    {
        ngx_http_mock_fleet_played(r, mlcf->store, ctx->interaction);
    }

    return NGX_OK;
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
