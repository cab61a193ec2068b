# lmp: predict what LLM inference costs.  Plain GNU make, no configure step.
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/lmp
MANDIR = $(PREFIX)/share/man

CC ?= cc
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Ilib
LDLIBS = -lcjson -lnettle -lm -ldl

TOOLS = lmp-inspect lmp-ensure lmp-populate lmp-eval lmp-roofline lmp-report lmp-calibrate
BINS = $(TOOLS:%=bin/%)
LIBOBJ = $(patsubst %.c,%.o,$(wildcard lib/*.c))
UNIT = test/unit/test_engine test/unit/test_report test/unit/test_time test/unit/test_steps test/unit/test_numfmt test/unit/test_fields test/unit/test_jobs test/unit/test_jcanon
HTTPD = test/httpd

# Debian packages the build, the demo and the tests need.
BUILD_DEPS = gcc make libcjson-dev libcurl4-openssl-dev nettle-dev
TEST_DEPS = jq bats bats-support bats-assert libxml2-utils chromium
DEMO_DEPS = jq
FUZZ_DEPS = clang
# ./make.sh reads these lists: keep each on one line.

all: deps-build $(BINS)

lib/liblmp.a: $(LIBOBJ)
	$(AR) rcs $@ $(LIBOBJ)

$(LIBOBJ) $(BINS:%=%.o) $(UNIT:%=%.o): lib/lmp.h lib/report.h test/unit/tap.h
lib/poly.o lib/fold.o lib/polyeval.o: lib/poly_impl.h
lib/roofline.o lib/timed.o lib/emit.o: lib/timed.h
lib/evaldoc.o lib/sweepform.o: lib/evalslots.h

bin/%: bin/%.o lib/liblmp.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< lib/liblmp.a $(LDLIBS)

test/unit/%: test/unit/%.o lib/liblmp.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< lib/liblmp.a $(LDLIBS)

# Install missing Debian packages (apt-get, with sudo when not root).
deps-build:
	@sh ./tools/deps.sh $(BUILD_DEPS)
deps-bench:
	@sh ./tools/deps.sh $(BUILD_DEPS) time
deps-demo:
	@sh ./tools/deps.sh $(DEMO_DEPS)
deps-test:
	@sh ./tools/deps.sh $(BUILD_DEPS) $(TEST_DEPS)

# The main job on a shipped model: a 2048-token prefill of Llama-2-7B on an
# H100, reported layer by layer.
demo: all deps-demo
	./pipeline.sh meta-llama/Llama-2-7b-hf --hardware nvidia-h100-sxm --batch-size 1 --seq-len 2048 --format text

# The documents of every shipped model, regenerated from share/lmp/configs.
models: all
	@sh ./tools/make-models.sh models

# The generated parts of README.md (families, devices, example) and docs/.
readme: all
	@sh ./tools/make-readme.sh

# The shipped calibration (lmp-calibration(5)), fitted to the measurement
# corpus, after a change to the corpus or to the time model.
calibration: all
	HF_HUB_OFFLINE=1 LMP_CALIBRATION=none ./bin/lmp-calibrate share/lmp/measured/*.ndjson > share/lmp/calibration/corpus.json.tmp
	mv share/lmp/calibration/corpus.json.tmp share/lmp/calibration/corpus.json

# The held-out error of today's code against the corpus, beside the shipped
# calibration's: fails where it is worse (lmp-calibrate(1) --check).
validate: all
	HF_HUB_OFFLINE=1 LMP_CALIBRATION=none ./bin/lmp-calibrate --check share/lmp/calibration/corpus.json share/lmp/measured/*.ndjson

# The reference reports of test/07-report.bats, after a deliberate change.
golden: all
	@sh ./tools/make-golden.sh

$(HTTPD): test/httpd.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ test/httpd.c

test: deps-test $(BINS) $(UNIT) $(HTTPD)
	@LC_ALL=C ./test/run

# The whole suite again, built with AddressSanitizer and UndefinedBehaviorSanitizer
# in a copy of the tree (build/asan), so sanitized and normal objects never mix.
check-asan: deps-test
	@sh ./tools/check-asan.sh

# libFuzzer targets (fuzz/*.c) over the library built by clang with the
# sanitizers, in fuzz/build.  `make fuzz` explores FUZZ_SECONDS per target
# from the seed corpora in fuzz/corpus; `make fuzz-replay` only runs the
# saved corpora, the same every time.
FUZZ = json formula inspect roofline
FUZZ_SECONDS = 60
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	-std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Ilib
FUZZ_LIBOBJ = $(LIBOBJ:lib/%.o=fuzz/build/lib/%.o)

fuzz/build/lib/%.o: lib/%.c lib/lmp.h lib/report.h
	@mkdir -p fuzz/build/lib
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

fuzz/build/liblmp.a: $(FUZZ_LIBOBJ)
	$(AR) rcs $@ $(FUZZ_LIBOBJ)

fuzz/build/%: fuzz/%.c fuzz/build/liblmp.a lib/lmp.h
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_ROOT='"$(CURDIR)"' -o $@ $< fuzz/build/liblmp.a $(LDLIBS)

deps-fuzz:
	@sh ./tools/deps.sh $(BUILD_DEPS) $(FUZZ_DEPS)
fuzz: deps-fuzz
	@$(MAKE) -s --no-print-directory $(FUZZ:%=fuzz/build/%)
	@sh ./tools/fuzz.sh $(FUZZ_SECONDS) $(FUZZ)
fuzz-replay: deps-fuzz
	@$(MAKE) -s --no-print-directory $(FUZZ:%=fuzz/build/%)
	@sh ./tools/fuzz.sh 0 $(FUZZ)

bench: all deps-bench
	@./bench/run

install: $(BINS)
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	cp $(BINS) $(DESTDIR)$(BINDIR)/
	cp pipeline.sh $(DESTDIR)$(BINDIR)/lmp-pipeline
	cp -R share/lmp/. $(DESTDIR)$(DATADIR)/
	cp module_db.json $(DESTDIR)$(DATADIR)/
	cp man/lmp-arch.5 $(DESTDIR)$(DATADIR)/  # the template manual, for the architecture agent's prompt
	mkdir -p $(DESTDIR)$(DATADIR)/models && cp models/*.json $(DESTDIR)$(DATADIR)/models/
	cp man/*.1 $(DESTDIR)$(MANDIR)/man1/
	cp man/*.5 $(DESTDIR)$(MANDIR)/man5/
	cp man/*.7 $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(BINDIR)/lmp-pipeline
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(MANDIR)/man1/lmp-*.1 $(DESTDIR)$(MANDIR)/man5/lmp-*.5 $(DESTDIR)$(MANDIR)/man7/lmp.7

clean:
	rm -f $(BINS) bin/*.o lib/*.o lib/liblmp.a $(UNIT) $(HTTPD) test/unit/*.o
	rm -rf build fuzz/build

.PHONY: all deps-build deps-bench deps-demo deps-test demo models golden readme test bench install uninstall clean calibration validate
.PHONY: check-asan deps-fuzz fuzz fuzz-replay
.SECONDARY: $(LIBOBJ)
