package main

// wasWere and the like make a verb agree with a count, as model.Counted
// makes the noun: "1 machine was", "2 machines were".
func wasWere(n int) string { return agree(n, "was", "were") }
func isAre(n int) string   { return agree(n, "is", "are") }

func agree(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}
