# Build glue for ngx_http_mock_module.
#
#   make            install missing Debian packages, then build
#                   build/ngx_http_mock_module.so against Debian's nginx
#                   (nginx-dev), or against NGINX_SRC=/path/to/nginx-x.y.z
#   make test       run the Test::Nginx suite in t/
#   make valgrind   run the suite with nginx under valgrind memcheck
#   make asan       build with AddressSanitizer and run the suite with it
#   make bench      run scripts/bench.py
#   make bench-ui   run scripts/bench-ui.py
#   make screenshots  write docs/ui-*.png, the dashboard's views, with
#                   t/ui.t in headless Chromium
#   make start      start the quickstart mock on 127.0.0.1:8080
#   make stop       stop it

NGINX_SRC     ?= /usr/share/nginx/src
NGINX_BIN     ?= /usr/sbin/nginx
BUILD         ?= build
MODULE_CFLAGS ?= -O2 -g
TESTS         ?= t/ t-runner/
PROVE_FLAGS   ?= -r

TOP        := $(CURDIR)
SO         := $(BUILD)/ngx_http_mock_module.so
ASAN_SO    := $(BUILD)/asan/ngx_http_mock_module.so
SOURCES    := config $(wildcard ngx_mock_module/*.c ngx_mock_module/*.h \
                ngx_mock_module/ui/*) scripts/ui-assets.py

# Debian's nginx-dev ships the configure flags its nginx was built with;
# an upstream source tree is configured --with-compat.
CONF_FLAGS  = $(shell if [ -f $(NGINX_SRC)/conf_flags ]; then \
                bash -c '. $(NGINX_SRC)/conf_flags; echo "$${NGX_CONF_FLAGS[@]}"'; \
              else echo --with-compat; fi)

.PHONY: all deps test valgrind asan bench bench-ui screenshots start stop \
        clean

all: $(SO)

deps:
	@scripts/install-deps.sh

$(SO): $(SOURCES) | deps
	@scripts/build-module.sh "$(NGINX_SRC)" "$(BUILD)/nginx" "$(MODULE_CFLAGS)" \
	    "$(CONF_FLAGS)"
	cp $(BUILD)/nginx/objs/ngx_http_mock_module.so $@.tmp && mv -f $@.tmp $@

$(ASAN_SO): $(SOURCES) | deps
	@scripts/build-module.sh "$(NGINX_SRC)" "$(BUILD)/asan/nginx" \
	    "-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	    "$(CONF_FLAGS)" "-fsanitize=address,undefined"
	cp $(BUILD)/asan/nginx/objs/ngx_http_mock_module.so $@.tmp && mv -f $@.tmp $@

test: deps $(SO)
	MOCK_MODULE=$(TOP)/$(SO) scripts/run-tests.sh $(PROVE_FLAGS) $(TESTS)

valgrind: deps $(SO)
	@scripts/install-deps.sh valgrind
	TEST_NGINX_USE_VALGRIND=1 MOCK_MODULE=$(TOP)/$(SO) \
	    scripts/run-tests.sh $(PROVE_FLAGS) $(TESTS)

asan: $(ASAN_SO)
	MOCK_MODULE=$(TOP)/$(ASAN_SO) MOCK_ASAN=1 \
	    scripts/run-tests.sh $(PROVE_FLAGS) $(TESTS)

bench: deps $(SO)
	@scripts/install-deps.sh wrk
	MOCK_MODULE=$(TOP)/$(SO) scripts/bench.py

bench-ui: deps $(SO)
	@scripts/install-deps.sh wrk
	MOCK_MODULE=$(TOP)/$(SO) scripts/bench-ui.py

screenshots: deps $(SO)
	UI_SCREENSHOTS=$(TOP)/docs MOCK_MODULE=$(TOP)/$(SO) \
	    scripts/run-tests.sh t/ui.t

start: deps $(SO)
	scripts/quickstart.sh start $(EXAMPLE)

stop:
	scripts/quickstart.sh stop $(EXAMPLE)

clean:
	rm -rf $(BUILD) t/servroot*
