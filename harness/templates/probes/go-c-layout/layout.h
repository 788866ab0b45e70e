#include <stddef.h>
#include <stdint.h>

/* The C side of the comparison: what a C library would hand to Go. */
struct pair {
	int32_t a;
	int64_t b;
};

size_t pair_sizeof(void);
size_t pair_alignof(void);
size_t pair_offsetof_b(void);
