# gen's build. `make` builds build/gen; `make site` builds the handbook;
# `make check` runs every test under prove. Libraries come from Debian
# packages listed in deps.mk; tools/deps.sh installs what is missing.

include deps.mk

VERSION  = 0.1.0
PREFIX  ?= /usr/local
CC      ?= cc

ifeq ($(SANITIZE),1)
BUILD   ?= build/sanitize
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	   -DGEN_FREE_AT_EXIT
OPT      = -O1 -g
else
BUILD   ?= build
SANFLAGS =
OPT      = -O2 -g
endif

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wwrite-strings -Wvla -Wformat=2 -Wno-format-nonliteral
ifneq ($(CI),)
WARN += -Werror
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif

# Evaluated lazily (=) so that pkg-config runs only after the deps stamp.
# libmicrohttpd is not linked: gen serve opens it when it starts (see
# gen/serve.c), by the name (soname) its development link points to.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKG_MODULES))
PKG_LIBS   = $(shell pkg-config --libs $(filter-out libmicrohttpd,$(PKG_MODULES))) \
	     -lcmark-gfm-extensions -lstemmer -lpthread -lm -ldl
MHD_SONAME = $(shell objdump -p "$$(pkg-config --variable=libdir libmicrohttpd)/libmicrohttpd.so" \
		2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')

CPPFLAGS += -D_POSIX_C_SOURCE=200809L -DGEN_VERSION='"$(VERSION)"' -DGEN_DATADIR='"$(PREFIX)/share/gen"' -Igen
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP
LDFLAGS  += $(SANFLAGS)

LIB_SRC   = $(filter-out gen/main.c,$(wildcard gen/*.c))
LIB_OBJ   = $(LIB_SRC:gen/%.c=$(BUILD)/obj/%.o)
TOOL_SRC  = $(wildcard tools/*.c)
TOOLS     = $(TOOL_SRC:tools/%.c=$(BUILD)/%)
UNIT_SRC  = $(wildcard tests/*.c)
UNITS     = $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%)
SCRIPTS   = $(sort $(filter-out tests/lib.sh,$(wildcard tests/*.sh)))
DEPS_OK   = build/.deps-ok

.SECONDARY:
.PHONY: all deps site check unit e2e install clean bench
all: $(BUILD)/gen $(TOOLS)

deps: $(DEPS_OK)
$(DEPS_OK): deps.mk tools/deps.sh
	@sh tools/deps.sh "$(PKG_MODULES)" "$(DEB_PACKAGES)"
	@mkdir -p build && touch $@

$(BUILD)/obj/%.o: gen/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/obj/serve.o: CPPFLAGS += $(if $(MHD_SONAME),-DGEN_MHD_SONAME='"$(MHD_SONAME)"')

$(BUILD)/obj/tools/%.o: tools/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(BUILD)/libgen.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/gen: $(BUILD)/obj/main.o $(BUILD)/libgen.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/%: $(BUILD)/obj/tools/%.o $(BUILD)/libgen.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libgen.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The handbook itself, built from the committed content.
site: $(BUILD)/gen
	./$(BUILD)/gen build
	@echo "the handbook is built: open file://$(CURDIR)/public/index.html in a browser"

# Every test under prove: C unit tests, then end-to-end scripts that run
# the gen binary. GEN and TOOLS tell the scripts which build to use.
check: all $(UNITS)
	@command -v git >/dev/null || { echo "make check needs git"; exit 1; }
	GEN=$(CURDIR)/$(BUILD)/gen TOOLS=$(CURDIR)/$(BUILD) SRCDIR=$(CURDIR) \
	  prove --exec '' $(UNITS) $(SCRIPTS)

# Only the C unit tests (run under SANITIZE=1 by .ci/run).
unit: all $(UNITS)
	GEN=$(CURDIR)/$(BUILD)/gen TOOLS=$(CURDIR)/$(BUILD) SRCDIR=$(CURDIR) \
	  prove --exec '' $(UNITS)

# gen against Hugo on synthetic handbooks (bench/README.md). Not a test:
# it times, it does not check. BENCH_SIZES="1000 10000" and friends pass on.
bench: $(BUILD)/gen
	@test "$(SANITIZE)" != 1 || { echo "make bench: build without SANITIZE=1"; exit 1; }
	GEN=$(CURDIR)/$(BUILD)/gen perl bench/run

install: $(BUILD)/gen
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/gen
	install -m 755 $(BUILD)/gen $(DESTDIR)$(PREFIX)/bin/gen
	install -m 644 doc/gen.1 $(DESTDIR)$(PREFIX)/share/man/man1/gen.1
	cp -R themes $(DESTDIR)$(PREFIX)/share/gen/

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d)
