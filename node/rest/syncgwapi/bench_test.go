package syncgwapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/node/rest/restauth"
)

// nullStore is a DocReader whose keyspaces all exist, and a DocWriter that
// accepts every mutation at once, so that benchmarks measure the REST
// layer alone.
type nullStore struct{ doc *docstore.Document }

func (nullStore) Get(docstore.Keyspace, string) (*docstore.Document, error) {
	return nil, docstore.ErrNotFound
}
func (nullStore) AllDocs(docstore.Keyspace, uint32, docstore.AllDocsOptions) ([]*docstore.Document, error) {
	return nil, nil
}
func (nullStore) Changes(docstore.Keyspace, uint64, int) ([]*docstore.Document, uint64, error) {
	return nil, 0, nil
}
func (nullStore) CheckKeyspace(docstore.Keyspace) error { return nil }
func (nullStore) Changed(string) <-chan struct{}        { return make(chan struct{}) }
func (n nullStore) WriteDocs(_ context.Context, ms []docstore.Mutation) ([]consensus.DocResult, error) {
	res := make([]consensus.DocResult, len(ms))
	for i := range res {
		res[i].Doc = n.doc
	}
	return res, nil
}

// bulkBody builds a _bulk_docs body of n documents of about 200 bytes.
func bulkBody(n, round int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"docs":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"_id":"user::%06d-%d","type":"user","name":"User Number %d","email":"user%d@example.com","age":%d,"active":true,"tags":["a","b","c"],"address":{"city":"Paris","zip":"75001"}}`, i, round, i, i, 20+i%50)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkBulkDocs posts 1,000-document _bulk_docs bodies through the
// handler to a writer that does nothing, reporting documents per second:
// the REST layer's own cost per document.
func BenchmarkBulkDocs(b *testing.B) {
	const docsPerReq = 1000
	ns := nullStore{doc: &docstore.Document{RevID: "1-0123456789abcdef0123456789abcdef"}}
	h, err := New(Config{Credentials: restauth.NewAdmin(testUser, testPass), Docs: ns, Writer: ns})
	if err != nil {
		b.Fatal(err)
	}
	body := bulkBody(docsPerReq, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		rq := httptest.NewRequest(http.MethodPost, "/db/_bulk_docs", bytes.NewReader(body))
		rq.SetBasicAuth(testUser, testPass)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, rq)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(b.N*docsPerReq)/time.Since(start).Seconds(), "docs/s")
}

// BenchmarkBulkDocsParallel is BenchmarkBulkDocs with concurrent clients.
func BenchmarkBulkDocsParallel(b *testing.B) {
	const docsPerReq = 1000
	ns := nullStore{doc: &docstore.Document{RevID: "1-0123456789abcdef0123456789abcdef"}}
	h, err := New(Config{Credentials: restauth.NewAdmin(testUser, testPass), Docs: ns, Writer: ns})
	if err != nil {
		b.Fatal(err)
	}
	body := bulkBody(docsPerReq, 0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rq := httptest.NewRequest(http.MethodPost, "/db/_bulk_docs", bytes.NewReader(body))
			rq.SetBasicAuth(testUser, testPass)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, rq)
			if rec.Code != http.StatusCreated {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*docsPerReq)/time.Since(start).Seconds(), "docs/s")
}

// BenchmarkBulkDocsStore is BenchmarkBulkDocs against a real docstore.Store
// (applied directly, no Raft): REST plus document state, new keys each round.
func BenchmarkBulkDocsStore(b *testing.B) {
	const docsPerReq = 1000
	store := docstore.NewStore(1024)
	if err := store.CreateBucket(docstore.BucketSpec{Name: "db", Type: "membase"}); err != nil {
		b.Fatal(err)
	}
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	w := &storeWriter{store: store, clock: clock}
	h, err := New(Config{Credentials: restauth.NewAdmin(testUser, testPass), Docs: store, Writer: benchWriter{w}, Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	bodies := make([][]byte, 8)
	for i := range bodies {
		bodies[i] = bulkBody(docsPerReq, i)
	}
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	i := 0
	for b.Loop() {
		rq := httptest.NewRequest(http.MethodPost, "/db/_bulk_docs", bytes.NewReader(bodies[i%len(bodies)]))
		rq.SetBasicAuth(testUser, testPass)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, rq)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		i++
	}
	b.ReportMetric(float64(b.N*docsPerReq)/time.Since(start).Seconds(), "docs/s")
}

// benchWriter applies mutations to the store without recording them (and
// as upserts, so that rounds over the same keys keep succeeding).
type benchWriter struct{ w *storeWriter }

func (bw benchWriter) WriteDocs(_ context.Context, ms []docstore.Mutation) ([]consensus.DocResult, error) {
	res := make([]consensus.DocResult, len(ms))
	cas := uint64(bw.w.clock.Now().UnixNano())
	for i := range ms {
		ms[i].RequireRev = false
		d, err := bw.w.store.Apply(ms[i], cas)
		res[i] = consensus.DocResult{Doc: d, Err: err}
	}
	return res, nil
}
