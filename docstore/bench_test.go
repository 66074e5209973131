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
