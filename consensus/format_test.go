package consensus

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// goldenCommands is the log format of every command kind as this version
// writes it: one "kind hex" line per seed of FuzzFSMApply, in order. Logs
// and snapshots on disk hold these bytes, so a change here is a format
// change: give it a new kind or entry version instead.
// EVENTIDE_UPDATE_GOLDEN=1 rewrites the file.
const goldenCommands = "testdata/commands.golden"

// TestCommandFormat_Golden: the encoders write the golden bytes.
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

// TestCommandFormat_DecodeEncodeGolden: every kind of the commands table
// has golden bytes, and its decode reads them whole and its encode writes
// them back unchanged, so each kind's pair agrees on the format.
func TestCommandFormat_DecodeEncodeGolden(t *testing.T) {
	want, err := os.ReadFile(goldenCommands)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[cmdKind]bool{}
	for i, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		_, h, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(h)
		if err != nil || len(b) == 0 {
			t.Fatalf("line %d of %s: %q", i+1, goldenCommands, line)
		}
		kind := cmdKind(b[0])
		seen[kind] = true
		spec := kind.spec()
		if spec == nil {
			t.Errorf("line %d: %s is not in the commands table", i+1, kind)
			continue
		}
		d := decoder{b: b}
		c, err := decodeCommand(&d)
		if err != nil || d.remaining() != 0 {
			t.Errorf("line %d: %s decodes with %v, %d bytes left", i+1, kind, err, d.remaining())
			continue
		}
		e := newCommand(kind, 0)
		c.encode(e)
		if again := e.b; string(again) != string(b) {
			t.Errorf("line %d: %s re-encodes as\n  %x\nwant\n  %x", i+1, kind, again, b)
		}
	}
	for k := range commands {
		if kind := cmdKind(k); kind.spec() != nil && !seen[kind] {
			t.Errorf("%s has no golden bytes", kind)
		}
	}
}
