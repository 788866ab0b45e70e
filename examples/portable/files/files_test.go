package files

import (
	"os"
	"runtime"
	"testing"
)

func TestReadsTestdata(t *testing.T) {
	b, err := os.ReadFile("testdata/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "hello\n" {
		t.Fatalf("read %q", b)
	}
}

func TestUnixPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("windows has no unix permission bits")
	}
	dir := t.TempDir()
	p := dir + "/x"
	if err := os.WriteFile(p, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	m, err := Mode(p)
	if err != nil {
		t.Fatal(err)
	}
	if m&0o077 != 0o040 {
		t.Fatalf("mode %o", m)
	}
}
