package consensus

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// goldenCommands is the log format of every command kind as this version
// writes it (testdata/commands.golden: one "kind hex" line per seed of
// FuzzFSMApply, in order). Logs and snapshots on disk hold these bytes, so
// a change here is a format change: give it a new kind or entry version
// instead. EVENTIDE_UPDATE_GOLDEN=1 rewrites the file.
const goldenCommands = "testdata/commands.golden"

func TestCommandFormat_Golden(t *testing.T) {
	var b strings.Builder
	for _, c := range sampleCommands() {
		fmt.Fprintf(&b, "%d %s\n", c[0], hex.EncodeToString(c))
	}
	got := b.String()
	if os.Getenv("EVENTIDE_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(goldenCommands, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenCommands)
	if err != nil {
		t.Fatal(err)
	}
	gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	if len(gotLines) != len(wantLines) {
		t.Fatalf("%d commands encoded, %s has %d", len(gotLines)-1, goldenCommands, len(wantLines)-1)
	}
	for i := range wantLines {
		if gotLines[i] != wantLines[i] {
			t.Errorf("command %d encodes as\n  %s\nwant\n  %s", i, gotLines[i], wantLines[i])
		}
	}
}
