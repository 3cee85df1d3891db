package recovery

// The journal names an action "20261129T031500-a1b2c3": its start in UTC to
// the second, and three random bytes. People see one form of it everywhere
// (dashboard, log, undo, resume, hints): DisplayID's. It is a suffix of the
// whole ID, so FindAction accepts it back, and the whole ID still works.

// actionIDDate is the length of the date and the "T" that DisplayID drops.
const actionIDDate = len("20261129T")

// DisplayID is the form of an action ID shown to people: "031500-a1b2c3"
// for "20261129T031500-a1b2c3". The date adds nothing at 80 columns (the log
// prints it in its own column) and the random part keeps the rest unique. An
// ID not of that shape (a journal edited by hand, a test's "a1") is shown
// as it is.
func DisplayID(id string) string {
	if !isActionID(id) {
		return id
	}
	return id[actionIDDate:]
}

// isActionID: id has newActionID's shape, YYYYMMDDTHHMMSS-random.
func isActionID(id string) bool {
	const prefix = len("20261129T031500-")
	if len(id) <= prefix || id[8] != 'T' || id[prefix-1] != '-' {
		return false
	}
	for i := range prefix - 1 {
		if i != 8 && (id[i] < '0' || id[i] > '9') {
			return false
		}
	}
	return true
}

// displayIDs shows ids in their display form, unless two of them would then
// read the same (actions a day apart in the same second, with the same
// random bytes): then only the whole IDs tell them apart.
func displayIDs(ids []string) []string {
	out := make([]string, len(ids))
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		out[i] = DisplayID(id)
		if seen[out[i]] {
			return append([]string(nil), ids...)
		}
		seen[out[i]] = true
	}
	return out
}
