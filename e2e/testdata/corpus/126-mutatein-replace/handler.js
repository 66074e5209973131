// Change the status of a shipment only if the shipment has a status
// field at all.
function OnUpdate(doc, meta) {
    var res = couchbase.mutateIn(shipments, {id: doc.shipment}, [
        couchbase.MutateInSpec.replace("status", doc.status)
    ]);
    out[meta.id] = {
        success: res.success,
        field_not_found: !res.success && res.error.field_not_found === true
    };
}
