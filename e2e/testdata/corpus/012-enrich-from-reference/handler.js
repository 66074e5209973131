// Enrich orders with the customer's tier from a read-only reference keyspace.
function OnUpdate(doc, meta) {
    if (doc.type !== "order") return;
    var customer = customers["customer::" + doc.customer_id];
    enriched[meta.id] = {
        total: doc.total,
        customer: customer ? customer.name : null,
        tier: customer ? customer.tier : "unknown"
    };
}
