// Clean up the line items of a deleted order with inline SQL++.
function OnDelete(meta, options) {
    var oid = meta.id;
    DELETE FROM `{{bucket:items}}`
        WHERE order_id = $oid;
}
