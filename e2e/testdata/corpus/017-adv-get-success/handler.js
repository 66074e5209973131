// Read a price list entry with the advanced accessor and quote it.
function OnUpdate(doc, meta) {
    var res = couchbase.get(prices, {id: "price::" + doc.sku});
    quotes[meta.id] = {
        success: res.success,
        cas_type: typeof res.meta.cas,
        meta_id: res.meta.id,
        unit: res.doc.unit,
        total: res.doc.unit * doc.qty
    };
}
