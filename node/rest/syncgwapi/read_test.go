package syncgwapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rowIDs lists the "key" of each _all_docs row, marking error rows.
func rowIDs(t *testing.T, m map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range m["rows"].([]any) {
		row := r.(map[string]any)
		k := row["key"].(string)
		if e, ok := row["error"]; ok {
			k += "!" + e.(string)
		}
		out = append(out, k)
	}
	return out
}

func TestAllDocs(t *testing.T) {
	e := newEnv(t)
	revs := map[string]string{}
	for _, id := range []string{"c", "a", "e", "b", "d"} {
		revs[id] = e.put("/db/"+id, `{"id":"`+id+`"}`)
	}
	if r := e.do("DELETE", "/db/d?rev="+revs["d"], ""); r.Code != 200 {
		t.Fatal(r.Body)
	}
	e.put("/db.sc.col/other", `{}`)

	r := e.do("GET", "/db/_all_docs", "")
	if r.Code != 200 {
		t.Fatalf("_all_docs = %d %s", r.Code, r.Body)
	}
	m := r.Obj(t)
	if got := strings.Join(rowIDs(t, m), ","); got != "a,b,c,e" {
		t.Errorf("rows = %s", got)
	}
	if jsonText(m["total_rows"]) != "4" || jsonText(m["update_seq"]) != "6" {
		t.Errorf("total_rows %v update_seq %v", m["total_rows"], m["update_seq"])
	}
	row := m["rows"].([]any)[0].(map[string]any)
	if row["id"] != "a" || row["value"].(map[string]any)["rev"] != revs["a"] || row["doc"] != nil {
		t.Errorf("row = %v", row)
	}

	m = e.do("GET", "/db/_all_docs?include_docs=true&update_seq=true&limit=2", "").Obj(t)
	rows := m["rows"].([]any)
	if len(rows) != 2 || jsonText(m["total_rows"]) != "2" {
		t.Fatalf("limit 2: %v", m)
	}
	doc := rows[1].(map[string]any)["doc"].(map[string]any)
	if doc["_id"] != "b" || doc["_rev"] != revs["b"] || doc["id"] != "b" {
		t.Errorf("doc = %v", doc)
	}
	if jsonText(rows[1].(map[string]any)["update_seq"]) != "4" {
		t.Errorf("update_seq of b = %v", rows[1])
	}

	for q, want := range map[string]string{
		`startkey=b&endkey=d`:     "b,c",
		`startkey="b"&endkey="e"`: "b,c,e",
		`startkey=c`:              "c,e",
		`endkey=b`:                "a,b",
		`startkey=z`:              "",
		`startkey=e&endkey=a`:     "",
	} {
		got := strings.Join(rowIDs(t, e.do("GET", "/db/_all_docs?"+q, "").Obj(t)), ",")
		if got != want {
			t.Errorf("%s: rows %q, want %q", q, got, want)
		}
	}

	// keys: one row per key, in order; missing and deleted ones are errors.
	keys := `["e","zz","d","a","_x"]`
	want := "e,zz!not_found,d!not_found,a,_x!Bad Request"
	got := strings.Join(rowIDs(t, e.do("GET", "/db/_all_docs?keys="+keys, "").Obj(t)), ",")
	if got != want {
		t.Errorf("GET keys rows = %s, want %s", got, want)
	}
	r = e.do("POST", "/db/_all_docs?include_docs=true", `{"keys":`+keys+`}`)
	m = r.Obj(t)
	if got := strings.Join(rowIDs(t, m), ","); got != want {
		t.Errorf("POST keys rows = %s, want %s", got, want)
	}
	missing := m["rows"].([]any)[1].(map[string]any)
	if len(missing) != 3 || jsonText(missing["status"]) != "404" {
		t.Errorf("missing row = %v", missing)
	}
	if m["rows"].([]any)[0].(map[string]any)["doc"].(map[string]any)["_id"] != "e" {
		t.Errorf("POST include_docs row = %v", m["rows"].([]any)[0])
	}
	got = strings.Join(rowIDs(t, e.do("POST", "/db/_all_docs?limit=2", `{"keys":["zz","a","b"]}`).Obj(t)), ",")
	if got != "zz!not_found,a" {
		t.Errorf("keys with limit = %s", got)
	}
	if got := rowIDs(t, e.do("GET", "/db.sc.col/_all_docs", "").Obj(t)); len(got) != 1 || got[0] != "other" {
		t.Errorf("collection rows = %v", got)
	}

	for _, tc := range []struct {
		method, path, body, reason string
	}{
		{"GET", "/db/_all_docs?limit=abc", "", `limit must be a non-negative integer, got "abc"`},
		{"GET", "/db/_all_docs?limit=-1", "", `limit must be a non-negative integer, got "-1"`},
		{"GET", "/db/_all_docs?keys=notjson", "", "Bad keys"},
		{"GET", "/db/_all_docs?keys=[1,2]", "", "Bad keys"},
		{"POST", "/db/_all_docs", `{"nokeys":1}`, "Bad/missing keys"},
		{"POST", "/db/_all_docs", `{"keys":"a"}`, "Bad/missing keys"},
		{"POST", "/db/_all_docs", `{"keys":[`, "Bad JSON: *"},
	} {
		wantError(t, e.do(tc.method, tc.path, tc.body), 400, "Bad Request", tc.reason)
	}
}

// changesResult decodes a normal _changes response.
type changesResult struct {
	Results []struct {
		Seq     json.Number      `json:"seq"`
		ID      string           `json:"id"`
		Deleted bool             `json:"deleted"`
		Doc     map[string]any   `json:"doc"`
		Changes []map[string]any `json:"changes"`
	} `json:"results"`
	LastSeq string `json:"last_seq"`
}

func decodeChanges(t *testing.T, r response) changesResult {
	t.Helper()
	if r.Code != 200 {
		t.Fatalf("_changes = %d %s", r.Code, r.Body)
	}
	var c changesResult
	if err := json.Unmarshal([]byte(r.Body), &c); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return c
}

func (c changesResult) ids() string {
	var s []string
	for _, r := range c.Results {
		id := r.ID + "@" + r.Seq.String()
		if r.Deleted {
			id += "(d)"
		}
		s = append(s, id)
	}
	return strings.Join(s, ",")
}

func TestChanges_NormalFeed(t *testing.T) {
	e := newEnv(t)
	ra := e.put("/db/a", `{"v":1}`)      // seq 1
	e.put("/db/b", `{"v":1}`)            // seq 2
	e.put("/db/a?rev="+ra, `{"v":2}`)    // seq 3 (a moves)
	rc := e.put("/db/c", `{"v":1}`)      // seq 4
	e.do("DELETE", "/db/c?rev="+rc, "")  // seq 5
	e.put("/db.sc.col/other", `{"v":1}`) // another collection
	e.clock.Advance(time.Second)         // (no expiry involved)

	c := decodeChanges(t, e.do("GET", "/db/_changes", ""))
	if c.ids() != "b@2,a@3,c@5(d)" || c.LastSeq != "5" {
		t.Errorf("feed = %s last %s", c.ids(), c.LastSeq)
	}
	if rev := c.Results[1].Changes[0]["rev"].(string); revGen(t, rev) != 2 {
		t.Errorf("a's change rev = %s", rev)
	}
	if c.Results[0].Doc != nil {
		t.Error("doc without include_docs")
	}
	for q, want := range map[string]string{
		"since=2":          "a@3,c@5(d)",
		`since="3"`:        "c@5(d)",
		"since=5":          "",
		"since=99":         "",
		"limit=2":          "b@2,a@3",
		"since=2&limit=1":  "a@3",
		"active_only=true": "b@2,a@3",
		"style=all_docs":   "b@2,a@3,c@5(d)",
		"filter=_doc_ids&doc_ids=[\"c\",\"a\",\"zz\"]": "a@3,c@5(d)",
		"filter=_doc_ids&doc_ids=c,b&since=2":          "c@5(d)",
		"filter=sync_gateway/bychannel&channels=*":     "b@2,a@3,c@5(d)",
	} {
		c := decodeChanges(t, e.do("GET", "/db/_changes?"+q, ""))
		if c.ids() != want {
			t.Errorf("%s: feed %q, want %q", q, c.ids(), want)
		}
	}
	if c := decodeChanges(t, e.do("GET", "/db/_changes?since=99", "")); c.LastSeq != "99" {
		t.Errorf("empty feed last_seq = %s, want the since value", c.LastSeq)
	}
	if c := decodeChanges(t, e.do("GET", "/db/_changes?limit=2", "")); c.LastSeq != "3" {
		t.Errorf("limited feed last_seq = %s", c.LastSeq)
	}

	c = decodeChanges(t, e.do("GET", "/db/_changes?include_docs=true", ""))
	if d := c.Results[1].Doc; d["_id"] != "a" || d["v"] != float64(2) || d["_rev"] != c.Results[1].Changes[0]["rev"] {
		t.Errorf("a's doc = %v", d)
	}
	if d := c.Results[2].Doc; d["_deleted"] != true || d["_id"] != "c" {
		t.Errorf("deleted doc = %v", d)
	}
	if c := decodeChanges(t, e.do("GET", "/db.sc.col/_changes", "")); c.ids() != "other@1" {
		t.Errorf("collection feed = %s", c.ids())
	}

	// POST: typed or string fields; query parameters override the body.
	c = decodeChanges(t, e.do("POST", "/db/_changes", `{"since":2,"limit":"1","include_docs":true,"active_only":"true"}`))
	if c.ids() != "a@3" || c.Results[0].Doc == nil {
		t.Errorf("POST feed = %s", c.ids())
	}
	c = decodeChanges(t, e.do("POST", "/db/_changes?since=0", `{"since":"2","filter":"_doc_ids","doc_ids":["b","c"]}`))
	if c.ids() != "b@2,c@5(d)" {
		t.Errorf("POST with query override = %s", c.ids())
	}
	if r := e.do("GET", "/db/_changes", ""); r.Header.Get("Cache-Control") == "" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", r.Header)
	}
}

func TestChanges_Errors(t *testing.T) {
	e := newEnv(t)
	e.put("/db/a", `{}`)
	for _, tc := range []struct {
		method, path, body string
		status             int
		name, reason       string
	}{
		{"GET", "/db/_changes?since=abc", "", 400, "Bad Request", "Invalid sequence"},
		{"GET", "/db/_changes?since=-1", "", 400, "Bad Request", "Invalid sequence"},
		{"GET", "/db/_changes?limit=abc", "", 400, "Bad Request", `limit must be a non-negative integer, got "abc"`},
		{"GET", "/db/_changes?timeout=soon", "", 400, "Bad Request", `timeout must be a non-negative integer, got "soon"`},
		{"GET", "/db/_changes?heartbeat=x", "", 400, "Bad Request", `heartbeat must be a non-negative integer, got "x"`},
		{"GET", "/db/_changes?feed=bogus", "", 400, "Bad Request", "Unknown feed type"},
		{"GET", "/db/_changes?feed=continuous", "", 501, "Not Implemented", "feed=continuous is not supported yet; use normal or longpoll"},
		{"GET", "/db/_changes?feed=websocket", "", 501, "Not Implemented", "feed=websocket is not supported yet; use normal or longpoll"},
		{"GET", "/db/_changes?filter=bogus", "", 400, "Bad Request", "Unknown filter; try sync_gateway/bychannel or _doc_ids"},
		{"GET", "/db/_changes?filter=_doc_ids", "", 400, "Bad Request", "Missing 'doc_ids' filter parameter"},
		{"GET", "/db/_changes?filter=_doc_ids&doc_ids=a&feed=longpoll", "", 400, "Bad Request", "Filter '_doc_ids' is only valid for feed=normal replications"},
		{"GET", "/db/_changes?filter=sync_gateway/bychannel", "", 400, "Bad Request", "Missing 'channels' filter parameter"},
		{"GET", "/db/_changes?filter=sync_gateway/bychannel&channels=a,b", "", 501, "Not Implemented", "channel filters are not supported yet (only channels=*)"},
		{"POST", "/db/_changes", `{"limit":`, 400, "Bad Request", "Bad JSON: *"},
		{"POST", "/db/_changes", `{"limit":-3}`, 400, "Bad Request", `limit must be a non-negative integer, got "-3"`},
		{"POST", "/db/_changes", `{"include_docs":"maybe"}`, 400, "Bad Request", "include_docs must be a boolean"},
		{"POST", "/db/_changes", `{"feed":1}`, 400, "Bad Request", "feed must be a string"},
		{"POST", "/db/_changes", `{"doc_ids":5,"filter":"_doc_ids"}`, 400, "Bad Request", "doc_ids must be an array of strings"},
		{"POST", "/db/_changes", `{"since":"x"}`, 400, "Bad Request", "Invalid sequence"},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			wantError(t, e.do(tc.method, tc.path, tc.body), tc.status, tc.name, tc.reason)
		})
	}
	// An empty POST body is a plain request.
	if c := decodeChanges(t, e.do("POST", "/db/_changes", "")); c.ids() != "a@1" {
		t.Errorf("empty POST = %s", c.ids())
	}
}

// changedCounter counts Changed calls: a longpoll request takes its
// wake-up channel before reading, so once the count rises, any later write
// wakes it.
type changedCounter struct {
	DocReader
	n atomic.Int64
}

func (c *changedCounter) Changed(bucket string) <-chan struct{} {
	c.n.Add(1)
	return c.DocReader.Changed(bucket)
}

func TestChanges_Longpoll(t *testing.T) {
	counter := &changedCounter{}
	e := newEnvWith(t, func(r DocReader) DocReader { counter.DocReader = r; return counter })
	var active atomic.Int64 // requests inside the handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Add(-1)
		e.h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	get := func(ctx context.Context, query string) (string, error) {
		rq, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/db/_changes?"+query, nil)
		rq.SetBasicAuth(testUser, testPass)
		resp, err := http.DefaultClient.Do(rq)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	// Already something after since: answers at once.
	e.put("/db/first", `{}`)
	body, err := get(context.Background(), "feed=longpoll&since=0&timeout=60000")
	if err != nil || !strings.Contains(body, `"id":"first"`) {
		t.Fatalf("immediate longpoll = %q, %v", body, err)
	}

	// Nothing yet: waits for the next write.
	type result struct {
		body string
		err  error
	}
	done := make(chan result, 1)
	calls := counter.n.Load()
	go func() {
		b, err := get(context.Background(), "feed=longpoll&since=1&timeout=60000&include_docs=true")
		done <- result{b, err}
	}()
	waitFor(t, 5*time.Second, func() bool { return counter.n.Load() > calls })
	e.put("/db.sc.col/elsewhere", `{}`) // another collection of the bucket: must not end the wait
	e.put("/db/second", `{"n":2}`)
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		var c changesResult
		if err := json.Unmarshal([]byte(res.body), &c); err != nil {
			t.Fatalf("decode %q: %v", res.body, err)
		}
		if c.ids() != "second@2" || c.LastSeq != "2" || c.Results[0].Doc["n"] != float64(2) {
			t.Errorf("longpoll result %s", res.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("longpoll did not return after a write")
	}

	// Nothing arrives: the timeout ends it with no results.
	start := time.Now()
	body, err = get(context.Background(), "feed=longpoll&since=2&timeout=150")
	if err != nil {
		t.Fatal(err)
	}
	var c changesResult
	if err := json.Unmarshal([]byte(body), &c); err != nil || len(c.Results) != 0 || c.LastSeq != "2" {
		t.Errorf("timed-out longpoll = %q, %v", body, err)
	}
	if el := time.Since(start); el < 100*time.Millisecond || el > 5*time.Second {
		t.Errorf("timeout took %v", el)
	}

	// A client that goes away ends the wait.
	ctx, cancel := context.WithCancel(context.Background())
	calls = counter.n.Load()
	go func() {
		_, err := get(ctx, "feed=longpoll&since=2&timeout=0")
		done <- result{err: err}
	}()
	waitFor(t, 5*time.Second, func() bool { return counter.n.Load() > calls })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled longpoll did not return")
	}
	waitFor(t, 5*time.Second, func() bool { return active.Load() == 0 }) // the handler ended too
}

func TestChanges_LongpollHeartbeat(t *testing.T) {
	e := newEnv(t)
	e.h.(*Server).minHeartbeatMS = 1
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rq, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/db/_changes?feed=longpoll&heartbeat=10", nil)
	rq.SetBasicAuth(testUser, testPass)
	resp, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The results prefix, then newline heartbeats, while nothing changes.
	var got []byte
	buf := make([]byte, 256)
	for strings.Count(string(got), "\n") < 4 {
		n, err := resp.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("read %q: %v", got, err)
		}
	}
	if !strings.HasPrefix(string(got), "{\"results\":[\r\n\n\n") {
		t.Errorf("stream = %q", got)
	}
	// A write ends the wait with the change.
	e.put("/db/hb", `{}`)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	full := strings.TrimLeft(strings.TrimPrefix(string(got)+string(rest), "{\"results\":[\r\n"), "\n")
	var c changesResult
	if err := json.Unmarshal([]byte("{\"results\":["+full), &c); err != nil || c.ids() != "hb@1" {
		t.Errorf("final body %q: %v %s", full, err, c.ids())
	}
}

func TestHeadDoc(t *testing.T) {
	e := newEnv(t)
	rev := e.put("/db/h", `{"a":1}`)
	r := e.do("HEAD", "/db/h", "")
	if r.Code != 200 || r.Body != "" || r.Header.Get("Etag") != `"`+rev+`"` {
		t.Errorf("HEAD = %d %q %v", r.Code, r.Body, r.Header)
	}
	if r := e.do("HEAD", "/db/nope", ""); r.Code != 404 {
		t.Errorf("HEAD missing = %d", r.Code)
	}
}

func TestDBInfo_DefaultCollectionDropped(t *testing.T) {
	e := newEnv(t)
	if err := e.store.DeleteCollection(ksDefault); err != nil {
		t.Fatal(err)
	}
	m := e.do("GET", "/db/", "").Obj(t)
	if m["db_name"] != "db" || jsonText(m["update_seq"]) != "0" {
		t.Errorf("info = %v", m)
	}
	wantError(t, e.do("GET", "/db/doc", ""), 404, "not_found", "keyspace db not found")
	if r := e.do("GET", "/db.sc.col/", ""); r.Code != 200 {
		t.Errorf("collection info = %d", r.Code)
	}
}

// TestLargeResponses crosses the store paging and response flushing sizes.
func TestLargeResponses(t *testing.T) {
	e := newEnv(t)
	const n = 2500
	r := e.do("POST", "/db/_bulk_docs", string(bulkBody(n, 0)))
	if r.Code != 201 || strings.Contains(r.Body, `"error"`) {
		t.Fatalf("bulk = %d %.300s", r.Code, r.Body)
	}
	c := decodeChanges(t, e.do("GET", "/db/_changes?include_docs=true", ""))
	if len(c.Results) != n || c.LastSeq != "2500" {
		t.Fatalf("%d results, last_seq %s", len(c.Results), c.LastSeq)
	}
	for i, res := range c.Results {
		if res.Seq.String() != strconv.Itoa(i+1) || res.Doc["_id"] != res.ID {
			t.Fatalf("result %d = %+v", i, res)
		}
	}
	if c := decodeChanges(t, e.do("GET", "/db/_changes?limit=1500&since=10", "")); len(c.Results) != 1500 || c.LastSeq != "1510" {
		t.Errorf("limited: %d results, last_seq %s", len(c.Results), c.LastSeq)
	}
	m := e.do("GET", "/db/_all_docs?include_docs=true", "").Obj(t)
	if rows := m["rows"].([]any); len(rows) != n || jsonText(m["total_rows"]) != strconv.Itoa(n) {
		t.Errorf("_all_docs: %d rows, total %v", len(rows), m["total_rows"])
	}
}
