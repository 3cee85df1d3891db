package ui

import (
	"strconv"

	"github.com/flyrescue/flyrescue/model"
)

// moreText says how many more of noun there are past what is shown, the
// number before "more" and the noun agreeing with it: "… 1 more line",
// "… 3 more lines".
func moreText(lead string, n int, noun string) string {
	return lead + strconv.Itoa(n) + " more " + model.Agree(n, noun, model.Plural(noun))
}
