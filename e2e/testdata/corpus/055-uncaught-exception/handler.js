// Validation that throws on bad input; good documents still go through.
function OnUpdate(doc, meta) {
    if (typeof doc.amount !== "number") {
        throw new Error("invalid amount in " + meta.id);
    }
    valid[meta.id] = {amount: doc.amount};
}
