#include "layout.h"

/* Measured by the C compiler itself, not by cgo's reading of it. */
size_t pair_sizeof(void) { return sizeof(struct pair); }
size_t pair_alignof(void) { return _Alignof(struct pair); }
size_t pair_offsetof_b(void) { return offsetof(struct pair, b); }
