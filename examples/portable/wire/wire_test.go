package wire

import "testing"

func TestLengthIsLittleEndian(t *testing.T) {
	if got := Length([]byte{0x01, 0x00, 0x00, 0x00}); got != 1 {
		t.Fatalf("Length(01 00 00 00) = %#x, want 1", got)
	}
}
