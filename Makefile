# lvs.h - build, test, fuzz and benchmark. Outputs go to $(BUILD) (default build/).
#   make              the tools: build/lvs, build/lvs-convert, and the examples
#   make test         build and run every test; ends with "N passed, N failed"
#   make test-san     the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-portable the tests with LVS_NO_MMAP and LVS_NO_SIMD (read-into-memory files,
#                     portable C kernels)
#   make check        strict-warning builds: gcc and clang (C99, with and without OpenMP),
#                     g++ (C++17), x86_64-w64-mingw32-gcc (Windows, compile only)
#   make fuzz         libFuzzer on the JSON and safetensors readers, the tokenizer and prompt lists,
#                     FUZZ_SECONDS each
#   make bench        speed figures (JSON, tokenizers, safetensors I/O, conversion, engine, PGD
#                     step and LoRA step against PyTorch, reward-model scoring)
#   make demo         build build/lvs and audit the committed toy models (base, dissociated):
#                     the audit-gap table on stdout, the report in $(DEMO_OUT) (build/demo)
#   make toy          retrain the toy world's models from scratch into toy/ (committed; about
#                     two minutes on one core)
#   make clean

CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
ARCH    ?= -march=native
OMP     ?= -fopenmp
WARN     = -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
LDLIBS   = -lm
FUZZ_SECONDS ?= 60

TOOLS    = $(BUILD)/lvs $(BUILD)/lvs-convert
EXAMPLES = $(BUILD)/st_dump $(BUILD)/generate $(BUILD)/hooks $(BUILD)/lvs_minimal $(BUILD)/toy_audit
TEST_SRC = tests/runner.c tests/util.c tests/lvs_impl.c $(wildcard tests/test_*.c)

.PHONY: all test test-san test-portable check fuzz bench demo toy clean

all: $(TOOLS) $(EXAMPLES)

$(BUILD):
	@mkdir -p $(BUILD)

$(BUILD)/lvs: tools/lvs.c lvs.h | $(BUILD)
	$(CC) $(WARN) $(CFLAGS) $(ARCH) $(OMP) -o $@ tools/lvs.c $(LDLIBS)

$(BUILD)/lvs-convert: tools/lvs-convert.c lvs.h | $(BUILD)
	$(CC) $(WARN) $(CFLAGS) $(ARCH) $(OMP) -o $@ tools/lvs-convert.c $(LDLIBS)

# examples build exactly as documented: cc -O2 examples/NAME.c -lm
$(BUILD)/%: examples/%.c lvs.h | $(BUILD)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

$(BUILD)/run_tests: $(TEST_SRC) tests/test.h lvs.h | $(BUILD)
	$(CC) $(WARN) $(CFLAGS) $(ARCH) $(OMP) -o $@ $(TEST_SRC) $(LDLIBS)

test: all $(BUILD)/run_tests
	@LVS_BUILD=$(BUILD) ./$(BUILD)/run_tests $(T)

SAN = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test-san:
	@$(MAKE) --no-print-directory BUILD=build/san CFLAGS="$(SAN)" test

test-portable:
	@$(MAKE) --no-print-directory BUILD=build/portable CFLAGS="-O2 -g -DLVS_NO_MMAP -DLVS_NO_SIMD" test

STRICT = -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror
CHECK_SRC = tests/lvs_impl.c tools/lvs.c tools/lvs-convert.c examples/st_dump.c examples/generate.c examples/hooks.c examples/lvs_minimal.c \
            examples/toy_audit.c
check:
	@for cc in gcc clang; do for omp in "" "-fopenmp" "-DLVS_STATIC" "-DLVS_NO_MMAP"; do \
	  for f in $(CHECK_SRC); do \
	    echo "$$cc $$omp $$f"; $$cc $(STRICT) $$omp -fsyntax-only $$f || exit 1; \
	  done; done; done
	@for f in $(CHECK_SRC); do \
	  echo "g++ -x c++ -std=c++17 $$f"; g++ -x c++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only $$f || exit 1; \
	  echo "g++ -x c++ -std=c++17 -fopenmp $$f"; g++ -x c++ -std=c++17 -Wall -Wextra -Werror -fopenmp -fsyntax-only $$f || exit 1; \
	done
	@for f in $(CHECK_SRC); do \
	  echo "x86_64-w64-mingw32-gcc $$f"; x86_64-w64-mingw32-gcc $(STRICT) -c $$f -o /dev/null || exit 1; \
	  x86_64-w64-mingw32-gcc $(STRICT) -DLVS_NO_MMAP -c $$f -o /dev/null || exit 1; \
	done
	@echo "check: all strict builds are clean"

FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(BUILD)/fuzz/%: tests/fuzz/%.c lvs.h
	@mkdir -p $(BUILD)/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(LDLIBS)

fuzz: $(BUILD)/fuzz/fuzz_json $(BUILD)/fuzz/fuzz_safetensors $(BUILD)/fuzz/fuzz_tokenizer $(BUILD)/fuzz/fuzz_prompts
	@mkdir -p $(BUILD)/fuzz/corpus_json $(BUILD)/fuzz/corpus_safetensors $(BUILD)/fuzz/corpus_tokenizer \
	    $(BUILD)/fuzz/corpus_prompts
	$(BUILD)/fuzz/fuzz_json -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/json.dict \
	    $(BUILD)/fuzz/corpus_json tests/fuzz/seeds/json
	$(BUILD)/fuzz/fuzz_safetensors -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/safetensors.dict \
	    $(BUILD)/fuzz/corpus_safetensors tests/fuzz/seeds/safetensors
	LVS_SHARED=$${LVS_SHARED:-../shared} $(BUILD)/fuzz/fuzz_tokenizer -max_total_time=$(FUZZ_SECONDS) \
	    $(BUILD)/fuzz/corpus_tokenizer tests/fuzz/seeds/tokenizer
	$(BUILD)/fuzz/fuzz_prompts -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus_prompts tests/fuzz/seeds/prompts

$(BUILD)/bench: tests/bench.c lvs.h | $(BUILD)
	$(CC) $(WARN) -O2 -g $(ARCH) $(OMP) -o $@ tests/bench.c $(LDLIBS)

bench: $(BUILD)/bench
	@LVS_SHARED=$${LVS_SHARED:-../shared} ./$(BUILD)/bench

# the audit of the toy world (README.md, "The audit"). The toy models are tiny: PGD at p = 2e-2
# (their states have no outlier dimensions), LoRA at lr 1e-3, answers of at most 64 tokens,
# one thread (threads only cost time at this size). The output folder starts empty every time.
DEMO_OUT ?= $(BUILD)/demo
demo: $(BUILD)/lvs
	@rm -rf $(DEMO_OUT)
	./$(BUILD)/lvs audit toy/toy-base toy/toy-dissociated --prompts toy/data/refusal-test.jsonl \
	    --benign toy/data/benign-test.jsonl --harmful-data toy/data/compliance-train.jsonl \
	    --harmful-model toy/toy-harmful --probe-safe toy/data/refusal-train.jsonl \
	    --probe-unsafe toy/data/compliance-train.jsonl --sites all --lvs-budget 2e-2 --max-new 64 \
	    --ft-lr 1e-3 --ft-steps 60 --ft-max-new 64 --threads 1 -o $(DEMO_OUT)

# the toy world (README.md, "The toy world"): base, harmful and dissociated models and the
# world's data, deterministic for a seed; the committed folders are what this writes
toy: $(BUILD)/lvs
	./$(BUILD)/lvs toy train -o toy

clean:
	rm -rf $(BUILD)
