// Running totals per category, kept with plain read-modify-write through a basic accessor.
function OnUpdate(doc, meta) {
    var key = "total::" + doc.category;
    var cur = totals[key] || {sum: 0, n: 0};
    cur.sum += doc.amount;
    cur.n += 1;
    totals[key] = cur;
}
