// Count the orders of a customer with an inline SQL++ query.
function OnUpdate(doc, meta) {
    if (doc.type !== "customer") return;
    var cid = meta.id;
    var rows = SELECT COUNT(*) AS n FROM `{{bucket:src}}`
               WHERE type = "order" AND customer = $cid;
    for (var row of rows) {
        totals[meta.id] = {orders: row.n};
    }
}
