// Count visits on a page document that already holds other fields.
function OnUpdate(doc, meta) {
    var res = couchbase.increment(pages, {id: "page::" + doc.page});
    out[meta.id] = {success: res.success, count: res.success ? res.doc.count : null};
}
