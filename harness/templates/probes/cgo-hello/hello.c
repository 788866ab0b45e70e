#include <stdio.h>

#include "hello.h"

int hello_add(int a, int b) { return a + b; }

const char *hello_cc(void) {
#if defined(__clang__)
	return "clang";
#elif defined(__GNUC__)
	return "gcc";
#else
	return "unknown";
#endif
}

const char *hello_cc_version(void) { return __VERSION__; }

const char *hello_libc(void) {
#if defined(__GLIBC__)
	static char buf[32];
	snprintf(buf, sizeof buf, "glibc %d.%d", __GLIBC__, __GLIBC_MINOR__);
	return buf;
#elif defined(__MINGW64_VERSION_STR)
	return "mingw-w64 " __MINGW64_VERSION_STR;
#elif defined(__APPLE__)
	return "libSystem";
#elif defined(__BIONIC__)
	return "bionic";
#elif defined(__linux__)
	/* musl defines no macro of its own, on purpose. */
	return "musl";
#else
	return "unknown";
#endif
}
