package restguard

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"eventide/internal/testlog"
)

func serve(t *testing.T, h http.HandlerFunc) *httptest.ResponseRecorder {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testlog.New(t), nil))
	w := httptest.NewRecorder()
	Serve(log, w, httptest.NewRequest(http.MethodGet, "/x", nil), h, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal", http.StatusInternalServerError)
	})
	return w
}

func TestServe_PanicBecomesTheAPIs500(t *testing.T) {
	w := serve(t, func(http.ResponseWriter, *http.Request) { panic("boom") })
	if w.Code != http.StatusInternalServerError || w.Body.String() != "internal\n" {
		t.Fatalf("got %d %q, want the API's 500", w.Code, w.Body.String())
	}
}

func TestServe_PanicAfterAResponseStartedWritesNothingMore(t *testing.T) {
	w := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("partial"))
		panic("boom")
	})
	if w.Code != http.StatusAccepted || w.Body.String() != "partial" {
		t.Fatalf("got %d %q, want the started response untouched", w.Code, w.Body.String())
	}
}

func TestServe_AbortHandlerIsPassedOn(t *testing.T) {
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler passed on", p)
		}
	}()
	serve(t, func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	t.Fatal("ErrAbortHandler was swallowed")
}
