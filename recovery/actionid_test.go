package recovery

import (
	"strings"
	"testing"
	"time"
)

// Every action ID is shown in one form, which names it back: the display
// form of a new ID, an old journal's whole ID and the display form all
// find the same action.
func TestDisplayIDNamesTheAction(t *testing.T) {
	for id, want := range map[string]string{
		"20261129T031500-a1b2c3": "031500-a1b2c3",
		"a1":                     "a1",
		"20261129X031500-a1b2c3": "20261129X031500-a1b2c3",
		"2026112aT031500-a1b2c3": "2026112aT031500-a1b2c3",
		"20261129T031500-":       "20261129T031500-",
		"":                       "",
	} {
		if got := DisplayID(id); got != want {
			t.Errorf("DisplayID(%q) = %q, want %q", id, got, want)
		}
	}
	fresh := newActionID(time.Date(2026, 11, 29, 3, 15, 0, 0, time.UTC))
	if d := DisplayID(fresh); !strings.HasPrefix(d, "031500-") || len(d) != len("031500-a1b2c3") {
		t.Fatalf("a new ID %q shows as %q", fresh, d)
	}
	hist := []*ActionLog{{Action: ActionRecord{ID: "20261128T031500-a1b2c3"}}, {Action: ActionRecord{ID: fresh}}}
	for _, name := range []string{fresh, DisplayID(fresh)} {
		if a, err := FindAction(hist, name); err != nil || a.Action.ID != fresh {
			t.Errorf("FindAction(%q): %v, %v", name, a, err)
		}
	}
}

// Two actions whose display forms are the same (a day apart, same second,
// same random bytes) are listed by their whole IDs, the only names that
// tell them apart.
func TestAmbiguousDisplayIDListsWholeIDs(t *testing.T) {
	hist := []*ActionLog{
		{Action: ActionRecord{ID: "20261128T031500-a1b2c3"}},
		{Action: ActionRecord{ID: "20261129T031500-a1b2c3"}},
	}
	_, err := FindAction(hist, "031500-a1b2c3")
	if err == nil || !strings.Contains(err.Error(), "20261128T031500-a1b2c3") || !strings.Contains(err.Error(), "20261129T031500-a1b2c3") {
		t.Fatalf("ambiguous display form: %v", err)
	}
}
