/* c-abi: the target's C ABI as the cell's C compiler sees it, printed as
 * facts. These are the numbers Go code that calls C, or reads C structs from
 * files and sockets, silently depends on: long is 4 bytes on 32-bit ports
 * and on 64-bit Windows, time_t and off_t are 4 bytes on 32-bit glibc unless
 * asked otherwise, and int64_t is 8-aligned on arm but 4-aligned on 386. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct pair {
	int32_t a;
	int64_t b;
};

static const char *sep = "";

static void put_num(const char *key, unsigned long v) {
	printf("%s\"%s\":%lu", sep, key, v);
	sep = ",";
}

static void put_str(const char *key, const char *v) {
	printf("%s\"%s\":\"", sep, key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		if ((unsigned char)*v >= 0x20)
			putchar(*v);
	}
	putchar('"');
	sep = ",";
}

static void open_obj(const char *key) {
	printf("%s\"%s\":{", sep, key);
	sep = "";
}

static void close_obj(void) {
	putchar('}');
	sep = ",";
}

#if defined(__clang__)
#define CC_NAME "clang"
#elif defined(__GNUC__)
#define CC_NAME "gcc"
#else
#define CC_NAME "unknown"
#endif

static const char *libc_name(void) {
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
	/* musl defines no macro of its own, on purpose; it is the only other
	 * Linux libc crossprobe's compilers (zig cc) link. */
	return "musl";
#else
	return "unknown";
#endif
}

#define TYPES(X)                                                               \
	X(long, long)                                                          \
	X(long_long, long long)                                                \
	X(double, double)                                                      \
	X(long_double, long double)                                            \
	X(void_ptr, void *)                                                    \
	X(size_t, size_t)                                                      \
	X(time_t, time_t)                                                      \
	X(off_t, off_t)                                                        \
	X(int64_t, int64_t)                                                    \
	X(struct_stat, struct stat)                                            \
	X(struct_pair, struct pair)

int main(void) {
	printf("CROSSPROBE-FACTS: {");
	open_obj("c");
	put_str("cc", CC_NAME);
	put_str("version", __VERSION__);
	put_str("libc", libc_name());
	close_obj();
#define SIZE(name, t) put_num(#name, sizeof(t));
#define ALIGN(name, t) put_num(#name, _Alignof(t));
	open_obj("sizeof");
	TYPES(SIZE)
	close_obj();
	open_obj("alignof");
	TYPES(ALIGN)
	close_obj();
	open_obj("offsetof");
	put_num("stat_st_size", offsetof(struct stat, st_size));
	put_num("stat_st_mtime", offsetof(struct stat, st_mtime));
	put_num("pair_b", offsetof(struct pair, b));
	close_obj();
	printf("}\n");
	return 0;
}
