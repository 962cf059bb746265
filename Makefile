# Conveniences over the two front doors, scripts/run and scripts/test (which need no make).
#   make run   - build and run roster on ./data/roster.db (SQLite), printing the URL and the
#                one-time maintenance token on the first start
#   make test  - build and run every test: unit, store contract, end to end, then the whole
#                suite again under ASan+UBSan, then the fuzz corpora replay
.PHONY: run test build deps clean bench fuzz

BUILD ?= build

deps:
	./scripts/deps

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --buildtype=debugoptimized
	ninja -C $(BUILD)

run:
	./scripts/run

test: deps
	./scripts/test

bench: deps
	./bench/run

fuzz: deps
	./fuzz/replay

clean:
	rm -rf build build-asan build-fuzz
