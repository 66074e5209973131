// One-time codes: store the code, then give it a 2-second life with touch.
function OnUpdate(doc, meta) {
    var key = {id: "otp::" + meta.id};
    couchbase.upsert(codes, key, {code: doc.code});
    var res = couchbase.touch(codes, {id: key.id, expiry_date: new Date(Date.now() + 2000)});
    touched[meta.id] = {success: res.success, has_expiry_date: res.meta.expiry_date instanceof Date};
}
