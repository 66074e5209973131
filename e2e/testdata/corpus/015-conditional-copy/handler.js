// Route documents by type: big orders to review, refunds to finance, everything else ignored.
function OnUpdate(doc, meta) {
    if (doc.type === "order" && doc.total > 100) {
        review[meta.id] = {total: doc.total, reason: "large order"};
    } else if (doc.type === "refund") {
        finance[meta.id] = {amount: -doc.amount};
    }
}
