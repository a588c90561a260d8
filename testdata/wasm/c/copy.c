// copy.c: the task of ../wat/copy.wat written in C against the Glacier ABI
// (docs/abi.md), with wasi-libc and no SDK. It copies its input dataset "in"
// to its output dataset "out", 64 KiB at a time, then logs one line to
// stdout: the byte count and its task context. On any host error it records
// a message with task_fail (the same messages as copy.wat) and exits with
// code 1, so the runtime commits nothing.
//
// Built by ../build-native.sh, from this directory, with clang-16 and
// wasi-libc (Debian: clang-16 lld-16 wasi-libc libclang-rt-16-dev-wasm32):
//
//   clang-16 --target=wasm32-wasi -O2 -s -o copy.wasm copy.c
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLACIER(name) __attribute__((import_module("glacier_v1"), import_name(#name)))

GLACIER(task_context) uint32_t task_context(char *buf, uint32_t cap, uint32_t *len);
GLACIER(dataset_open) uint32_t dataset_open(const char *name, uint32_t name_len, uint32_t mode, uint32_t *handle);
GLACIER(dataset_read) uint32_t dataset_read(uint32_t handle, char *buf, uint32_t len, uint32_t *n);
GLACIER(dataset_write) uint32_t dataset_write(uint32_t handle, const char *buf, uint32_t len, uint32_t *n);
GLACIER(dataset_close) uint32_t dataset_close(uint32_t handle);
GLACIER(task_fail) uint32_t task_fail(const char *msg, uint32_t msg_len);

enum { ERRNO_RANGE = 6, MODE_READ = 0, MODE_WRITE = 1 };

static char buf[64 << 10];

// fail records msg as the reason the task failed and exits with code 1.
static _Noreturn void fail(const char *msg) {
	task_fail(msg, strlen(msg));
	exit(1);
}

int main(void) {
	// Ask for the context's length with an empty buffer, then fetch it.
	uint32_t len = 0;
	if (task_context(NULL, 0, &len) != ERRNO_RANGE)
		fail("copy: cannot read the task context");
	char *ctx = malloc(len);
	if (ctx == NULL || task_context(ctx, len, &len) != 0)
		fail("copy: cannot read the task context");

	uint32_t in, out, n;
	if (dataset_open("in", 2, MODE_READ, &in) != 0)
		fail("copy: cannot open input \"in\"");
	if (dataset_open("out", 3, MODE_WRITE, &out) != 0)
		fail("copy: cannot open output \"out\"");

	uint64_t total = 0;
	for (;;) {
		if (dataset_read(in, buf, sizeof buf, &n) != 0)
			fail("copy: reading input \"in\" failed");
		if (n == 0) // the end of the input
			break;
		// The host takes all of a buffer or fails.
		if (dataset_write(out, buf, n, &n) != 0)
			fail("copy: writing output \"out\" failed");
		total += n;
	}
	dataset_close(in);
	if (dataset_close(out) != 0)
		fail("copy: closing output \"out\" failed");

	printf("copy (C): copied %llu bytes; task context %.*s\n", (unsigned long long)total, (int)len, ctx);
	return 0; // exit code 0: the runtime commits "out"
}
