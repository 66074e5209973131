// Keep a per-customer "last order" summary without rewriting the
// customer document.
function OnUpdate(doc, meta) {
    var res = couchbase.mutateIn(customers, {id: "cust::" + doc.customer}, [
        couchbase.MutateInSpec.upsert("last_order", meta.id),
        couchbase.MutateInSpec.upsert("summary.last_total", doc.total, {create_path: true})
    ]);
    out[meta.id] = {success: res.success, cas_is_string: typeof res.meta.cas === "string", id: res.meta.id};
}
