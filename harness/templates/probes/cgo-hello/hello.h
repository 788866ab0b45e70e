/* Declarations only: export.go has an //export, and cgo then forbids
 * definitions in any preamble of the package's files that include this. */
int hello_add(int a, int b);
const char *hello_cc(void);
const char *hello_cc_version(void);
const char *hello_libc(void);
