package consensus

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHCLogger(l, "raft")

	h.Info("entering leader state", "leader", "n1")
	h.Named("net").With("peer", "n2").Warn("failed to contact", "error", "timeout")
	h.Trace("below debug: dropped by the handler")
	h.SetLevel(hclog.Warn)
	h.Info("dropped by the level filter")
	h.Error("kept", "k", 1)
	h.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}).Print("from std log\n")

	out := buf.String()
	for _, want := range []string{
		`level=INFO msg="entering leader state" logger=raft leader=n1`,
		`level=WARN msg="failed to contact" logger=raft.net peer=n2 error=timeout`,
		`level=ERROR msg=kept logger=raft k=1`,
		`level=ERROR msg="from std log" logger=raft`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{"below debug", "dropped by the level filter"} {
		if strings.Contains(out, not) {
			t.Errorf("log has %q:\n%s", not, out)
		}
	}
	if h.IsTrace() || h.IsInfo() || !h.IsWarn() || !h.IsError() {
		t.Fatalf("level checks wrong at Warn: trace=%v info=%v warn=%v error=%v", h.IsTrace(), h.IsInfo(), h.IsWarn(), h.IsError())
	}
	if h.GetLevel() != hclog.Warn || h.Name() != "raft" || h.ResetNamed("x").Name() != "x" {
		t.Fatal("GetLevel/Name/ResetNamed wrong")
	}
	if got := h.With("a", 1).ImpliedArgs(); len(got) != 2 {
		t.Fatalf("ImpliedArgs = %v", got)
	}
	// A nil logger discards.
	newHCLogger(nil, "").Error("nothing")
}
