/* crossprobe's host program for -buildmode=c-archive and c-shared: a C main
 * that calls the Go library's exported CrossprobeMain, so that a probe built
 * as a library runs, and prints its facts, the same way as one built as a
 * program. A probe meant for these modes exports CrossprobeMain. */
extern void CrossprobeMain(void);

int main(void) {
	CrossprobeMain();
	return 0;
}
