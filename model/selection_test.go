package model

import "testing"

func TestSelection(t *testing.T) {
	s := snap([]Machine{mach("a", "web", imgV62), mach("b", "web", imgV62), mach("c", "worker", imgV61)}, testReleases)
	sel := NewSelection()
	sel.Toggle("b")
	sel.Add("c", "a", "gone")
	sel.Toggle("a")
	if sel.Has("a") || !sel.Has("b") || sel.Len() != 3 {
		t.Fatalf("after toggles: %v", sel.IDs())
	}
	equalStrings(t, "IDs", sel.IDs(), []string{"b", "c", "gone"})

	// Visible rows: only "b" (index 1). "c" is hidden; "gone" is not in the
	// snapshot, so it is Prune's business, not the filter's.
	if got := sel.Hidden([]int{1}, s); got != 1 {
		t.Errorf("Hidden = %d, want 1", got)
	}
	if got := sel.Prune(s); got != 1 || sel.Has("gone") {
		t.Errorf("Prune = %d, IDs %v", got, sel.IDs())
	}
	sel.Remove("b")
	equalStrings(t, "after Remove", sel.IDs(), []string{"c"})
	sel.Clear()
	if sel.Len() != 0 || sel.Hidden(nil, s) != 0 {
		t.Errorf("after Clear: %v", sel.IDs())
	}
}
