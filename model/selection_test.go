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

// A machine the API still lists as destroyed or destroying is gone too: no
// plan can act on it. Drop unmarks only what was marked, and says how many.
func TestSelectionPruneDestroyed(t *testing.T) {
	dead := mach("d", "web", imgV62)
	dead.State = StateDestroyed
	dying := mach("e", "web", imgV62)
	dying.State = StateDestroying
	s := snap([]Machine{mach("a", "web", imgV62), dead, dying}, testReleases)
	sel := NewSelection()
	sel.Add("a", "d", "e")
	if got := sel.Prune(s); got != 2 || sel.Has("d") || sel.Has("e") || !sel.Has("a") {
		t.Errorf("Prune = %d, IDs %v; want d and e dropped, a kept", got, sel.IDs())
	}
	if got := sel.Drop([]string{"a", "zzz"}); got != 1 || sel.Has("a") {
		t.Errorf("Drop = %d, IDs %v", got, sel.IDs())
	}
}
