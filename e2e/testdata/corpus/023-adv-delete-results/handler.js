// Cancel reservations: delete succeeds once, then reports key_not_found; a stale CAS is refused.
function OnUpdate(doc, meta) {
    var key = {id: "resv::" + meta.id};
    var cur = couchbase.get(resv, key);
    var stale = couchbase.delete(resv, {id: key.id, cas: "12345"});
    var first = couchbase.delete(resv, {id: key.id, cas: cur.meta.cas});
    var second = couchbase.delete(resv, key);
    out[meta.id] = {
        stale_cas_mismatch: !stale.success && stale.error.cas_mismatch === true,
        first_success: first.success,
        first_meta_id: first.meta.id,
        second_success: second.success,
        second_key_not_found: !second.success && second.error.key_not_found === true
    };
}
