package recovery

import "fmt"

// recoverAs turns a panic on one of the engine's own goroutines into an
// error for onPanic. A panic there would otherwise kill the process with the
// terminal still raw and leases held; what each goroutine does with the
// error (end the run, give up refreshing a lease, count a lookup as
// unanswered) is its caller's choice. Use it as `defer recoverAs(...)`.
func recoverAs(what string, onPanic func(error)) {
	if r := recover(); r != nil {
		onPanic(fmt.Errorf("internal error %s (a bug in flyrescue; please report it): %v", what, r))
	}
}
