package main

import "github.com/flyrescue/flyrescue/model"

// wasWere and isAre make a verb agree with a count, as model.Counted makes
// the noun: "1 machine was", "2 machines were".
func wasWere(n int) string { return model.Agree(n, "was", "were") }
func isAre(n int) string   { return model.Agree(n, "is", "are") }
