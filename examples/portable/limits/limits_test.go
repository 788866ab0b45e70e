package limits

import "testing"

func TestMax(t *testing.T) {
	if Max != 4<<30 {
		t.Fatalf("Max = %d", Max)
	}
}
