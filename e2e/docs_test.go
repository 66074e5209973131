package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"eventide/node/nodetest"
)

// The documents API of the cluster manager port (the console's document
// browser), driven as a user with curl would.

// cbDoc is a document as GET /pools/default/buckets/{b}/docs/{id} shows it.
type cbDoc struct {
	Meta struct {
		ID         string `json:"id"`
		Rev        string `json:"rev"`
		Expiration uint32 `json:"expiration"`
		Flags      uint32 `json:"flags"`
		CAS        string `json:"cas"`
	} `json:"meta"`
	JSON   *string                    `json:"json"`
	Base64 *string                    `json:"base64"`
	Xattrs map[string]json.RawMessage `json:"xattrs"`
}

// cbDoc reads a document of a bucket's default collection; ok is false on 404.
func (c *client) cbDoc(bucket, id string) (cbDoc, bool) {
	c.TB.Helper()
	code, b := c.Do("GET", c.Mgmt+"/pools/default/buckets/"+bucket+"/docs/"+url.PathEscape(id), "", nil)
	if code == http.StatusNotFound {
		return cbDoc{}, false
	}
	if code != http.StatusOK {
		c.TB.Fatalf("GET doc %s/%s: %d %s", bucket, id, code, b)
	}
	var d cbDoc
	if err := json.Unmarshal(b, &d); err != nil {
		c.TB.Fatalf("decode %s: %v", b, err)
	}
	return d, true
}

// cbSet sets a document through the documents API.
func (c *client) cbSet(bucket, id string, f url.Values) {
	c.TB.Helper()
	c.Must(http.StatusOK, "POST", c.Mgmt+"/pools/default/buckets/"+bucket+"/docs/"+url.PathEscape(id),
		"application/x-www-form-urlencoded", []byte(f.Encode()))
}

// cbKeys pages through every key of a bucket's default collection with
// startkey, limit and skip, as the console's document browser does.
func (c *client) cbKeys(bucket, query string, pageSize int) []string {
	c.TB.Helper()
	var keys []string
	start := ""
	for {
		q := query + "&limit=" + strconv.Itoa(pageSize)
		if start != "" {
			q += "&skip=1&startkey=" + url.QueryEscape(strconv.Quote(start))
		}
		var page struct {
			Rows []struct {
				ID string `json:"id"`
			} `json:"rows"`
		}
		c.GetJSON(c.Mgmt+"/pools/default/buckets/"+bucket+"/docs?"+q, &page)
		if len(page.Rows) == 0 {
			return keys
		}
		for _, r := range page.Rows {
			keys = append(keys, r.ID)
		}
		start = keys[len(keys)-1]
	}
}

// A handler's strings, numbers, arrays, nulls and ArrayBuffers are read
// back exactly, each in the datatype it was written as.
func TestDocumentsAPI_HandlerValuesReadBackExactly(t *testing.T) {
	_, c := newNode(t, "src", "dst", "meta")
	c.deployNew(fnSpec{name: "values", code: `function OnUpdate(doc, meta) {
  dst[meta.id + ':string'] = 'hello world';
  dst[meta.id + ':number'] = 42.5;
  dst[meta.id + ':array'] = [1, 'two', null, {three: 3}];
  dst[meta.id + ':null'] = null;
  dst[meta.id + ':bool'] = false;
  var buf = new ArrayBuffer(200);
  var v = new Uint8Array(buf);
  for (var i = 0; i < v.length; i++) v[i] = (i * 13) % 256;
  dst[meta.id + ':binary'] = buf;
}`, bindings: []binding{{"dst", "dst", "rw"}}})
	c.BulkDocs("src", []map[string]any{{"_id": "d"}})
	want := map[string]string{
		"d:string": `"hello world"`, "d:number": `42.5`, "d:array": `[1,"two",null,{"three":3}]`,
		"d:null": `null`, "d:bool": `false`,
	}
	waitFor(t, 20*time.Second, "the handler's six writes", func() bool {
		_, ok := c.cbDoc("dst", "d:binary")
		return ok
	})
	for id, body := range want {
		d, ok := c.cbDoc("dst", id)
		if !ok || d.JSON == nil || *d.JSON != body || d.Base64 != nil || d.Meta.ID != id {
			t.Errorf("%s: found %v, %+v; want JSON text %s", id, ok, d, body)
		}
	}
	d, _ := c.cbDoc("dst", "d:binary")
	b, err := base64.StdEncoding.DecodeString(*d.Base64)
	if d.JSON != nil || err != nil || len(b) != 200 {
		t.Fatalf("binary: %+v (%d bytes, %v)", d, len(b), err)
	}
	for i, x := range b {
		if x != byte((i*13)%256) {
			t.Fatalf("binary byte %d is %d, want %d", i, x, (i*13)%256)
		}
	}
	// The listing shows them all, in key order, with their bodies.
	var list struct {
		Rows []struct {
			ID  string            `json:"id"`
			Doc map[string]string `json:"doc"`
		} `json:"rows"`
	}
	c.GetJSON(c.Mgmt+"/pools/default/buckets/dst/docs?include_docs=true", &list)
	var ids []string
	for _, r := range list.Rows {
		ids = append(ids, r.ID)
		if w, ok := want[r.ID]; ok && r.Doc["json"] != w {
			t.Errorf("listed %s as %v, want %s", r.ID, r.Doc, w)
		}
	}
	if !slices.Equal(ids, []string{"d:array", "d:binary", "d:bool", "d:null", "d:number", "d:string"}) {
		t.Fatalf("listed %v", ids)
	}
}

// Documents created, replaced and deleted through the documents API are
// ordinary mutations: they reach functions (OnUpdate, OnDelete) and the
// Sync Gateway _changes feed.
func TestDocumentsAPI_WritesTriggerFunctions(t *testing.T) {
	_, c := newNode(t, "src", "dst", "meta")
	c.deployNew(fnSpec{name: "mirror", code: `function OnUpdate(doc, meta) {
  dst[meta.id] = {doc: doc, datatype: meta.datatype};
}
function OnDelete(meta, options) {
  delete dst[meta.id];
}`, bindings: []binding{{"dst", "dst", "rw"}}, settings: map[string]any{"language_compatibility": "6.6.2"}})

	mirrored := func(id string) map[string]any {
		d, ok := c.cbDoc("dst", id)
		if !ok {
			return nil
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(*d.JSON), &v); err != nil {
			t.Fatalf("mirror of %s: %v", id, err)
		}
		return v
	}
	c.cbSet("src", "a", url.Values{"value": {`{"v":1}`}})
	waitFor(t, 20*time.Second, "OnUpdate of a created document", func() bool {
		m := mirrored("a")
		return m != nil && fmt.Sprint(m["doc"]) == "map[v:1]"
	})
	c.cbSet("src", "a", url.Values{"value": {`{"v":2}`}})
	waitFor(t, 20*time.Second, "OnUpdate of a replaced document", func() bool {
		m := mirrored("a")
		return m != nil && fmt.Sprint(m["doc"]) == "map[v:2]"
	})
	c.cbSet("src", "s", url.Values{"value": {`"just a string"`}})
	waitFor(t, 20*time.Second, "OnUpdate of a string document", func() bool {
		m := mirrored("s")
		return m != nil && m["doc"] == "just a string" && m["datatype"] == "json"
	})
	c.Must(http.StatusOK, "DELETE", c.Mgmt+"/pools/default/buckets/src/docs/a", "", nil)
	waitFor(t, 20*time.Second, "OnDelete of a deleted document", func() bool {
		_, ok := c.cbDoc("dst", "a")
		return !ok
	})
	// The Sync Gateway feed saw the object document's three revisions end
	// in a deletion.
	var changes struct {
		Results []struct {
			ID      string `json:"id"`
			Deleted bool   `json:"deleted"`
			Changes []struct {
				Rev string `json:"rev"`
			} `json:"changes"`
		} `json:"results"`
	}
	c.GetJSON(c.SyncGW+"/src/_changes", &changes)
	found := false
	for _, r := range changes.Results {
		if r.ID == "a" {
			found = true
			if !r.Deleted || len(r.Changes) != 1 || !strings.HasPrefix(r.Changes[0].Rev, "3-") {
				t.Fatalf("_changes entry of a: %+v, want a deletion at revision 3", r)
			}
		}
	}
	if !found {
		t.Fatalf("_changes has no entry for a: %+v", changes.Results)
	}
	if got := c.stat("mirror", "execution_stats", "on_delete_success"); got != 1 {
		t.Fatalf("on_delete_success = %v, want 1", got)
	}
}

// Every node of a 3-node cluster answers the documents API the same: a
// write through any node is read back through every node, and 10,000
// documents page and range identically everywhere.
func TestDocumentsAPI_ClusterAnswersTheSameEverywhere(t *testing.T) {
	cl := nodetest.NewCluster(t, 3, nodetest.Options{VBuckets: acceptanceVBuckets})
	cs := clusterClients(t, cl, "src")
	const n = 10000
	for lo := 0; lo < n; lo += 2000 {
		cs[0].BulkDocs("src", docs("doc", lo, lo+2000))
	}
	// A write through a follower, then read through every node.
	f := cl.Followers()[0]
	var fc *client
	for i, nd := range cl.Nodes {
		if nd == f {
			fc = cs[i]
		}
	}
	fc.cbSet("src", "written-on-a-follower", url.Values{"value": {"[1,2,3]"}, "flags": {"9"}})
	for i, c := range cs {
		waitFor(t, 20*time.Second, fmt.Sprintf("node %d to see the follower's write", i), func() bool {
			d, ok := c.cbDoc("src", "written-on-a-follower")
			return ok && d.JSON != nil && *d.JSON == "[1,2,3]" && d.Meta.Flags == 9
		})
	}
	waitFor(t, 30*time.Second, "every node to hold all documents", func() bool {
		for _, c := range cs {
			if len(c.cbKeys("src", "", 1000)) != n+1 {
				return false
			}
		}
		return true
	})
	want := cs[0].cbKeys("src", "", 1000)
	if !slices.IsSorted(want) || want[0] != "doc00000" || want[n-1] != "doc09999" {
		t.Fatalf("keys not in order or incomplete: first %q, %d keys", want[0], len(want))
	}
	var metas []cbDoc
	for i, c := range cs {
		if got := c.cbKeys("src", "", 333); !slices.Equal(got, want) {
			t.Errorf("node %d pages differently with pages of 333", i)
		}
		var rng struct {
			Rows []struct {
				ID  string            `json:"id"`
				Doc map[string]string `json:"doc"`
			} `json:"rows"`
		}
		c.GetJSON(c.Mgmt+`/pools/default/buckets/src/docs?include_docs=true&startkey=%22doc05000%22&endkey=%22doc05009%22&inclusive_end=false&skip=3`, &rng)
		if len(rng.Rows) != 6 || rng.Rows[0].ID != "doc05003" || rng.Rows[5].ID != "doc05008" ||
			!bytes.Contains([]byte(rng.Rows[0].Doc["json"]), []byte(`"n":5003`)) {
			t.Errorf("node %d key range: %+v", i, rng.Rows)
		}
		d, ok := c.cbDoc("src", "doc04242")
		if !ok {
			t.Fatalf("node %d has no doc04242", i)
		}
		metas = append(metas, d)
	}
	for i := 1; i < len(metas); i++ {
		if metas[i].Meta != metas[0].Meta || *metas[i].JSON != *metas[0].JSON {
			t.Errorf("node %d shows doc04242 as %+v, node 0 as %+v", i, metas[i].Meta, metas[0].Meta)
		}
	}
}
