package restclient_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The client is test support: no package's non-test code may import it
// (e2e, chaos and bench use it from their _test.go files).
func TestNoProductionImports(t *testing.T) {
	const self = "eventide/internal/restclient"
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goBin, "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "eventide/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == self {
				t.Errorf("%s imports %s outside its tests", f[0], self)
			}
		}
	}
}
