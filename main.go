// Command flyrescue is a terminal dashboard and command line for recovering
// Fly.io apps from failed deploys.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/flyrescue/flyrescue/flyclient"
)

func main() {
	code, _ := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(code)
}

// run is the whole program but the exit: it runs the command line with
// args and returns the exit code the README documents, with the error it
// came from. Everything the commands print goes through printableWriter;
// the dashboard draws on the terminal itself.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	root := newRootCmd()
	out, errOut := &printableWriter{w: stdout}, &printableWriter{w: stderr}
	root.SetIn(stdin)
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetArgs(args)
	usageExits(root)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0, nil
	}
	// One line, whatever the error carries: a server's words, an echoed
	// argument, a token an older journal kept.
	fmt.Fprintln(errOut, "Error:", flyclient.PrintableLine(err.Error()))
	return exitCode(err), err
}

// printableWriter is the second line of defence at every output: secrets
// are redacted and terminal control sequences escaped in whatever is
// written, even if a print forgot to. Each Write is treated whole (every
// print is one Write).
type printableWriter struct{ w io.Writer }

func (p *printableWriter) Write(b []byte) (int, error) {
	s := flyclient.Printable(string(b))
	if _, err := io.WriteString(p.w, s); err != nil {
		return 0, err
	}
	return len(b), nil
}
