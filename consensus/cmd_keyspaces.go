package consensus

import "eventide/docstore"

// Keyspace commands: buckets, scopes and collections of the document
// store. Their errors are docstore's sentinels.

// createBucket creates a bucket.
// Fields: name:string uuid:string ramQuotaMB:varint type:string
type createBucket struct{ spec docstore.BucketSpec }

func encodeCreateBucket(spec docstore.BucketSpec) []byte {
	e := newCommand(kindCreateBucket, len(spec.Name)+len(spec.UUID)+len(spec.Type))
	(&createBucket{spec}).encode(e)
	return e.b
}

func (c *createBucket) encode(e *encoder) {
	e.string(c.spec.Name)
	e.string(c.spec.UUID)
	e.varint(int64(c.spec.RAMQuotaMB))
	e.string(c.spec.Type)
}

func (c *createBucket) decode(d *decoder) {
	c.spec = docstore.BucketSpec{Name: d.string(), UUID: d.string(), RAMQuotaMB: int(d.varint()), Type: d.string()}
}

func (c *createBucket) apply(f *fsm, _ uint64) (cmdResult, bool) {
	return cmdResult{err: f.docs.CreateBucket(c.spec)}, false
}

// deleteBucket removes a bucket and everything in it. Fields: name:string
type deleteBucket struct{ name string }

func encodeDeleteBucket(name string) []byte {
	e := newCommand(kindDeleteBucket, len(name))
	(&deleteBucket{name}).encode(e)
	return e.b
}

func (c *deleteBucket) encode(e *encoder) { e.string(c.name) }
func (c *deleteBucket) decode(d *decoder) { c.name = d.string() }

func (c *deleteBucket) apply(f *fsm, _ uint64) (cmdResult, bool) {
	return cmdResult{err: f.docs.DeleteBucket(c.name)}, false
}

// scopeName is the scope commands' fields: bucket:string scope:string
type scopeName struct{ bucket, scope string }

func (c *scopeName) encode(e *encoder) {
	e.string(c.bucket)
	e.string(c.scope)
}

func (c *scopeName) decode(d *decoder) {
	c.bucket = d.string()
	c.scope = d.string()
}

// createScope creates an empty scope.
type createScope struct{ scopeName }

func encodeCreateScope(bucket, scope string) []byte {
	e := newCommand(kindCreateScope, len(bucket)+len(scope))
	(&createScope{scopeName{bucket, scope}}).encode(e)
	return e.b
}

func (c *createScope) apply(f *fsm, _ uint64) (cmdResult, bool) {
	return cmdResult{err: f.docs.CreateScope(c.bucket, c.scope)}, false
}

// deleteScope removes a scope and its collections.
type deleteScope struct{ scopeName }

func encodeDeleteScope(bucket, scope string) []byte {
	e := newCommand(kindDeleteScope, len(bucket)+len(scope))
	(&deleteScope{scopeName{bucket, scope}}).encode(e)
	return e.b
}

func (c *deleteScope) apply(f *fsm, _ uint64) (cmdResult, bool) {
	return cmdResult{err: f.docs.DeleteScope(c.bucket, c.scope)}, false
}

// collectionName is the collection commands' fields: keyspace.
type collectionName struct{ ks docstore.Keyspace }

func (c *collectionName) encode(e *encoder) { e.keyspace(c.ks) }
func (c *collectionName) decode(d *decoder) { c.ks = d.keyspace() }

func keyspaceSize(ks docstore.Keyspace) int {
	return len(ks.Bucket) + len(ks.Scope) + len(ks.Collection)
}

// createCollection creates an empty collection.
type createCollection struct{ collectionName }

func encodeCreateCollection(ks docstore.Keyspace) []byte {
	e := newCommand(kindCreateCollection, keyspaceSize(ks))
	(&createCollection{collectionName{ks}}).encode(e)
	return e.b
}

func (c *createCollection) apply(f *fsm, _ uint64) (cmdResult, bool) {
	return cmdResult{err: f.docs.CreateCollection(c.ks)}, false
}

// deleteCollection removes a collection and its documents.
type deleteCollection struct{ collectionName }

func encodeDeleteCollection(ks docstore.Keyspace) []byte {
	e := newCommand(kindDeleteCollection, keyspaceSize(ks))
	(&deleteCollection{collectionName{ks}}).encode(e)
	return e.b
}

func (c *deleteCollection) apply(f *fsm, _ uint64) (cmdResult, bool) {
	return cmdResult{err: f.docs.DeleteCollection(c.ks)}, false
}
