package docstore

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

type rawRecord struct {
	tag     byte
	payload []byte
}

// splitRecords parses a snapshot's framing (not its payloads).
func splitRecords(tb testing.TB, data []byte) []rawRecord {
	tb.Helper()
	rest := data[len(snapMagic)+1:]
	var recs []rawRecord
	for len(rest) > 0 {
		tag := rest[0]
		n, k := binary.Uvarint(rest[1:])
		if k <= 0 {
			tb.Fatal("bad framing")
		}
		start := 1 + k
		recs = append(recs, rawRecord{tag: tag, payload: rest[start : start+int(n)]})
		rest = rest[start+int(n)+4:]
	}
	return recs
}

// frame writes records with valid checksums, so that payload decoding is
// what gets tested.
func frame(recs []rawRecord) []byte {
	out := append([]byte(snapMagic), snapVersion)
	for _, r := range recs {
		out = append(out, r.tag)
		out = binary.AppendUvarint(out, uint64(len(r.payload)))
		out = append(out, r.payload...)
		out = binary.LittleEndian.AppendUint32(out, crc32.Update(crc32.Update(0, castagnoli, []byte{r.tag}), castagnoli, r.payload))
	}
	return out
}

func goodSnapshot(tb testing.TB) []byte {
	s := mustNewStore(tb, 16)
	s.SetIndexCompiler(testCompiler)
	populate(tb, s)
	c1 := Keyspace{"b", "s1", "c1"}
	mustApply(tb, s, upsert(c1, "tagged", `{"t":["a","b"],"x":"v"}`), sec(30))
	mustCreateIndex(tb, s, defKS, "#primary", "", true)
	mustCreateIndex(tb, s, c1, "t", "[]t", false)
	mustCreateIndex(tb, s, c1, "x", "x", false)
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestSnapshot_FramingHelpers(t *testing.T) {
	good := goodSnapshot(t)
	if !bytes.Equal(frame(splitRecords(t, good)), good) {
		t.Fatal("split+frame does not reproduce the snapshot")
	}
}

// FuzzRestoreSnapshot replaces one record's payload (with a valid checksum)
// and checks that restoring never panics, and that whatever it accepts is
// a store that works (its indexes agree with its documents) and snapshots
// again.
func FuzzRestoreSnapshot(f *testing.F) {
	good := goodSnapshot(f)
	recs := splitRecords(f, good)
	for i, r := range recs {
		f.Add(uint16(i), r.payload)
		if len(r.payload) > 0 {
			f.Add(uint16(i), r.payload[:len(r.payload)-1])
			f.Add(uint16(i), r.payload[:len(r.payload)/2])
			f.Add(uint16(i), append(bytes.Clone(r.payload), 0))
			bad := bytes.Clone(r.payload)
			bad[0] ^= 0xff
			f.Add(uint16(i), bad)
			bad = bytes.Clone(r.payload)
			bad[len(bad)-1] ^= 0x80
			f.Add(uint16(i), bad)
		}
	}
	f.Fuzz(func(t *testing.T, idx uint16, payload []byte) {
		mod := append([]rawRecord(nil), recs...)
		i := int(idx) % len(mod)
		mod[i].payload = payload
		s := NewStore(16)
		s.SetIndexCompiler(testCompiler)
		if err := s.RestoreSnapshot(bytes.NewReader(frame(mod))); err != nil {
			if len(s.Buckets()) != 0 {
				t.Fatal("a rejected snapshot changed the store")
			}
			return
		}
		for _, b := range s.Buckets() {
			for vb := range uint16(16) {
				if _, err := s.ReadVBucket(b.Name, vb, 0, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		s.ExpireDue(1<<32-1, 1<<62)
		checkIndexes(t, s)
		var buf bytes.Buffer
		if err := s.WriteSnapshot(&buf); err != nil {
			t.Fatal(err)
		}
		if err := NewStore(16).RestoreSnapshot(&buf); err != nil {
			t.Fatalf("re-snapshot of an accepted snapshot fails: %v", err)
		}
	})
}
