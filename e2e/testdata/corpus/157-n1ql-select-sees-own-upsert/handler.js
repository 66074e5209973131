// Record an order in the orders index bucket, then list the customer's
// orders with SQL++ in the same invocation: the list includes this one.
function OnUpdate(doc, meta) {
    var id = meta.id;
    var cust = doc.customer;
    var total = doc.total;
    UPSERT INTO `{{bucket:orders}}` (KEY, VALUE) VALUES ($id, {"customer": $cust, "total": $total});
    var rows = SELECT RAW META(o).id FROM `{{bucket:orders}}` o
               WHERE o.customer = $cust ORDER BY META(o).id;
    var ids = [];
    for (var r of rows) {
        ids.push(r);
    }
    seen[id] = {ids: ids};
}
