
/*
 * ngx_http_mock_module: record & replay mocks of the services behind
 * an nginx location, from vcrpy cassettes held in shared memory.
 */


#ifndef _NGX_HTTP_MOCK_MODULE_H_INCLUDED_
#define _NGX_HTTP_MOCK_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* matchers: which parts of a request must equal the recorded one */
#define NGX_HTTP_MOCK_MATCH_METHOD   0x0001
#define NGX_HTTP_MOCK_MATCH_SCHEME   0x0002
#define NGX_HTTP_MOCK_MATCH_HOST     0x0004
#define NGX_HTTP_MOCK_MATCH_PORT     0x0008
#define NGX_HTTP_MOCK_MATCH_PATH     0x0010
#define NGX_HTTP_MOCK_MATCH_QUERY    0x0020
#define NGX_HTTP_MOCK_MATCH_BODY     0x0040
#define NGX_HTTP_MOCK_MATCH_HEADERS  0x0080

#define NGX_HTTP_MOCK_MATCH_DEFAULT                                          \
    (NGX_HTTP_MOCK_MATCH_METHOD|NGX_HTTP_MOCK_MATCH_PATH                     \
     |NGX_HTTP_MOCK_MATCH_QUERY)


/* what happened to a request, as $mock_status tells it */
#define NGX_HTTP_MOCK_NONE           0
#define NGX_HTTP_MOCK_HIT            1
#define NGX_HTTP_MOCK_MISS           2
#define NGX_HTTP_MOCK_EXHAUSTED      3
#define NGX_HTTP_MOCK_NOT_ALLOWED    4


/* how a recorded response header is replayed */
#define NGX_HTTP_MOCK_HEADER_PLAIN             0
#define NGX_HTTP_MOCK_HEADER_SKIP              1
#define NGX_HTTP_MOCK_HEADER_CONTENT_TYPE      2
#define NGX_HTTP_MOCK_HEADER_CONTENT_ENCODING  3
#define NGX_HTTP_MOCK_HEADER_DATE              4
#define NGX_HTTP_MOCK_HEADER_SERVER            5


typedef struct {
    ngx_uint_t                    mask;
    ngx_array_t                  *headers;      /* ngx_str_t, lowercase */
    ngx_str_t                     text;         /* canonical, for sharing */
} ngx_http_mock_match_t;


/*
 * The parts of a request that matchers compare, in canonical form:
 * the path is percent-decoded, the query sorted, JSON and form bodies
 * normalized.  Both recorded and live requests are reduced to this.
 */
typedef struct {
    ngx_str_t                     method;
    ngx_str_t                     scheme;
    ngx_str_t                     host;
    ngx_str_t                     path;
    ngx_str_t                     query;
    ngx_str_t                     body;
    ngx_uint_t                    port;
    ngx_str_t                    *headers;      /* one per match header */
} ngx_http_mock_key_t;


typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     value;
    u_char                       *lowcase;
    ngx_uint_t                    hash;
    ngx_uint_t                    type;
} ngx_http_mock_header_t;


typedef struct ngx_http_mock_interaction_s  ngx_http_mock_interaction_t;

struct ngx_http_mock_interaction_s {
    ngx_http_mock_key_t           key;
    ngx_str_t                    *cassette;
    ngx_uint_t                    index;
    ngx_str_t                     uri;          /* as recorded */

    ngx_uint_t                    status;
    ngx_str_t                     status_line;
    ngx_http_mock_header_t       *headers;
    ngx_uint_t                    nheaders;
    ngx_str_t                     body;

    ngx_http_mock_interaction_t  *next_path;    /* same path, file order */
};


/* identical requests: their interactions are played in file order */
typedef struct {
    uint32_t                      hash;
    ngx_uint_t                    n;
    ngx_atomic_t                  played;
    ngx_http_mock_interaction_t **items;
} ngx_http_mock_group_t;


/* a store's data in the shared zone */
typedef struct {
    ngx_uint_t                    ninteractions;
    ngx_http_mock_interaction_t  *interactions;
    ngx_uint_t                    group_mask;
    ngx_http_mock_group_t       **groups;
    ngx_uint_t                    path_mask;
    ngx_http_mock_interaction_t **paths;
    size_t                        size;
} ngx_http_mock_index_t;


/* one recorded interaction as parsed from a cassette file */
typedef struct {
    ngx_uint_t                    line;
    ngx_uint_t                    index;
    ngx_http_mock_key_t           key;          /* without headers */
    ngx_str_t                     uri;
    ngx_array_t                   req_headers;  /* ngx_table_elt_t */
    ngx_uint_t                    status;
    ngx_str_t                     reason;
    ngx_array_t                   headers;      /* ngx_table_elt_t */
    ngx_str_t                     body;
} ngx_http_mock_record_t;


typedef struct {
    ngx_str_t                     name;         /* full path */
    ngx_array_t                   records;      /* ngx_http_mock_record_t */
} ngx_http_mock_cassette_t;


/* what one location replays: cassettes, indexed under a match spec */
typedef struct {
    ngx_str_t                     path;         /* file or directory */
    ngx_array_t                  *cassettes;    /* ngx_http_mock_cassette_t * */
    ngx_http_mock_match_t        *match;
    ngx_http_mock_index_t        *index;        /* in the shared zone */
} ngx_http_mock_store_t;


typedef struct {
    ngx_shm_zone_t               *shm_zone;
    ngx_slab_pool_t              *shpool;
    ngx_array_t                   stores;       /* ngx_http_mock_store_t * */
    ngx_array_t                   cassettes;    /* ngx_http_mock_cassette_t * */
    ngx_pool_t                   *parse_pool;
    size_t                        size;         /* needed by all stores */
} ngx_http_mock_main_conf_t;


typedef struct {
    ngx_str_t                     scheme;
    ngx_str_t                     host;
    ngx_uint_t                    port;
    ngx_str_t                     path;
    ngx_uint_t                    has_path;     /* unsigned  has_path:1; */
} ngx_http_mock_upstream_t;


typedef struct {
    ngx_http_mock_store_t        *store;
    ngx_str_t                     replay;       /* full path */
    ngx_array_t                  *cassettes;    /* ngx_http_mock_cassette_t * */
    ngx_http_mock_match_t        *match;
    ngx_http_mock_upstream_t     *upstream;
    ngx_str_t                     location;     /* prefix to replace */
    ngx_flag_t                    repeats;
    ngx_uint_t                    miss_status;
} ngx_http_mock_loc_conf_t;


typedef struct {
    ngx_uint_t                    status;
    ngx_http_mock_interaction_t  *interaction;
} ngx_http_mock_ctx_t;


/* ngx_http_mock_cassette.c */
ngx_http_mock_cassette_t *ngx_http_mock_cassette_load(ngx_conf_t *cf,
    ngx_pool_t *pool, ngx_str_t *name);
ngx_int_t ngx_http_mock_cassettes_open(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_str_t *path, ngx_array_t *cassettes, ngx_array_t *cache);

/* ngx_http_mock_store.c */
ngx_int_t ngx_http_mock_store_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
size_t ngx_http_mock_store_size(ngx_http_mock_store_t *store);
ngx_http_mock_group_t *ngx_http_mock_store_find(ngx_http_mock_index_t *index,
    ngx_http_mock_key_t *key, ngx_http_mock_match_t *match);
ngx_http_mock_interaction_t *ngx_http_mock_store_path(
    ngx_http_mock_index_t *index, ngx_str_t *path);

/* ngx_http_mock_match.c */
char *ngx_http_mock_parse_url(ngx_pool_t *pool, ngx_str_t *url,
    ngx_http_mock_key_t *key);
ngx_int_t ngx_http_mock_canon_query(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out);
ngx_int_t ngx_http_mock_canon_body(ngx_pool_t *pool, ngx_str_t *type,
    ngx_str_t *in, ngx_str_t *out);
ngx_int_t ngx_http_mock_request_key(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key);
uint32_t ngx_http_mock_key_hash(ngx_http_mock_key_t *key,
    ngx_http_mock_match_t *match);
ngx_uint_t ngx_http_mock_key_diff(ngx_http_mock_key_t *a,
    ngx_http_mock_key_t *b, ngx_http_mock_match_t *match);
uint32_t ngx_http_mock_path_hash(ngx_str_t *path);
u_char *ngx_http_mock_match_names(u_char *p, ngx_uint_t mask);
ngx_uint_t ngx_http_mock_matcher_mask(ngx_str_t *name);
size_t ngx_http_mock_match_names_len(ngx_uint_t mask);

/* ngx_http_mock_json.c */
ngx_int_t ngx_http_mock_json_canon(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out);

/* ngx_http_mock_replay.c */
ngx_int_t ngx_http_mock_replay_handler(ngx_http_request_t *r);

/* ngx_http_mock_variables.c */
ngx_int_t ngx_http_mock_add_variables(ngx_conf_t *cf);


extern ngx_module_t  ngx_http_mock_module;


#endif /* _NGX_HTTP_MOCK_MODULE_H_INCLUDED_ */
