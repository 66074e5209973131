// Count the orders of a customer with an inline SQL++ query.
function OnUpdate(doc, meta) {
    var cid = doc.customer;
    var rows = SELECT COUNT(*) AS n FROM orders WHERE customer = $cid;
    for (var row of rows) {
        totals[meta.id] = {orders: row.n};
    }
}
