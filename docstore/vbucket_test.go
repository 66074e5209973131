package docstore

import (
	"errors"
	"fmt"
	"testing"
)

func TestVBucketOf_KnownCouchbaseValues(t *testing.T) {
	// Published key→vbucket pairs from Couchbase client test suites.
	cases := []struct {
		key  string
		n    int
		want uint16
	}{
		{"hello", 1024, 528}, // cbgb vbucket_test.go
		{"k0", 256, 9},       // go-couchbase vbmap_test.go
		{"k1", 256, 14},
		{"k2", 256, 7},
		{"k3", 256, 0},
		{"k4", 256, 100},
		{"k5", 256, 99},
		{"zzz_cb_dummy_255", 1024, 1}, // couchbase java KeyGenTest
		{"zzz_cb_dummy_5", 1024, 120},
		{"zzz_cb_dummy_9488", 1024, 125},
		{"hello", 4, 0}, // libvbucket testapp
		{"name", 4, 3},
		{"tomorrow", 4, 1},
		{"another key", 4, 2},
	}
	for _, c := range cases {
		if got := VBucketOf(c.key, c.n); got != c.want {
			t.Errorf("VBucketOf(%q, %d) = %d, want %d", c.key, c.n, got, c.want)
		}
	}
	if got, want := VBucketOf("hello", 0), VBucketOf("hello", DefaultNumVBuckets); got != want {
		t.Errorf("VBucketOf with 0 vbuckets = %d, want default %d", got, want)
	}
}

func TestVBucketOf_Distribution(t *testing.T) {
	const n, keys = 1024, 200000
	counts := make([]int, n)
	for i := range keys {
		vb := VBucketOf(fmt.Sprintf("key::%d", i), n)
		if int(vb) >= n {
			t.Fatalf("vbucket %d out of range", vb)
		}
		counts[vb]++
	}
	mean := keys / n
	for vb, c := range counts {
		if c < mean/2 || c > mean*2 {
			t.Errorf("vbucket %d has %d keys, mean %d", vb, c, mean)
		}
	}
}

func TestValidateNumVBuckets(t *testing.T) {
	for _, n := range []int{1, 2, 64, 1024, MaxNumVBuckets} {
		if err := ValidateNumVBuckets(n); err != nil {
			t.Errorf("ValidateNumVBuckets(%d) = %v", n, err)
		}
	}
	for _, n := range []int{-1, 0, 3, 1000, MaxNumVBuckets * 2} {
		if err := ValidateNumVBuckets(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateNumVBuckets(%d) = %v, want ErrInvalid", n, err)
		}
	}
	for in, want := range map[int]int{0: 1024, -5: 1024, 1: 1, 3: 4, 1000: 1024, 1 << 20: MaxNumVBuckets} {
		if got := NewStore(in).NumVBuckets(); got != want {
			t.Errorf("NewStore(%d).NumVBuckets() = %d, want %d", in, got, want)
		}
	}
}

func TestDocument_Live(t *testing.T) {
	cases := []struct {
		name string
		d    *Document
		now  uint32
		want bool
	}{
		{"nil", nil, 0, false},
		{"plain", &Document{}, 100, true},
		{"tombstone", &Document{Deleted: true}, 0, false},
		{"future expiry", &Document{Expiry: 101}, 100, true},
		{"expiry now", &Document{Expiry: 100}, 100, false},
		{"past expiry", &Document{Expiry: 99}, 100, false},
	}
	for _, c := range cases {
		if got := c.d.Live(c.now); got != c.want {
			t.Errorf("%s: Live = %v, want %v", c.name, got, c.want)
		}
	}
}
