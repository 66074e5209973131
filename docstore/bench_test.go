package docstore

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"
)

// body200 is a 200-byte JSON body.
var body200 = []byte(fmt.Sprintf(`{"type":"bench","pad":"%s"}`, bytes.Repeat([]byte("x"), 200-len(`{"type":"bench","pad":""}`))))

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user::%08d", i)
	}
	return keys
}

func fillStore(b *testing.B, n int) *Store {
	b.Helper()
	s := NewStore(DefaultNumVBuckets)
	if err := s.CreateBucket(BucketSpec{Name: "b"}); err != nil {
		b.Fatal(err)
	}
	for _, k := range benchKeys(n) {
		if _, err := s.Apply(Mutation{Keyspace: defKS, Key: k, Op: OpUpsert, Body: body200}, 0); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkApply measures single-threaded upserts of 200-byte bodies over
// 100k keys (first inserts, then updates), with per-op latency percentiles.
func BenchmarkApply(b *testing.B) {
	s := NewStore(DefaultNumVBuckets)
	if err := s.CreateBucket(BucketSpec{Name: "b"}); err != nil {
		b.Fatal(err)
	}
	keys := benchKeys(100000)
	lat := make([]time.Duration, 0, min(b.N, 1<<20))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := s.Apply(Mutation{Keyspace: defKS, Key: keys[i%len(keys)], Op: OpUpsert, Body: body200}, uint64(i)); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "mutations/s")
	reportPercentiles(b, lat)
}

// BenchmarkApplyAll measures group-committed batches of 256 upserts.
func BenchmarkApplyAll(b *testing.B) {
	s := NewStore(DefaultNumVBuckets)
	if err := s.CreateBucket(BucketSpec{Name: "b"}); err != nil {
		b.Fatal(err)
	}
	keys := benchKeys(100000)
	const batch = 256
	ms := make([]Mutation, batch)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for j := range ms {
			ms[j] = Mutation{Keyspace: defKS, Key: keys[(i*batch+j)%len(keys)], Op: OpUpsert, Body: body200}
		}
		if _, err := s.ApplyAll(ms, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "mutations/s")
}

// BenchmarkReadVBucketTail measures a tailing reader: one write lands in a
// vbucket of a 200k-document store, and the reader fetches just it.
func BenchmarkReadVBucketTail(b *testing.B) {
	s := fillStore(b, 200000)
	keys := benchKeys(200000)
	highs, _ := s.HighSeqnos("b")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var reads time.Duration
	for i := 0; i < b.N; i++ {
		k := keys[(i*7919)%len(keys)]
		d, err := s.Apply(Mutation{Keyspace: defKS, Key: k, Op: OpUpsert, Body: body200}, 0)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		evs, err := s.ReadVBucket("b", d.VBucket, highs[d.VBucket], 100)
		reads += time.Since(t0)
		if err != nil || len(evs) != 1 || evs[0].Doc != d {
			b.Fatalf("tail read = %d events, %v", len(evs), err)
		}
		highs[d.VBucket] = d.Seqno
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "write+reads/s")
	b.ReportMetric(float64(reads.Nanoseconds())/float64(b.N), "read-ns/op")
}

// BenchmarkReadVBucketBackfill measures full backfills of every vbucket of
// a 200k-document store that has seen 400k mutations.
func BenchmarkReadVBucketBackfill(b *testing.B) {
	s := fillStore(b, 200000)
	for _, k := range benchKeys(200000) {
		if _, err := s.Apply(Mutation{Keyspace: defKS, Key: k, Op: OpUpsert, Body: body200}, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	events := 0
	for i := 0; i < b.N; i++ {
		for vb := range uint16(DefaultNumVBuckets) {
			evs, err := s.ReadVBucket("b", vb, 0, 0)
			if err != nil {
				b.Fatal(err)
			}
			events += len(evs)
		}
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkSnapshot writes and restores a 200k-document store.
func BenchmarkSnapshot(b *testing.B) {
	s := fillStore(b, 200000)
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		b.Fatal(err)
	}
	size := buf.Len()
	b.ResetTimer()
	var capture, write, restore time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		sn := s.Snapshot()
		t1 := time.Now()
		if _, err := sn.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		r := NewStore(DefaultNumVBuckets)
		if err := r.RestoreSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
		capture += t1.Sub(t0)
		write += t2.Sub(t1)
		restore += time.Since(t2)
	}
	n := float64(b.N)
	b.ReportMetric(float64(size)/1e6, "MB")
	b.ReportMetric(capture.Seconds()*1e3/n, "capture-ms")
	b.ReportMetric(200000*n/write.Seconds(), "write-docs/s")
	b.ReportMetric(200000*n/restore.Seconds(), "restore-docs/s")
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// benchField is a cheap key function: the 8 bytes after `"name":"` in
// the body, so that index benchmarks measure the store's upkeep rather
// than a query language's evaluation.
func benchField(name string) IndexKeys {
	marker := []byte(`"` + name + `":"`)
	return func(d *Document) [][]byte {
		i := bytes.Index(d.Body, marker)
		if i < 0 || i+len(marker)+8 > len(d.Body) {
			return nil
		}
		i += len(marker)
		return [][]byte{append([]byte(nil), d.Body[i:i+8]...)}
	}
}

func benchCompiler(_ Keyspace, def []byte) (IndexKeys, error) { return benchField(string(def)), nil }

// BenchmarkInstallIndexes measures single-threaded upserts over 100k keys
// with 0, 1 and 3 secondary indexes whose keys change on every write (each
// index entry is removed and re-inserted).
func BenchmarkInstallIndexes(b *testing.B) {
	for _, n := range []int{0, 1, 3} {
		b.Run(fmt.Sprintf("indexes=%d", n), func(b *testing.B) {
			s := NewStore(DefaultNumVBuckets)
			s.SetIndexCompiler(benchCompiler)
			if err := s.CreateBucket(BucketSpec{Name: "b"}); err != nil {
				b.Fatal(err)
			}
			for i := range n {
				if err := s.CreateIndex(defKS, fmt.Sprintf("i%d", i), []byte(fmt.Sprintf("f%d", i)), false); err != nil {
					b.Fatal(err)
				}
			}
			keys := benchKeys(100000)
			bodies := make([][]byte, 1024)
			for i := range bodies {
				bodies[i] = []byte(fmt.Sprintf(`{"f0":"%08d","f1":"%08d","f2":"%08d","pad":"%s"}`, i, i*7, i*13, bytes.Repeat([]byte("x"), 120)))
			}
			lat := make([]time.Duration, 0, min(b.N, 1<<20))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := s.Apply(Mutation{Keyspace: defKS, Key: keys[i%len(keys)], Op: OpUpsert, Body: bodies[i%len(bodies)]}, uint64(i)); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "mutations/s")
			reportPercentiles(b, lat)
		})
	}
}

// BenchmarkIndexPointScan measures an equality scan (take a view, scan one
// key) on an index of 1,000,000 entries, and the index's build from
// 1,000,000 documents.
func BenchmarkIndexPointScan(b *testing.B) {
	const n = 1000000
	s := NewStore(DefaultNumVBuckets)
	s.SetIndexCompiler(benchCompiler)
	if err := s.CreateBucket(BucketSpec{Name: "b"}); err != nil {
		b.Fatal(err)
	}
	ms := make([]Mutation, 0, 1000)
	for i := range n {
		ms = append(ms, Mutation{Keyspace: defKS, Key: fmt.Sprintf("user::%08d", i), Op: OpUpsert, Body: []byte(fmt.Sprintf(`{"f":"%08d"}`, i))})
		if len(ms) == cap(ms) {
			if _, err := s.ApplyAll(ms, 0); err != nil {
				b.Fatal(err)
			}
			ms = ms[:0]
		}
	}
	// The build runs in the apply path: report how long it holds the FSM.
	t0 := time.Now()
	if err := s.CreateIndex(defKS, "by_f", []byte("f"), false); err != nil {
		b.Fatal(err)
	}
	build := time.Since(t0)
	v, err := s.Index(defKS, "by_f")
	if err != nil || v.Len() != n {
		b.Fatalf("index of %d entries: %v", v.Len(), err)
	}
	lat := make([]time.Duration, 0, min(b.N, 1<<20))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		k := []byte(fmt.Sprintf("%08d", (i*7919)%n))
		t0 := time.Now()
		found := 0
		err := s.ScanIndex(defKS, "by_f", ScanRange{Low: k, High: k, LowInclusive: true, HighInclusive: true}, ScanOptions{}, func([]byte, string) bool {
			found++
			return true
		})
		if err != nil || found != 1 {
			b.Fatalf("point scan of %s found %d: %v", k, found, err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "scans/s")
	b.ReportMetric(float64(build.Milliseconds()), "build-ms")
	reportPercentiles(b, lat)
}
