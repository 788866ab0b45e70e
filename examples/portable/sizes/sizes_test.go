package sizes

import "testing"

func TestIntIs64Bits(t *testing.T) {
	if IntBits() != 64 {
		t.Fatalf("int is %d bits, the code assumes 64", IntBits())
	}
}

func TestOffset(t *testing.T) {
	cases := []struct {
		name    string
		base, n int
	}{
		{"small", 1, 2},
		{"large", 1 << 30, 1 << 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Offset(c.base, c.n); got < c.base {
				t.Errorf("Offset(%d, %d) = %d: it wrapped", c.base, c.n, got)
			}
		})
	}
}
