// Optimistic locking on a sub-document update: read the inventory, let
// another writer change it, then try to decrement with the stale CAS.
function OnUpdate(doc, meta) {
    var cur = couchbase.get(stock, {id: doc.sku});
    couchbase.mutateIn(stock, {id: doc.sku}, [couchbase.MutateInSpec.upsert("audited", true)]);
    var res = couchbase.mutateIn(stock, {id: doc.sku, cas: cur.meta.cas}, [
        couchbase.MutateInSpec.replace("qty", cur.doc.qty - doc.qty)
    ]);
    var fresh = couchbase.get(stock, {id: doc.sku});
    var retry = couchbase.mutateIn(stock, {id: doc.sku, cas: fresh.meta.cas}, [
        couchbase.MutateInSpec.replace("qty", fresh.doc.qty - doc.qty)
    ]);
    out[meta.id] = {
        stale_success: res.success,
        cas_mismatch: !res.success && res.error.cas_mismatch === true,
        retry_success: retry.success
    };
}
