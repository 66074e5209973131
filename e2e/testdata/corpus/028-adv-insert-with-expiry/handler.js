// Rate-limit windows: a marker inserted with a short expiry vanishes by itself.
function OnUpdate(doc, meta) {
    var key = {id: "window::" + doc.user, expiry_date: new Date(Date.now() + 1000)};
    var res = couchbase.insert(windows, key, {user: doc.user});
    var back = couchbase.get(windows, {id: key.id});
    out[meta.id] = {success: res.success, stored: back.success, expiry_set: back.meta.expiry_date instanceof Date};
}
