
/*
 * ngx_http_mock_module: record & replay mocks of the services behind
 * an nginx location, from vcrpy cassettes held in shared memory.
 */


#ifndef _NGX_HTTP_MOCK_MODULE_H_INCLUDED_
#define _NGX_HTTP_MOCK_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* ngx_cpymem() for strings that may be empty, with no data pointer */
#define ngx_http_mock_cpymem(dst, src, n)                                    \
    (((n) == 0) ? (u_char *) (dst) : ngx_cpymem(dst, src, n))


/*
 * Whether one of the eight bytes of x may be a quote, a backslash or a
 * control character: never wrong when it is 0, and a byte it flags in
 * error is looked at one by one.
 */
#define ngx_http_mock_json_ones    0x0101010101010101ULL
#define ngx_http_mock_json_highs   0x8080808080808080ULL
#define ngx_http_mock_json_zero(v)                                          \
    (((v) - ngx_http_mock_json_ones) & ~(v) & ngx_http_mock_json_highs)
#define ngx_http_mock_json_special(x)                                       \
    (ngx_http_mock_json_zero((x) ^ (ngx_http_mock_json_ones * '"'))         \
     | ngx_http_mock_json_zero((x) ^ (ngx_http_mock_json_ones * '\\'))     \
     | (((x) - ngx_http_mock_json_ones * 0x20) & ~(x)                       \
        & ngx_http_mock_json_highs))


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


/* the comment line that ends every interaction the module records */
#define NGX_HTTP_MOCK_RECORDED_MARK  "# recorded "

/* the most interactions that one write appends to a cassette */
#define NGX_HTTP_MOCK_APPEND_MAX     64

/* c->buffered: a response waits for the write of its recording */
#define NGX_HTTP_MOCK_BUFFERED       0x80

/* what a cassette that recording creates begins with */
#define NGX_HTTP_MOCK_CASSETTE_HEAD                                          \
    "# recorded by nginx: new interactions are appended at the end\n"         \
    "version: 1\ninteractions:\n"


/* what happened to a request, as $mock_status tells it */
#define NGX_HTTP_MOCK_NONE           0
#define NGX_HTTP_MOCK_HIT            1
#define NGX_HTTP_MOCK_MISS           2
#define NGX_HTTP_MOCK_EXHAUSTED      3
#define NGX_HTTP_MOCK_NOT_ALLOWED    4
#define NGX_HTTP_MOCK_RECORDED       5
#define NGX_HTTP_MOCK_PASSTHROUGH    6
#define NGX_HTTP_MOCK_FALLBACK       7
#define NGX_HTTP_MOCK_REFUSED        8
#define NGX_HTTP_MOCK_FAULT          9
#define NGX_HTTP_MOCK_UPGRADE        10
#define NGX_HTTP_MOCK_FAULT_FALLBACK 11
#define NGX_HTTP_MOCK_VERIFIED       12
#define NGX_HTTP_MOCK_DRIFT          13
#define NGX_HTTP_MOCK_UNRECORDED     14
#define NGX_HTTP_MOCK_NRESULTS       15


/* mock_latency: how long an answer waits */
#define NGX_HTTP_MOCK_LATENCY_UNSET      0
#define NGX_HTTP_MOCK_LATENCY_OFF        1
#define NGX_HTTP_MOCK_LATENCY_FIXED      2
#define NGX_HTTP_MOCK_LATENCY_UNIFORM    3
#define NGX_HTTP_MOCK_LATENCY_LOGNORMAL  4
#define NGX_HTTP_MOCK_LATENCY_RECORDED   5

#define NGX_HTTP_MOCK_SCALE_ONE          1000   /* "x1", in thousandths */
#define NGX_HTTP_MOCK_SCALE_MAX          100000 /* "x100" */

typedef struct {
    uint32_t                      type;
    uint32_t                      min;          /* ms; a lognormal's median */
    uint32_t                      max;          /* ms */
    uint32_t                      seed;
    float                         sigma;
    uint32_t                      seeded;
    uint32_t                      scale;        /* recorded: thousandths */
} ngx_http_mock_latency_t;


/* one piece of a streamed body, as the upstream sent it */
typedef struct {
    size_t                        len;
    ngx_msec_t                    at;           /* ms after the header */
} ngx_http_mock_chunk_t;


/*
 * How long the upstream took (x_mock timing and chunks): to its header,
 * and from the header to the end of its body; a streamed body's chunks.
 */
#define NGX_HTTP_MOCK_CHUNKS_MAX         4096

typedef struct {
    ngx_msec_t                    header;
    ngx_msec_t                    body;
    ngx_uint_t                    timed;        /* header and body known */
    ngx_uint_t                    nchunks;
    ngx_http_mock_chunk_t        *chunks;
} ngx_http_mock_timing_t;


/* mock_fault: what a request gets in place of its answer */
#define NGX_HTTP_MOCK_FAULT_NONE       0
#define NGX_HTTP_MOCK_FAULT_STATUS     1
#define NGX_HTTP_MOCK_FAULT_RESET      2
#define NGX_HTTP_MOCK_FAULT_EMPTY      3
#define NGX_HTTP_MOCK_FAULT_TRUNCATE   4
#define NGX_HTTP_MOCK_FAULT_STALL      5
#define NGX_HTTP_MOCK_FAULT_MALFORMED  6

#define NGX_HTTP_MOCK_RATE_ALL         10000   /* hundredths of a percent */

typedef struct {
    ngx_uint_t                    type;
    ngx_uint_t                    value;        /* status, percent, ms */
    ngx_uint_t                    rate;         /* in hundredths of 1% */
    uint32_t                      seed;
    ngx_uint_t                    seeded;       /* unsigned  seeded:1; */
    ngx_uint_t                    upstream;     /* on fallback's upstream */
} ngx_http_mock_fault_t;


/* what goes on when a delay is over */
typedef ngx_int_t (*ngx_http_mock_resume_pt)(ngx_http_request_t *r);


/* mock_request_mode */
#define NGX_HTTP_MOCK_SWITCH_OFF     1
#define NGX_HTTP_MOCK_SWITCH_ON      2
#define NGX_HTTP_MOCK_SWITCH_FORBID  3


/* mock_mode */
#define NGX_HTTP_MOCK_MODE_OFF           1
#define NGX_HTTP_MOCK_MODE_REPLAY        2
#define NGX_HTTP_MOCK_MODE_RECORD        3
#define NGX_HTTP_MOCK_MODE_NEW_EPISODES  4
#define NGX_HTTP_MOCK_MODE_ONCE          5
#define NGX_HTTP_MOCK_MODE_FALLBACK      6
#define NGX_HTTP_MOCK_MODE_VERIFY        7


/* mock_filter_* */
#define NGX_HTTP_MOCK_FILTER_HEADER  1
#define NGX_HTTP_MOCK_FILTER_QUERY   2
#define NGX_HTTP_MOCK_FILTER_BODY    3


/* how a recorded response header is replayed */
#define NGX_HTTP_MOCK_HEADER_PLAIN             0
#define NGX_HTTP_MOCK_HEADER_SKIP              1
#define NGX_HTTP_MOCK_HEADER_CONTENT_TYPE      2
#define NGX_HTTP_MOCK_HEADER_CONTENT_ENCODING  3
#define NGX_HTTP_MOCK_HEADER_DATE              4
#define NGX_HTTP_MOCK_HEADER_SERVER            5
#define NGX_HTTP_MOCK_HEADER_EXPIRES           6
#define NGX_HTTP_MOCK_HEADER_LAST_MODIFIED     7
#define NGX_HTTP_MOCK_HEADER_SET_COOKIE        8


/* what an interaction's templates need, in its "templated" */
#define NGX_HTTP_MOCK_TEMPLATED       1     /* its body or a header is one */
#define NGX_HTTP_MOCK_TEMPLATED_BODY  2     /* one reads the live body */
#define NGX_HTTP_MOCK_TEMPLATED_VARS  4     /* one reads session values */


/* mock_template */
#define NGX_HTTP_MOCK_TEMPLATE_OFF     1
#define NGX_HTTP_MOCK_TEMPLATE_ON      2
#define NGX_HTTP_MOCK_TEMPLATE_MARKED  3


/* what a template expression reads */
#define NGX_HTTP_MOCK_TPL_LITERAL      0
#define NGX_HTTP_MOCK_TPL_STRING       1
#define NGX_HTTP_MOCK_TPL_METHOD       2
#define NGX_HTTP_MOCK_TPL_PATH         3
#define NGX_HTTP_MOCK_TPL_SEGMENT      4
#define NGX_HTTP_MOCK_TPL_CAPTURE      5
#define NGX_HTTP_MOCK_TPL_QUERY        6
#define NGX_HTTP_MOCK_TPL_HEADER       7
#define NGX_HTTP_MOCK_TPL_COOKIE       8
#define NGX_HTTP_MOCK_TPL_BODY         9
#define NGX_HTTP_MOCK_TPL_FORM         10
#define NGX_HTTP_MOCK_TPL_UUID         11
#define NGX_HTTP_MOCK_TPL_RANDOM_INT   12
#define NGX_HTTP_MOCK_TPL_RANDOM_HEX   13
#define NGX_HTTP_MOCK_TPL_NOW          14
#define NGX_HTTP_MOCK_TPL_SEQ          15
#define NGX_HTTP_MOCK_TPL_SESSION      16
#define NGX_HTTP_MOCK_TPL_VAR          17
#define NGX_HTTP_MOCK_TPL_NGINX        18

/* where an expression stands in a JSON body */
#define NGX_HTTP_MOCK_TPL_TEXT         0
#define NGX_HTTP_MOCK_TPL_IN_STRING    1
#define NGX_HTTP_MOCK_TPL_JSON_VALUE   2

/* the forms of "now" */
#define NGX_HTTP_MOCK_NOW_RFC3339      0
#define NGX_HTTP_MOCK_NOW_FORMAT       1
#define NGX_HTTP_MOCK_NOW_EPOCH        2
#define NGX_HTTP_MOCK_NOW_EPOCH_MS     3

#define NGX_HTTP_MOCK_TPL_HEX_MAX      256
#define NGX_HTTP_MOCK_TPL_HEADER_MAX   8192


/*
 * One piece of a compiled template: a literal run of the recorded text,
 * or an expression.  In the zone, a literal points into the stored text
 * and an expression's strings follow the pieces.
 */
typedef struct {
    ngx_uint_t                    type;
    ngx_uint_t                    where;        /* in a JSON body */
    ngx_str_t                     text;         /* literal; name; format */
    ngx_str_t                     fallback;     /* of "default" */
    ngx_str_t                     as;           /* "as NAME" */
    ngx_int_t                     a;            /* segment, bounds, digits */
    ngx_int_t                     b;
    ngx_int_t                     offset;       /* of "now", in seconds */
    ngx_uint_t                    hash;         /* nginx.VARIABLE */
    ngx_uint_t                    form;         /* of "now" */
    ngx_uint_t                    dflt;         /* unsigned  dflt:1; */
} ngx_http_mock_tpl_op_t;


typedef struct {
    ngx_uint_t                    nops;
    ngx_http_mock_tpl_op_t       *ops;
    size_t                        size;         /* what a copy takes */
    size_t                        literal;      /* bytes of literal text */
    ngx_uint_t                    body;         /* reads the live body */
    ngx_uint_t                    vars;         /* session values */
} ngx_http_mock_template_t;


/* an entry of a Redis stream: "ms-seq" */
typedef struct {
    uint64_t                      ms;
    uint64_t                      seq;
} ngx_http_mock_stream_id_t;


/* where a scalar's value starts in its file */
typedef struct {
    ngx_uint_t                    line;
    ngx_uint_t                    column;
    ngx_uint_t                    exact;        /* value bytes as written */
} ngx_http_mock_mark_t;


/* mock_repeats: what a sequence answers when it has run out */
#define NGX_HTTP_MOCK_REPEATS_OFF    0
#define NGX_HTTP_MOCK_REPEATS_ON     1
#define NGX_HTTP_MOCK_REPEATS_LAST   2
#define NGX_HTTP_MOCK_REPEATS_WRAP   3


/* what a request body is, for matching */
#define NGX_HTTP_MOCK_BODY_RAW        0
#define NGX_HTTP_MOCK_BODY_FORM       1
#define NGX_HTTP_MOCK_BODY_JSON       2
#define NGX_HTTP_MOCK_BODY_MULTIPART  3


/* one step of a JSON path in mock_ignore body: .name, [N] or [*] */
#define NGX_HTTP_MOCK_STEP_MEMBER    0
#define NGX_HTTP_MOCK_STEP_INDEX     1
#define NGX_HTTP_MOCK_STEP_ANY       2

typedef struct {
    ngx_uint_t                    type;
    ngx_uint_t                    index;
    ngx_str_t                     name;         /* as written in JSON */
} ngx_http_mock_step_t;


/* a body part that mock_ignore names: a JSON path, or a field name */
typedef struct {
    ngx_str_t                     text;
    ngx_uint_t                    nsteps;       /* 0: a form field, a part */
    ngx_http_mock_step_t         *steps;
} ngx_http_mock_jpath_t;


/* one segment of a path pattern: literal, or a {name} placeholder */
typedef struct {
    ngx_str_t                     text;
    ngx_uint_t                    placeholder;  /* unsigned  placeholder:1; */
} ngx_http_mock_segment_t;


typedef struct {
    ngx_str_t                     text;
    ngx_uint_t                    nsegments;
    ngx_http_mock_segment_t      *segments;
    ngx_uint_t                    nplaceholders;
} ngx_http_mock_pattern_t;


/*
 * mock_ignore: the parts of requests that matching skips.  The rules are
 * numbered query first, then body, then path, for miss reports.
 */
typedef struct {
    ngx_array_t                   query;        /* ngx_str_t */
    ngx_array_t                   headers;      /* ngx_str_t, lowercase */
    ngx_array_t                   body;         /* ngx_http_mock_jpath_t */
    ngx_array_t                   paths;        /* ngx_http_mock_pattern_t */
    ngx_uint_t                    json;         /* body has JSON paths */
    ngx_uint_t                    names;        /* body has plain names */
    size_t                        path_max;     /* the longest pattern */
    ngx_str_t                     text;         /* canonical, for sharing */
} ngx_http_mock_ignore_t;


typedef struct {
    ngx_uint_t                    mask;
    ngx_array_t                  *headers;      /* ngx_str_t, lowercase */
    ngx_str_t                     text;         /* canonical, for sharing */
    ngx_http_mock_ignore_t       *ignore;       /* or NULL */
    void                         *base;         /* the match without it */
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
    ngx_http_mock_template_t     *tpl;          /* NULL: sent as recorded */
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
    ngx_http_mock_template_t     *tpl;          /* the body's, or NULL */
    ngx_uint_t                    templated;    /* NGX_HTTP_MOCK_TEMPLATED_* */
    time_t                        recorded;     /* for refreshed dates */
    ngx_http_mock_latency_t       latency;      /* x_mock.latency */
    ngx_uint_t                    stale;        /* x_mock.stale */
    ngx_http_mock_timing_t        timing;       /* x_mock timing, chunks */

    ngx_http_mock_interaction_t  *next_path;    /* same path, file order */

    /* a fallback recording that replaced another one, in a block of its own */
    ngx_atomic_t                  refs;         /* requests sending it */
    ngx_msec_t                    retired;      /* when it was replaced */
    ngx_http_mock_interaction_t  *retired_next;
    ngx_uint_t                    freeable;     /* unsigned  freeable:1; */
};


/* identical requests: their interactions are played in file order */
typedef struct {
    uint32_t                      hash;
    uint32_t                      own;          /* a slab block of its own */
    ngx_uint_t                    n;
    ngx_uint_t                    cap;          /* 0: items in the arena */
    ngx_atomic_t                  played;
    ngx_atomic_t                  repeated;     /* plays of mock_repeats on */
    ngx_http_mock_interaction_t  *first;        /* the group's key */
    ngx_http_mock_interaction_t **items;
} ngx_http_mock_group_t;


/*
 * The interactions recorded for one path, in file order; the path's
 * hash is kept in the slot, so that probing and growing the table do
 * not read the interactions of other paths.
 */
typedef struct {
    ngx_http_mock_interaction_t  *head;
    ngx_http_mock_interaction_t  *tail;
    uint32_t                      hash;
} ngx_http_mock_path_t;


/*
 * A store's data in the shared zone.  The interactions loaded from files
 * never change; recording adds interactions and grows the tables under
 * the zone's mutex, which readers of a recording store hold too.
 */
typedef struct ngx_http_mock_index_s  ngx_http_mock_index_t;

/* what is left of the chunk that a worker's recordings are carved from */
typedef struct {
    u_char                       *pos;
    u_char                       *last;
    size_t                        next;         /* the size of its next one */
} ngx_http_mock_carve_t;


struct ngx_http_mock_index_s {
    ngx_uint_t                    ninteractions;
    ngx_uint_t                    nloaded;
    ngx_http_mock_interaction_t **interactions; /* the loaded ones */
    ngx_uint_t                    ngroups;
    ngx_uint_t                    group_mask;
    ngx_http_mock_group_t       **groups;
    ngx_uint_t                    npaths;
    ngx_uint_t                    path_mask;
    ngx_http_mock_path_t         *paths;
    size_t                        size;
    ngx_uint_t                    body_templates;  /* read the live body */
    ngx_uint_t                    var_templates;   /* read session values */

    ngx_atomic_t                  refs;         /* requests holding it */
    ngx_http_mock_index_t        *retired_next; /* replaced, still held */
    u_char                       *chunk;        /* recordings' chunks */
    ngx_http_mock_carve_t        *carves;       /* a chunk for each worker */
};


/* one recorded interaction as parsed from a cassette file */
typedef struct {
    ngx_uint_t                    line;
    ngx_uint_t                    index;
    ngx_http_mock_key_t           key;          /* without headers */
    ngx_str_t                     uri;
    ngx_array_t                   req_headers;  /* ngx_table_elt_t */
    ngx_str_t                     req_body;     /* as recorded */
    ngx_uint_t                    status;
    ngx_str_t                     reason;
    ngx_array_t                   headers;      /* ngx_table_elt_t */
    ngx_str_t                     body;
    time_t                        recorded;     /* x_mock.recorded, or 0 */
    ngx_array_t                  *templated;    /* x_mock.templated, ngx_str_t */
    ngx_str_t                     stream;       /* x_mock.stream, or empty */
    ngx_http_mock_latency_t       latency;      /* x_mock.latency */
    ngx_http_mock_timing_t        timing;       /* x_mock timing, chunks */
    unsigned                      binary:1;     /* the body was !!binary */
    unsigned                      compiled:1;   /* its templates */
    unsigned                      checked:1;    /* it can be sent as HTTP */
    unsigned                      stale:1;      /* x_mock.stale */

    ngx_http_mock_mark_t          body_mark;
    ngx_http_mock_mark_t         *header_marks; /* one per header, or NULL */
    ngx_http_mock_template_t     *body_tpl;
    ngx_http_mock_template_t    **header_tpls;  /* one per header, or NULL */
} ngx_http_mock_record_t;


typedef struct {
    ngx_str_t                     name;         /* full path */
    ngx_array_t                   records;      /* ngx_http_mock_record_t */
    off_t                         size;
    off_t                         valid;        /* before a torn write */
    time_t                        mtime;
    ngx_http_mock_stream_id_t     stream;       /* the largest x_mock.stream */
    unsigned                      missing:1;
    unsigned                      appendable:1;
} ngx_http_mock_cassette_t;


typedef struct ngx_http_mock_writer_s  ngx_http_mock_writer_t;

/*
 * A recording that waits to be written with the others that complete in
 * the same turn of the event loop; "handler" is told how it went.
 */
typedef struct ngx_http_mock_commit_s  ngx_http_mock_commit_t;

typedef void (*ngx_http_mock_committed_pt)(ngx_http_mock_commit_t *cm,
    ngx_int_t rc);

struct ngx_http_mock_commit_s {
    ngx_queue_t                   queue;
    ngx_http_mock_writer_t       *writer;
    ngx_http_mock_record_t       *rec;
    ngx_str_t                     entry;
    ngx_log_t                    *log;
    ngx_http_mock_committed_pt    handler;
    unsigned                      queued:1;
};


/* a cassette file being recorded into, as all workers see it */
typedef struct {
    ngx_atomic_t                  lock;         /* the writing worker's pid */
    off_t                         end;          /* of the last complete one */
    ngx_uint_t                    count;        /* interactions in it */
    ngx_uint_t                    generation;   /* renamed over this often */
    ngx_uint_t                    renaming;     /* to next_end, next_ino */
    off_t                         next_end;
    ngx_uint_t                    next_ino;
    ngx_uint_t                    ino;          /* the file end is of */
    off_t                         foreign;      /* others' items from */
    ngx_uint_t                    foreign_index;
    ngx_http_mock_stream_id_t     applied;      /* the fleet's, followed */
} ngx_http_mock_file_t;


typedef struct ngx_http_mock_shctx_s  ngx_http_mock_shctx_t;


/* an index as requests hold it */

#define NGX_HTTP_MOCK_GENERATIONS    8

typedef struct {
    ngx_http_mock_index_t        *index;
} ngx_http_mock_generation_t;


/*
 * A store's part of the zone: what every worker sees the same.  A reload
 * puts a new index in a free generation and makes it current; the ones it
 * replaced are freed once no request holds them.  The requests holding a
 * generation are counted in memory that is never freed, so a request may
 * count itself in before it knows whether the generation is still the
 * current one; each worker counts in a cache line of its own, which a
 * worker started in place of one that died clears.
 */
typedef struct {
    ngx_atomic_t                  current;      /* generation requests get */
    ngx_http_mock_generation_t    generations[NGX_HTTP_MOCK_GENERATIONS];
    ngx_atomic_t                 *refs;         /* [worker][generation] */
    ngx_http_mock_index_t        *retired;      /* session indexes replaced */
} ngx_http_mock_shared_t;


#define ngx_http_mock_current(shared)                                        \
    ((shared)->generations[(shared)->current].index)


/*
 * What one location replays: cassettes, indexed under a match spec.  In a
 * session directory each session has its own cassette and index.
 */
typedef struct {
    ngx_str_t                     path;         /* file or directory */
    ngx_array_t                  *cassettes;    /* ngx_http_mock_cassette_t * */
    ngx_http_mock_match_t        *match;
    ngx_http_mock_shared_t       *shared;       /* in the shared zone */
    ngx_http_mock_writer_t       *writer;       /* when recording */
    ngx_slab_pool_t              *shpool;
    ngx_http_mock_shctx_t        *sh;
    u_char                       *file;         /* the first mock_replay */
    ngx_uint_t                    line;
    uint32_t                      id;           /* the same on every host */
    ngx_uint_t                    template;     /* mock_template */
    unsigned                      sessions:1;   /* a session directory */
    unsigned                      records:1;    /* sessions record */
} ngx_http_mock_store_t;


/* per-session state in the shared zone, in one rbtree */

#define NGX_HTTP_MOCK_STATE_COUNTER  1      /* a group's next play */
#define NGX_HTTP_MOCK_STATE_PLAYS    2      /* an interaction's plays */
#define NGX_HTTP_MOCK_STATE_FORCE    3      /* an endpoint's forced answer */
#define NGX_HTTP_MOCK_STATE_INDEX    4      /* a session directory's cassette */
#define NGX_HTTP_MOCK_STATE_VAR      5      /* a template's value */
#define NGX_HTTP_MOCK_STATE_VARS     6      /* the bytes of a session's */
#define NGX_HTTP_MOCK_STATE_LATENCY  7      /* a session's mock_latency */
#define NGX_HTTP_MOCK_STATE_FAULT    8      /* a session's mock_fault */
#define NGX_HTTP_MOCK_STATE_REQUESTS 9      /* a session's requests */

#define NGX_HTTP_MOCK_SETTINGS_MAX   4096   /* latencies and faults */

#define NGX_HTTP_MOCK_SESSION_MAX    128


typedef struct {
    ngx_rbtree_node_t             node;
    ngx_uint_t                    kind;
    void                         *object;
    void                         *value_ptr;    /* forced interaction, index */
    ngx_uint_t                    value;
    ngx_http_mock_file_t          file;         /* an index's cassette */
    ngx_str_t                     session;
    ngx_str_t                     extra;        /* endpoint; cassette name */
} ngx_http_mock_state_t;


typedef struct {
    ngx_atomic_t                  seq;          /* odd while written */
    time_t                        time;
    ngx_uint_t                    status;       /* $mock_status */
    ngx_uint_t                    interaction;  /* or NGX_CONF_UNSET_UINT */
    ngx_uint_t                    code;         /* HTTP status */
    u_char                        session[64];
    u_char                        method[16];
    u_char                        uri[240];
    u_char                        cassette[160];
    ngx_atomic_uint_t             id;           /* the request's number */
} ngx_http_mock_journal_entry_t;


/* the report of a recent miss, by the journal's number of its request */

#define NGX_HTTP_MOCK_REPORTS        32
#define NGX_HTTP_MOCK_REPORT_LEN     2048

typedef struct {
    ngx_atomic_t                  seq;          /* odd while written */
    ngx_atomic_uint_t             id;           /* journal number + 1 */
    size_t                        len;
    u_char                        text[NGX_HTTP_MOCK_REPORT_LEN];
} ngx_http_mock_report_t;


struct ngx_http_mock_shctx_s {
    ngx_slab_pool_t              *shpool;
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_atomic_t                  redis_down;
    ngx_atomic_t                  nforced;      /* forced answers pinned */
    ngx_atomic_t                  nsettings;    /* latencies and faults */
    time_t                        full_logged;  /* when "zone is full" was */
    ngx_atomic_uint_t            *metrics;      /* [worker][slot][result] */
    ngx_uint_t                    nworkers;
    ngx_uint_t                    nslots;
    ngx_uint_t                    journal_size;
    ngx_http_mock_journal_entry_t *journal;
    ngx_atomic_t                  reports_next;
    ngx_http_mock_report_t       *reports;      /* of misses, or NULL */
    ngx_http_mock_interaction_t  *retired;      /* replaced, not yet freed */
    ngx_http_mock_interaction_t  *retired_last;
    ngx_atomic_t                  follow_lock;  /* the follower's pid */
    ngx_atomic_t                  followed;     /* a reload took over */
    ngx_atomic_t                  edit_lock;    /* the editing worker's pid */
    void                         *drift;        /* the drift table, or NULL */

    /*
     * Every request moves it, in every worker: in a cache line of its
     * own, the fields above that requests read stay in every worker's.
     */
    u_char                        journal_pad[NGX_CPU_CACHE_LINE];
    ngx_atomic_t                  journal_next;
    u_char                        journal_end[NGX_CPU_CACHE_LINE];
};


/* a cassette file that recordings are appended to */
struct ngx_http_mock_writer_s {
    ngx_str_t                     name;
    ngx_str_t                    *shm_name;     /* in the shared zone */
    ngx_http_mock_cassette_t     *cassette;     /* as loaded */
    ngx_fd_t                      fd;
    ngx_http_mock_file_t         *file;         /* in the shared zone */
    ngx_array_t                   stores;       /* ngx_http_mock_store_t * */
    ngx_uint_t                    generation;   /* of the file fd is open on */
    ngx_uint_t                    replaces;     /* a location falls back */
    time_t                        logged;       /* a replacement failed */
    off_t                         loaded;       /* bytes the zone holds */
};


typedef struct {
    ngx_uint_t                    type;
    ngx_str_t                     name;
    ngx_str_t                     replacement;
    ngx_uint_t                    drop;         /* unsigned  drop:1; */
} ngx_http_mock_filter_t;


/* a Lua script run with EVALSHA */
typedef struct {
    ngx_str_t                     text;
    u_char                        sha[41];
} ngx_http_mock_redis_script_t;


/* mock_redis, and the worker's connection to it */
typedef struct {
    ngx_str_t                     name;         /* as configured */
    ngx_str_t                     path;         /* unix:, or empty */
    u_char                        ip[NGX_INET6_ADDRSTRLEN + 1];
    ngx_uint_t                    port;
    ngx_str_t                     prefix;
    ngx_str_t                     instance;     /* this one in the fleet */
    ngx_str_t                     password;     /* never logged */
    ngx_msec_t                    timeout;
    time_t                        ttl;
    ngx_array_t                   scripts;      /* of the fleet */

    void                         *ac;           /* redisAsyncContext */
    ngx_connection_t             *conn;
    ngx_event_t                   reconnect;
    ngx_event_t                   connect_timer;
    ngx_event_t                   flush;        /* the turn's commands */
    ngx_uint_t                    flushing;     /* unsigned  flushing:1; */
    ngx_uint_t                    held;         /* unsigned  held:1; */
    ngx_uint_t                    issued;       /* commands, and replies, */
    ngx_uint_t                    answered;     /* of the connection */
    ngx_uint_t                    sent;         /* issued at the last write */
    ngx_uint_t                    connected;
    ngx_log_t                    *log;
    ngx_atomic_t                 *down;         /* in the shared zone */
} ngx_http_mock_redis_t;


/* a command, and a reply of a pipeline, copied */
typedef struct {
    int                           argc;
    const char                  **argv;
    const size_t                 *argvlen;
} ngx_http_mock_redis_command_t;


#define NGX_HTTP_MOCK_REDIS_NIL       0
#define NGX_HTTP_MOCK_REDIS_INTEGER   1
#define NGX_HTTP_MOCK_REDIS_STRING    2
#define NGX_HTTP_MOCK_REDIS_ARRAY     3

typedef struct {
    ngx_uint_t                    type;
    int64_t                       integer;
    ngx_str_t                     str;
} ngx_http_mock_redis_value_t;


/*
 * A reply from Redis (a redisReply), or NULL when Redis could not give
 * one: for a request, what the handler returns finalizes it.
 */
typedef ngx_int_t (*ngx_http_mock_redis_reply_pt)(ngx_http_request_t *r,
    void *data, void *reply);
typedef void (*ngx_http_mock_redis_event_pt)(void *data, void *reply);


/* a request of the fleet's journal */
typedef struct {
    ngx_str_t                     session;
    ngx_str_t                     json;         /* as the admin shows it */
} ngx_http_mock_fleet_entry_t;


/* what Redis answered for the fleet */
typedef struct {
    ngx_int_t                     play;         /* -1: not counted there */
    ngx_str_t                     forced;       /* "cassette#N", or empty */
    ngx_array_t                  *vars;         /* ngx_keyval_t, or NULL */
    ngx_array_t                  *entries;      /* of the journal */
    ngx_str_t                     latency;      /* the session's, or empty */
    ngx_str_t                     fault;        /* the session's, or empty */
    ngx_uint_t                    settings;     /* the two were asked for */
} ngx_http_mock_fleet_state_t;


/* st is NULL when Redis could not answer */
typedef ngx_int_t (*ngx_http_mock_fleet_done_pt)(ngx_http_request_t *r,
    void *data, ngx_http_mock_fleet_state_t *st);


typedef struct {
    ngx_shm_zone_t               *shm_zone;
    ngx_slab_pool_t              *shpool;
    ngx_array_t                   stores;       /* ngx_http_mock_store_t * */
    ngx_array_t                   cassettes;    /* ngx_http_mock_cassette_t * */
    ngx_array_t                   writers;      /* ngx_http_mock_writer_t * */
    ngx_pool_t                   *parse_pool;
    size_t                        size;         /* needed by all stores */
    ngx_uint_t                    recording;    /* unsigned  recording:1; */
    ngx_http_mock_shctx_t        *sh;
    ngx_cycle_t                  *cycle;
    ngx_uint_t                    journal_size;
    ngx_http_mock_redis_t        *redis;        /* mock_redis */
    ngx_array_t                   slots;        /* ngx_http_mock_slot_t */
    ngx_array_t                  *session_writers;  /* per worker */
    void                         *follow;       /* worker 0's follower */
} ngx_http_mock_main_conf_t;


/* mock_record_templates */
typedef struct {
    ngx_uint_t                    min;          /* characters */
    ngx_array_t                  *headers;      /* ngx_str_t, or NULL */
} ngx_http_mock_learn_conf_t;


/* mock_verify_headers, mock_verify_values, mock_verify_ignore, _sample */
typedef struct {
    ngx_array_t                  *headers;      /* ngx_str_t */
    ngx_flag_t                    values;
    ngx_array_t                  *ignore;       /* ngx_http_mock_jpath_t */
    ngx_uint_t                    sample;       /* in hundredths of 1% */
    void                         *cache;        /* a worker's, of bodies */
} ngx_http_mock_verify_conf_t;


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
    ngx_str_t                     replay_conf;  /* as configured */
    ngx_array_t                  *cassettes;    /* ngx_http_mock_cassette_t * */
    ngx_http_mock_match_t        *match;
    ngx_http_mock_upstream_t     *upstream;
    ngx_str_t                     location;     /* prefix to replace */
    ngx_uint_t                    repeats;
    ngx_http_mock_ignore_t       *ignore;       /* mock_ignore, or NULL */
    ngx_uint_t                    miss_status;
    ngx_uint_t                    mode;
    size_t                        record_max_body;
    ngx_http_mock_learn_conf_t   *record_templates;  /* NULL: off */
    ngx_array_t                  *fallback_status;  /* ngx_uint_t */
    ngx_array_t                  *filters;      /* ngx_http_mock_filter_t */
    u_char                       *replay_file;  /* where mock_replay is */
    ngx_uint_t                    replay_line;
    ngx_http_complex_value_t     *session;
    ngx_str_t                     force_header;
    ngx_flag_t                    admin;
    ngx_uint_t                    request_mode;
    ngx_array_t                  *secrets;      /* ngx_str_t */
    ngx_str_t                     header;       /* the response header */
    ngx_uint_t                    template;     /* mock_template */
    size_t                        template_vars;
    ngx_flag_t                    refresh_dates;
    ngx_uint_t                    slot;         /* of the metrics */
    ngx_http_mock_latency_t       latency;      /* mock_latency */
    u_char                       *latency_file;
    ngx_uint_t                    latency_line;
    ngx_http_mock_fault_t        *fault;        /* mock_fault, or NULL */
    ngx_http_mock_fault_t        *upstream_fault;   /* "... upstream" */
    ngx_open_file_t              *audit;        /* mock_audit_log, or NULL */
    time_t                        record_expire;    /* 0: never */
    ngx_http_mock_verify_conf_t   verify;       /* mock_verify_* */
} ngx_http_mock_loc_conf_t;


/*
 * What a capture of the upstream's answer (recording's filters) hands
 * the answer to instead of the cassette: "skipped" says why the body was
 * not kept whole, or is NULL.
 */
typedef void (*ngx_http_mock_captured_pt)(ngx_http_request_t *r,
    const char *skipped);


/* a header that verify compares: data NULL where it is absent */
typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     live;
    ngx_str_t                     recorded;
    ngx_uint_t                    presence;     /* a template, a secret */
} ngx_http_mock_drift_header_t;


#define NGX_HTTP_MOCK_DRIFT_DIFF_MAX  2048


/* a live answer and its recording, as the drift diff compares them */
typedef struct {
    ngx_uint_t                    live_status;
    ngx_uint_t                    recorded_status;
    ngx_array_t                  *headers;      /* drift_header_t, or NULL */
    ngx_str_t                     live_type;    /* Content-Type */
    ngx_str_t                     recorded_type;
    ngx_str_t                     live_body;
    ngx_str_t                     recorded_body;
    ngx_uint_t                    body;         /* the bodies are compared */
    ngx_uint_t                    templated;    /* the recorded one is one */
    ngx_uint_t                    values;       /* mock_verify_values */
    ngx_array_t                  *ignore;       /* mock_verify_ignore */
    ngx_array_t                  *filters;      /* mock_filter_*, or NULL */
    ngx_uint_t                    canonical;    /* the next two are set */
    ngx_int_t                     recorded_rc;  /* of drift_canon() */
    ngx_str_t                     recorded_canon;
    uint64_t                      known_shape;  /* found without drift */
    uint64_t                      live_shape;   /* out: the live body's */
    ngx_uint_t                    body_drifted; /* out */
} ngx_http_mock_drift_t;


/* a drift, as the drift table takes it */
typedef struct {
    ngx_uint_t                    kind;         /* DRIFT or UNRECORDED */
    ngx_uint_t                    store;        /* its number */
    ngx_uint_t                    interaction;  /* or NGX_CONF_UNSET_UINT */
    ngx_uint_t                    live_status;
    ngx_uint_t                    recorded_status;
    ngx_str_t                     session;
    ngx_str_t                     method;
    ngx_str_t                     uri;
    ngx_str_t                     cassette;
    ngx_str_t                     diff;
    uint32_t                      hash;
} ngx_http_mock_drift_note_t;


/* what the metrics count: a location and its cassettes */
typedef struct {
    ngx_str_t                     location;
    ngx_str_t                     cassette;
    ngx_uint_t                    mode;         /* mock_mode */
    ngx_http_mock_store_t        *store;
} ngx_http_mock_slot_t;


typedef struct {
    ngx_uint_t                    status;
    ngx_uint_t                    mode;
    ngx_http_mock_interaction_t  *interaction;
    ngx_str_t                     session;      /* sanitized */
    ngx_http_mock_index_t        *index;        /* the session's */
    ngx_http_mock_key_t           key;
    ngx_http_mock_group_t        *group;
    ngx_uint_t                    seq;          /* the group's play, from 1 */
    ngx_array_t                  *captures;     /* ngx_keyval_t, path.NAME */
    u_char                       *ignored;      /* mock_ignore rules used */

    /* the response being recorded */
    ngx_uint_t                    resp_status;
    ngx_str_t                     reason;
    ngx_array_t                  *resp_headers; /* ngx_table_elt_t */
    ngx_chain_t                  *body;
    ngx_chain_t                 **last;
    size_t                        size;
    off_t                         expected;     /* Content-Length, or -1 */
    ngx_http_mock_interaction_t  *pinned;       /* held until it ends */
    ngx_str_t                     rendered;     /* a fallback's template */
    ngx_str_t                     report;       /* a miss's, for the admin */

    ngx_int_t                     fleet_play;   /* -1: not counted */
    uint32_t                      fleet_hash;   /* of the live key */
    ngx_str_t                     fleet_forced; /* "cassette#N" */
    ngx_http_mock_fault_t        *fault;        /* injected, or NULL */
    ngx_event_t                  *timer;        /* of a delay */
    ngx_msec_t                    latency;      /* the delay, $mock_latency */
    ngx_http_mock_latency_t      *own_latency;  /* the session's, or NULL */
    ngx_http_mock_fault_t        *asked_fault;  /* the request's own */
    ngx_http_mock_fault_t        *fleet_fault;  /* the session's, in Redis */
    ngx_uint_t                    renew;        /* n + 1 recorded again */
    ngx_str_t                     renew_path;   /* of interaction n */
    ngx_http_mock_captured_pt     captured;     /* takes a captured answer */
    ngx_uint_t                    scale;        /* of recorded times, or 0 */
    void                         *timing;       /* what recording measures */
    void                         *stream;       /* a body sent in chunks */
    ngx_chain_t                  *held;         /* until it is recorded */
    unsigned                      decided:1;
    unsigned                      head:1;
    unsigned                      switched:1;
    unsigned                      record:1;
    unsigned                      fallback:1;
    unsigned                      consumed:1;
    unsigned                      recording:1;
    unsigned                      committing:1; /* its write waits */
    unsigned                      replacing:1;
    unsigned                      replaced:1;
    unsigned                      answered:1;   /* the header filter ran */
    unsigned                      cleanup:1;
    unsigned                      locked:1;     /* the zone's mutex held */
    unsigned                      fleet_failed:1;   /* Redis did not answer */
    unsigned                      fleet_asked:1;    /* it answered */
    unsigned                      fleet_played:1;   /* the play was told */
    unsigned                      delayed:1;    /* its latency is over */
    unsigned                      timed:1;      /* its latency is known */
    unsigned                      asked_latency:1;  /* own_latency final */
    unsigned                      fault_later:1;    /* after the fleet */
    unsigned                      fleet_settings:1; /* Redis told them */
} ngx_http_mock_ctx_t;


/* the room a reload needs and finds in the zone, in bytes */
typedef struct {
    size_t                        needed;
    size_t                        piece;        /* the largest index */
    size_t                        free;
    size_t                        free_piece;   /* the largest free run */
    size_t                        held;         /* by responses being sent */
} ngx_http_mock_room_t;


/* ngx_http_mock_cassette.c */
ngx_http_mock_cassette_t *ngx_http_mock_cassette_load(ngx_conf_t *cf,
    ngx_pool_t *pool, ngx_str_t *name);
ngx_int_t ngx_http_mock_cassettes_open(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_str_t *path, ngx_array_t *cassettes, ngx_array_t *cache);
ngx_array_t *ngx_http_mock_cassette_entries(ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *name, ngx_str_t *text, size_t *used);
ngx_int_t ngx_http_mock_stream_id(ngx_str_t *s,
    ngx_http_mock_stream_id_t *id);
ngx_int_t ngx_http_mock_stream_cmp(ngx_http_mock_stream_id_t *a,
    ngx_http_mock_stream_id_t *b);

/* ngx_http_mock_template.c */
ngx_int_t ngx_http_mock_template_cassettes(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_array_t *cassettes, ngx_uint_t mode);
ngx_int_t ngx_http_mock_template_record(ngx_pool_t *pool,
    ngx_http_mock_record_t *rec, ngx_str_t *err);
ngx_uint_t ngx_http_mock_template_applies(ngx_uint_t mode,
    ngx_http_mock_record_t *rec);
size_t ngx_http_mock_template_size(ngx_http_mock_record_t *rec);
ngx_http_mock_template_t *ngx_http_mock_template_copy(u_char **pos,
    u_char *last, ngx_http_mock_template_t *tpl, u_char *from, u_char *to);

/* ngx_http_mock_render.c */
ngx_int_t ngx_http_mock_render_body(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_str_t *body);
ngx_int_t ngx_http_mock_render_chunks(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_str_t *body,
    ngx_http_mock_chunk_t *chunks);
ngx_int_t ngx_http_mock_render_header(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_header_t *hh,
    ngx_str_t *value);

/* ngx_http_mock_dates.c */
ngx_int_t ngx_http_mock_dates_refresh(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_header_t *hh,
    ngx_str_t *value);

/* ngx_http_mock_check.c */
u_char *ngx_http_mock_check_token(ngx_str_t *s);
u_char *ngx_http_mock_check_text(ngx_str_t *s);
ngx_int_t ngx_http_mock_check_status(ngx_uint_t status);
char *ngx_http_mock_check_record(ngx_http_mock_record_t *rec);
u_char *ngx_http_mock_check_quote(u_char *buf, u_char *last, ngx_str_t *s);
u_char *ngx_http_mock_check_byte(u_char *buf, u_char *last, u_char c);

/* ngx_http_mock_store.c */
ngx_int_t ngx_http_mock_store_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
size_t ngx_http_mock_store_size(ngx_http_mock_store_t *store);
ngx_http_mock_interaction_t *ngx_http_mock_store_peek(
    ngx_http_mock_store_t *store, ngx_http_mock_index_t *index,
    ngx_str_t *session, ngx_http_mock_key_t *key,
    ngx_http_mock_match_t *match, ngx_uint_t repeats);
ngx_http_mock_group_t *ngx_http_mock_store_find(ngx_http_mock_index_t *index,
    ngx_http_mock_key_t *key, ngx_http_mock_match_t *match);
ngx_http_mock_interaction_t *ngx_http_mock_store_path(
    ngx_http_mock_index_t *index, ngx_str_t *path);
ngx_uint_t ngx_http_mock_store_loaded(ngx_http_mock_index_t *index,
    ngx_http_mock_interaction_t *it);
ngx_http_mock_interaction_t *ngx_http_mock_store_take(
    ngx_http_mock_store_t *store, ngx_http_mock_index_t *index,
    ngx_str_t *session, ngx_http_mock_key_t *key,
    ngx_http_mock_match_t *match, ngx_uint_t repeats, ngx_int_t play,
    ngx_uint_t *seq);
ngx_int_t ngx_http_mock_store_append(ngx_http_mock_writer_t *writer,
    ngx_http_mock_record_t *rec, ngx_pool_t *pool, ngx_log_t *log,
    ngx_str_t *entry);
ngx_int_t ngx_http_mock_store_lock_file(ngx_http_mock_writer_t *writer,
    ngx_log_t *log);
ngx_int_t ngx_http_mock_store_append_n(ngx_http_mock_writer_t *writer,
    ngx_str_t *entries, ngx_uint_t n, ngx_uint_t *index, ngx_log_t *log);
ngx_int_t ngx_http_mock_store_tail(ngx_http_mock_writer_t *writer,
    off_t from, size_t len, ngx_uint_t index, ngx_uint_t *n, size_t *used,
    ngx_log_t *log);
ngx_int_t ngx_http_mock_store_add(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_record_t *rec,
    ngx_str_t *cassette, ngx_str_t *consumed, ngx_log_t *log);
ngx_http_mock_index_t *ngx_http_mock_store_index_create(
    ngx_slab_pool_t *shpool);
ngx_int_t ngx_http_mock_store_latest(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_http_mock_record_t *rec,
    ngx_str_t *cassette, ngx_pool_t *pool, ngx_uint_t *n, ngx_str_t *path,
    ngx_http_mock_loc_conf_t *expire);
ngx_int_t ngx_http_mock_store_replace(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *path, ngx_uint_t n,
    ngx_http_mock_record_t *rec, ngx_str_t *cassette, ngx_log_t *log);
ngx_http_mock_interaction_t *ngx_http_mock_store_last(
    ngx_http_mock_store_t *store, ngx_http_mock_index_t *index,
    ngx_str_t *session, ngx_http_mock_key_t *key);
void ngx_http_mock_store_pin(ngx_http_mock_interaction_t *it);
void ngx_http_mock_store_unpin(ngx_http_mock_interaction_t *it);
ngx_int_t ngx_http_mock_store_reload(ngx_http_mock_main_conf_t *mmcf,
    ngx_array_t *lists, ngx_http_mock_room_t *room, ngx_log_t *log);
ngx_http_mock_index_t *ngx_http_mock_store_current(ngx_http_request_t *r,
    ngx_http_mock_store_t *store);
ngx_int_t ngx_http_mock_store_hold(ngx_http_request_t *r,
    ngx_http_mock_index_t *index);
void ngx_http_mock_store_init_process(ngx_http_mock_main_conf_t *mmcf);

/* ngx_http_mock_session.c */
ngx_int_t ngx_http_mock_session_value(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_str_t *session);
ngx_int_t ngx_http_mock_session_name(ngx_pool_t *pool, ngx_str_t *value,
    ngx_str_t *name);
ngx_http_mock_index_t *ngx_http_mock_session_index(
    ngx_http_mock_store_t *store, ngx_str_t *session, ngx_uint_t create,
    ngx_str_t **cassette, ngx_http_mock_file_t **file);
void ngx_http_mock_state_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
ngx_int_t ngx_http_mock_session_register(ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_http_mock_index_t *index, ngx_str_t *cassette,
    ngx_uint_t count, off_t end);
ngx_int_t ngx_http_mock_session_update(ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_http_mock_index_t *index, ngx_str_t *cassette,
    ngx_uint_t count, off_t end);
ngx_uint_t ngx_http_mock_session_next(ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_http_mock_group_t *g, ngx_uint_t peek);
ngx_uint_t ngx_http_mock_session_count(ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_http_mock_group_t *g, ngx_uint_t repeats,
    ngx_uint_t peek);
ngx_uint_t ngx_http_mock_repeats_item(ngx_uint_t repeats, ngx_uint_t n,
    ngx_uint_t items);
void ngx_http_mock_session_played(ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_http_mock_interaction_t *it);
ngx_uint_t ngx_http_mock_session_plays(ngx_http_mock_shctx_t *sh,
    ngx_str_t *session, ngx_http_mock_interaction_t *it);
ngx_http_mock_interaction_t *ngx_http_mock_session_forced(
    ngx_http_mock_store_t *store, ngx_str_t *session, ngx_str_t *method,
    ngx_str_t *path);
ngx_int_t ngx_http_mock_session_force(ngx_http_mock_store_t *store,
    ngx_str_t *session, ngx_str_t *method, ngx_str_t *path,
    ngx_http_mock_interaction_t *it);
ngx_uint_t ngx_http_mock_session_reset(ngx_http_mock_shctx_t *sh,
    ngx_str_t *session, ngx_uint_t kind);
ngx_http_mock_writer_t *ngx_http_mock_session_writer(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, ngx_str_t *session);
ngx_int_t ngx_http_mock_session_var_get(ngx_http_mock_shctx_t *sh,
    ngx_str_t *session, ngx_str_t *name, ngx_pool_t *pool, ngx_str_t *value);
ngx_int_t ngx_http_mock_session_vars_load(ngx_http_request_t *r,
    ngx_array_t *vars);
ngx_int_t ngx_http_mock_session_var_set(ngx_http_mock_shctx_t *sh,
    ngx_str_t *session, ngx_str_t *name, ngx_str_t *value, size_t max);
ngx_int_t ngx_http_mock_session_setting(ngx_http_mock_shctx_t *sh,
    ngx_uint_t kind, ngx_str_t *session, void *data, size_t size);
ngx_int_t ngx_http_mock_session_configure(ngx_http_mock_shctx_t *sh,
    ngx_uint_t kind, ngx_str_t *session, void *data, size_t size);
ngx_uint_t ngx_http_mock_session_tick(ngx_http_mock_store_t *store,
    ngx_str_t *session);
ngx_uint_t ngx_http_mock_session_used(ngx_http_mock_store_t *store,
    ngx_http_mock_index_t *index, ngx_str_t *session,
    ngx_http_mock_interaction_t *it);

/* ngx_http_mock_writer.c */
ngx_int_t ngx_http_mock_writer_prepare(ngx_http_mock_cassette_t *cassette,
    ngx_log_t *log);
ngx_int_t ngx_http_mock_writer_open(ngx_http_mock_writer_t *writer,
    ngx_cycle_t *cycle, ngx_log_t *log);
ngx_int_t ngx_http_mock_writer_writable(ngx_cycle_t *cycle, ngx_str_t *dir,
    ngx_uint_t level, const char *what, ngx_log_t *log);
ngx_int_t ngx_http_mock_writer_lock_file(ngx_http_mock_writer_t *writer,
    ngx_log_t *log);
void ngx_http_mock_writer_unlock_file(ngx_http_mock_writer_t *writer);
ngx_int_t ngx_http_mock_writer_relock(ngx_http_mock_writer_t *writer,
    ngx_log_t *log);
ngx_int_t ngx_http_mock_writer_append_entry(ngx_http_mock_writer_t *writer,
    ngx_str_t *entry, ngx_http_mock_record_t *rec, ngx_log_t *log);
ngx_int_t ngx_http_mock_writer_append(ngx_http_mock_writer_t *writer,
    ngx_str_t *entries, ngx_uint_t n, ngx_uint_t *index, ngx_log_t *log);
ngx_int_t ngx_http_mock_writer_replace(ngx_http_mock_writer_t *writer,
    ngx_uint_t n, ngx_str_t *entry, ngx_http_mock_record_t *rec,
    ngx_log_t *log);
ngx_int_t ngx_http_mock_yaml_entry(ngx_pool_t *pool,
    ngx_http_mock_record_t *rec, ngx_str_t *out);
ngx_int_t ngx_http_mock_writer_save(u_char *tmp, ngx_array_t *records,
    ngx_uint_t appendable, ngx_pool_t *pool, off_t *size, ngx_uint_t *ino);
ngx_int_t ngx_http_mock_writer_install(ngx_http_mock_writer_t *writer,
    u_char *tmp, u_char *name, off_t size, ngx_uint_t ino, ngx_uint_t count);
ngx_uint_t ngx_http_mock_writer_lock(ngx_atomic_t *lock);
void ngx_http_mock_writer_unlock(ngx_atomic_t *lock);

/* ngx_http_mock_timing.c */
ngx_int_t ngx_http_mock_timing_start(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx);
ngx_int_t ngx_http_mock_timing_body(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_chain_t *in);
void ngx_http_mock_timing_done(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_record_t *rec);

/* ngx_http_mock_record.c */
ngx_int_t ngx_http_mock_record_init(ngx_conf_t *cf);

/* ngx_http_mock_filter.c */
char *ngx_http_mock_filter(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_mock_filter_query(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_str_t *query);
ngx_int_t ngx_http_mock_filter_body(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_str_t *type, ngx_str_t *body);
ngx_int_t ngx_http_mock_filter_headers(ngx_pool_t *pool,
    ngx_array_t *filters, ngx_array_t *headers);
ngx_int_t ngx_http_mock_filter_value(ngx_array_t *filters, ngx_str_t *name,
    ngx_str_t *value);

/* ngx_http_mock_learn.c */
ngx_int_t ngx_http_mock_learn(ngx_pool_t *pool,
    ngx_http_mock_learn_conf_t *conf, ngx_http_mock_record_t *rec);

/* ngx_http_mock_match.c */
char *ngx_http_mock_parse_url(ngx_pool_t *pool, ngx_str_t *url,
    ngx_http_mock_key_t *key);
ngx_int_t ngx_http_mock_canon_query(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out);
ngx_int_t ngx_http_mock_decode(ngx_pool_t *pool, u_char *p, u_char *last,
    ngx_uint_t plus, ngx_str_t *out);
ngx_str_t *ngx_http_mock_content_type(ngx_array_t *headers);
ngx_int_t ngx_http_mock_canon_body(ngx_pool_t *pool, ngx_str_t *type,
    ngx_str_t *in, ngx_str_t *out);
ngx_uint_t ngx_http_mock_body_kind(ngx_str_t *type, ngx_str_t *body);
ngx_int_t ngx_http_mock_request_key(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key);
uint32_t ngx_http_mock_key_hash(ngx_http_mock_key_t *key,
    ngx_http_mock_match_t *match);
ngx_uint_t ngx_http_mock_key_diff(ngx_http_mock_key_t *a,
    ngx_http_mock_key_t *b, ngx_http_mock_match_t *match);
uint32_t ngx_http_mock_path_hash(ngx_str_t *path);
u_char *ngx_http_mock_match_names(u_char *p, ngx_uint_t mask);
ngx_table_elt_t *ngx_http_mock_header_in(ngx_http_request_t *r,
    ngx_str_t *name);
ngx_uint_t ngx_http_mock_matcher_mask(ngx_str_t *name);
size_t ngx_http_mock_match_names_len(ngx_uint_t mask);

/* ngx_http_mock_json.c */
ngx_int_t ngx_http_mock_json_canon(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out);
ngx_int_t ngx_http_mock_json_filter(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_str_t *in, ngx_str_t *out);
ngx_int_t ngx_http_mock_json_get(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *path, ngx_str_t *out);
ngx_int_t ngx_http_mock_json_ignore(ngx_pool_t *pool, ngx_array_t *paths,
    u_char *used, ngx_str_t *in, ngx_str_t *out);

/* ngx_http_mock_ignore.c */
char *ngx_http_mock_ignore(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_mock_ignore_jpath(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_mock_jpath_t *jp);
ngx_http_mock_match_t *ngx_http_mock_ignore_match(ngx_conf_t *cf,
    ngx_http_mock_match_t *match, ngx_http_mock_ignore_t *ignore);
size_t ngx_http_mock_ignore_room(ngx_http_mock_ignore_t *ig,
    ngx_http_mock_key_t *key);
ngx_uint_t ngx_http_mock_ignore_rules(ngx_http_mock_ignore_t *ig);
ngx_int_t ngx_http_mock_ignore_key(ngx_http_mock_ignore_t *ig,
    ngx_str_t *type, ngx_http_mock_key_t *key, u_char *buf, u_char *used,
    ngx_pool_t *pool, ngx_array_t **captures, ngx_uint_t body);
ngx_int_t ngx_http_mock_ignore_body(ngx_http_mock_ignore_t *ig,
    ngx_pool_t *pool, ngx_str_t *type, ngx_str_t *in, ngx_str_t *out,
    u_char *used, ngx_uint_t canonical);
ngx_str_t *ngx_http_mock_ignore_path(ngx_http_mock_ignore_t *ig,
    ngx_str_t *path);
u_char *ngx_http_mock_ignore_report(u_char *p, u_char *last,
    ngx_http_mock_ignore_t *ig, u_char *used);
size_t ngx_http_mock_ignore_report_len(ngx_http_mock_ignore_t *ig);

/* ngx_http_mock_multipart.c */
ngx_int_t ngx_http_mock_multipart_canon(ngx_pool_t *pool, ngx_str_t *type,
    ngx_str_t *in, ngx_str_t *out);
u_char *ngx_http_mock_multipart_field(u_char *p, u_char *last,
    ngx_str_t *field);

/* ngx_http_mock_drift.c */
ngx_int_t ngx_http_mock_drift_diff(ngx_pool_t *pool, ngx_http_mock_drift_t *d,
    ngx_str_t *diff);
ngx_int_t ngx_http_mock_drift_canon(ngx_pool_t *pool, ngx_array_t *filters,
    ngx_uint_t templated, ngx_str_t *body, ngx_str_t *out);
uint64_t ngx_http_mock_drift_shape(ngx_str_t *body);

/* ngx_http_mock_drift_table.c */
ngx_int_t ngx_http_mock_drift_note(ngx_http_mock_shctx_t *sh,
    ngx_http_mock_drift_note_t *note, ngx_log_t *log);
void ngx_http_mock_drift_clear(ngx_http_mock_shctx_t *sh);
ngx_int_t ngx_http_mock_drift_answer(ngx_http_request_t *r,
    ngx_http_mock_shctx_t *sh, ngx_uint_t store, ngx_str_t *session,
    ngx_buf_t **out);
ngx_int_t ngx_http_mock_drift_list(ngx_http_request_t *r,
    ngx_http_mock_shctx_t *sh, ngx_uint_t store, ngx_str_t *session,
    ngx_buf_t **out);

/* ngx_http_mock_verify.c */
char *ngx_http_mock_verify_sample(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mock_verify_ignore(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_mock_verify_headers_set(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_uint_t ngx_http_mock_verify_sampled(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf);
ngx_int_t ngx_http_mock_verify_start(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx);

/* ngx_http_mock_diff.c */
u_char *ngx_http_mock_diff_detail(u_char *p, u_char *last, ngx_uint_t what,
    ngx_str_t *type, ngx_str_t *a, ngx_str_t *b);

/* ngx_http_mock_replay.c */
ngx_int_t ngx_http_mock_replay_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mock_hit_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_mock_live_key(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_key_t *key);
ngx_int_t ngx_http_mock_replay_headers(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it);
ngx_int_t ngx_http_mock_replay_send(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it);
ngx_int_t ngx_http_mock_replay_play(ngx_http_request_t *r, ngx_uint_t n,
    ngx_uint_t locked);
ngx_http_mock_interaction_t *ngx_http_mock_replay_forced(
    ngx_http_request_t *r, ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_key_t *key);
ngx_http_mock_interaction_t *ngx_http_mock_interaction_find(
    ngx_http_mock_index_t *index, ngx_str_t *path, ngx_str_t *cassette,
    ngx_uint_t n);

/* ngx_http_mock_request.c */
ngx_int_t ngx_http_mock_request_body(ngx_http_request_t *r, ngx_str_t *body);

/* ngx_http_mock_json.c, for the admin and the fleet */
u_char *ngx_http_mock_json_quote(u_char *dst, ngx_str_t *s);
u_char *ngx_http_mock_decimal(u_char *p, uint64_t n);

/* ngx_http_mock_secret.c */
char *ngx_http_mock_secret_read(ngx_conf_t *cf, ngx_str_t *path,
    const char *what, ngx_str_t *secret);

/* ngx_http_mock_redis.c */
char *ngx_http_mock_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_http_mock_redis_script_t *ngx_http_mock_redis_script(ngx_conf_t *cf,
    ngx_http_mock_redis_t *redis, const char *text);
ngx_int_t ngx_http_mock_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_mock_redis_exit_process(ngx_cycle_t *cycle);
ngx_http_mock_redis_t *ngx_http_mock_redis_get(ngx_http_request_t *r);
ngx_int_t ngx_http_mock_redis_up(ngx_http_mock_redis_t *redis);
ngx_int_t ngx_http_mock_redis_call(ngx_http_request_t *r,
    ngx_http_mock_redis_reply_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_mock_redis_pipeline(ngx_http_request_t *r,
    ngx_http_mock_redis_reply_pt handler, void *data, ngx_uint_t n,
    ngx_http_mock_redis_command_t *cmds,
    ngx_http_mock_redis_value_t *values);
ngx_int_t ngx_http_mock_redis_poll(ngx_http_mock_redis_t *redis,
    ngx_http_mock_redis_event_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_mock_redis_send(ngx_http_mock_redis_t *redis, int argc,
    const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_mock_redis_queue(ngx_http_mock_redis_t *redis, int argc,
    const char **argv, const size_t *argvlen);
void ngx_http_mock_redis_outage(ngx_http_mock_redis_t *redis,
    const char *why, const char *detail);
void ngx_http_mock_redis_back(ngx_http_mock_redis_t *redis);

/* ngx_http_mock_fleet.c */
ngx_int_t ngx_http_mock_fleet_init(ngx_conf_t *cf);
void ngx_http_mock_fleet_exit_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_mock_fleet_on(ngx_http_request_t *r);
ngx_int_t ngx_http_mock_fleet_state(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, ngx_http_mock_group_t *g,
    ngx_str_t *method, ngx_str_t *path, ngx_uint_t head, ngx_uint_t vars,
    ngx_http_mock_fleet_done_pt done, void *data);
ngx_http_mock_interaction_t *ngx_http_mock_fleet_forced(
    ngx_http_mock_index_t *index, ngx_str_t *path, ngx_str_t *forced);
void ngx_http_mock_fleet_played(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, ngx_http_mock_interaction_t *it);
void ngx_http_mock_fleet_consumed(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, uint32_t hash, ngx_uint_t first);
void ngx_http_mock_fleet_var_set(ngx_http_request_t *r, ngx_str_t *session,
    ngx_str_t *name, ngx_str_t *value);
ngx_int_t ngx_http_mock_fleet_force(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, ngx_str_t *session, ngx_str_t *method,
    ngx_str_t *path, ngx_http_mock_interaction_t *it,
    ngx_http_mock_fleet_done_pt done, void *data);
ngx_int_t ngx_http_mock_fleet_reset(ngx_http_request_t *r,
    ngx_str_t *session, ngx_http_mock_fleet_done_pt done, void *data);
ngx_int_t ngx_http_mock_fleet_settings(ngx_http_request_t *r,
    ngx_http_mock_fleet_state_t *st);
void ngx_http_mock_fleet_unplay(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, ngx_http_mock_group_t *g);
ngx_int_t ngx_http_mock_fleet_setting(ngx_http_request_t *r,
    ngx_str_t *session, const char *name, ngx_str_t *value,
    ngx_http_mock_fleet_done_pt done, void *data);
void ngx_http_mock_fleet_journal_add(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_uint_t size);
ngx_int_t ngx_http_mock_fleet_journal(ngx_http_request_t *r,
    ngx_uint_t limit, ngx_http_mock_fleet_done_pt done, void *data);
ngx_int_t ngx_http_mock_fleet_plays(ngx_http_request_t *r,
    ngx_http_mock_store_t *store, ngx_str_t *session,
    ngx_http_mock_fleet_done_pt done, void *data);
ngx_uint_t ngx_http_mock_fleet_count(ngx_http_mock_fleet_state_t *st,
    ngx_http_mock_group_t *g, ngx_http_mock_interaction_t *it);

/* ngx_http_mock_commit.c */
void ngx_http_mock_commit_add(ngx_http_mock_commit_t *cm);
void ngx_http_mock_commit_flush(void);


/* ngx_http_mock_follow.c */
ngx_int_t ngx_http_mock_follow_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_http_mock_follow_init_process(ngx_cycle_t *cycle);
void ngx_http_mock_follow_exit_process(ngx_cycle_t *cycle);
void ngx_http_mock_follow_publish(ngx_http_request_t *r,
    ngx_http_mock_writer_t *writer, ngx_str_t *entry);

/* ngx_http_mock_switch.c */
char *ngx_http_mock_token_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mock_switch(ngx_http_request_t *r,
    ngx_http_mock_loc_conf_t *mlcf, ngx_http_mock_ctx_t *ctx,
    ngx_uint_t *mode);
ngx_str_t *ngx_http_mock_mode_name(ngx_uint_t mode);

/* ngx_http_mock_audit.c */
char *ngx_http_mock_audit_log(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_mock_audit(ngx_http_request_t *r, ngx_str_t *endpoint);
void ngx_http_mock_audit_end(ngx_http_request_t *r);

/* ngx_http_mock_expire.c */
ngx_uint_t ngx_http_mock_expire_due(ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_interaction_t *it);
ngx_int_t ngx_http_mock_expire_renew(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_loc_conf_t *mlcf,
    ngx_http_mock_interaction_t *it);
ngx_int_t ngx_http_mock_expire_record(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx, ngx_http_mock_writer_t *writer,
    ngx_http_mock_record_t *rec);

/* ngx_http_mock_edit.c */
ngx_int_t ngx_http_mock_edit_handler(ngx_http_request_t *r, ngx_str_t *name);
void ngx_http_mock_edit_lock(ngx_http_request_t *r);
void ngx_http_mock_edit_unlock(ngx_http_request_t *r);

/* ngx_http_mock_admin.c */
ngx_int_t ngx_http_mock_admin_handler(ngx_http_request_t *r);
void ngx_http_mock_journal_add(ngx_http_mock_shctx_t *sh,
    ngx_http_request_t *r, ngx_http_mock_ctx_t *ctx);

/* ngx_http_mock_ui.c */
typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     type;
    ngx_str_t                     etag;
    u_char                       *data;
    size_t                        len;
} ngx_http_mock_asset_t;

ngx_int_t ngx_http_mock_ui_forged(ngx_http_request_t *r);
ngx_int_t ngx_http_mock_ui_handler(ngx_http_request_t *r, ngx_str_t *name);
ngx_int_t ngx_http_mock_ui_send(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len);

/* ngx_http_mock_ui_assets.c, made from ui/ when the module is built */
extern ngx_http_mock_asset_t  ngx_http_mock_ui_assets[];

/* ngx_http_mock_inspect.c */
ngx_int_t ngx_http_mock_inspect_handler(ngx_http_request_t *r,
    ngx_str_t *name);

/* ngx_http_mock_report.c */
void ngx_http_mock_report_add(ngx_http_mock_shctx_t *sh, ngx_uint_t id,
    ngx_str_t *text);
ngx_int_t ngx_http_mock_report_get(ngx_http_mock_shctx_t *sh, ngx_uint_t id,
    ngx_pool_t *pool, ngx_str_t *text);

/* ngx_http_mock_latency.c */
char *ngx_http_mock_latency(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_mock_latency_parse(ngx_str_t *args, ngx_uint_t n,
    ngx_http_mock_latency_t *lat);
char *ngx_http_mock_latency_check(ngx_conf_t *cf,
    ngx_http_mock_loc_conf_t *conf);
u_char *ngx_http_mock_latency_print(u_char *p, ngx_http_mock_latency_t *lat);
ngx_msec_t ngx_http_mock_latency_delay(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_http_mock_latency_t *lat);
ngx_msec_t ngx_http_mock_latency_scaled(ngx_msec_t ms, ngx_uint_t scale);
ngx_int_t ngx_http_mock_latency_wait(ngx_http_request_t *r, ngx_msec_t delay,
    ngx_http_mock_resume_pt resume);
uint32_t ngx_http_mock_random(uint32_t seed, ngx_str_t *session,
    ngx_uint_t n, ngx_uint_t salt);

/* ngx_http_mock_stream.c */
ngx_uint_t ngx_http_mock_stream_applies(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it);
ngx_int_t ngx_http_mock_stream_render(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, ngx_str_t *body);
ngx_int_t ngx_http_mock_stream_send(ngx_http_request_t *r,
    ngx_http_mock_interaction_t *it, u_char *data, size_t len);

/* ngx_http_mock_fault.c */
char *ngx_http_mock_fault(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_mock_fault_parse(ngx_str_t *args, ngx_uint_t n,
    ngx_http_mock_fault_t *fault);
u_char *ngx_http_mock_fault_print(u_char *p, ngx_http_mock_fault_t *fault);
ngx_http_mock_fault_t *ngx_http_mock_fault_pick(ngx_http_request_t *r,
    ngx_uint_t upstream);
ngx_int_t ngx_http_mock_fault_answer(ngx_http_request_t *r);
ngx_int_t ngx_http_mock_fault_send(ngx_http_request_t *r, u_char *data,
    size_t len);
ngx_int_t ngx_http_mock_fault_upstream(ngx_http_request_t *r);
ngx_uint_t ngx_http_mock_words(ngx_str_t *value, ngx_str_t *args,
    ngx_uint_t max);

/* ngx_http_mock_upgrade.c */
ngx_int_t ngx_http_mock_upgrade(ngx_http_request_t *r,
    ngx_http_mock_ctx_t *ctx);

/* ngx_http_mock_variables.c */
ngx_int_t ngx_http_mock_add_variables(ngx_conf_t *cf);
ngx_str_t *ngx_http_mock_status_name(ngx_uint_t status);


extern ngx_module_t  ngx_http_mock_module;


#endif /* _NGX_HTTP_MOCK_MODULE_H_INCLUDED_ */
